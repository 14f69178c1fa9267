use crate::support::{jpeg, step, upload, MemoryStorage, Op, INPUT, OUTPUT};
use photopipe_engine::{InputFormat, OutputFormat};
use photopipe_pipeline::keys::thumbnail_key;
use photopipe_pipeline::model::Validated;
use photopipe_pipeline::steps::{resize, THUMBNAIL_CACHE_CONTROL};
use photopipe_pipeline::{Config, ErrorType, PortError, StepError, ThumbnailInfo, Validation};

fn config() -> Config {
    Config::new(OUTPUT, "logs")
}

async fn run(
    storage: &MemoryStorage,
    key: &str,
    config: &Config,
) -> Result<ThumbnailInfo, StepError> {
    let validated = Validated {
        upload: upload(key, 0),
        validation: Validation {
            format: InputFormat::Jpeg,
            width: 640,
            height: 480,
            orientation: 1,
            size: 0,
        },
    };
    resize(step(validated), storage, config).await
}

#[tokio::test]
async fn the_thumbnail_is_written_under_its_deterministic_key() {
    let storage = MemoryStorage::default();
    storage.insert(INPUT, "trip/a b?.jpg", &jpeg(640, 480));
    let info = run(&storage, "trip/a b?.jpg", &config()).await.unwrap();
    let key = thumbnail_key(&upload("trip/a b?.jpg", 0), OutputFormat::Jpeg);
    assert!(key.starts_with("thumbnails/a_b_.jpg-"), "{key}");
    let stored = storage
        .object(OUTPUT, &key)
        .expect("the thumbnail is stored");
    assert_eq!(
        info,
        ThumbnailInfo {
            bucket: OUTPUT.into(),
            key: key.clone(),
            width: 256,
            height: 192,
            bytes: stored.bytes.len() as u64,
            format: OutputFormat::Jpeg,
            content_type: "image/jpeg".into(),
        }
    );
    assert_eq!(&stored.bytes[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(stored.content_type, "image/jpeg");
    assert_eq!(
        stored.cache_control.as_deref(),
        Some(THUMBNAIL_CACHE_CONTROL)
    );

    // A retry overwrites the same object.
    assert_eq!(
        run(&storage, "trip/a b?.jpg", &config()).await.unwrap(),
        info
    );
    assert_eq!(storage.keys(OUTPUT, ""), vec![key]);
}

#[tokio::test]
async fn webp_thumbnails_when_configured() {
    let storage = MemoryStorage::default();
    storage.insert(INPUT, "a.jpg", &jpeg(100, 50));
    let mut config = config();
    config.thumbnail.format = OutputFormat::Webp;
    let info = run(&storage, "a.jpg", &config).await.unwrap();
    assert!(info.key.ends_with(".webp"), "{}", info.key);
    assert_eq!(
        (info.width, info.height, info.content_type.as_str()),
        (100, 50, "image/webp")
    );
}

#[tokio::test]
async fn failures_keep_their_types() {
    let storage = MemoryStorage::default();
    let photo = jpeg(640, 480);
    storage.insert(INPUT, "big.jpg", &photo);
    storage.insert(INPUT, "text.jpg", b"hello");

    let error = run(&storage, "gone.jpg", &config()).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::MissingObject);

    let error = run(&storage, "text.jpg", &config()).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::UnsupportedFormat);
    assert!(error.message.contains("\"text.jpg\""), "{error}");

    let mut small = config();
    small.limits.max_input_bytes = 1000;
    let error = run(&storage, "big.jpg", &small).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::TooLarge);
    assert!(
        error.message.contains("over the limit of 1000 bytes"),
        "{error}"
    );

    storage.fail_next(Op::Put, "thumbnails/", PortError::Transient("503".into()));
    let error = run(&storage, "big.jpg", &config()).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::Transient);
    assert!(error.message.contains("writing the thumbnail"), "{error}");
    assert!(storage.keys(OUTPUT, "").is_empty());
}

#[tokio::test]
async fn a_truncated_photo_is_corrupt() {
    let storage = MemoryStorage::default();
    let photo = jpeg(640, 480);
    // Cut after the headers, inside the entropy-coded data.
    storage.insert(INPUT, "cut.jpg", &photo[..photo.len() / 3]);
    let error = run(&storage, "cut.jpg", &config()).await.unwrap_err();
    assert_eq!(error.error_type, ErrorType::CorruptImage, "{error}");
}
