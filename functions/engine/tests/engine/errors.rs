//! Files that must be refused, each with its precise error kind, by both `probe` and
//! `thumbnail`; and the limits and spec checks.

use std::time::{Duration, Instant};

use photopipe_engine::{probe, thumbnail, ErrorKind, Limits, Spec};

use crate::common::{entry, fixture, PROBE_HEAD};

/// `thumbnail` and `probe` (from the first 64 KiB) both fail with the expected kinds.
fn check_refused(name: &str) {
    let e = entry(name);
    let data = fixture(name);
    match thumbnail(&data, &Spec::default(), &Limits::default()) {
        Err(err) => assert_eq!(
            err.kind.as_str(),
            e["error"],
            "{name}: thumbnail error: {err}"
        ),
        Ok(t) => panic!(
            "{name}: made a {}x{} thumbnail, expected error {}",
            t.width, t.height, e["error"]
        ),
    }
    let head = &data[..data.len().min(PROBE_HEAD)];
    match (probe(head, &Limits::default()), e.get("probe_error")) {
        (Err(err), Some(kind)) => assert_eq!(err.kind.as_str(), kind, "{name}: probe error: {err}"),
        (Ok(_), None) => {}
        (got, want) => panic!("{name}: probe gave {got:?}, expected {want:?}"),
    }
}

macro_rules! refused_tests {
    ($($test:ident => $file:literal,)*) => {
        $(#[test]
        fn $test() {
            check_refused($file);
        })*
    };
}

refused_tests! {
    zero_bytes_is_empty => "empty.bin",
    text_is_unsupported => "text.txt",
    json_is_unsupported => "data.json",
    random_bytes_are_unsupported => "random.bin",
    heic_header_is_unsupported => "heic_header.heic",
    avif_header_is_unsupported => "avif_header.avif",
    truncated_jpeg_is_corrupt => "truncated.jpg",
    huge_jpeg_header_is_too_large => "huge_header.jpg",
}

/// A 40000×40000 PNG (1.6 GB of pixels in 1.5 MB) is refused from its header, so quickly.
#[test]
fn png_bomb_is_too_large_before_decoding() {
    let start = Instant::now();
    check_refused("bomb.png");
    // Inflating 1.6 GB takes seconds; reading a header takes microseconds.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn error_kind_strings() {
    let kinds = [
        (ErrorKind::Empty, "empty"),
        (ErrorKind::UnsupportedFormat, "unsupported_format"),
        (ErrorKind::Corrupt, "corrupt"),
        (ErrorKind::TooLarge, "too_large"),
    ];
    for (kind, text) in kinds {
        assert_eq!(kind.as_str(), text);
        assert_eq!(serde_json::to_value(kind).unwrap(), text);
    }
}

/// Each limit is enforced on its own, with too_large, for both entry points where it applies.
#[test]
fn limits_are_enforced() {
    let data = fixture("subsampling_420.jpg"); // 601×401 = 241,001 pixels
    let kind = |limits: Limits| {
        thumbnail(&data, &Spec::default(), &limits)
            .map(|t| (t.width, t.height))
            .map_err(|e| e.kind)
    };
    let base = Limits::default();
    assert_eq!(kind(base), Ok((256, 171)));
    let few_pixels = Limits {
        max_pixels: 241_000,
        ..base
    };
    assert_eq!(kind(few_pixels), Err(ErrorKind::TooLarge), "max_pixels");
    assert_eq!(
        probe(&data, &few_pixels).map_err(|e| e.kind).err(),
        Some(ErrorKind::TooLarge)
    );
    assert_eq!(
        kind(Limits {
            max_pixels: 241_001,
            ..base
        }),
        Ok((256, 171)),
        "max_pixels is inclusive"
    );
    let small_file = Limits {
        max_input_bytes: data.len() as u64 - 1,
        ..base
    };
    assert_eq!(
        kind(small_file),
        Err(ErrorKind::TooLarge),
        "max_input_bytes"
    );
    assert_eq!(
        kind(Limits {
            max_decode_bytes: 1,
            ..base
        }),
        Err(ErrorKind::TooLarge),
        "max_decode_bytes"
    );
}

/// A bad spec is the caller's mistake but still an error, never a panic.
#[test]
fn invalid_spec_is_an_error() {
    let data = fixture("orientation_1.jpg");
    for spec in [
        Spec {
            max_edge: 0,
            ..Spec::default()
        },
        Spec {
            quality: 0,
            ..Spec::default()
        },
        Spec {
            quality: 101,
            ..Spec::default()
        },
    ] {
        assert!(
            thumbnail(&data, &spec, &Limits::default()).is_err(),
            "{spec:?}"
        );
    }
}
