use crate::support::{
    step, upload, FixedClock, MemoryCatalog, MemoryStorage, Op, EXECUTION, INPUT, OUTPUT,
};
use photopipe_engine::{InputFormat, OutputFormat};
use photopipe_pipeline::gallery::Gallery;
use photopipe_pipeline::keys::{fingerprint, GALLERY_KEY};
use photopipe_pipeline::model::Thumbnailed;
use photopipe_pipeline::steps::{catalog, GALLERY_CACHE_CONTROL};
use photopipe_pipeline::{
    CatalogRow, Cataloged, Config, ErrorType, PortError, ThumbnailInfo, Upload, Validation,
};
use time::macros::datetime;

fn thumbnailed(upload: Upload, thumbnail_bytes: u64) -> Thumbnailed {
    Thumbnailed {
        thumbnail: ThumbnailInfo {
            bucket: OUTPUT.into(),
            key: format!("thumbnails/{}.jpg", &fingerprint(&upload)[..8]),
            width: 256,
            height: 171,
            bytes: thumbnail_bytes,
            format: OutputFormat::Jpeg,
            content_type: "image/jpeg".into(),
        },
        upload,
        validation: Validation {
            format: InputFormat::Png,
            width: 3000,
            height: 2000,
            orientation: 6,
            size: 2_345_678,
        },
    }
}

struct World {
    storage: MemoryStorage,
    catalog: MemoryCatalog,
    clock: FixedClock,
    config: Config,
}

impl World {
    fn new() -> Self {
        World {
            storage: MemoryStorage::default(),
            catalog: MemoryCatalog::default(),
            clock: FixedClock::at(datetime!(2024-05-01 12:35:01.289 UTC)),
            config: Config::new(OUTPUT, "logs"),
        }
    }

    async fn run(&self, state: Thumbnailed) -> Result<Cataloged, photopipe_pipeline::StepError> {
        catalog(
            step(state),
            &self.storage,
            &self.catalog,
            &self.clock,
            &self.config,
        )
        .await
    }

    fn gallery(&self) -> Gallery {
        let object = self
            .storage
            .object(OUTPUT, GALLERY_KEY)
            .expect("gallery.json exists");
        assert_eq!(object.content_type, "application/json");
        assert_eq!(object.cache_control.as_deref(), Some(GALLERY_CACHE_CONTROL));
        serde_json::from_slice(&object.bytes).unwrap()
    }
}

#[tokio::test]
async fn the_row_holds_what_the_assignment_and_operators_need() {
    let world = World::new();
    let photo = upload("holiday/2024/IMG 0001.png", 2_345_678);
    let cataloged = world.run(thumbnailed(photo.clone(), 12_345)).await.unwrap();
    assert!(cataloged.created);
    let row = cataloged.row;
    assert_eq!(
        row,
        CatalogRow {
            id: Some(1),
            upload_date: "2024-05-01".into(),
            upload_time: "12:34:56".into(),
            file_name: "IMG 0001.png".into(),
            original_size: 2_345_678,
            thumbnail_size: 12_345,
            bucket: INPUT.into(),
            object_key: "holiday/2024/IMG 0001.png".into(),
            idempotency_key: fingerprint(&photo),
            original_width: 3000,
            original_height: 2000,
            thumbnail_width: 256,
            thumbnail_height: 171,
            original_format: "png".into(),
            thumbnail_format: "jpeg".into(),
            thumbnail_key: format!("thumbnails/{}.jpg", &fingerprint(&photo)[..8]),
            execution_name: EXECUTION.into(),
            processing_ms: 4500,
            created_at: "2024-05-01 12:35:01".into(),
        }
    );
    assert_eq!(world.catalog.rows(), vec![row]);
}

#[tokio::test]
async fn the_upload_time_is_utc_whatever_the_event_offset() {
    let world = World::new();
    let mut photo = upload("a.jpg", 1);
    photo.event_time = datetime!(2024-05-02 01:30:00 +02:00);
    let row = world.run(thumbnailed(photo, 1)).await.unwrap().row;
    assert_eq!(
        (row.upload_date.as_str(), row.upload_time.as_str()),
        ("2024-05-01", "23:30:00")
    );
}

