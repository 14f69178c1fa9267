//! The block-average JPEG decoder: the 1/8-scale image of a JPEG (one pixel per 8×8 block),
//! or for sequential files the 1/4-scale one (2×2 per block).
//!
//! A block's DC coefficient is its average, so a picture made of DC values alone is exactly
//! what a full decode followed by an 8×8 box filter gives — the shrink-on-load libjpeg does at
//! scale 1/8, without its cost. Sequential scans still have to be walked to find each next DC
//! code, but AC codes are skipped without being decoded to values; progressive AC scans —
//! most of a progressive file — are not read at all, and no full-size coefficient buffer is
//! allocated, which keeps a 100 MP photo within a few megabytes.
//!
//! The averages of a block's four 4×4 quarters need only the coefficients whose horizontal
//! and vertical frequencies are 0 or odd (the even ones average to zero over a half block),
//! so the 1/4-scale image is an exact 4×4 box filter too, at almost the same cost: those 25
//! coefficients are decoded to values while the others are skipped.

use super::huffman::{next_segment_marker, BitReader, HuffmanTable};
use super::{parse_frame, read_segment, ColourModel, Frame, Header};
use crate::decode::Samples;
use crate::{Error, Result};

/// How many pixels each 8×8 block becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockScale {
    /// One: the 1/8-scale image. Any JPEG.
    Eighth,
    /// 2×2: the 1/4-scale image. Sequential 8-bit JPEGs only.
    Quarter,
}

impl BlockScale {
    /// Pixels per block side.
    pub fn side(self) -> u32 {
        match self {
            BlockScale::Eighth => 1,
            BlockScale::Quarter => 2,
        }
    }
}

/// The scaled image: `ceil(width / n) × ceil(height / n)` for scale 1/n.
pub struct DcImage {
    pub width: u32,
    pub height: u32,
    pub samples: Samples,
}

/// Memory the decoder will allocate for a frame at `scale`: the DC grid (i16) or the
/// quarter planes, the upsampled 8-bit planes and the interleaved output.
pub fn memory_estimate(frame: &Frame, scale: BlockScale) -> u64 {
    let layout = BlockLayout::new(frame);
    let blocks: u64 = layout
        .grids
        .iter()
        .map(|g| g.stride as u64 * g.rows as u64)
        .sum();
    let per_block = u64::from(scale.side() * scale.side());
    let side = u64::from(8 / scale.side());
    let out = u64::from(frame.width).div_ceil(side) * u64::from(frame.height).div_ceil(side);
    let grids = match scale {
        BlockScale::Eighth => blocks * 2,
        BlockScale::Quarter => blocks * per_block,
    };
    grids + blocks * per_block + out * (frame.components.len() as u64 + 4)
}

/// The block geometry of a frame.
struct BlockLayout {
    h_max: u32,
    v_max: u32,
    mcus_x: u32,
    mcus_y: u32,
    grids: Vec<GridShape>,
}

#[derive(Clone, Copy)]
struct GridShape {
    h: u32,
    v: u32,
    /// Blocks per row in the MCU-padded grid.
    stride: u32,
    rows: u32,
    /// Blocks actually covering the component (what a non-interleaved scan codes).
    used_x: u32,
    used_y: u32,
}

impl BlockLayout {
    fn new(frame: &Frame) -> Self {
        let h_max = frame
            .components
            .iter()
            .map(|c| u32::from(c.h))
            .max()
            .unwrap_or(1);
        let v_max = frame
            .components
            .iter()
            .map(|c| u32::from(c.v))
            .max()
            .unwrap_or(1);
        let (width, height) = (u32::from(frame.width), u32::from(frame.height));
        let mcus_x = width.div_ceil(8 * h_max);
        let mcus_y = height.div_ceil(8 * v_max);
        let grids = frame
            .components
            .iter()
            .map(|c| {
                let (h, v) = (u32::from(c.h), u32::from(c.v));
                GridShape {
                    h,
                    v,
                    stride: mcus_x * h,
                    rows: mcus_y * v,
                    used_x: (width * h).div_ceil(h_max).div_ceil(8),
                    used_y: (height * v).div_ceil(v_max).div_ceil(8),
                }
            })
            .collect();
        BlockLayout {
            h_max,
            v_max,
            mcus_x,
            mcus_y,
            grids,
        }
    }
}

