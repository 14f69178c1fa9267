//! JPEG support the `image` crate lacks: a marker walker that reads the header facts the
//! engine needs (size, sampling, EXIF orientation, ICC profile, Adobe colour transform) from
//! the first bytes of a file, and a DC-only decoder ([`dc`]) that turns a JPEG into its 1/8
//! scale image by reading one coefficient per 8×8 block — the shrink-on-load that makes
//! thumbnails of big photos fast and small in memory.

pub mod dc;
mod huffman;

use crate::{Error, Result};

/// One colour component as the frame header (SOF) declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub id: u8,
    pub h: u8,
    pub v: u8,
    pub quant_table: u8,
}

/// What the frame header says about the coding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u16,
    pub height: u16,
    pub precision: u8,
    pub progressive: bool,
    pub arithmetic: bool,
    /// Lossless and hierarchical JPEG: valid files nobody's camera makes.
    pub unsupported_process: Option<&'static str>,
    pub components: Vec<Component>,
}

/// The header facts, read up to the frame header.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub frame: Option<Frame>,
    /// The Adobe APP14 transform flag: 0 = none (RGB/CMYK), 1 = YCbCr, 2 = YCCK.
    pub adobe_transform: Option<u8>,
    pub jfif: bool,
    /// The TIFF payload of the first `Exif\0\0` APP1 segment.
    pub exif: Option<Vec<u8>>,
    /// ICC profile chunks (APP2 `ICC_PROFILE`), by sequence number.
    icc_chunks: Vec<(u8, Vec<u8>)>,
}

/// How the component samples of the image are to be read as colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourModel {
    Grey,
    YCbCr,
    Rgb,
    /// CMYK with samples stored inverted (as Adobe applications write them).
    CmykInverted,
    CmykPlain,
    /// YCbCr-coded inverted CMY plus K (Adobe transform 2).
    Ycck,
}

impl Header {
    /// The embedded ICC profile, reassembled from its chunks, when complete.
    pub fn icc_profile(&self) -> Option<Vec<u8>> {
        if self.icc_chunks.is_empty() {
            return None;
        }
        let mut chunks: Vec<&(u8, Vec<u8>)> = self.icc_chunks.iter().collect();
        chunks.sort_by_key(|(seq, _)| *seq);
        let profile: Vec<u8> = chunks
            .iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect();
        Some(profile)
    }

    /// The colour model, by libjpeg's rules: the Adobe marker wins, then JFIF, then
    /// component ids spelling R, G, B.
    pub fn colour_model(&self, frame: &Frame) -> ColourModel {
        match frame.components.len() {
            1 => ColourModel::Grey,
            3 => match self.adobe_transform {
                Some(0) => ColourModel::Rgb,
                Some(_) => ColourModel::YCbCr,
                None if self.jfif => ColourModel::YCbCr,
                None => {
                    let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
                    if ids == b"RGB" {
                        ColourModel::Rgb
                    } else {
                        ColourModel::YCbCr
                    }
                }
            },
            _ => match self.adobe_transform {
                Some(2) => ColourModel::Ycck,
                Some(_) => ColourModel::CmykInverted,
                None => ColourModel::CmykPlain,
            },
        }
    }
}

/// A marker segment: its marker byte and payload (without the length field).
pub(crate) struct Segment<'a> {
    pub marker: u8,
    pub payload: &'a [u8],
    /// Offset just past the segment.
    pub end: usize,
}