#[tokio::test]
async fn the_same_upload_twice_gives_one_row() {
    let world = World::new();
    let first = world
        .run(thumbnailed(upload("a.jpg", 1), 10))
        .await
        .unwrap();
    world.clock.set(datetime!(2024-05-01 13:00:00 UTC));
    let again = world
        .run(thumbnailed(upload("a.jpg", 1), 10))
        .await
        .unwrap();
    assert!(first.created && !again.created);
    assert_eq!(
        again.row, first.row,
        "the retry returns the stored row unchanged"
    );
    let json = serde_json::to_value(&again).unwrap();
    assert_eq!(json["created"], false);
    assert_eq!(
        json["thumbnail_size"], 10,
        "the row's fields sit beside `created`"
    );
    assert_eq!(world.catalog.rows().len(), 1);

    let mut new_version = upload("a.jpg", 1);
    new_version.etag = "another".into();
    world.run(thumbnailed(new_version, 10)).await.unwrap();
    assert_eq!(
        world.catalog.rows().len(),
        2,
        "a re-upload with new content is a new row"
    );
}

#[tokio::test]
async fn the_gallery_lists_the_newest_photos_first_capped() {
    let mut world = World::new();
    world.config.gallery_size = 2;
    for (minute, key) in [(1, "first.jpg"), (3, "third <b>.jpg"), (2, "second.jpg")] {
        let mut photo = upload(key, 1);
        photo.event_time = datetime!(2024-05-01 12:00:00 UTC) + time::Duration::minutes(minute);
        world
            .run(thumbnailed(photo, 100 + minute as u64))
            .await
            .unwrap();
    }
    let gallery = world.gallery();
    assert_eq!(gallery.generated_at, "2024-05-01T12:35:01.289Z");
    let names: Vec<_> = gallery
        .photos
        .iter()
        .map(|p| p.file_name.as_str())
        .collect();
    assert_eq!(names, ["third <b>.jpg", "second.jpg"]);
    let newest = &gallery.photos[0];
    assert_eq!(newest.upload_time, "12:03:00");
    assert_eq!(
        (newest.original_size, newest.thumbnail_size),
        (2_345_678, 103)
    );
    assert_eq!((newest.width, newest.height), (256, 171));
    assert!(newest.thumbnail.starts_with("thumbnails/"));

    let json: serde_json::Value =
        serde_json::from_slice(&world.storage.object(OUTPUT, GALLERY_KEY).unwrap().bytes).unwrap();
    let keys: Vec<_> = json["photos"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "file_name",
            "height",
            "original_size",
            "thumbnail",
            "thumbnail_size",
            "upload_date",
            "upload_time",
            "width"
        ]
    );
}

#[tokio::test]
async fn unsafe_thumbnail_keys_stay_out_of_the_gallery() {
    let world = World::new();
    let mut state = thumbnailed(upload("a.jpg", 1), 1);
    state.thumbnail.key = "thumbnails/../../x\" onerror=\"alert(1).jpg".into();
    world.run(state).await.unwrap();
    assert!(world.gallery().photos.is_empty());
}

#[tokio::test]
async fn database_errors_are_retried_and_the_retry_inserts_once() {
    let world = World::new();
    world
        .catalog
        .fail_next_insert(PortError::Transient("DatabaseResumingException".into()));
    let error = world
        .run(thumbnailed(upload("a.jpg", 1), 1))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, ErrorType::Transient);
    assert!(
        error.message.contains("DatabaseResumingException"),
        "{error}"
    );
    assert!(world.catalog.rows().is_empty());

    world
        .catalog
        .fail_next_insert(PortError::Permanent("Table doesn't exist".into()));
    let error = world
        .run(thumbnailed(upload("a.jpg", 1), 1))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, ErrorType::Internal);

    // The row goes in, the gallery write fails: retried, and the retry adds no row.
    world.storage.fail_next(
        Op::Put,
        GALLERY_KEY,
        PortError::Transient("SlowDown".into()),
    );
    let error = world
        .run(thumbnailed(upload("a.jpg", 1), 1))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, ErrorType::Transient);
    assert!(error.message.contains("the catalog row is in"), "{error}");
    assert_eq!(world.catalog.rows().len(), 1);
    world.run(thumbnailed(upload("a.jpg", 1), 1)).await.unwrap();
    assert_eq!(world.catalog.rows().len(), 1);
    assert_eq!(world.gallery().photos.len(), 1);
}