/// One component's DC coefficients and decoding state.
struct ComponentState {
    shape: GridShape,
    dc: Vec<i16>,
    /// At quarter scale: the 2×2 pixels of every block, `2 * stride` per row.
    quarters: Vec<u8>,
    /// The quantisation table (zigzag order), latched at the component's first scan (as
    /// libjpeg does).
    quant: Option<[u16; 64]>,
    /// Successive-approximation bit still missing (0 once the DC is complete); None before
    /// any DC scan.
    missing_low_bit: Option<u8>,
}

/// Decoder state carried across segments.
struct Decoder<'a> {
    data: &'a [u8],
    frame: Frame,
    layout: BlockLayout,
    components: Vec<ComponentState>,
    scale: BlockScale,
    quant_tables: [Option<[u16; 64]>; 4],
    dc_tables: [Option<HuffmanTable>; 4],
    ac_tables: [Option<HuffmanTable>; 4],
    restart_interval: u32,
}

/// A scan header (SOS).
struct Scan {
    /// Indices into the frame's components, with their DC and AC table numbers.
    members: Vec<(usize, usize, usize)>,
    spectral_start: u8,
    spectral_end: u8,
    approx_high: u8,
    approx_low: u8,
}

/// Decodes `data` (a whole JPEG file whose header was read into `header`) at `scale`.
pub fn decode(data: &[u8], header: &Header, scale: BlockScale) -> Result<DcImage> {
    let frame = header
        .frame
        .clone()
        .ok_or_else(|| Error::corrupt("JPEG has no frame header"))?;
    if scale == BlockScale::Quarter && (frame.progressive || frame.precision != 8) {
        return Err(Error::corrupt(
            "quarter-scale decoding needs a sequential 8-bit JPEG",
        ));
    }
    let model = header.colour_model(&frame);
    let mut decoder = Decoder::new(data, frame, scale);
    decoder.run()?;
    decoder.finish(model)
}

impl<'a> Decoder<'a> {
    fn new(data: &'a [u8], frame: Frame, scale: BlockScale) -> Self {
        let layout = BlockLayout::new(&frame);
        let components = layout
            .grids
            .iter()
            .map(|&shape| {
                let blocks = shape.stride as usize * shape.rows as usize;
                let (dc, quarters) = match scale {
                    BlockScale::Eighth => (vec![0; blocks], Vec::new()),
                    BlockScale::Quarter => (Vec::new(), vec![0; blocks * 4]),
                };
                ComponentState {
                    shape,
                    dc,
                    quarters,
                    quant: None,
                    missing_low_bit: None,
                }
            })
            .collect();
        Decoder {
            data,
            frame,
            layout,
            components,
            scale,
            quant_tables: [None; 4],
            dc_tables: [None, None, None, None],
            ac_tables: [None, None, None, None],
            restart_interval: 0,
        }
    }

    /// Walks every segment from SOI to EOI, decoding DC data and skipping the rest.
    fn run(&mut self) -> Result<()> {
        let mut pos = 2;
        let mut frames_seen = 0;
        while let Some(segment) = read_segment(self.data, pos)? {
            pos = segment.end;
            match segment.marker {
                0xDB => self.read_quant_tables(segment.payload)?,
                0xC4 => self.read_huffman_tables(segment.payload)?,
                0xDD => {
                    if segment.payload.len() < 2 {
                        return Err(Error::corrupt("JPEG restart interval segment is too short"));
                    }
                    self.restart_interval =
                        u32::from(u16::from_be_bytes([segment.payload[0], segment.payload[1]]));
                }
                0xC0..=0xCF if !matches!(segment.marker, 0xC4 | 0xC8 | 0xCC) => {
                    frames_seen += 1;
                    if frames_seen > 1
                        || parse_frame(segment.marker, segment.payload)? != self.frame
                    {
                        return Err(Error::corrupt("JPEG has more than one frame header"));
                    }
                }
                0xDA => {
                    let scan = self.read_scan_header(segment.payload)?;
                    pos = if scan.spectral_start > 0 {
                        // A progressive AC scan: nothing in it changes a DC value.
                        next_segment_marker(self.data, segment.end)
                    } else {
                        self.decode_dc_scan(&scan, segment.end)?
                    };
                }
                0xD9 => break,
                _ => {}
            }
        }
        Ok(())
    }

