//! Catalog: one idempotent insert into `file_upload_catalog`, then the website's
//! `gallery.json` rebuilt from the catalog.
//!
//! The row's idempotency key is the object's identity, so a retried or duplicated
//! execution finds the row already there and returns it: never a second row. That is also
//! why a failed gallery refresh may simply fail the step: the retry re-inserts nothing and
//! refreshes again. Two concurrent refreshes may briefly publish a gallery missing the
//! other's photo; the next upload's refresh repairs it.

use super::GALLERY_CACHE_CONTROL;
use crate::config::Config;
use crate::error::{object_label, StepError};
use crate::gallery;
use crate::keys;
use crate::model::{CatalogRow, Cataloged, StepInput, Thumbnailed};
use crate::ports::{Catalog, CatalogOrder, Clock, Direction, InsertOutcome, NewObject, Storage};
use crate::timefmt;
use photopipe_engine::OutputFormat;
use time::OffsetDateTime;

/// `$.catalog`: the upload's catalog row as stored (the earlier one on a retry).
pub async fn catalog(
    input: StepInput<Thumbnailed>,
    storage: &impl Storage,
    catalog: &impl Catalog,
    clock: &impl Clock,
    config: &Config,
) -> Result<Cataloged, StepError> {
    let now = clock.now();
    let row = build_row(&input, now);
    let outcome = catalog.insert_idempotent(&row).await.map_err(|e| {
        StepError::from_port(
            &format!("cataloguing {}", object_label(&row.bucket, &row.object_key)),
            e,
        )
    })?;
    refresh_gallery(storage, catalog, clock, config)
        .await
        .map_err(|e| StepError {
            message: format!("{} (the catalog row is in)", e.message),
            ..e
        })?;
    Ok(match outcome {
        InsertOutcome::Inserted(row) => Cataloged { created: true, row },
        InsertOutcome::AlreadyPresent(row) => Cataloged {
            created: false,
            row,
        },
    })
}

/// Rewrites `gallery.json` in the output bucket from the newest catalog rows.
pub async fn refresh_gallery(
    storage: &impl Storage,
    catalog: &impl Catalog,
    clock: &impl Clock,
    config: &Config,
) -> Result<(), StepError> {
    let rows = catalog
        .list(
            CatalogOrder::UploadTime,
            Direction::Desc,
            config.gallery_size,
        )
        .await
        .map_err(|e| StepError::from_port("listing the catalog for the gallery", e))?;
    let gallery = gallery::build(rows, timefmt::rfc3339(clock.now()));
    let json = serde_json::to_vec(&gallery).expect("the gallery serializes");
    storage
        .put(
            &config.output_bucket,
            keys::GALLERY_KEY,
            NewObject {
                bytes: &json,
                content_type: "application/json",
                cache_control: Some(GALLERY_CACHE_CONTROL),
            },
        )
        .await
        .map_err(|e| {
            StepError::from_port(
                &format!(
                    "writing the gallery to {}",
                    object_label(&config.output_bucket, keys::GALLERY_KEY)
                ),
                e,
            )
        })
}

fn build_row(input: &StepInput<Thumbnailed>, now: OffsetDateTime) -> CatalogRow {
    let Thumbnailed {
        upload,
        validation,
        thumbnail,
    } = &input.input;
    let latency_ms = (now - upload.event_time).whole_milliseconds().max(0);
    CatalogRow {
        id: None,
        upload_date: timefmt::sql_date(upload.event_time),
        upload_time: timefmt::sql_time(upload.event_time),
        file_name: upload.file_name().to_owned(),
        original_size: validation.size,
        thumbnail_size: thumbnail.bytes,
        bucket: upload.bucket.clone(),
        object_key: upload.key.clone(),
        idempotency_key: keys::fingerprint(upload),
        original_width: validation.width,
        original_height: validation.height,
        thumbnail_width: thumbnail.width,
        thumbnail_height: thumbnail.height,
        original_format: validation.format.as_str().to_owned(),
        thumbnail_format: match thumbnail.format {
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::Webp => "webp",
        }
        .to_owned(),
        thumbnail_key: thumbnail.key.clone(),
        execution_name: input.execution_name.clone(),
        processing_ms: u64::try_from(latency_ms).unwrap_or(u64::MAX),
        created_at: timefmt::sql_datetime(now),
    }
}
