//! From S3's "object created" notification to the execution that processes the object.
//!
//! S3 may deliver a notification more than once, so the execution's name is derived from
//! the object's identity ([`keys::object_name`]): Step Functions refuses a second execution
//! with a name it has seen (the Lambda treats `ExecutionAlreadyExists` as success), so a
//! duplicate starts nothing new. Keys arrive URL-encoded (`+` for a space, then `%XX`);
//! they are decoded here, once, and travel decoded through the pipeline.
//!
//! The event types mirror the JSON S3 sends (and `aws_lambda_events::s3::S3Event`
//! serializes to), without depending on that crate.

use crate::error::StepError;
use crate::keys;
use crate::model::Upload;
use crate::timefmt;
use serde::{Deserialize, Serialize};

/// An S3 event notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Event {
    #[serde(rename = "Records", default)]
    pub records: Vec<S3EventRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3EventRecord {
    /// E.g. `ObjectCreated:Put`, `ObjectRemoved:Delete`.
    #[serde(default)]
    pub event_name: String,
    /// RFC 3339.
    #[serde(default)]
    pub event_time: String,
    pub s3: S3Entity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Entity {
    pub bucket: S3Bucket,
    pub object: S3Object,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Bucket {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Object {
    /// URL-encoded, as S3 sends it.
    pub key: String,
    pub size: Option<u64>,
    #[serde(rename = "eTag")]
    pub e_tag: Option<String>,
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

/// Decides what to do with `record`.
pub fn decide(record: &S3EventRecord, config: &TriggerConfig) -> Result<Decision, StepError> {
    if !record.event_name.starts_with("ObjectCreated:") {
        return Ok(Decision::Ignore("not an ObjectCreated event"));
    }
    let key = decode_key(&record.s3.object.key)?;
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
    let bucket = record.s3.bucket.name.clone();
    let describe = || crate::error::object_label(&bucket, &key);
    let event_time = timefmt::parse_rfc3339(&record.event_time).ok_or_else(|| {
        StepError::invalid_input(format!(
            "the S3 event for {} has no valid eventTime ({:?})",
            describe(),
            record.event_time
        ))
    })?;
    let size = record.s3.object.size.ok_or_else(|| {
        StepError::invalid_input(format!(
            "the S3 event for {} has no object size",
            describe()
        ))
    })?;
    let etag = record
        .s3
        .object
        .e_tag
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
        version_id: record
            .s3
            .object
            .version_id
            .clone()
            .filter(|version| !version.is_empty()),
        event_time,
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