    fn read_quant_tables(&mut self, mut p: &[u8]) -> Result<()> {
        while !p.is_empty() {
            let (precision, id) = (p[0] >> 4, usize::from(p[0] & 0x0F));
            let size = if precision == 0 { 64 } else { 128 };
            if id > 3 || p.len() < 1 + size {
                return Err(Error::corrupt("JPEG quantisation table is invalid"));
            }
            let mut table = [0u16; 64];
            for (k, entry) in table.iter_mut().enumerate() {
                *entry = if precision == 0 {
                    u16::from(p[1 + k])
                } else {
                    u16::from_be_bytes([p[1 + 2 * k], p[2 + 2 * k]])
                };
            }
            self.quant_tables[id] = Some(table);
            p = &p[1 + size..];
        }
        Ok(())
    }

    fn read_huffman_tables(&mut self, mut p: &[u8]) -> Result<()> {
        while !p.is_empty() {
            if p.len() < 17 {
                return Err(Error::corrupt("JPEG Huffman table segment is too short"));
            }
            let (class, id) = (p[0] >> 4, usize::from(p[0] & 0x0F));
            let counts: [u8; 16] = p[1..17].try_into().expect("16 bytes");
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if class > 1 || id > 3 || p.len() < 17 + total {
                return Err(Error::corrupt("JPEG Huffman table segment is invalid"));
            }
            let table = HuffmanTable::new(&counts, &p[17..17 + total])?;
            if class == 0 {
                self.dc_tables[id] = Some(table);
            } else {
                self.ac_tables[id] = Some(table);
            }
            p = &p[17 + total..];
        }
        Ok(())
    }

    fn read_scan_header(&self, p: &[u8]) -> Result<Scan> {
        let count = usize::from(*p.first().unwrap_or(&0));
        if count == 0 || count > 4 || p.len() < 1 + 2 * count + 3 {
            return Err(Error::corrupt("JPEG scan header is invalid"));
        }
        let mut members = Vec::with_capacity(count);
        for pair in p[1..1 + 2 * count].chunks_exact(2) {
            let index = self
                .frame
                .components
                .iter()
                .position(|c| c.id == pair[0])
                .ok_or_else(|| Error::corrupt("JPEG scan names a component the frame lacks"))?;
            members.push((
                index,
                usize::from(pair[1] >> 4),
                usize::from(pair[1] & 0x0F),
            ));
        }
        let tail = &p[1 + 2 * count..];
        let scan = Scan {
            members,
            spectral_start: tail[0],
            spectral_end: tail[1],
            approx_high: tail[2] >> 4,
            approx_low: tail[2] & 0x0F,
        };
        let tables_ok = scan.members.iter().all(|&(_, dc, ac)| dc < 4 && ac < 4);
        if !tables_ok
            || scan.spectral_start > scan.spectral_end
            || scan.spectral_end > 63
            || scan.approx_low > 13
        {
            return Err(Error::corrupt("JPEG scan header is invalid"));
        }
        Ok(scan)
    }

