//! The state machine's tasks, one function each, over the [`crate::ports`].
//!
//! Every task receives `{"execution_name": …, "input": <state>}` (the state machine's
//! `Parameters`), parsed with [`parse_input`] into a [`StepInput`] of the state that task
//! sees, and returns the value the state machine stores at its `ResultPath`, or a
//! [`StepError`] whose type the state machine matches. The functions hold no state of their
//! own: running one again with the same input (a retry) converges on the same objects,
//! row, record and alert.

mod catalog;
mod on_failure;
#[cfg(feature = "engine")]
mod resize;
#[cfg(feature = "engine")]
mod validate;

pub use catalog::{catalog, refresh_gallery};
pub use on_failure::on_failure;
#[cfg(feature = "engine")]
pub use resize::resize;
#[cfg(feature = "engine")]
pub use validate::validate;

use crate::error::StepError;
use crate::keys;
use crate::model::StepInput;
use serde::de::DeserializeOwned;

/// Thumbnails are named after the object version they show, so they never change.
pub const THUMBNAIL_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// `gallery.json` changes with every upload: browsers revalidate it (cheaply, by ETag).
pub const GALLERY_CACHE_CONTROL: &str = "no-cache";

/// Parses a task's raw input; anything off-contract is `PhotoPipe.InvalidInput`, including
/// an execution name Step Functions would not have produced (it goes into object keys).
pub fn parse_input<T: DeserializeOwned>(raw: serde_json::Value) -> Result<StepInput<T>, StepError> {
    let input: StepInput<T> = serde_json::from_value(raw).map_err(|e| {
        StepError::invalid_input(format!(
            "the step input does not match the state machine contract: {e}"
        ))
    })?;
    if !keys::is_valid_execution_name(&input.execution_name) {
        return Err(StepError::invalid_input(format!(
            "{:?} is not a valid execution name",
            input.execution_name
        )));
    }
    Ok(input)
}

/// A failed read of the uploaded object: gone means it was deleted after the upload.
#[cfg(feature = "engine")]
fn upload_read_error(
    upload: &crate::model::Upload,
    doing: &str,
    error: crate::ports::PortError,
) -> StepError {
    use crate::error::{object_label, ErrorType};
    use crate::ports::PortError;
    let object = object_label(&upload.bucket, &upload.key);
    match error {
        PortError::NotFound => StepError::new(
            ErrorType::MissingObject,
            format!("{object}: the object no longer exists (deleted after it was uploaded?)"),
        ),
        other => StepError::from_port(&format!("{doing} {object}"), other),
    }
}
