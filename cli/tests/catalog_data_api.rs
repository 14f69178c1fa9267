//! `photopipe catalog smallest|list --database-url data-api://…` (the `aws` feature) run as
//! a process against the RDS Data API stand-in on the real MariaDB
//! (`functions/aws/tests/data_api_standin.py`; see `functions/aws/tests/data_api.rs` for
//! what it emulates and what not), the SDK pointed at it with `AWS_ENDPOINT_URL_RDS_DATA`
//! as an operator could point it anywhere. The rows are written by the Lambda's own
//! adapter, so this shows the command reads what the catalog Lambda writes.
//!
//! Needs `PHOTOPIPE_DATA_API_URL` and the AWS test environment that
//! `bash functions/aws/tests/moto.sh` exports:
//! `bash functions/aws/tests/moto.sh cargo test --release -p photopipe --features aws --test catalog_data_api`.

#[path = "../../functions/aws/tests/support/standin.rs"]
mod standin;

use photopipe_aws::{sdk, DataApiCatalog, DataApiTarget};
use photopipe_pipeline::{Catalog, CatalogRow};
use serde_json::{json, Value};
use standin::{standin_url, switch, Database};
use std::process::{Command, Output};

const CLUSTER: &str = "arn:aws:rds:us-east-1:123456789012:cluster:alice-catalog-db";
const SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-8f3a2b1c-AbCdEf";

fn photopipe(standin: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photopipe"))
        .args(args)
        .env("AWS_ENDPOINT_URL_RDS_DATA", standin)
        .env_remove("PHOTOPIPE_DATABASE_URL")
        .env_remove("PHOTOPIPE_CONFIG")
        .output()
        .unwrap()
}

fn row(n: u64, file_name: &str, thumbnail_size: u64) -> CatalogRow {
    CatalogRow {
        id: None,
        upload_date: format!("2026-11-{:02}", 10 + n),
        upload_time: format!("12:00:{n:02}"),
        file_name: file_name.into(),
        original_size: 1_000_000 * (n + 1),
        thumbnail_size,
        bucket: "alice-image-bucket-input".into(),
        object_key: file_name.into(),
        idempotency_key: format!("alice-image-bucket-input/{file_name}@{n}"),
        original_width: 4000,
        original_height: 3000,
        thumbnail_width: 256,
        thumbnail_height: 192,
        original_format: "jpeg".into(),
        thumbnail_format: "jpeg".into(),
        thumbnail_key: format!("thumbnails/{n}.jpg"),
        execution_name: format!("upload-{n}"),
        processing_ms: 900,
        created_at: format!("2026-11-{:02} 12:00:09", 10 + n),
    }
}

#[tokio::test]
async fn catalog_commands_read_the_deployed_catalog_through_the_data_api() {
    let Some(standin) = standin_url() else { return };
    switch(&standin, "/standin/reset", json!({}));
    let database = Database::create(&standin);
    let config = sdk::loader().endpoint_url(&standin).load().await;
    let target = DataApiTarget {
        resource_arn: CLUSTER.into(),
        secret_arn: SECRET.into(),
        database: database.name.clone(),
    };
    let catalog = DataApiCatalog::new(&config, target);
    catalog.migrate().await.unwrap();
    let names = ["big.jpg", "smallest.jpg", "middle 中.jpg", "newest.jpg"];
    for (n, (name, size)) in names
        .iter()
        .zip([90_000, 1_200, 30_000, 45_000])
        .enumerate()
    {
        catalog
            .insert_idempotent(&row(n as u64, name, size))
            .await
            .unwrap();
    }
    let url = format!(
        "data-api://{CLUSTER}?secret={SECRET}&database={}",
        database.name
    );
    let files = |output: &Output| -> Vec<String> {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
        rows.as_array()
            .unwrap()
            .iter()
            .map(|row| row["file_name"].as_str().unwrap().to_owned())
            .collect()
    };

    let smallest = photopipe(
        &standin,
        &[
            "catalog",
            "smallest",
            "--limit",
            "3",
            "--json",
            "--database-url",
            &url,
        ],
    );
    assert_eq!(
        files(&smallest),
        ["smallest.jpg", "middle 中.jpg", "newest.jpg"]
    );

    let newest = photopipe(
        &standin,
        &["catalog", "list", "--json", "--database-url", &url],
    );
    assert_eq!(
        files(&newest),
        ["newest.jpg", "middle 中.jpg", "smallest.jpg", "big.jpg"]
    );

    // The table for people, as with the local catalog.
    let table = photopipe(&standin, &["catalog", "smallest", "--database-url", &url]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.status.success(),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    assert!(
        text.lines().nth(1).unwrap().contains("\"smallest.jpg\""),
        "{text}"
    );
    assert!(text.contains("2026-11-11  12:00:01"), "{text}");

    // A cluster still resuming from zero: the Data API's word for it, and a failure.
    switch(&standin, "/standin/resuming", json!({"count": 100}));
    let resuming = photopipe(&standin, &["catalog", "smallest", "--database-url", &url]);
    switch(&standin, "/standin/reset", json!({}));
    assert_eq!(resuming.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&resuming.stderr);
    assert!(stderr.contains("DatabaseResumingException"), "{stderr}");

    // A malformed URL fails before any request.
    let malformed = photopipe(
        &standin,
        &[
            "catalog",
            "smallest",
            "--database-url",
            &format!("data-api://{CLUSTER}"),
        ],
    );
    assert_eq!(malformed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&malformed.stderr);
    assert!(stderr.contains("malformed --database-url"), "{stderr}");
}
