//! From S3's "object created" notification to the execution that processes the object.
//!
//! S3 may deliver a notification more than once, so the execution's name is derived from
//! the object's identity ([`keys::object_name`]): Step Functions refuses a second execution
//! with a name it has seen (the Lambda treats `ExecutionAlreadyExists` as success), so a
//! duplicate starts nothing new. Keys arrive URL-encoded (`+` for a space, then `%XX`);
//! they are decoded here, once, and travel decoded through the pipeline.
//!
//! [`decide`] reads an [`ObjectEvent`]: one record of the notification, flattened to the
//! fields it uses. The trigger Lambda converts `aws_lambda_events`' S3 records into it and
//! the local pipeline builds one per upload, so both name an execution by the same logic
//! while this crate — linked into every Lambda and the local pipeline — stays free of the
//! Lambda event types and the chrono they bring.

use crate::error::StepError;
use crate::keys;
use crate::model::Upload;
use time::{OffsetDateTime, UtcOffset};

/// One record of an S3 event notification: what it says about the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    /// E.g. `ObjectCreated:Put`; any other kind (`ObjectRemoved:Delete`, …) is ignored.
    pub event_name: String,
    /// At any offset: the upload carries it in UTC.
    pub event_time: OffsetDateTime,
    pub bucket: String,
    /// URL-encoded, as S3 sends it ([`decode_key`]).
    pub key: String,
    /// S3 sends the size and the ETag only for created objects, so they are checked only for
    /// the records that start an execution.
    pub size: Option<u64>,
    /// With or without the quotes HTTP headers carry.
    pub etag: Option<String>,
    /// Only from a versioned bucket.
    pub version_id: Option<String>,
}

/// The execution to start for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionStart {
    /// Valid for Step Functions, ≤ 80 characters, stable for the same object version.
    pub name: String,
    /// The execution input.
    pub input: Upload,
}

/// What to do with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Start(ExecutionStart),
    /// Not for the pipeline; the reason is for the log.
    Ignore(&'static str),
}

/// Which records the trigger passes over besides non-creation events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerConfig {
    /// Decoded key prefixes the pipeline writes itself (when it shares a bucket with
    /// uploads), so its own objects never start executions.
    pub ignored_prefixes: Vec<String>,
}

/// Decides what to do with one record.
pub fn decide(event: &ObjectEvent, config: &TriggerConfig) -> Result<Decision, StepError> {
    if !event.event_name.starts_with("ObjectCreated:") {
        return Ok(Decision::Ignore("not an ObjectCreated event"));
    }
    let key = decode_key(&event.key)?;
    if key.ends_with('/') {
        // What the S3 console's "Create folder" makes: a 0-byte placeholder, not an upload.
        return Ok(Decision::Ignore("a folder placeholder (key ends with /)"));
    }
    if config
        .ignored_prefixes
        .iter()
        .any(|prefix| key.starts_with(prefix.as_str()))
    {
        return Ok(Decision::Ignore(
            "under a prefix the pipeline writes itself",
        ));
    }
    let bucket = event.bucket.clone();
    let describe = || crate::error::object_label(&bucket, &key);
    let size = event.size.ok_or_else(|| {
        StepError::invalid_input(format!(
            "the S3 event for {} has no object size",
            describe()
        ))
    })?;
    let etag = event
        .etag
        .as_deref()
        .map(|etag| etag.trim_matches('"'))
        .filter(|etag| !etag.is_empty())
        .ok_or_else(|| {
            StepError::invalid_input(format!("the S3 event for {} has no eTag", describe()))
        })?
        .to_owned();
    let upload = Upload {
        bucket,
        key,
        size,
        etag,
        version_id: event
            .version_id
            .clone()
            .filter(|version| !version.is_empty()),
        event_time: event.event_time.to_offset(UtcOffset::UTC),
    };
    Ok(Decision::Start(ExecutionStart {
        name: keys::object_name(&upload),
        input: upload,
    }))
}

/// Decodes a key as S3 event notifications encode it: `+` is a space (a literal `+` comes
/// as `%2B`), then `%XX` sequences are bytes of UTF-8. A `%` not followed by two hex digits
/// is kept as it is.
pub fn decode_key(encoded: &str) -> Result<String, StepError> {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| {
            StepError::invalid_input(format!(
                "the S3 event's object key {encoded:?} does not decode to UTF-8"
            ))
        })
}
