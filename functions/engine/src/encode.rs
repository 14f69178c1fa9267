//! Step 7: the thumbnail file. Only pixels go in — no EXIF, GPS, XMP, IPTC, comments or
//! maker notes survive, because nothing is copied from the original. JPEG has no alpha, so
//! transparent pixels are flattened onto white (as a page behind them would show).

use crate::{Error, Layout, OutputFormat, Pixels, Result, Spec};

pub fn encode(pixels: &Pixels, spec: &Spec) -> Result<Vec<u8>> {
    match spec.format {
        OutputFormat::Jpeg => encode_jpeg(pixels, spec.quality),
        OutputFormat::Webp => encode_webp(pixels, spec.quality),
    }
}

fn encode_jpeg(pixels: &Pixels, quality: u8) -> Result<Vec<u8>> {
    let (width, height) = dimensions_within(pixels, 65_535, "JPEG")?;
    let flattened;
    let rgb = match pixels.layout {
        Layout::Rgb => &pixels.data,
        Layout::Rgba => {
            flattened = flatten_on_white(&pixels.data);
            &flattened
        }
    };
    // A grey picture (a black-and-white photo, a grey PNG) is stored as one channel: the
    // same pixels in fewer bytes.
    let grey: Vec<u8>;
    let (samples, colour) = if rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]) {
        grey = rgb.iter().step_by(3).copied().collect();
        (&grey, jpeg_encoder::ColorType::Luma)
    } else {
        (rgb, jpeg_encoder::ColorType::Rgb)
    };
    let mut out = Vec::with_capacity(samples.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    // Standard tables on purpose: jpeg-encoder writes optimised tables as one scan per
    // component, which some decoders (zune-jpeg 0.5, hence the `image` crate) mis-read.
    // Chroma is averaged over each 2×2 block as libjpeg does; the encoder's default keeps
    // the top-left sample only, which aliases colour edges.
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder
        .encode(samples, width, height, colour)
        .map_err(|e| Error::corrupt(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

fn encode_webp(pixels: &Pixels, quality: u8) -> Result<Vec<u8>> {
    dimensions_within(pixels, 16_383, "WebP")?;
    let encoder = match pixels.layout {
        Layout::Rgb => webp::Encoder::from_rgb(&pixels.data, pixels.width, pixels.height),
        Layout::Rgba => webp::Encoder::from_rgba(&pixels.data, pixels.width, pixels.height),
    };
    let encoded = encoder
        .encode_simple(false, f32::from(quality))
        .map_err(|e| Error::corrupt(format!("WebP encoding failed: {e:?}")))?;
    Ok(encoded.to_vec())
}

fn dimensions_within(pixels: &Pixels, max: u32, format: &str) -> Result<(u16, u16)> {
    if pixels.width > max || pixels.height > max {
        return Err(Error::too_large(format!(
            "a {}x{} thumbnail is over the {format} limit of {max} pixels a side",
            pixels.width, pixels.height
        )));
    }
    Ok((pixels.width as u16, pixels.height as u16))
}

/// Composites straight-alpha RGBA over white.
fn flatten_on_white(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let alpha = u32::from(p[3]);
            let over = |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
            [over(p[0]), over(p[1]), over(p[2])]
        })
        .collect()
}
