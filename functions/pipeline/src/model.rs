//! The JSON that flows through the state machine, and the records the pipeline leaves behind.
//!
//! Step Functions passes one state document from task to task: the trigger's [`Upload`], to
//! which the tasks add `validation`, `thumbnail` and `catalog` (their `ResultPath`s), or
//! `error` when a task's Catch fires. These types are that document's contract (the
//! `statemachine/README.md` describes it too), so field names are part of the interface: the
//! local runner, the Lambdas and the website all read them.

use photopipe_engine::{InputFormat, OutputFormat};
use serde::{de::IgnoredAny, Deserialize, Serialize};
use time::OffsetDateTime;

/// What every task receives: the state machine's `Parameters` put the execution's name
/// beside the current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInput<T> {
    pub execution_name: String,
    pub input: T,
}

/// The execution input: one uploaded object, as the S3 event described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub bucket: String,
    /// The object key, already URL-decoded (S3 events carry it encoded).
    pub key: String,
    /// Bytes, as the event reported them; the validate step checks the object itself.
    pub size: u64,
    /// Without the surrounding quotes S3 puts in HTTP headers.
    pub etag: String,
    /// Set when the bucket is versioned; `null` otherwise.
    #[serde(default)]
    pub version_id: Option<String>,
    /// When the object was created, in UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub event_time: OffsetDateTime,
}

impl Upload {
    /// The key's last path segment: what the user called the file.
    pub fn file_name(&self) -> &str {
        file_name_of(&self.key)
    }
}

/// The last `/`-separated segment of `key`, or the whole key when that segment is empty.
pub fn file_name_of(key: &str) -> &str {
    match key.rsplit('/').next() {
        Some(last) if !last.is_empty() => last,
        _ => key,
    }
}

/// The validate step's result (`$.validation`): what the object's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub format: InputFormat,
    /// Width as displayed, after the EXIF orientation is applied.
    pub width: u32,
    /// Height as displayed, after the EXIF orientation is applied.
    pub height: u32,
    /// EXIF orientation, 1–8.
    pub orientation: u8,
    /// The object's size in bytes, from storage (not from the event).
    pub size: u64,
}

/// The resize step's result (`$.thumbnail`): where the thumbnail went and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbnailInfo {
    pub bucket: String,
    pub key: String,
    pub width: u32,
    pub height: u32,
    /// Size of the encoded thumbnail in bytes.
    pub bytes: u64,
    pub format: OutputFormat,
    pub content_type: String,
}

/// The state the resize step receives: the upload and its validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validated {
    #[serde(flatten)]
    pub upload: Upload,
    pub validation: Validation,
}

/// The state the catalog step receives: the upload, its validation and its thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thumbnailed {
    #[serde(flatten)]
    pub upload: Upload,
    pub validation: Validation,
    pub thumbnail: ThumbnailInfo,
}

/// One row of `file_upload_catalog` (see [`crate::sql`]), in the shape the SQL adapters read
/// and write and the catalog API returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRow {
    /// Assigned by the database; `None` before the insert.
    pub id: Option<i64>,
    /// `YYYY-MM-DD`, UTC, from the upload event.
    pub upload_date: String,
    /// `HH:MM:SS`, UTC, from the upload event.
    pub upload_time: String,
    pub file_name: String,
    pub original_size: u64,
    pub thumbnail_size: u64,
    pub bucket: String,
    pub object_key: String,
    /// Unique per uploaded object version: a retried or duplicated execution finds its row.
    pub idempotency_key: String,
    pub original_width: u32,
    pub original_height: u32,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
    pub original_format: String,
    pub thumbnail_format: String,
    pub thumbnail_key: String,
    pub execution_name: String,
    /// Milliseconds from the upload event to the catalog insert: the pipeline's latency.
    pub processing_ms: u64,
    /// `YYYY-MM-DD HH:MM:SS`, UTC: when the row was built.
    pub created_at: String,
}

/// The catalog step's result (`$.catalog`): the row as stored, and whether this run
/// created it (`false` when a retry or a duplicate execution found it already there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cataloged {
    pub created: bool,
    #[serde(flatten)]
    pub row: CatalogRow,
}

/// The state the on_failure step receives. Deliberately lenient about the upload: it must
/// record *something* even for an execution started by hand with a malformed input, so only
/// `error` is required.
#[derive(Debug, Clone, Deserialize)]
pub struct Failed {
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub key: String,
    pub size: Option<u64>,
    /// RFC 3339; kept as text because a malformed one must not stop the record.
    pub event_time: Option<String>,
    /// Present once Validate succeeded; only its presence matters here.
    pub validation: Option<IgnoredAny>,
    /// Present once Resize succeeded.
    pub thumbnail: Option<IgnoredAny>,
    pub error: CaughtError,
}

/// What a Catch puts at `$.error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtError {
    #[serde(rename = "Error")]
    pub error: String,
    /// For a Lambda error, a JSON document with `errorMessage`; otherwise plain text.
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// What was done about alerting for one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertOutcome {
    /// An individual alert was published.
    Sent,
    /// The window's budget was just used up: one notice said further failures are only
    /// recorded; it also described this failure.
    BurstNotice,
    /// Over the window's budget: recorded only.
    Suppressed,
    /// Publishing failed; the step reported an error so the state machine retries it.
    SendFailed,
}

/// The failure record written to the log bucket (one per failed execution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    /// RFC 3339 UTC: when the object was uploaded (the event time), if the input had it.
    pub upload_time: Option<String>,
    /// The Step Functions error name, e.g. `PhotoPipe.EmptyObject` or `States.Timeout`.
    pub error_type: String,
    pub error_message: String,
    pub execution_name: String,
    /// The task that failed, inferred from the results present in the state.
    pub failed_state: Option<String>,
    /// RFC 3339 UTC.
    pub recorded_at: String,
    pub alert: AlertOutcome,
}
