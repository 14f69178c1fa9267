//! Every decodable fixture: probe fields, thumbnail size, colours at known points, and a
//! metadata-free output; plus sizing, naming and output-format rules.

use photopipe_engine::{probe, thumbnail, InputFormat, Limits, OutputFormat, Spec};

use crate::common::{
    assert_no_metadata, check_samples, decode_jpeg, decode_output, entry, expected, fixture,
    on_white, uint, PROBE_HEAD,
};

fn input_format(name: &str) -> InputFormat {
    match name {
        "jpeg" => InputFormat::Jpeg,
        "png" => InputFormat::Png,
        "webp" => InputFormat::Webp,
        "gif" => InputFormat::Gif,
        "tiff" => InputFormat::Tiff,
        "bmp" => InputFormat::Bmp,
        other => panic!("unknown format {other} in expected.json"),
    }
}

/// The default JPEG thumbnail of `name` matches expected.json in every respect.
fn check(name: &str) {
    check_as(name, OutputFormat::Jpeg);
}

fn check_as(name: &str, format: OutputFormat) {
    let e = entry(name);
    let spec = Spec {
        format,
        ..Spec::default()
    };
    let thumb = thumbnail(&fixture(name), &spec, &Limits::default())
        .unwrap_or_else(|err| panic!("{name}: {err}"));
    let source = thumb.source;
    assert_eq!(
        source.format,
        input_format(e["format"].as_str().unwrap()),
        "{name}: probe format"
    );
    assert_eq!(
        (source.width, source.height, u32::from(source.orientation)),
        (uint(e, "width"), uint(e, "height"), uint(e, "orientation")),
        "{name}: probe width, height, orientation"
    );
    assert_eq!(
        (thumb.width, thumb.height),
        (uint(e, "thumb_width"), uint(e, "thumb_height")),
        "{name}: thumbnail size"
    );
    assert_eq!(thumb.format, format);
    assert_no_metadata(&thumb);
    check_samples(name, &on_white(&decode_output(&thumb)));
}

macro_rules! fixture_tests {
    ($($test:ident => $file:literal,)*) => {
        $(#[test]
        fn $test() {
            check($file);
        })*
    };
}

fixture_tests! {
    orientation_1_normal => "orientation_1.jpg",
    orientation_2_mirrored => "orientation_2.jpg",
    orientation_3_rotated_180 => "orientation_3.jpg",
    orientation_4_flipped => "orientation_4.jpg",
    orientation_5_transposed => "orientation_5.jpg",
    orientation_6_rotated_90_cw => "orientation_6.jpg",
    orientation_7_transversed => "orientation_7.jpg",
    orientation_8_rotated_90_ccw => "orientation_8.jpg",
    jpeg_444 => "subsampling_444.jpg",
    jpeg_422 => "subsampling_422.jpg",
    jpeg_420 => "subsampling_420.jpg",
    jpeg_progressive => "progressive.jpg",
    jpeg_grey => "grey.jpg",
    cmyk_adobe_inverted_not_inverted_in_output => "cmyk_adobe.jpg",
    cmyk_with_icc_profile_uses_profile => "cmyk_icc.jpg",
    adobe_rgb_converted_to_srgb => "adobe_rgb.jpg",
    display_p3_converted_to_srgb => "display_p3.png",
    png_16bit_rgb_uses_high_byte => "rgb16.png",
    png_16bit_grey_uses_high_byte => "grey16.png",
    png_rgba_flattened_on_white => "rgba.png",
    png_palette_trns_flattened_on_white => "palette_trns.png",
    png_rgb => "quadrants.png",
    webp_lossy => "lossy.webp",
    webp_alpha_flattened_on_white => "alpha.webp",
    tiff => "quadrants.tiff",
    bmp => "quadrants.bmp",
    gif_animated_first_frame => "animated.gif",
    jpeg_with_all_metadata => "metadata.jpg",
}

/// WebP output: same size and colours (alpha, if kept, composited on white to compare).
#[test]
fn webp_output() {
    for name in [
        "orientation_6.jpg",
        "subsampling_420.jpg",
        "rgba.png",
        "cmyk_adobe.jpg",
        "rgb16.png",
    ] {
        check_as(name, OutputFormat::Webp);
    }
}

