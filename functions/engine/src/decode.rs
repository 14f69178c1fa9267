//! Step 3: pixels from the file, as few as the thumbnail needs.
//!
//! JPEGs shrink on load: when 1/8 of the image still covers the thumbnail, the DC-only
//! decoder reads one value per block; otherwise jpeg-decoder's DCT scaling decodes at 1/4,
//! 1/2 or full size. Other formats decode fully through the `image` crate, after the header
//! has shown the result fits the memory budget. Samples stay in the file's own colour space
//! and bit depth: colour conversion happens on the resized image, where it is ~50× cheaper.

use crate::jpeg::{self, ColourModel};
use crate::{Error, InputFormat, Limits, Probe, Result};
use std::io::Cursor;

/// Interleaved samples in the source's colour space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Samples {
    Grey8(Vec<u8>),
    GreyAlpha8(Vec<u8>),
    Rgb8(Vec<u8>),
    Rgba8(Vec<u8>),
    /// Ink amounts (0 = no ink), whatever the file's inversion convention.
    Cmyk8(Vec<u8>),
    Grey16(Vec<u16>),
    GreyAlpha16(Vec<u16>),
    Rgb16(Vec<u16>),
    Rgba16(Vec<u16>),
}

/// A decoded (possibly pre-shrunk) image and the ICC profile its samples are in.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    /// The picture's exact extent within the buffer: a JPEG decoded at scale 1/n covers
    /// `original / n` pixels of its `ceil(original / n)`, the last ones padded.
    pub content: (f64, f64),
    pub samples: Samples,
    pub icc: Option<Vec<u8>>,
}

/// Decodes `input` at the smallest cheap scale that still covers `target_w × target_h`.
pub fn decode(
    input: &[u8],
    probe: &Probe,
    target_w: u32,
    target_h: u32,
    limits: &Limits,
) -> Result<Decoded> {
    match probe.format {
        InputFormat::Jpeg => decode_jpeg(input, target_w, target_h, limits),
        InputFormat::Heif | InputFormat::Avif => Err(Error::unsupported(format!(
            "{} images are not supported by this build of photopipe (see README: HEIC and AVIF)",
            probe.format.as_str().to_uppercase()
        ))),
        _ => decode_with_image(input, probe, limits),
    }
}

fn decode_jpeg(input: &[u8], target_w: u32, target_h: u32, limits: &Limits) -> Result<Decoded> {
    let header = jpeg::read_header(input)?;
    let frame = header
        .frame
        .as_ref()
        .ok_or_else(|| Error::corrupt("the JPEG ends before its frame header"))?;
    if frame.arithmetic {
        return Err(Error::unsupported("arithmetic-coded JPEG is not supported"));
    }
    if let Some(process) = frame.unsupported_process {
        return Err(Error::unsupported(format!("{process} is not supported")));
    }
    if frame.precision != 8 && frame.precision != 12 {
        return Err(Error::corrupt(format!(
            "JPEG sample precision of {} bits is invalid",
            frame.precision
        )));
    }
    let (width, height) = (u32::from(frame.width), u32::from(frame.height));
    let icc = header.icc_profile();
    // Shrink-on-load is a box filter: like libvips and Pillow, leave the final resample at
    // least a factor of 2 where decoding that much more is cheap (sequential files), and
    // take the smallest scale that covers the target for progressive ones, whose finer
    // scales cost a full decode.
    let sequential = !frame.progressive && frame.precision == 8;
    let margin = if sequential { 2 } else { 1 };
    let covers =
        |n: u32| width.div_ceil(n) >= margin * target_w && height.div_ceil(n) >= margin * target_h;
    let block_scale = if covers(8) {
        Some(jpeg::dc::BlockScale::Eighth)
    } else if sequential && covers(4) {
        Some(jpeg::dc::BlockScale::Quarter)
    } else {
        None
    };
    if let Some(scale) = block_scale {
        check_budget(
            jpeg::dc::memory_estimate(frame, scale),
            "the block-average JPEG decode",
            limits,
        )?;
        let image = jpeg::dc::decode(input, &header, scale)?;
        let n = f64::from(8 / scale.side());
        return Ok(Decoded {
            width: image.width,
            height: image.height,
            content: (f64::from(width) / n, f64::from(height) / n),
            samples: image.samples,
            icc,
        });
    }

    // DCT scaling at 1/4, 1/2 or 1. A progressive file buffers every coefficient.
    let components = frame.components.len() as u64;
    let pixels = u64::from(width) * u64::from(height);
    let coefficients = if frame.progressive {
        pixels * components * 2
    } else {
        0
    };
    check_budget(
        coefficients + pixels * components * 2,
        "decoding this JPEG",
        limits,
    )?;
    let model = header.colour_model(frame);
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(input));
    decoder.set_max_decoding_buffer_size(
        usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX),
    );
    decoder.set_color_transform(match model {
        ColourModel::Grey => jpeg_decoder::ColorTransform::Grayscale,
        ColourModel::YCbCr => jpeg_decoder::ColorTransform::YCbCr,
        ColourModel::Rgb => jpeg_decoder::ColorTransform::RGB,
        // jpeg-decoder inverts CMYK samples, which turns Adobe's inverted ones into ink.
        ColourModel::CmykInverted => jpeg_decoder::ColorTransform::CMYK,
        ColourModel::CmykPlain => jpeg_decoder::ColorTransform::None,
        ColourModel::Ycck => jpeg_decoder::ColorTransform::YCCK,
    });
    decoder.read_info().map_err(jpeg_error)?;
    let clamp16 = |v: u32| v.clamp(1, u32::from(u16::MAX)) as u16;
    let (out_w, out_h) = decoder
        .scale(clamp16(margin * target_w), clamp16(margin * target_h))
        .map_err(jpeg_error)?;
    let data = decoder.decode().map_err(jpeg_error)?;
    let (out_w, out_h) = (u32::from(out_w), u32::from(out_h));
    let expected = out_w as usize * out_h as usize * frame.components.len();
    if data.len() != expected {
        return Err(Error::corrupt("the JPEG decoded to an unexpected size"));
    }
    let samples = match frame.components.len() {
        1 => Samples::Grey8(data),
        3 => Samples::Rgb8(data),
        _ => Samples::Cmyk8(data),
    };
    // jpeg-decoder scales by 1/1, 1/2 or 1/4 (it rounds sizes up).
    let scale = f64::from(out_w) / f64::from(width);
    let scale = [1.0, 0.5, 0.25]
        .into_iter()
        .find(|s| scale >= *s - 1e-9)
        .unwrap_or(0.25);
    Ok(Decoded {
        width: out_w,
        height: out_h,
        content: (f64::from(width) * scale, f64::from(height) * scale),
        samples,
        icc,
    })
}