    /// Decodes a scan that carries DC coefficients; returns the offset of the marker after it.
    fn decode_dc_scan(&mut self, scan: &Scan, start: usize) -> Result<usize> {
        let progressive = self.frame.progressive;
        let refining = progressive && scan.approx_high > 0;
        for &(index, dc_table, ac_table) in &scan.members {
            if !refining && self.dc_tables[dc_table].is_none() {
                return Err(Error::corrupt(
                    "JPEG scan uses an undefined DC Huffman table",
                ));
            }
            if !progressive && self.ac_tables[ac_table].is_none() {
                return Err(Error::corrupt(
                    "JPEG scan uses an undefined AC Huffman table",
                ));
            }
            let component = &mut self.components[index];
            if component.quant.is_none() {
                let table = usize::from(self.frame.components[index].quant_table);
                component.quant = Some(self.quant_tables[table].ok_or_else(|| {
                    Error::corrupt("JPEG component uses an undefined quantisation table")
                })?);
            }
            component.missing_low_bit = Some(scan.approx_low);
        }

        // Interleaved scans code whole MCUs; a single-component scan codes that component's
        // blocks one by one, in raster order over the blocks that cover it.
        let interleaved = scan.members.len() > 1;
        let (units_x, units_y) = if interleaved {
            (self.layout.mcus_x, self.layout.mcus_y)
        } else {
            let shape = self.components[scan.members[0].0].shape;
            (shape.used_x, shape.used_y)
        };
        let ac_start = if progressive {
            64
        } else {
            u32::from(scan.spectral_start) + 1
        };
        let shift = u32::from(scan.approx_low);
        let weights: Vec<Box<[[f32; 4]; 64]>> = match self.scale {
            BlockScale::Eighth => Vec::new(),
            BlockScale::Quarter => scan
                .members
                .iter()
                .map(|&(index, ..)| {
                    Box::new(quarter_weights(
                        &self.components[index].quant.expect("latched above"),
                    ))
                })
                .collect(),
        };
        let mut reader = BitReader::new(self.data, start);
        let mut predictors = [0i32; 4];
        let mut until_restart = self.restart_interval;

        for unit_y in 0..units_y {
            for unit_x in 0..units_x {
                if self.restart_interval > 0 {
                    if until_restart == 0 {
                        reader.restart();
                        predictors = [0; 4];
                        until_restart = self.restart_interval;
                    }
                    until_restart -= 1;
                }
                for (slot, &(index, dc_table, ac_table)) in scan.members.iter().enumerate() {
                    let shape = self.components[index].shape;
                    let (blocks_x, blocks_y) = if interleaved {
                        (shape.h, shape.v)
                    } else {
                        (1, 1)
                    };
                    for by in 0..blocks_y {
                        for bx in 0..blocks_x {
                            let (x, y) = if interleaved {
                                (unit_x * shape.h + bx, unit_y * shape.v + by)
                            } else {
                                (unit_x, unit_y)
                            };
                            let cell = (y * shape.stride + x) as usize;
                            if refining {
                                if reader.bits(1) == 1 {
                                    self.components[index].dc[cell] |= 1 << shift;
                                }
                                continue;
                            }
                            let table = self.dc_tables[dc_table].as_ref().expect("checked above");
                            let size = u32::from(reader.decode(table)?);
                            if size > 16 {
                                return Err(Error::corrupt(
                                    "JPEG DC coefficient has an invalid size",
                                ));
                            }
                            predictors[slot] += reader.receive_extend(size);
                            if let Some(weights) = weights.get(slot) {
                                let table =
                                    self.ac_tables[ac_table].as_ref().expect("checked above");
                                let dc = predictors[slot] as f32;
                                let mut sums = weights[0].map(|w| dc * w);
                                reader.accumulate_ac(table, weights, &mut sums)?;
                                let component = &mut self.components[index];
                                let stride = 2 * component.shape.stride as usize;
                                let corner = 2 * y as usize * stride + 2 * x as usize;
                                for (quarter, sum) in sums.iter().enumerate() {
                                    let at = corner + (quarter >> 1) * stride + (quarter & 1);
                                    component.quarters[at] = (sum + 128.5).clamp(0.0, 255.0) as u8;
                                }
                                continue;
                            }
                            let value =
                                (predictors[slot] << shift).clamp(i16::MIN.into(), i16::MAX.into());
                            self.components[index].dc[cell] = value as i16;
                            if ac_start <= 63 {
                                let table =
                                    self.ac_tables[ac_table].as_ref().expect("checked above");
                                reader.skip_ac(table, ac_start)?;
                            }
                        }
                    }
                }
            }
            if reader.overran() {
                return Err(Error::corrupt(format!(
                    "the JPEG is truncated: its data ends {}% of the way through the image",
                    100 * u64::from(unit_y) / u64::from(units_y.max(1))
                )));
            }
        }
        Ok(reader.end_of_scan())
    }

