//! Any bytes through the whole engine: it must return a thumbnail or a typed error, never
//! panic, hang or allocate without bound. Limits are lowered so the fuzzer spends its time
//! on parsing paths rather than on decoding legitimately huge images.
#![no_main]

use libfuzzer_sys::fuzz_target;
use photopipe_engine::{probe, thumbnail, Limits, OutputFormat, Spec};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_input_bytes: 1 << 20,
        max_pixels: 4_000_000,
        max_decode_bytes: 64 << 20,
    };
    let _ = probe(data, &limits);
    // The first byte picks the spec, so small and odd target sizes and both encoders are
    // covered too.
    let (spec_byte, image) = data.split_first().unwrap_or((&0, &[]));
    let spec = Spec {
        max_edge: 1 + u32::from(spec_byte & 0x7F) * 4,
        format: if spec_byte & 0x80 == 0 { OutputFormat::Jpeg } else { OutputFormat::Webp },
        quality: 80,
    };
    if let Ok(thumb) = thumbnail(image, &spec, &limits) {
        assert!(thumb.width.max(thumb.height) <= spec.max_edge);
        assert!(!thumb.bytes.is_empty());
    }
});