fn jpeg_error(error: jpeg_decoder::Error) -> Error {
    match error {
        jpeg_decoder::Error::Unsupported(feature) => {
            Error::unsupported(format!("unsupported JPEG feature: {feature:?}"))
        }
        jpeg_decoder::Error::Io(e) => Error::corrupt(format!("the JPEG is truncated: {e}")),
        other => Error::corrupt(format!("the JPEG cannot be decoded: {other}")),
    }
}

fn decode_with_image(input: &[u8], probe: &Probe, limits: &Limits) -> Result<Decoded> {
    use image::ImageDecoder;

    let pixels = u64::from(probe.width) * u64::from(probe.height);
    // Worst case 16-bit RGBA, plus the decoder's own row buffers.
    check_budget(pixels * 8, "decoding this image", limits)?;
    let mut reader = image::ImageReader::new(Cursor::new(input));
    reader.set_format(match probe.format {
        InputFormat::Png => image::ImageFormat::Png,
        InputFormat::Webp => image::ImageFormat::WebP,
        InputFormat::Gif => image::ImageFormat::Gif,
        InputFormat::Tiff => image::ImageFormat::Tiff,
        InputFormat::Bmp => image::ImageFormat::Bmp,
        other => unreachable!("{other} is decoded elsewhere"),
    });
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_decode_bytes);
    image_limits.max_image_width = Some(probe.width.max(1));
    image_limits.max_image_height = Some(probe.height.max(1));
    reader.limits(image_limits);
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = image::DynamicImage::from_decoder(decoder).map_err(image_error)?;
    let (width, height) = (image.width(), image.height());
    let samples = match image {
        image::DynamicImage::ImageLuma8(b) => Samples::Grey8(b.into_raw()),
        image::DynamicImage::ImageLumaA8(b) => Samples::GreyAlpha8(b.into_raw()),
        image::DynamicImage::ImageRgb8(b) => Samples::Rgb8(b.into_raw()),
        image::DynamicImage::ImageRgba8(b) => Samples::Rgba8(b.into_raw()),
        image::DynamicImage::ImageLuma16(b) => Samples::Grey16(b.into_raw()),
        image::DynamicImage::ImageLumaA16(b) => Samples::GreyAlpha16(b.into_raw()),
        image::DynamicImage::ImageRgb16(b) => Samples::Rgb16(b.into_raw()),
        image::DynamicImage::ImageRgba16(b) => Samples::Rgba16(b.into_raw()),
        other if other.color().has_alpha() => Samples::Rgba16(other.into_rgba16().into_raw()),
        other => Samples::Rgb16(other.into_rgb16().into_raw()),
    };
    Ok(Decoded {
        width,
        height,
        content: (f64::from(width), f64::from(height)),
        samples,
        icc,
    })
}

fn image_error(error: image::ImageError) -> Error {
    match error {
        image::ImageError::Limits(e) => {
            Error::too_large(format!("decoding would exceed the memory budget: {e}"))
        }
        image::ImageError::Unsupported(e) => Error::unsupported(format!("unsupported image: {e}")),
        image::ImageError::IoError(e) => Error::corrupt(format!("the image is truncated: {e}")),
        other => Error::corrupt(format!("the image cannot be decoded: {other}")),
    }
}

/// Refuses work whose memory, estimated from the header, is over the budget.
fn check_budget(bytes: u64, what: &str, limits: &Limits) -> Result<()> {
    if bytes > limits.max_decode_bytes {
        return Err(Error::too_large(format!(
            "{what} would need about {} MiB, over the {} MiB budget",
            bytes.div_ceil(1 << 20),
            limits.max_decode_bytes >> 20
        )));
    }
    Ok(())
}
