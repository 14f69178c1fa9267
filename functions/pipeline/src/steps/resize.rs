//! Resize: the thumbnail engine between two storage calls. The whole object is read (up
//! to the byte limit), thumbnailed, and written to the output bucket under a key derived
//! from the object's identity, so a retry overwrites the same thumbnail.
//!
//! The engine is CPU-bound for tens of milliseconds per photo; a runtime that serves other
//! work on the same threads should drive this future where blocking is allowed.

use super::{upload_read_error, THUMBNAIL_CACHE_CONTROL};
use crate::config::Config;
use crate::error::{object_label, StepError};
use crate::keys;
use crate::model::{StepInput, ThumbnailInfo, Validated};
use crate::ports::{NewObject, Storage};

/// `$.thumbnail` for the validated upload.
pub async fn resize(
    input: StepInput<Validated>,
    storage: &impl Storage,
    config: &Config,
) -> Result<ThumbnailInfo, StepError> {
    let upload = &input.input.upload;
    let original = storage
        .get(&upload.bucket, &upload.key, config.limits.max_input_bytes)
        .await
        .map_err(|e| upload_read_error(upload, "reading", e))?;
    let thumbnail = photopipe_engine::thumbnail(&original, &config.thumbnail, &config.limits)
        .map_err(|e| StepError::from_engine(&upload.bucket, &upload.key, e))?;
    drop(original);
    let key = keys::thumbnail_key(upload, thumbnail.format);
    let content_type = thumbnail.format.mime_type();
    storage
        .put(
            &config.output_bucket,
            &key,
            NewObject {
                bytes: &thumbnail.bytes,
                content_type,
                cache_control: Some(THUMBNAIL_CACHE_CONTROL),
            },
        )
        .await
        .map_err(|e| {
            StepError::from_port(
                &format!(
                    "writing the thumbnail of {} to {}",
                    object_label(&upload.bucket, &upload.key),
                    object_label(&config.output_bucket, &key)
                ),
                e,
            )
        })?;
    Ok(ThumbnailInfo {
        bucket: config.output_bucket.clone(),
        key,
        width: thumbnail.width,
        height: thumbnail.height,
        bytes: thumbnail.bytes.len() as u64,
        format: thumbnail.format,
        content_type: content_type.to_owned(),
    })
}
