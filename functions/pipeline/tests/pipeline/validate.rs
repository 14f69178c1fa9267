use crate::support::{jpeg, step, upload, MemoryStorage, Op, INPUT};
use photopipe_engine::probe::HEAD_BYTES;
use photopipe_engine::InputFormat;
use photopipe_pipeline::steps::validate;
use photopipe_pipeline::{Config, ErrorType, PortError, StepError, Validation};

fn config() -> Config {
    Config::new("out", "logs")
}

async fn run(storage: &MemoryStorage, key: &str, config: &Config) -> Result<Validation, StepError> {
    validate(step(upload(key, 0)), storage, config).await
}

#[tokio::test]
async fn a_photo_is_validated_from_its_head_only() {
    let storage = MemoryStorage::default();
    let photo = jpeg(640, 480);
    storage.insert(INPUT, "a/photo.jpg", &photo);
    let validation = run(&storage, "a/photo.jpg", &config()).await.unwrap();
    assert_eq!(
        validation,
        Validation {
            format: InputFormat::Jpeg,
            width: 640,
            height: 480,
            orientation: 1,
            size: photo.len() as u64,
        }
    );
    assert_eq!(
        storage.calls(),
        vec![
            (Op::Head, "a/photo.jpg".to_owned(), 0),
            (Op::GetRange, "a/photo.jpg".to_owned(), HEAD_BYTES as u64),
        ],
        "no full read"
    );
}

#[tokio::test]
async fn the_sample_png_is_validated() {
    let storage = MemoryStorage::default();
    let png = include_bytes!("../../../../upload_files/fallen leaf (transparent).png");
    storage.insert(INPUT, "leaf.png", png);
    let validation = run(&storage, "leaf.png", &config()).await.unwrap();
    assert_eq!(validation.format, InputFormat::Png);
    assert!(validation.width > 0 && validation.height > 0);
}

#[tokio::test]
async fn each_bad_upload_gets_its_error_type() {
    let storage = MemoryStorage::default();
    storage.insert(INPUT, "empty.jpg", b"");
    storage.insert(INPUT, "notes.txt.jpg", b"just some notes, not a photo\n");
    storage.insert(
        INPUT,
        "broken.jpg",
        &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x01],
    );
    storage.insert(INPUT, "big.jpg", &jpeg(300, 200));
    let cases = [
        ("empty.jpg", ErrorType::EmptyObject, "empty (0 bytes)"),
        (
            "notes.txt.jpg",
            ErrorType::UnsupportedFormat,
            "not an image",
        ),
        ("broken.jpg", ErrorType::CorruptImage, "JPEG"),
        ("gone.jpg", ErrorType::MissingObject, "no longer exists"),
    ];
    for (key, error_type, says) in cases {
        let error = run(&storage, key, &config()).await.unwrap_err();
        assert_eq!(error.error_type, error_type, "{key}: {error}");
        assert!(error.message.contains(says), "{key}: {error}");
        assert!(
            error
                .message
                .contains(&format!("bucket \"{INPUT}\", key \"{key}\"")),
            "{key}: {error}"
        );
    }

    let mut small = config();
    small.limits.max_input_bytes = 100;
    let error = run(&storage, "big.jpg", &small).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::TooLarge);
    assert!(
        error.message.contains("over the limit of 100 bytes"),
        "{error}"
    );

    let mut few_pixels = config();
    few_pixels.limits.max_pixels = 300 * 200 - 1;
    let error = run(&storage, "big.jpg", &few_pixels).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::TooLarge);
    assert!(error.message.contains("300x200"), "{error}");
}

#[tokio::test]
async fn storage_errors_are_transient_or_internal_as_the_adapter_says() {
    let storage = MemoryStorage::default();
    storage.insert(INPUT, "a.jpg", &jpeg(16, 16));
    storage.fail_next(Op::Head, "a.jpg", PortError::Transient("SlowDown".into()));
    let error = run(&storage, "a.jpg", &config()).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::Transient);
    assert!(error.message.contains("SlowDown"), "{error}");

    storage.fail_next(
        Op::GetRange,
        "a.jpg",
        PortError::Permanent("AccessDenied".into()),
    );
    let error = run(&storage, "a.jpg", &config()).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::Internal);

    assert!(
        run(&storage, "a.jpg", &config()).await.is_ok(),
        "faults were one-shot"
    );
}

#[tokio::test]
async fn a_header_past_the_head_is_read_with_a_longer_range() {
    // A JPEG whose APP segments push the frame header past HEAD_BYTES.
    let photo = jpeg(40, 30);
    let mut padded = photo[..2].to_vec();
    for _ in 0..3 {
        // An APP11 segment of 65,000 filler bytes: legal, and ignored by decoders.
        let payload = vec![b'x'; 65_000];
        padded.extend_from_slice(&[0xFF, 0xEB]);
        padded.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        padded.extend_from_slice(&payload);
    }
    padded.extend_from_slice(&photo[2..]);
    assert!(padded.len() > HEAD_BYTES);
    let storage = MemoryStorage::default();
    storage.insert(INPUT, "padded.jpg", &padded);
    let validation = run(&storage, "padded.jpg", &config()).await.unwrap();
    assert_eq!((validation.width, validation.height), (40, 30));
    assert_eq!(storage.calls().last().unwrap().2, 1024 * 1024);
}