    /// Turns the DC grids into an interleaved 8-bit image in the frame's colour model.
    fn finish(self, model: ColourModel) -> Result<DcImage> {
        let side = 8 / self.scale.side();
        let width = u32::from(self.frame.width).div_ceil(side);
        let height = u32::from(self.frame.height).div_ceil(side);
        let precision = u32::from(self.frame.precision);
        let mut planes = Vec::with_capacity(self.components.len());
        for (state, component) in self.components.iter().zip(&self.frame.components) {
            match state.missing_low_bit {
                None => {
                    return Err(Error::corrupt(format!(
                        "the JPEG is truncated: no image data for component {}",
                        component.id
                    )))
                }
                Some(bit) if bit > 0 => {
                    return Err(Error::corrupt(
                        "the JPEG is truncated: its DC refinement scans are missing",
                    ))
                }
                Some(_) => {}
            }
            let n = self.scale.side();
            let plane = match self.scale {
                BlockScale::Eighth => dc_plane(state, precision),
                BlockScale::Quarter => quarter_plane(state),
            };
            planes.push(upsample(
                &plane,
                state.shape.used_x * n,
                state.shape.used_y * n,
                (self.layout.h_max, state.shape.h),
                (self.layout.v_max, state.shape.v),
                width,
                height,
            ));
        }
        let samples = convert_colour(&planes, model);
        Ok(DcImage {
            width,
            height,
            samples,
        })
    }
}

/// One component's block averages as 8-bit samples (libjpeg's 1×1 IDCT).
fn dc_plane(state: &ComponentState, precision: u32) -> Vec<u8> {
    let quant = i32::from(state.quant.map_or(1, |q| q[0]));
    let centre = 1i32 << (precision - 1);
    let max = (1i32 << precision) - 1;
    let down = precision.saturating_sub(8);
    let (used_x, used_y) = (state.shape.used_x as usize, state.shape.used_y as usize);
    let mut plane = Vec::with_capacity(used_x * used_y);
    for row in state
        .dc
        .chunks_exact(state.shape.stride as usize)
        .take(used_y)
    {
        plane.extend(row[..used_x].iter().map(|&dc| {
            let value = ((i32::from(dc) * quant + 4) >> 3) + centre;
            (value.clamp(0, max) >> down) as u8
        }));
    }
    plane
}

/// One component's quarter averages, cropped to the blocks that cover it.
fn quarter_plane(state: &ComponentState) -> Vec<u8> {
    let stride = 2 * state.shape.stride as usize;
    let (used_x, used_y) = (
        2 * state.shape.used_x as usize,
        2 * state.shape.used_y as usize,
    );
    let mut plane = Vec::with_capacity(used_x * used_y);
    for row in state.quarters.chunks_exact(stride).take(used_y) {
        plane.extend_from_slice(&row[..used_x]);
    }
    plane
}

