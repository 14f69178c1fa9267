//! Real photos (JPEG baseline/progressive, 4:2:0/4:2:2/4:4:4, 0.27–100 MP; RGB, grey and
//! RGBA PNG): every one thumbnails, at the right size, and looks like a plain full decode
//! resized with Lanczos3, which catches colour and ordering bugs in the fast paths.

use std::path::PathBuf;
use std::sync::Mutex;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};
use photopipe_engine::{probe, target_size, thumbnail, InputFormat, Limits, Spec};

use crate::common::{assert_no_metadata, decode_output, on_white, PROBE_HEAD};

/// Mean absolute difference per channel allowed against the reference, in 0–255 units,
/// compared at half size: the thumbnail's own 4:2:0 chroma subsampling costs up to ~6 on
/// detailed photos at full size, which says nothing about the engine. An RGB/BGR swap, a
/// flip or a misplaced block costs tens.
const MAX_MEAN_ERROR: f64 = 6.0;
/// Mean signed difference per channel allowed: a wrong matrix, gamma or profile shifts the
/// whole picture, while resampling and compression average out.
const MAX_BIAS: f64 = 2.0;

/// The corpus files, or None (with a note) where this machine has no corpus.
fn corpus() -> Option<Vec<PathBuf>> {
    let dir = std::env::var_os("PHOTOPIPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("note: no corpus at {}; corpus test skipped", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable corpus folder").path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jpg" | "jpeg" | "png")
            )
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "corpus folder {} has no photos",
        dir.display()
    );
    Some(files)
}

fn name(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Mean absolute and mean signed difference of each channel.
fn differences(a: &RgbImage, b: &RgbImage) -> ([f64; 3], [f64; 3]) {
    let (mut abs, mut signed) = ([0i64; 3], [0i64; 3]);
    for (p, q) in a.pixels().zip(b.pixels()) {
        for c in 0..3 {
            let d = i64::from(p.0[c]) - i64::from(q.0[c]);
            abs[c] += d.abs();
            signed[c] += d;
        }
    }
    let n = f64::from(a.width() * a.height());
    (abs.map(|s| s as f64 / n), signed.map(|s| s as f64 / n))
}

/// 2×2 box average, which folds away chroma subsampling.
fn half(img: &RgbImage) -> RgbImage {
    RgbImage::from_fn(
        (img.width() / 2).max(1),
        (img.height() / 2).max(1),
        |x, y| {
            let mut sum = [0u32; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = img.get_pixel(
                    (2 * x + dx).min(img.width() - 1),
                    (2 * y + dy).min(img.height() - 1),
                );
                for (total, &v) in sum.iter_mut().zip(&p.0) {
                    *total += u32::from(v);
                }
            }
            image::Rgb(sum.map(|s| ((s + 2) / 4) as u8))
        },
    )
}

/// A plain, slow reference: full decode, upright, flattened on white, Lanczos3.
fn reference(data: &[u8], orientation: u8, width: u32, height: u32) -> RgbImage {
    let mut img = image::load_from_memory(data).expect("the image crate decodes the corpus file");
    img.apply_orientation(Orientation::from_exif(orientation).expect("orientation 1–8"));
    let rgb = if img.color().has_alpha() {
        on_white(&img.to_rgba8())
    } else {
        img.to_rgb8()
    };
    DynamicImage::ImageRgb8(rgb)
        .resize_exact(width, height, FilterType::Lanczos3)
        .to_rgb8()
}

/// Checks one file; returns a line describing what is wrong, if anything.
fn check_file(path: &std::path::Path) -> Result<String, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    // Quality 95: at 80 the encoder's own quantisation costs up to 6.4 per channel on these
    // photos (measured with libjpeg), which would hide what this test is for.
    let spec = Spec {
        quality: 95,
        ..Spec::default()
    };
    let thumb = thumbnail(&data, &spec, &Limits::default()).map_err(|e| format!("refused: {e}"))?;
    let p = thumb.source;
    let upright = if p.orientation >= 5 {
        (p.height, p.width)
    } else {
        (p.width, p.height)
    };
    let want = target_size(upright.0, upright.1, 256);
    if (thumb.width, thumb.height) != want
        || thumb.width.max(thumb.height) != 256.min(upright.0.max(upright.1))
    {
        return Err(format!(
            "size {}x{}, expected {}x{} for {}x{}",
            thumb.width, thumb.height, want.0, want.1, upright.0, upright.1
        ));
    }
    assert_no_metadata(&thumb);
    let got = on_white(&decode_output(&thumb));
    let reference = reference(&data, p.orientation, thumb.width, thumb.height);
    let (_, bias) = differences(&got, &reference);
    let (error, _) = differences(&half(&got), &half(&reference));
    if error.iter().any(|&e| e >= MAX_MEAN_ERROR) || bias.iter().any(|b| b.abs() >= MAX_BIAS) {
        return Err(format!(
            "mean abs error per channel (half size) {error:.2?}, limit {MAX_MEAN_ERROR}; \
             mean signed error {bias:.2?}, limit ±{MAX_BIAS}"
        ));
    }
    Ok(format!(
        "{}x{} -> {}x{}, mean abs error (half size) {error:.2?}, mean signed error {bias:.2?}",
        p.width, p.height, thumb.width, thumb.height
    ))
}

#[test]
fn corpus_thumbnails_match_reference() {
    let Some(files) = corpus() else { return };
    let failures = Mutex::new(Vec::new());
    // Two workers for the two cores: the references of the 100 MP file take a while.
    let next = Mutex::new(files.iter());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(path) = next.lock().unwrap().next() else {
                    break;
                };
                match check_file(path) {
                    Ok(line) => eprintln!("{}: {line}", name(path)),
                    Err(line) => failures
                        .lock()
                        .unwrap()
                        .push(format!("{}: {line}", name(path))),
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} corpus files wrong:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
}

/// Header-only probing from the first 64 KiB agrees with the image crate's header reader.
#[test]
fn corpus_probe_from_first_64k() {
    let Some(files) = corpus() else { return };
    let mut wrong = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let mut decoder = ImageReader::new(std::io::Cursor::new(&data))
            .with_guessed_format()
            .unwrap()
            .into_decoder()
            .expect("the image crate reads the header");
        let (w, h) = decoder.dimensions();
        let orientation = decoder.orientation().map_or(1, |o| o.to_exif());
        let format = if data.starts_with(&[0xFF, 0xD8]) {
            InputFormat::Jpeg
        } else {
            InputFormat::Png
        };
        match probe(&data[..data.len().min(PROBE_HEAD)], &Limits::default()) {
            Ok(p)
                if (p.format, p.width, p.height, p.orientation) == (format, w, h, orientation) => {}
            other => wrong.push(format!(
                "{}: {other:?}, expected {format:?} {w}x{h} orientation {orientation}",
                name(path)
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "probe mismatches:\n  {}",
        wrong.join("\n  ")
    );
}