/// The fixtures' ICC expectations must be far from the raw values, or they would prove
/// nothing; this guards the generator, not the engine.
#[test]
fn colour_fixtures_discriminate() {
    for name in ["cmyk_icc.jpg", "adobe_rgb.jpg", "display_p3.png"] {
        let e = entry(name);
        let tolerance = e["tolerance"].as_f64().unwrap();
        let far = e["samples"]
            .as_array()
            .unwrap()
            .iter()
            .zip(e["naive_samples"].as_array().unwrap())
            .any(|(s, n)| {
                s["rgb"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(n["rgb"].as_array().unwrap())
                    .any(|(a, b)| {
                        (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() > 2.0 * tolerance
                    })
            });
        assert!(
            far,
            "{name}: expected colours too close to the unconverted ones"
        );
    }
}

/// Nothing in the metadata fixture (EXIF, GPS, XMP, IPTC, COM, ICC) reaches the output.
#[test]
fn metadata_is_stripped() {
    let e = entry("metadata.jpg");
    for format in [OutputFormat::Jpeg, OutputFormat::Webp] {
        let spec = Spec {
            format,
            ..Spec::default()
        };
        let thumb = thumbnail(&fixture("metadata.jpg"), &spec, &Limits::default()).unwrap();
        assert_no_metadata(&thumb);
        for secret in e["secrets"].as_array().unwrap() {
            let secret = secret.as_str().unwrap().as_bytes();
            assert!(
                !thumb.bytes.windows(secret.len()).any(|w| w == secret),
                "{format:?} output contains {:?}",
                String::from_utf8_lossy(secret)
            );
        }
    }
}

/// The format comes from the bytes: a JPEG named .png or .txt gives the very same thumbnail.
#[test]
fn file_name_is_ignored() {
    let reference = thumbnail(
        &fixture("orientation_1.jpg"),
        &Spec::default(),
        &Limits::default(),
    )
    .unwrap();
    for name in ["jpeg_named.png", "jpeg_named.txt"] {
        assert_eq!(entry(name)["same_as"], "orientation_1.jpg");
        let thumb = thumbnail(&fixture(name), &Spec::default(), &Limits::default()).unwrap();
        assert_eq!(thumb.source.format, InputFormat::Jpeg, "{name}");
        assert_eq!(thumb, reference, "{name}");
    }
}

/// The longest edge is max_edge, the aspect ratio is kept within a pixel, and nothing is
/// ever upscaled; orientation 6 swaps the sides.
#[test]
fn sizes_and_aspect() {
    let cases = [
        ("subsampling_420.jpg", 601, 401),
        ("quadrants.png", 64, 48),
        ("orientation_6.jpg", 48, 64),
        ("orientation_8.jpg", 48, 64),
        ("lossy.webp", 64, 48),
    ];
    let mut wrong = Vec::new();
    for (name, w, h) in cases {
        let input = fixture(name);
        for max_edge in [
            1, 2, 7, 16, 47, 48, 63, 64, 65, 100, 255, 256, 600, 601, 602, 4000,
        ] {
            let spec = Spec {
                max_edge,
                ..Spec::default()
            };
            let thumb = match thumbnail(&input, &spec, &Limits::default()) {
                Ok(t) => t,
                Err(e) => {
                    wrong.push(format!("{name} max_edge {max_edge}: {e}"));
                    continue;
                }
            };
            let (tw, th) = (thumb.width, thumb.height);
            let longest = max_edge.min(w.max(h));
            // The other side, from the exact ratio; ±1 allows any rounding.
            let ideal = f64::from(longest) * f64::from(w.min(h)) / f64::from(w.max(h));
            let (long, short) = if w >= h { (tw, th) } else { (th, tw) };
            let short_ok = (f64::from(short) - ideal).abs() <= 1.0 && short >= 1;
            if long != longest || !short_ok || (tw > w || th > h) {
                wrong.push(format!(
                    "{name} ({w}x{h} upright) max_edge {max_edge}: got {tw}x{th}, want longest {longest} and other ≈{ideal:.1}"
                ));
            }
            let img = decode_output(&thumb);
            if img.dimensions() != (tw, th) {
                wrong.push(format!(
                    "{name} max_edge {max_edge}: decodes as {:?}",
                    img.dimensions()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "wrong sizes:\n  {}", wrong.join("\n  "));
}

/// Header-only probing works from the first 64 KiB of every fixture.
#[test]
fn probe_from_first_64k() {
    let mut wrong = Vec::new();
    for (name, e) in expected() {
        let data = fixture(name);
        let head = &data[..data.len().min(PROBE_HEAD)];
        let result = probe(head, &Limits::default());
        match (e.get("format"), e.get("probe_error"), result) {
            (_, Some(kind), Err(err)) if err.kind.as_str() == kind => {}
            (Some(format), None, Ok(p)) => {
                let got = (p.format, p.width, p.height, u32::from(p.orientation));
                let want = (
                    input_format(format.as_str().unwrap()),
                    uint(e, "width"),
                    uint(e, "height"),
                    uint(e, "orientation"),
                );
                if got != want {
                    wrong.push(format!("{name}: got {got:?}, expected {want:?}"));
                }
            }
            (_, want_err, got) => {
                wrong.push(format!("{name}: got {got:?}, expected error {want_err:?}"))
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "probe mismatches:\n  {}",
        wrong.join("\n  ")
    );
}

/// Thumbnails are served to whatever decoder a client has: the image crate (zune-jpeg), the
/// most common in Rust, must see the same pixels as jpeg-decoder. Guards against a return
/// to non-interleaved baseline scans, which zune-jpeg 0.5.15 silently mis-decodes.
#[test]
fn output_jpeg_decodes_alike_in_image_crate() {
    let mut wrong = Vec::new();
    for name in [
        "orientation_1.jpg",
        "subsampling_420.jpg",
        "rgba.png",
        "grey.jpg",
    ] {
        let thumb = thumbnail(&fixture(name), &Spec::default(), &Limits::default()).unwrap();
        let reference = decode_jpeg(&thumb.bytes);
        let other = image::load_from_memory_with_format(&thumb.bytes, image::ImageFormat::Jpeg)
            .map(|i| i.to_rgba8());
        match other {
            Ok(img) if img.dimensions() == reference.dimensions() => {
                let worst = img
                    .as_raw()
                    .iter()
                    .zip(reference.as_raw())
                    .map(|(a, b)| a.abs_diff(*b))
                    .max()
                    .unwrap_or(0);
                if worst > 8 {
                    let centre = (img.width() / 4, img.height() / 4);
                    wrong.push(format!(
                        "{name}: max difference {worst}; pixel {centre:?} is {:?} in image, {:?} in jpeg-decoder",
                        img.get_pixel(centre.0, centre.1).0,
                        reference.get_pixel(centre.0, centre.1).0
                    ));
                }
            }
            Ok(img) => wrong.push(format!("{name}: image decodes {:?}", img.dimensions())),
            Err(e) => wrong.push(format!("{name}: image fails: {e}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "thumbnails decode differently:\n  {}",
        wrong.join("\n  ")
    );
}