/// Natural (row-major) position of each zigzag index.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// For each zigzag index: what one unit of that quantised coefficient adds to the average of
/// each 4×4 quarter (top-left, top-right, bottom-left, bottom-right) of its block.
///
/// The 8-point IDCT is f(x) = Σ C(u)/2 · F(u) · cos((2x+1)uπ/16); its mean over x = 0..3 is
/// Σ F(u) · a(u) with a(u) = C(u)/2 · mean(cos((2x+1)uπ/16)), zero for even u > 0, and the
/// mean over x = 4..7 is the same with odd u negated.
fn quarter_weights(quant: &[u16; 64]) -> [[f32; 4]; 64] {
    let mean_basis = |u: usize| -> f64 {
        let c = if u == 0 {
            std::f64::consts::FRAC_1_SQRT_2
        } else {
            1.0
        };
        let mean = (0..4)
            .map(|x| ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos())
            .sum::<f64>()
            / 4.0;
        c / 2.0 * mean
    };
    let mut weights = [[0f32; 4]; 64];
    for (k, weight) in weights.iter_mut().enumerate() {
        let (v, u) = (ZIGZAG[k] / 8, ZIGZAG[k] % 8);
        let base = f64::from(quant[k]) * mean_basis(u) * mean_basis(v);
        if base.abs() < 1e-12 {
            continue;
        }
        let flip_x = if u % 2 == 1 { -1.0 } else { 1.0 };
        let flip_y = if v % 2 == 1 { -1.0 } else { 1.0 };
        *weight = [base, base * flip_x, base * flip_y, base * flip_x * flip_y].map(|w| w as f32);
    }
    weights
}

/// Scales a subsampled plane up to the image size with linear interpolation between sample
/// centres (for 2× this is libjpeg's "fancy upsampling" triangle filter).
fn upsample(
    plane: &[u8],
    plane_w: u32,
    plane_h: u32,
    (h_max, h): (u32, u32),
    (v_max, v): (u32, u32),
    width: u32,
    height: u32,
) -> Vec<u8> {
    if h == h_max && v == v_max && plane_w == width && plane_h == height {
        return plane.to_vec();
    }
    let xs = taps(width, plane_w, h_max, h);
    let ys = taps(height, plane_h, v_max, v);
    let stride = plane_w as usize;
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for &(y0, y1, wy) in &ys {
        let (row0, row1) = (
            &plane[y0 * stride..][..stride],
            &plane[y1 * stride..][..stride],
        );
        out.extend(xs.iter().map(|&(x0, x1, wx)| {
            let top = u32::from(row0[x0]) * (256 - wx) + u32::from(row0[x1]) * wx;
            let bottom = u32::from(row1[x0]) * (256 - wx) + u32::from(row1[x1]) * wx;
            ((top * (256 - wy) + bottom * wy + (1 << 15)) >> 16) as u8
        }));
    }
    out
}

/// For each output coordinate: the two source samples around it and the weight (of 256) of
/// the second. Source sample i has its centre at output position (i + 0.5) * ratio.
fn taps(out_len: u32, src_len: u32, max: u32, factor: u32) -> Vec<(usize, usize, u32)> {
    let last = src_len.saturating_sub(1) as i64;
    (0..out_len)
        .map(|o| {
            // Position in source samples, ×256 for fixed point: (o + 0.5) * factor / max - 0.5.
            let pos = ((2 * i64::from(o) + 1) * i64::from(factor) * 128) / i64::from(max) - 128;
            let i0 = pos.div_euclid(256).clamp(0, last);
            let i1 = (pos.div_euclid(256) + 1).clamp(0, last);
            let weight = if pos < 0 {
                0
            } else {
                pos.rem_euclid(256) as u32
            };
            (i0 as usize, i1 as usize, weight)
        })
        .collect()
}

