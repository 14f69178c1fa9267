//! The local pipeline assembled from the local adapters: buckets as folders in the data
//! dir, the catalog in SQLite (or MySQL/MariaDB by URL), alerts by SMTP or into `outbox/`.
//! Opening it also "deploys" the website into the output bucket, as the SAM stack uploads
//! static_web_server/ into the S3 output bucket.

use crate::data_api;
use crate::executions::ExecutionStore;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::settings::Settings;
use crate::steps::{ResizeSlots, Steps};
use photopipe_local::{FolderStorage, MailAlerts, MailConfig, SqlCatalog};
use photopipe_pipeline::ports::{NewObject, SystemClock};
use photopipe_pipeline::{Config, Storage};
use std::sync::Arc;

pub type LocalPipeline = Pipeline<FolderStorage, SqlCatalog, MailAlerts, SystemClock>;

/// Bucket names locally are the folder names.
pub const INPUT_BUCKET: &str = "input";
pub const OUTPUT_BUCKET: &str = "output";
pub const LOG_BUCKET: &str = "logs";

/// The website, compiled in: (key in the output bucket, content type, bytes).
const WEBSITE: [(&str, &str, &[u8]); 5] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../static_web_server/index.html"),
    ),
    (
        "error.html",
        "text/html; charset=utf-8",
        include_bytes!("../../static_web_server/error.html"),
    ),
    (
        "assets/gallery.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static_web_server/assets/gallery.js"),
    ),
    (
        "assets/gallery.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static_web_server/assets/gallery.css"),
    ),
    (
        "assets/favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static_web_server/assets/favicon.svg"),
    ),
];

pub async fn open(settings: &Settings) -> Result<LocalPipeline, String> {
    let data = &settings.data_dir;
    let buckets =
        [INPUT_BUCKET, OUTPUT_BUCKET, LOG_BUCKET].map(|bucket| (bucket, data.join(bucket)));
    // Thumbnails, gallery data and the website are remade by running the pipeline again.
    let storage = FolderStorage::new(buckets.clone()).rebuildable([OUTPUT_BUCKET]);
    let create_buckets_and_deploy = async {
        for (_, dir) in &buckets {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        deploy_website(&storage).await
    };
    // Both at once: a new SQLite catalog waits on the disk for a few milliseconds. The catalog
    // is polled first, so a database URL it refuses outright leaves no data dir behind.
    let (catalog, ()) =
        tokio::try_join!(biased; open_catalog(settings), create_buckets_and_deploy)?;
    let alerts = MailAlerts::new(&MailConfig {
        smtp_url: settings.smtp_url.clone(),
        from: settings.alert_from.clone(),
        to: settings.alert_to.clone(),
        ..MailConfig::new(data.join("outbox"))
    })
    .map_err(|e| format!("alerts: {e}"))?;
    let mut config = Config::new(OUTPUT_BUCKET, LOG_BUCKET);
    if let Some(max_edge) = settings.max_edge {
        config.thumbnail.max_edge = max_edge;
    }
    if let Some(max_input_bytes) = settings.max_input_bytes {
        config.limits.max_input_bytes = max_input_bytes;
    }
    let resize_jobs = settings
        .resize_jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let resize_slots = ResizeSlots::new(resize_jobs)
        .map_err(|e| format!("cannot start the resize threads: {e}"))?;
    let steps = Steps {
        storage,
        catalog,
        alerts,
        clock: SystemClock,
        config,
        metrics: Arc::new(Metrics::default()),
        resize_slots,
    };
    Pipeline::new(steps, INPUT_BUCKET, open_executions(settings)?)
        .map_err(|e| format!("state machine: {e}"))
}

/// The local catalog: the SQLite file in the data dir, or the `--database-url` database.
/// A `data-api://` URL is refused with a message saying where it belongs: the Data API is
/// only how `catalog smallest|list` read the deployed catalog (`commands::catalog` sends such
/// URLs to `data_api` before coming here); the local pipeline's rows describe objects in
/// local folders, and belong in a database of its own.
pub async fn open_catalog(settings: &Settings) -> Result<SqlCatalog, String> {
    if let Some(url) = settings
        .database_url
        .as_deref()
        .filter(|url| url.starts_with(data_api::SCHEME))
    {
        return Err(format!(
            "--database-url {}…: the RDS Data API is only for `photopipe catalog smallest|list` \
             (reading the deployed catalog); serve, run, demo and reprocess run the local \
             pipeline, whose catalog is SQLite (the default) or MySQL/MariaDB (mysql://…)",
            url.split('?').next().unwrap_or(url)
        ));
    }
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    match &settings.database_url {
        Some(url) => SqlCatalog::connect(url).await,
        None => SqlCatalog::open_sqlite(&settings.sqlite_path()).await,
    }
    .map_err(|e| format!("catalog database: {e}"))
}

pub fn open_executions(settings: &Settings) -> Result<ExecutionStore, String> {
    let dir = settings.data_dir.join("executions");
    ExecutionStore::open(&dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))
}

/// Puts each website file into the output bucket unless it is there already, byte for byte:
/// a process start then writes nothing (`reprocess --dry-run` changes no file).
async fn deploy_website(storage: &FolderStorage) -> Result<(), String> {
    for (key, content_type, bytes) in WEBSITE {
        let deployed = storage.get(OUTPUT_BUCKET, key, bytes.len() as u64).await;
        if deployed.is_ok_and(|deployed| deployed == bytes) {
            continue;
        }
        let object = NewObject {
            bytes,
            content_type,
            cache_control: Some("no-cache"),
        };
        storage
            .put(OUTPUT_BUCKET, key, object)
            .await
            .map_err(|e| format!("cannot deploy the website ({key}): {e}"))?;
    }
    Ok(())
}
