//! Step 2: the header facts — format, dimensions, orientation — read from the first bytes of
//! a file and checked against the limits. The validate step calls this on a ranged read of
//! the object's head, so a decompression bomb is refused before anything big is fetched or
//! allocated.

use crate::sniff::{sniff, InputFormat};
use crate::{jpeg, Error, Limits, Result};
use image::ImageDecoder;
use std::io::Cursor;

/// How many leading bytes [`probe`] needs for the files cameras and phones produce (EXIF
/// blocks with embedded previews can be up to 64 KiB, and come before the JPEG frame header).
pub const HEAD_BYTES: usize = 128 * 1024;

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Probe {
    pub format: InputFormat,
    /// Stored width, before orientation.
    pub width: u32,
    /// Stored height, before orientation.
    pub height: u32,
    /// EXIF orientation, 1–8 (1 when absent or invalid).
    pub orientation: u8,
}

impl Probe {
    /// Width and height as displayed, after orientation.
    pub fn display_size(&self) -> (u32, u32) {
        if self.orientation >= 5 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Reads the header from `head` (the whole file or at least its first [`HEAD_BYTES`]) and
/// checks the pixel count against `limits`.
pub fn probe(head: &[u8], limits: &Limits) -> Result<Probe> {
    let format = sniff(head)?;
    let probe = match format {
        InputFormat::Jpeg => probe_jpeg(head)?,
        InputFormat::Heif | InputFormat::Avif => {
            return Err(Error::unsupported(format!(
            "{} images are not supported by this build of photopipe (see README: HEIC and AVIF)",
            format.as_str().to_uppercase()
        )))
        }
        _ => probe_with_image(head, format)?,
    };
    if probe.width == 0 || probe.height == 0 {
        return Err(Error::corrupt(format!(
            "the {} header declares an empty {}x{} image",
            format, probe.width, probe.height
        )));
    }
    let pixels = u64::from(probe.width) * u64::from(probe.height);
    if pixels > limits.max_pixels {
        return Err(Error::too_large(format!(
            "the image is {}x{} ({:.1} megapixels), over the limit of {:.1} megapixels",
            probe.width,
            probe.height,
            pixels as f64 / 1e6,
            limits.max_pixels as f64 / 1e6
        )));
    }
    Ok(probe)
}

fn probe_jpeg(head: &[u8]) -> Result<Probe> {
    let header = jpeg::read_header(head)?;
    let frame = header.frame.as_ref().ok_or_else(|| {
        Error::corrupt("the JPEG header is incomplete: no frame header (SOF) in the data")
    })?;
    let orientation = header
        .exif
        .as_deref()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .map_or(1, |o| o.to_exif());
    Ok(Probe {
        format: InputFormat::Jpeg,
        width: u32::from(frame.width),
        height: u32::from(frame.height),
        orientation,
    })
}

fn probe_with_image(head: &[u8], format: InputFormat) -> Result<Probe> {
    let image_format = match format {
        InputFormat::Png => image::ImageFormat::Png,
        InputFormat::Webp => image::ImageFormat::WebP,
        InputFormat::Gif => image::ImageFormat::Gif,
        InputFormat::Tiff => image::ImageFormat::Tiff,
        _ => image::ImageFormat::Bmp,
    };
    let mut reader = image::ImageReader::new(Cursor::new(head));
    reader.set_format(image_format);
    // Header parsing only: the limits here must not refuse big dimensions, which are
    // reported as too_large by the caller with a clearer message.
    reader.no_limits();
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Error::corrupt(format!("the {format} header cannot be read: {e}")))?;
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().map_or(1, |o| o.to_exif());
    Ok(Probe {
        format,
        width,
        height,
        orientation,
    })
}