/// Interleaves the planes, converting YCbCr and YCCK and normalising CMYK to ink amounts.
fn convert_colour(planes: &[Vec<u8>], model: ColourModel) -> Samples {
    let interleave = |planes: &[Vec<u8>], invert: bool| -> Vec<u8> {
        let n = planes[0].len();
        let mut out = Vec::with_capacity(n * planes.len());
        for i in 0..n {
            out.extend(
                planes
                    .iter()
                    .map(|p| if invert { 255 - p[i] } else { p[i] }),
            );
        }
        out
    };
    match model {
        ColourModel::Grey => Samples::Grey8(planes[0].clone()),
        ColourModel::Rgb => Samples::Rgb8(interleave(planes, false)),
        ColourModel::YCbCr => {
            let (y, cb, cr) = (&planes[0], &planes[1], &planes[2]);
            let rgb = y
                .iter()
                .zip(cb)
                .zip(cr)
                .flat_map(|((&y, &cb), &cr)| ycbcr_to_rgb(y, cb, cr));
            Samples::Rgb8(rgb.collect())
        }
        ColourModel::CmykInverted => Samples::Cmyk8(interleave(planes, true)),
        ColourModel::CmykPlain => Samples::Cmyk8(interleave(planes, false)),
        ColourModel::Ycck => {
            let (y, cb, cr, k) = (&planes[0], &planes[1], &planes[2], &planes[3]);
            let ink = y
                .iter()
                .zip(cb)
                .zip(cr)
                .zip(k)
                .flat_map(|(((&y, &cb), &cr), &k)| {
                    let [c, m, y] = ycbcr_to_rgb(y, cb, cr);
                    [255 - c, 255 - m, 255 - y, 255 - k]
                });
            Samples::Cmyk8(ink.collect())
        }
    }
}

