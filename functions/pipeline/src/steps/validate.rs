//! Validate: cheap checks before any heavy work. Only the object's metadata and the first
//! bytes are read, so an empty file, a 2 GB upload or a decompression bomb is refused
//! without being downloaded or decoded.

use super::upload_read_error;
use crate::config::Config;
use crate::error::{object_label, ErrorType, StepError};
use crate::model::{StepInput, Upload, Validation};
use crate::ports::Storage;
use photopipe_engine::probe::HEAD_BYTES;
use photopipe_engine::ErrorKind;

/// Read when [`HEAD_BYTES`] ended before the header did (JPEGs with large ICC profiles or
/// XMP blocks ahead of the frame header).
const EXTENDED_HEAD_BYTES: u64 = 1024 * 1024;

/// `$.validation` for the upload: its size from storage, its format and dimensions from
/// its header, all within `config.limits`.
pub async fn validate(
    input: StepInput<Upload>,
    storage: &impl Storage,
    config: &Config,
) -> Result<Validation, StepError> {
    let upload = &input.input;
    let object = object_label(&upload.bucket, &upload.key);
    let head = storage
        .head(&upload.bucket, &upload.key)
        .await
        .map_err(|e| upload_read_error(upload, "reading the metadata of", e))?;
    if head.size == 0 {
        return Err(StepError::new(
            ErrorType::EmptyObject,
            format!("{object}: the file is empty (0 bytes)"),
        ));
    }
    let max_bytes = config.limits.max_input_bytes;
    if head.size > max_bytes {
        return Err(StepError::new(
            ErrorType::TooLarge,
            format!(
                "{object}: the file is {} bytes, over the limit of {max_bytes} bytes",
                head.size
            ),
        ));
    }
    let read_head = |len: u64| async move {
        storage
            .get_range(&upload.bucket, &upload.key, len)
            .await
            .map_err(|e| upload_read_error(upload, "reading the start of", e))
    };
    let header = read_head(HEAD_BYTES as u64).await?;
    let probed = match photopipe_engine::probe(&header, &config.limits) {
        Err(e) if e.kind == ErrorKind::Corrupt && (header.len() as u64) < head.size => {
            photopipe_engine::probe(&read_head(EXTENDED_HEAD_BYTES).await?, &config.limits)
        }
        probed => probed,
    }
    .map_err(|e| StepError::from_engine(&upload.bucket, &upload.key, e))?;
    let (width, height) = probed.display_size();
    Ok(Validation {
        format: probed.format,
        width,
        height,
        orientation: probed.orientation,
        size: head.size,
    })
}
