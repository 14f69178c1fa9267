//! Loading fixtures and their expectations, decoding thumbnails back, and checking them.

use std::path::PathBuf;
use std::sync::OnceLock;

use image::{ImageFormat, RgbImage, RgbaImage};
use photopipe_engine::{OutputFormat, Thumbnail};
use serde_json::{Map, Value};

pub const PROBE_HEAD: usize = 64 * 1024;

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every fixture's expectations, keyed by file name.
pub fn expected() -> &'static Map<String, Value> {
    static EXPECTED: OnceLock<Map<String, Value>> = OnceLock::new();
    EXPECTED.get_or_init(|| {
        let text = std::fs::read_to_string(fixtures_dir().join("expected.json"))
            .expect("tests/fixtures/expected.json");
        serde_json::from_str(&text).expect("expected.json is valid JSON")
    })
}

pub fn entry(name: &str) -> &'static Value {
    expected()
        .get(name)
        .unwrap_or_else(|| panic!("{name} is not in expected.json"))
}

pub fn uint(value: &Value, key: &str) -> u32 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {value}")) as u32
}

/// The thumbnail decoded back to RGBA, after checking its container matches what it claims.
pub fn decode_output(thumb: &Thumbnail) -> RgbaImage {
    let format = match thumb.format {
        OutputFormat::Jpeg => ImageFormat::Jpeg,
        OutputFormat::Webp => ImageFormat::WebP,
    };
    assert_eq!(
        image::guess_format(&thumb.bytes).ok(),
        Some(format),
        "output bytes are not {format:?}"
    );
    let img = match thumb.format {
        OutputFormat::Jpeg => decode_jpeg(&thumb.bytes),
        OutputFormat::Webp => image::load_from_memory_with_format(&thumb.bytes, format)
            .unwrap_or_else(|e| panic!("the thumbnail does not decode: {e}"))
            .to_rgba8(),
    };
    assert_eq!(
        img.dimensions(),
        (thumb.width, thumb.height),
        "decoded size differs from the Thumbnail's width/height"
    );
    img
}

/// Decodes a JPEG with jpeg-decoder, not the image crate: image 0.25.10's zune-jpeg 0.5.15
/// mis-decodes valid non-interleaved baseline scans (zune-image issue #422).
pub fn decode_jpeg(bytes: &[u8]) -> RgbaImage {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder
        .decode()
        .unwrap_or_else(|e| panic!("the thumbnail does not decode: {e}"));
    let info = decoder.info().expect("info after decode");
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let rgba: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&v| [v, v, v, 255]).collect(),
        other => panic!("thumbnail JPEG has pixel format {other:?}, expected RGB or grey"),
    };
    RgbaImage::from_raw(w, h, rgba).expect("buffer matches size")
}

/// Straight alpha over white, in sRGB values, as the engine must flatten for JPEG.
pub fn on_white(img: &RgbaImage) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let [r, g, b, a] = img.get_pixel(x, y).0;
        let a = f64::from(a) / 255.0;
        let mix = |c: u8| (f64::from(c) * a + 255.0 * (1.0 - a)).round() as u8;
        image::Rgb([mix(r), mix(g), mix(b)])
    })
}

/// Mean colour of the 5×5 window at a fractional position, as the generator samples.
pub fn mean_at(img: &RgbImage, fx: f64, fy: f64) -> [f64; 3] {
    let (w, h) = img.dimensions();
    let (cx, cy) = ((fx * f64::from(w)) as i64, (fy * f64::from(h)) as i64);
    let (mut sum, mut n) = ([0.0; 3], 0.0);
    for y in (cy - 2).max(0)..(cy + 3).min(i64::from(h)) {
        for x in (cx - 2).max(0)..(cx + 3).min(i64::from(w)) {
            let p = img.get_pixel(x as u32, y as u32).0;
            for c in 0..3 {
                sum[c] += f64::from(p[c]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

/// Compares the picture with every sample point expected.json gives for `name`.
pub fn check_samples(name: &str, img: &RgbImage) {
    let e = entry(name);
    let tolerance = e["tolerance"].as_f64().expect("tolerance");
    let mut wrong = Vec::new();
    for s in e["samples"].as_array().expect("samples") {
        let (fx, fy) = (s["x"].as_f64().unwrap(), s["y"].as_f64().unwrap());
        let want: Vec<f64> = s["rgb"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let got = mean_at(img, fx, fy);
        if got
            .iter()
            .zip(&want)
            .any(|(g, w)| (g - w).abs() > tolerance)
        {
            wrong.push(format!(
                "at ({fx}, {fy}): got {:?}, expected {want:?} ± {tolerance}",
                got.map(|v| v.round())
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{name}: wrong colours\n  {}",
        wrong.join("\n  ")
    );
}

/// A thumbnail may carry pixels and nothing else: any metadata segment or chunk fails.
pub fn assert_no_metadata(thumb: &Thumbnail) {
    match thumb.format {
        OutputFormat::Jpeg => assert_clean_jpeg(&thumb.bytes),
        OutputFormat::Webp => assert_clean_webp(&thumb.bytes),
    }
}

fn assert_clean_jpeg(bytes: &[u8]) {
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "no SOI");
    let mut i = 2;
    while i + 2 <= bytes.len() {
        assert_eq!(bytes[i], 0xFF, "expected a marker at byte {i}");
        let marker = bytes[i + 1];
        if marker == 0xD9 {
            return assert_eq!(i + 2, bytes.len(), "bytes after EOI");
        }
        assert!(
            i + 4 <= bytes.len(),
            "segment FF{marker:02X} cut at byte {i}"
        );
        match marker {
            0xDB | 0xC0 | 0xC1 | 0xC2 | 0xC4 | 0xDD | 0xDA => {}
            0xE0 => assert!(
                bytes[i + 4..].starts_with(b"JFIF\0"),
                "APP0 segment that is not JFIF"
            ),
            _ => panic!(
                "forbidden JPEG marker FF{marker:02X} at byte {i} (metadata or exotic coding)"
            ),
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let segment = &bytes[i + 4..(i + 2 + len).min(bytes.len())];
        for word in [
            &b"Exif"[..],
            b"GPS",
            b"xmp",
            b"XMP",
            b"ICC_PROFILE",
            b"Photoshop",
        ] {
            assert!(
                !segment.windows(word.len()).any(|w| w == word),
                "{:?} inside a JPEG segment",
                String::from_utf8_lossy(word)
            );
        }
        i += 2 + len;
        if marker == 0xDA {
            // Entropy-coded data: skip to the next marker that is not stuffing or RSTn.
            while i + 1 < bytes.len()
                && !(bytes[i] == 0xFF
                    && bytes[i + 1] != 0
                    && !(0xD0..=0xD7).contains(&bytes[i + 1]))
            {
                i += 1;
            }
        }
    }
    panic!("no EOI");
}

fn assert_clean_webp(bytes: &[u8]) {
    assert!(
        bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        "not RIFF/WEBP"
    );
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let kind = &bytes[i..i + 4];
        let len = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().unwrap()) as usize;
        match kind {
            b"VP8 " | b"VP8L" | b"ALPH" => {}
            b"VP8X" => {
                // Flags byte: ICC 0x20, EXIF 0x08, XMP 0x04 must all be clear.
                assert_eq!(bytes[i + 8] & 0x2C, 0, "VP8X announces ICC/EXIF/XMP");
            }
            _ => panic!("forbidden WebP chunk {:?}", String::from_utf8_lossy(kind)),
        }
        i += 8 + len + (len & 1);
    }
}
