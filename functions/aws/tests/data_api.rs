//! The Data API catalog (`DataApiCatalog`) against a STAND-IN for the RDS Data API.
//!
//! No RDS Data API can run here: it exists only inside AWS, in front of an Aurora cluster,
//! and there is no emulator of it (moto answers ExecuteStatement with canned results and
//! runs no SQL). So `tests/data_api_standin.py` plays it on loopback: it speaks the
//! protocol the SDK speaks (`POST /Execute`, typed parameters, `formatRecordsAs: JSON`,
//! errors in the `x-amzn-ErrorType` header) and runs every statement on the real MariaDB.
//! What this shows: the adapter's requests (the pipeline's statements, typed parameters,
//! the DATE/TIME/TIMESTAMP hints) work on a MySQL-family database, the rows come back into
//! `CatalogRow`s exactly, a duplicate key is recognised in both spellings of the error, and
//! `DatabaseResumingException` becomes `PortError::Transient`. What it cannot show: that
//! AWS answers exactly as the stand-in does (its header lists what it does not emulate),
//! IAM, the Secrets Manager secret, and Aurora's own behaviour.
//!
//! The stand-in's URL comes from `PHOTOPIPE_DATA_API_URL`; `tests/moto.sh` starts it (and
//! moto) and exports it. Without it the test fails, saying so, unless
//! `PHOTOPIPE_SKIP_DATA_API=1`. Each run creates its own MariaDB database, through the
//! stand-in, and drops it at the end, whatever the outcome.

mod support;

use photopipe_pipeline::model::CatalogRow;
use photopipe_pipeline::ports::{CatalogOrder, Direction};
use photopipe_pipeline::{sql, Catalog, InsertOutcome, PortError};
use serde_json::{json, Value};
use support::data_api_catalog;
use support::standin::{call, standin_url, switch, Database};

fn row(n: u32, file_name: &str, thumbnail_size: u64) -> CatalogRow {
    CatalogRow {
        id: None,
        upload_date: format!("2024-05-{:02}", n + 1),
        upload_time: format!("{:02}:{:02}:{:02}", 23 - n, (n * 7) % 60, 59 - n),
        file_name: file_name.into(),
        original_size: 2_000_000 + u64::from(n) * 1_111,
        thumbnail_size,
        bucket: "alice-image-bucket-input".into(),
        object_key: format!("2024/05/{file_name}"),
        idempotency_key: format!("alice-image-bucket-input/2024/05/{n}@etag{n}"),
        original_width: 4032,
        original_height: 3024,
        thumbnail_width: 256,
        thumbnail_height: 192,
        original_format: "jpeg".into(),
        thumbnail_format: "jpeg".into(),
        thumbnail_key: format!("thumbnails/{n}.jpg"),
        execution_name: format!("upload-{n}"),
        processing_ms: 1_000 + u64::from(n),
        created_at: format!("2024-05-{:02} 10:00:0{n}", n + 1),
    }
}

fn inserted(outcome: InsertOutcome) -> CatalogRow {
    match outcome {
        InsertOutcome::Inserted(row) => row,
        other => panic!("expected a new row, got {other:?}"),
    }
}