/// JFIF's YCbCr to RGB, in 16.16 fixed point.
#[inline]
pub(crate) fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = i32::from(y) << 16;
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let round = 1 << 15;
    let r = (y + 91_881 * cr + round) >> 16;
    let g = (y - 22_554 * cb - 46_802 * cr + round) >> 16;
    let b = (y + 116_130 * cb + round) >> 16;
    [
        r.clamp(0, 255) as u8,
        g.clamp(0, 255) as u8,
        b.clamp(0, 255) as u8,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::read_header;

    /// A synthetic picture with detail, so every block has AC energy to skip.
    fn picture(width: u16, height: u16, channels: usize) -> Vec<u8> {
        let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * channels);
        for y in 0..usize::from(height) {
            for x in 0..usize::from(width) {
                for c in 0..channels {
                    // A continuous triangle wave per channel plus fine texture: no hard
                    // edges (which subsampled chroma cannot keep), yet AC data everywhere.
                    let t = (x * (c + 1) + y * 2 + c * 50) % 400;
                    let triangle = t.abs_diff(200);
                    let texture = (x * y + c) % 7 * 3;
                    pixels.push((triangle + texture) as u8);
                }
            }
        }
        pixels
    }

    fn encode(
        width: u16,
        height: u16,
        colour: jpeg_encoder::ColorType,
        configure: impl FnOnce(&mut jpeg_encoder::Encoder<&mut Vec<u8>>),
    ) -> Vec<u8> {
        let channels = if colour == jpeg_encoder::ColorType::Luma {
            1
        } else {
            3
        };
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        configure(&mut encoder);
        encoder
            .encode(&picture(width, height, channels), width, height, colour)
            .expect("encodes");
        out
    }

    /// The reference: a full decode by jpeg-decoder, averaged over each `side`² block.
    fn block_means(jpeg: &[u8], side: usize) -> (u32, u32, Vec<f64>) {
        let mut decoder = jpeg_decoder::Decoder::new(jpeg);
        let pixels = decoder.decode().expect("reference decodes");
        let info = decoder.info().expect("info");
        let (w, h) = (usize::from(info.width), usize::from(info.height));
        let channels = pixels.len() / (w * h);
        let (bw, bh) = (w.div_ceil(side), h.div_ceil(side));
        let mut means = vec![0.0; bw * bh * channels];
        for by in 0..bh {
            for bx in 0..bw {
                for c in 0..channels {
                    let (mut sum, mut n) = (0.0, 0.0);
                    for y in by * side..(by * side + side).min(h) {
                        for x in bx * side..(bx * side + side).min(w) {
                            sum += f64::from(pixels[(y * w + x) * channels + c]);
                            n += 1.0;
                        }
                    }
                    means[(by * bw + bx) * channels + c] = sum / n;
                }
            }
        }
        (bw as u32, bh as u32, means)
    }

    /// Mean absolute difference between the DC image and the reference block means.
    fn dc_error(jpeg: &[u8]) -> f64 {
        scaled_error(jpeg, BlockScale::Eighth)
    }

    fn scaled_error(jpeg: &[u8], scale: BlockScale) -> f64 {
        let header = read_header(jpeg).expect("header");
        let image = decode(jpeg, &header, scale).expect("block decode");
        let (bw, bh, means) = block_means(jpeg, 8 / scale.side() as usize);
        assert_eq!((image.width, image.height), (bw, bh));
        let samples = match image.samples {
            Samples::Grey8(v) | Samples::Rgb8(v) => v,
            other => panic!("unexpected samples {other:?}"),
        };
        assert_eq!(samples.len(), means.len());
        let total: f64 = samples
            .iter()
            .zip(&means)
            .map(|(&s, &m)| (f64::from(s) - m).abs())
            .sum();
        total / means.len() as f64
    }

    #[test]
    fn baseline_444_matches_block_means() {
        let jpeg = encode(203, 117, jpeg_encoder::ColorType::Rgb, |e| {
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4)
        });
        let error = dc_error(&jpeg);
        assert!(error < 1.5, "mean error {error}");
    }

    #[test]
    fn subsampled_420_with_restart_markers_matches_block_means() {
        let jpeg = encode(250, 131, jpeg_encoder::ColorType::Rgb, |e| {
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
            e.set_restart_interval(3);
        });
        // Chroma is interpolated between 16×16 block means, so its fine texture is softer
        // than in the 8×8 means of a full decode; a decoding error would be tens of levels.
        let error = dc_error(&jpeg);
        assert!(error < 4.5, "mean error {error}");
    }

    #[test]
    fn progressive_skips_ac_scans_and_matches_block_means() {
        let jpeg = encode(240, 160, jpeg_encoder::ColorType::Rgb, |e| {
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_2);
            e.set_progressive(true);
        });
        assert!(read_header(&jpeg).unwrap().frame.unwrap().progressive);
        let error = dc_error(&jpeg);
        assert!(error < 4.5, "mean error {error}");
    }

    #[test]
    fn quarter_scale_matches_4x4_means() {
        let jpeg = encode(203, 117, jpeg_encoder::ColorType::Rgb, |e| {
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
            e.set_restart_interval(2);
        });
        let error = scaled_error(&jpeg, BlockScale::Quarter);
        assert!(error < 1.5, "mean error {error}");
        let grey = encode(97, 65, jpeg_encoder::ColorType::Luma, |_| {});
        let error = scaled_error(&grey, BlockScale::Quarter);
        assert!(error < 1.5, "mean error {error}");
    }

    #[test]
    fn quarter_scale_refuses_progressive_files() {
        let jpeg = encode(64, 64, jpeg_encoder::ColorType::Rgb, |e| {
            e.set_progressive(true)
        });
        let header = read_header(&jpeg).unwrap();
        assert!(decode(&jpeg, &header, BlockScale::Quarter).is_err());
    }

    #[test]
    fn greyscale_matches_block_means() {
        let jpeg = encode(97, 65, jpeg_encoder::ColorType::Luma, |_| {});
        let error = dc_error(&jpeg);
        assert!(error < 1.5, "mean error {error}");
    }

    #[test]
    fn truncated_scan_is_corrupt() {
        let jpeg = encode(256, 256, jpeg_encoder::ColorType::Rgb, |_| {});
        let cut = &jpeg[..jpeg.len() * 2 / 3];
        let header = read_header(cut).expect("header survives");
        let error = decode(cut, &header, BlockScale::Eighth)
            .err()
            .expect("truncation is an error");
        assert_eq!(error.kind, crate::ErrorKind::Corrupt);
        assert!(error.message.contains("truncated"), "{}", error.message);
    }
}
