//! photopipe's thumbnail engine: the bytes of an uploaded file in, a small upright sRGB
//! thumbnail with no metadata out, or a typed [`Error`] saying what was wrong.
//!
//! It is pure (no I/O, no async) so the same code runs in the validate and resize Lambdas, in
//! the local pipeline and in `photopipe thumbnail`. The work is a list of small named steps,
//! in the order [`thumbnail`] calls them:
//!
//! 1. [`sniff`]: the format from magic bytes, never from a file name;
//! 2. [`probe`]: dimensions and orientation from the header, checked against [`Limits`]
//!    before any pixel buffer is allocated;
//! 3. [`decode`]: shrink-on-load (JPEG DCT scaling, DC-only at 1/8) into a small buffer;
//! 4. [`resize`]: a SIMD Lanczos resample to the target size;
//! 5. [`colour`]: embedded ICC profiles, CMYK and 16-bit samples to 8-bit sRGB;
//! 6. [`orient`]: EXIF orientation applied to the (already small) pixels;
//! 7. [`encode`]: JPEG (alpha flattened onto white) or WebP, carrying no metadata at all.
//!
//! Steps 2–7 are the `codecs` feature (on by default). Without it the crate is the
//! vocabulary alone — [`InputFormat`] and [`sniff`], [`OutputFormat`], [`Spec`], [`Limits`],
//! [`Error`] — which the pipeline's model and configuration speak in every Lambda, while
//! only validate and resize link the codecs.

#[cfg(feature = "codecs")]
pub mod colour;
#[cfg(feature = "codecs")]
pub mod decode;
#[cfg(feature = "codecs")]
pub mod encode;
mod error;
#[cfg(feature = "codecs")]
mod jpeg;
#[cfg(feature = "codecs")]
pub mod orient;
#[cfg(feature = "codecs")]
pub mod probe;
#[cfg(feature = "codecs")]
pub mod resize;
pub mod sniff;

pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "codecs")]
pub use probe::{probe, Probe};
pub use sniff::InputFormat;

/// The encoding of the thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Jpeg,
    Webp,
}

impl OutputFormat {
    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Webp => "webp",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Webp => "image/webp",
        }
    }
}

/// What thumbnail to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The longest edge of the thumbnail in pixels; smaller images are never upscaled.
    pub max_edge: u32,
    pub format: OutputFormat,
    /// Encoder quality, 1–100.
    pub quality: u8,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            max_edge: 256,
            format: OutputFormat::Jpeg,
            quality: 80,
        }
    }
}

/// Hard limits checked before decoding, so hostile files are refused cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file.
    pub max_input_bytes: u64,
    /// Largest accepted width × height, from the header.
    pub max_pixels: u64,
    /// Largest pixel memory a decode may need (estimated from the header, after
    /// shrink-on-load). Keeps a 128 MB Lambda alive whatever the upload.
    pub max_decode_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A 100 MP camera JPEG is 30–60 MB; a 16-bit TIFF of one is far bigger, and
            // refused by the decode budget instead.
            max_input_bytes: 128 * 1024 * 1024,
            // Accepts 100–150 MP medium-format cameras; refuses 40000×40000 PNG bombs and
            // JPEG headers claiming 65000×65000.
            max_pixels: 200_000_000,
            max_decode_bytes: 256 * 1024 * 1024,
        }
    }
}

#[cfg(feature = "codecs")]
/// A finished thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    /// What the header said about the original.
    pub source: Probe,
}

#[cfg(feature = "codecs")]
/// Makes the thumbnail of `input` (the whole file) according to `spec`, within `limits`.
pub fn thumbnail(input: &[u8], spec: &Spec, limits: &Limits) -> Result<Thumbnail> {
    check_spec(spec)?;
    if input.len() as u64 > limits.max_input_bytes {
        return Err(Error::too_large(format!(
            "the file is {} bytes, over the limit of {} bytes",
            input.len(),
            limits.max_input_bytes
        )));
    }
    let source = probe(input, limits)?;
    let (width, height) = target_size(source.width, source.height, spec.max_edge);
    let decoded = decode::decode(input, &source, width, height, limits)?;
    let resized = resize::resize(decoded, width, height)?;
    let srgb = colour::to_srgb8(resized)?;
    let upright = orient::apply(srgb, source.orientation);
    let bytes = encode::encode(&upright, spec)?;
    Ok(Thumbnail {
        bytes,
        width: upright.width,
        height: upright.height,
        format: spec.format,
        source,
    })
}

#[cfg(feature = "codecs")]
fn check_spec(spec: &Spec) -> Result<()> {
    // Not an input error but a caller's mistake; reported the same way so it is never a panic.
    if spec.max_edge == 0 || !(1..=100).contains(&spec.quality) {
        return Err(Error::new(
            ErrorKind::UnsupportedFormat,
            format!(
                "invalid thumbnail spec: max_edge must be ≥ 1 and quality 1–100 (got {} and {})",
                spec.max_edge, spec.quality
            ),
        ));
    }
    Ok(())
}

#[cfg(feature = "codecs")]
/// The size of the thumbnail in stored (pre-orientation) pixels: the longest edge becomes
/// `max_edge`, the aspect ratio is kept, and nothing is ever upscaled.
pub fn target_size(width: u32, height: u32, max_edge: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max_edge {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        let scaled =
            (u64::from(side) * u64::from(max_edge) + u64::from(longest) / 2) / u64::from(longest);
        (scaled as u32).max(1)
    };
    (scale(width), scale(height))
}

#[cfg(feature = "codecs")]
/// An 8-bit image in memory, the currency between the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub data: Vec<u8>,
}

#[cfg(feature = "codecs")]
/// How the samples of a [`Pixels`] are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Rgb,
    /// Straight (not premultiplied) alpha.
    Rgba,
}

#[cfg(feature = "codecs")]
impl Layout {
    pub fn channels(self) -> usize {
        match self {
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }
}
