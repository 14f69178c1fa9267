//! Step 6: upright pixels. The EXIF orientation (1–8) says how the stored pixels must be
//! flipped or turned to display; applying it here means the thumbnail needs no metadata to
//! show right. Done last, on the thumbnail, where a turn touches a few thousand pixels.

use crate::Pixels;

/// Applies EXIF `orientation` (values outside 2–8 leave the pixels as they are).
pub fn apply(pixels: Pixels, orientation: u8) -> Pixels {
    if !(2..=8).contains(&orientation) {
        return pixels;
    }
    let (w, h) = (pixels.width as usize, pixels.height as usize);
    let (out_w, out_h) = if orientation >= 5 { (h, w) } else { (w, h) };
    // For each displayed pixel, the stored pixel it comes from.
    let source = |x: usize, y: usize| -> (usize, usize) {
        match orientation {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            _ => (w - 1 - y, x),
        }
    };
    let channels = pixels.layout.channels();
    let mut data = Vec::with_capacity(pixels.data.len());
    for y in 0..out_h {
        for x in 0..out_w {
            let (sx, sy) = source(x, y);
            let at = (sy * w + sx) * channels;
            data.extend_from_slice(&pixels.data[at..at + channels]);
        }
    }
    Pixels {
        width: out_w as u32,
        height: out_h as u32,
        layout: pixels.layout,
        data,
    }
}
