//! Step 4: everything to 8-bit sRGB. Embedded ICC profiles (Adobe RGB, Display P3, CMYK
//! press profiles, grey gamma) are converted with moxcms; CMYK without a profile uses the
//! usual ink formula; 16-bit samples are rounded, not truncated, to 8 bits.
//!
//! Runs after the resize, on the thumbnail's few thousand pixels rather than the original's
//! millions: the resample is linear, so the order barely changes the result.

use crate::decode::{Decoded, Samples};
use crate::{Layout, Pixels, Result};
use moxcms::{ColorProfile, DataColorSpace, Layout as CmsLayout, TransformOptions};

/// Converts the samples to 8-bit sRGB (with straight alpha when the source has any).
pub fn to_srgb8(decoded: Decoded) -> Result<Pixels> {
    let (width, height) = (decoded.width, decoded.height);
    let profile = decoded
        .icc
        .as_deref()
        .and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .filter(|p| p.color_space == expected_space(&decoded.samples));
    let converted = profile.and_then(|p| with_profile(&p, &decoded.samples));
    let (layout, data) = converted.unwrap_or_else(|| without_profile(decoded.samples));
    Ok(Pixels {
        width,
        height,
        layout,
        data,
    })
}

fn expected_space(samples: &Samples) -> DataColorSpace {
    match samples {
        Samples::Grey8(_)
        | Samples::GreyAlpha8(_)
        | Samples::Grey16(_)
        | Samples::GreyAlpha16(_) => DataColorSpace::Gray,
        Samples::Cmyk8(_) => DataColorSpace::Cmyk,
        _ => DataColorSpace::Rgb,
    }
}

/// The transform through the embedded profile; `None` when moxcms cannot build one for
/// this profile, in which case the samples are taken as sRGB (what browsers do with a
/// broken profile).
fn with_profile(profile: &ColorProfile, samples: &Samples) -> Option<(Layout, Vec<u8>)> {
    let srgb = ColorProfile::new_srgb();
    let options = TransformOptions::default();
    let (source_layout, alpha) = match samples {
        Samples::Grey8(_) | Samples::Grey16(_) => (CmsLayout::Gray, false),
        Samples::GreyAlpha8(_) | Samples::GreyAlpha16(_) => (CmsLayout::GrayAlpha, true),
        Samples::Rgb8(_) | Samples::Rgb16(_) => (CmsLayout::Rgb, false),
        Samples::Rgba8(_) | Samples::Rgba16(_) => (CmsLayout::Rgba, true),
        Samples::Cmyk8(_) => (CmsLayout::Rgba, false),
    };
    let (layout, target_layout) = if alpha {
        (Layout::Rgba, CmsLayout::Rgba)
    } else {
        (Layout::Rgb, CmsLayout::Rgb)
    };
    let pixels = pixel_count(samples);
    match samples {
        Samples::Grey8(v)
        | Samples::GreyAlpha8(v)
        | Samples::Rgb8(v)
        | Samples::Rgba8(v)
        | Samples::Cmyk8(v) => {
            let transform = profile
                .create_transform_8bit(source_layout, &srgb, target_layout, options)
                .ok()?;
            let mut out = vec![0u8; pixels * layout.channels()];
            transform.transform(v, &mut out).ok()?;
            Some((layout, out))
        }
        Samples::Grey16(v) | Samples::GreyAlpha16(v) | Samples::Rgb16(v) | Samples::Rgba16(v) => {
            let transform = profile
                .create_transform_16bit(source_layout, &srgb, target_layout, options)
                .ok()?;
            let mut out = vec![0u16; pixels * layout.channels()];
            transform.transform(v, &mut out).ok()?;
            Some((layout, out.into_iter().map(reduce16).collect()))
        }
    }
}

/// Samples taken as sRGB already: grey is spread to RGB, CMYK uses the ink formula.
fn without_profile(samples: Samples) -> (Layout, Vec<u8>) {
    let spread_grey = |grey: &mut dyn Iterator<Item = u8>| grey.flat_map(|g| [g, g, g]).collect();
    match samples {
        Samples::Rgb8(v) => (Layout::Rgb, v),
        Samples::Rgba8(v) => (Layout::Rgba, v),
        Samples::Grey8(v) => (Layout::Rgb, spread_grey(&mut v.into_iter())),
        Samples::GreyAlpha8(v) => (
            Layout::Rgba,
            v.chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
        ),
        Samples::Cmyk8(v) => (
            Layout::Rgb,
            v.chunks_exact(4).flat_map(cmyk_to_rgb).collect(),
        ),
        Samples::Rgb16(v) => (Layout::Rgb, v.into_iter().map(reduce16).collect()),
        Samples::Rgba16(v) => (Layout::Rgba, v.into_iter().map(reduce16).collect()),
        Samples::Grey16(v) => (Layout::Rgb, spread_grey(&mut v.into_iter().map(reduce16))),
        Samples::GreyAlpha16(v) => (
            Layout::Rgba,
            v.chunks_exact(2)
                .flat_map(|p| {
                    let (g, a) = (reduce16(p[0]), reduce16(p[1]));
                    [g, g, g, a]
                })
                .collect(),
        ),
    }
}

/// Ink amounts (0 = none) to RGB: each colour is what its ink and the black leave of white.
fn cmyk_to_rgb(ink: &[u8]) -> [u8; 3] {
    let white = 255 - u32::from(ink[3]);
    let channel = |i: u8| ((255 - u32::from(i)) * white + 127) / 255;
    [
        channel(ink[0]) as u8,
        channel(ink[1]) as u8,
        channel(ink[2]) as u8,
    ]
}

/// 16 bits to 8, rounded to nearest: 65535 → 255, 32896 → 128.
fn reduce16(value: u16) -> u8 {
    ((u32::from(value) * 255 + 32767) / 65535) as u8
}

fn pixel_count(samples: &Samples) -> usize {
    match samples {
        Samples::Grey8(v) => v.len(),
        Samples::GreyAlpha8(v) => v.len() / 2,
        Samples::Rgb8(v) => v.len() / 3,
        Samples::Rgba8(v) | Samples::Cmyk8(v) => v.len() / 4,
        Samples::Grey16(v) => v.len(),
        Samples::GreyAlpha16(v) => v.len() / 2,
        Samples::Rgb16(v) => v.len() / 3,
        Samples::Rgba16(v) => v.len() / 4,
    }
}