#[tokio::test]
async fn the_catalog_over_a_data_api_standin_on_mariadb() {
    let Some(url) = standin_url() else { return };
    switch(&url, "/standin/reset", json!({}));
    let database = Database::create(&url);
    let catalog = data_api_catalog(&url, &database.name).await;

    assert_eq!(catalog.migrate().await.unwrap(), vec![1]);
    assert_eq!(catalog.migrate().await.unwrap(), Vec::<u32>::new());

    // File names as uploads have them, several hostile to SQL or to the parameter syntax.
    let names = [
        "cat's photo.jpg",
        "Robert'); DROP TABLE file_upload_catalog;--.jpg",
        "100% :limit %s ? $1.jpg",
        "naïve 猫 🐈.jpg",
        r#"C:\tmp\"quoted\" \n.jpg"#,
        "tab\there.jpg",
    ];
    // Thumbnail sizes out of insertion order; two equal sizes are ordered by id.
    let sizes = [18_342, 9_001, 40_000, 9_001, 12, 77_777];
    let mut stored = Vec::new();
    for (n, (name, size)) in names.iter().zip(sizes).enumerate() {
        let row = row(n as u32, name, size);
        let got = inserted(catalog.insert_idempotent(&row).await.unwrap());
        assert!(got.id.is_some(), "the generated id comes back");
        assert_eq!(
            CatalogRow {
                id: None,
                ..got.clone()
            },
            row
        );
        stored.push(got);
    }

    // The same upload again (a retried execution, with its own timing): the first row,
    // unchanged, and no second row.
    let again = CatalogRow {
        processing_ms: 99_999,
        execution_name: "upload-0-retry".into(),
        ..row(0, names[0], sizes[0])
    };
    assert_eq!(
        catalog.insert_idempotent(&again).await.unwrap(),
        InsertOutcome::AlreadyPresent(stored[0].clone())
    );
    // And with the newer Data API's spelling of the database error.
    switch(
        &url,
        "/standin/database-error",
        json!({"code": "DatabaseErrorException"}),
    );
    let second_spelling = catalog.insert_idempotent(&again).await;
    switch(
        &url,
        "/standin/database-error",
        json!({"code": "BadRequestException"}),
    );
    assert_eq!(
        second_spelling.unwrap(),
        InsertOutcome::AlreadyPresent(stored[0].clone())
    );

    // The assignment's query: the five smallest thumbnails, ascending.
    let smallest = catalog
        .list(CatalogOrder::ThumbnailSize, Direction::Asc, 5)
        .await
        .unwrap();
    let mut expected = stored.clone();
    expected.sort_by_key(|row| (row.thumbnail_size, row.id));
    expected.truncate(5);
    let five = |rows: &[CatalogRow]| -> Vec<(String, String, String, u64, u64)> {
        rows.iter()
            .map(|r| {
                (
                    r.upload_date.clone(),
                    r.upload_time.clone(),
                    r.file_name.clone(),
                    r.original_size,
                    r.thumbnail_size,
                )
            })
            .collect()
    };
    assert_eq!(five(&smallest), five(&expected));
    assert_eq!(smallest, expected, "every column round-trips");
    assert_eq!(
        smallest
            .iter()
            .map(|r| r.thumbnail_size)
            .collect::<Vec<_>>(),
        vec![12, 9_001, 9_001, 18_342, 40_000]
    );
    assert!(smallest.iter().any(|r| r.file_name == names[1]));
    assert_eq!(
        catalog
            .by_idempotency_key(&stored[3].idempotency_key)
            .await
            .unwrap()
            .as_ref(),
        Some(&stored[3])
    );
    assert_eq!(catalog.by_idempotency_key("nothing").await.unwrap(), None);

    // The stand-in saw the temporal parameters with their type hints.
    let (status, seen) = call(&url, "GET", "/standin/requests", &json!({}));
    assert_eq!(status, 200);
    let inserts: Vec<&Value> = seen
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["database"] == database.name.as_str() && r["sql"] == sql::INSERT_ROW)
        .collect();
    assert_eq!(inserts.len(), names.len() + 2);
    for insert in inserts {
        assert_eq!(insert["formatRecordsAs"], "JSON");
        let param = |name: &str| -> Value {
            insert["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("no parameter {name}"))
                .clone()
        };
        assert_eq!(param("upload_date")["typeHint"], "DATE");
        assert_eq!(param("upload_time")["typeHint"], "TIME");
        assert_eq!(param("created_at")["typeHint"], "TIMESTAMP");
        assert!(param("upload_date")["value"]["stringValue"].is_string());
        assert!(param("original_size")["value"]["longValue"].is_i64());
        assert_eq!(param("file_name").get("typeHint"), None);
    }

    // A paused Aurora Serverless v2: DatabaseResumingException is transient, and the retry
    // that follows succeeds.
    switch(&url, "/standin/resuming", json!({"count": 2}));
    let listing = catalog
        .list(CatalogOrder::ThumbnailSize, Direction::Asc, 5)
        .await;
    assert!(
        matches!(&listing, Err(PortError::Transient(m)) if m.contains("DatabaseResumingException")),
        "{listing:?}"
    );
    let insert = catalog.insert_idempotent(&row(9, "late.jpg", 5)).await;
    assert!(
        matches!(&insert, Err(PortError::Transient(m)) if m.contains("DatabaseResumingException")),
        "{insert:?}"
    );
    let late = inserted(
        catalog
            .insert_idempotent(&row(9, "late.jpg", 5))
            .await
            .unwrap(),
    );
    assert_eq!(
        catalog
            .list(CatalogOrder::ThumbnailSize, Direction::Asc, 1)
            .await
            .unwrap(),
        vec![late]
    );

    // A database that does not exist is a setup error: permanent.
    let nowhere = data_api_catalog(&url, &format!("{}_missing", database.name)).await;
    let migrated = nowhere.migrate().await;
    assert!(
        matches!(&migrated, Err(PortError::Permanent(m)) if m.contains("Unknown database")),
        "{migrated:?}"
    );
}