/// Reads the segment starting at `pos` (which must point at 0xFF). `Ok(None)` when the data
/// ends first.
pub(crate) fn read_segment(data: &[u8], mut pos: usize) -> Result<Option<Segment<'_>>> {
    if pos >= data.len() {
        return Ok(None);
    }
    if data[pos] != 0xFF {
        return Err(Error::corrupt(format!(
            "JPEG marker expected at byte {pos}, found 0x{:02x}",
            data[pos]
        )));
    }
    // Any number of 0xFF fill bytes may precede a marker.
    while pos < data.len() && data[pos] == 0xFF {
        pos += 1;
    }
    let Some(&marker) = data.get(pos) else {
        return Ok(None);
    };
    pos += 1;
    if marker == 0xD8 || marker == 0xD9 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
        return Ok(Some(Segment {
            marker,
            payload: &[],
            end: pos,
        }));
    }
    if pos + 2 > data.len() {
        return Ok(None);
    }
    let length = usize::from(u16::from_be_bytes([data[pos], data[pos + 1]]));
    if length < 2 {
        return Err(Error::corrupt(format!(
            "JPEG segment 0x{marker:02x} has an invalid length {length}"
        )));
    }
    let end = pos + length;
    if end > data.len() {
        return Ok(None);
    }
    Ok(Some(Segment {
        marker,
        payload: &data[pos + 2..end],
        end,
    }))
}

/// Walks the markers from the start of the file up to and including the frame header.
/// Stops early (without error) when `data` ends: the caller may hold only the file's head.
pub fn read_header(data: &[u8]) -> Result<Header> {
    let mut header = Header::default();
    let mut pos = 2; // after SOI
    while let Some(segment) = read_segment(data, pos)? {
        pos = segment.end;
        match segment.marker {
            0xC0..=0xCF if !matches!(segment.marker, 0xC4 | 0xC8 | 0xCC) => {
                header.frame = Some(parse_frame(segment.marker, segment.payload)?);
                break;
            }
            0xE0 if segment.payload.starts_with(b"JFIF\0") => header.jfif = true,
            0xE1 if segment.payload.starts_with(b"Exif\0\0") && header.exif.is_none() => {
                header.exif = Some(segment.payload[6..].to_vec());
            }
            0xE2 if segment.payload.starts_with(b"ICC_PROFILE\0") && segment.payload.len() > 14 => {
                header
                    .icc_chunks
                    .push((segment.payload[12], segment.payload[14..].to_vec()));
            }
            0xEE if segment.payload.starts_with(b"Adobe") && segment.payload.len() >= 12 => {
                header.adobe_transform = Some(segment.payload[11]);
            }
            0xDA => {
                return Err(Error::corrupt("JPEG scan before any frame header"));
            }
            0xD9 => return Err(Error::corrupt("JPEG ends before its frame header")),
            _ => {}
        }
    }
    Ok(header)
}

fn parse_frame(marker: u8, p: &[u8]) -> Result<Frame> {
    if p.len() < 6 {
        return Err(Error::corrupt("JPEG frame header is too short"));
    }
    let count = usize::from(p[5]);
    if count == 0 || p.len() < 6 + 3 * count {
        return Err(Error::corrupt(
            "JPEG frame header lists no or truncated components",
        ));
    }
    if count != 1 && count != 3 && count != 4 {
        return Err(Error::unsupported(format!(
            "JPEG with {count} colour components (1, 3 or 4 are read)"
        )));
    }
    let components: Vec<Component> = p[6..6 + 3 * count]
        .chunks_exact(3)
        .map(|c| Component {
            id: c[0],
            h: c[1] >> 4,
            v: c[1] & 0x0F,
            quant_table: c[2],
        })
        .collect();
    for c in &components {
        if !(1..=4).contains(&c.h) || !(1..=4).contains(&c.v) || c.quant_table > 3 {
            return Err(Error::corrupt(format!(
                "JPEG component {} has invalid sampling {}x{} or table {}",
                c.id, c.h, c.v, c.quant_table
            )));
        }
    }
    let unsupported_process = match marker {
        0xC3 | 0xC7 | 0xCB | 0xCF => Some("lossless JPEG"),
        0xC5 | 0xC6 | 0xCD | 0xCE => Some("hierarchical JPEG"),
        _ => None,
    };
    Ok(Frame {
        precision: p[0],
        height: u16::from_be_bytes([p[1], p[2]]),
        width: u16::from_be_bytes([p[3], p[4]]),
        progressive: matches!(marker, 0xC2 | 0xCA),
        arithmetic: marker >= 0xC8,
        unsupported_process,
        components,
    })
}
