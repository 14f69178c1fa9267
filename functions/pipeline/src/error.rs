//! How a step fails, in the terms the state machine matches on.
//!
//! A Lambda reports an `errorType` string; the state machine retries `PhotoPipe.Transient`
//! and sends everything else straight to OnFailure. So every failure is classified once,
//! here, as permanent (the upload itself is bad, or the setup is broken) or transient (try
//! again later), with a message that names the object and says what was wrong.

use crate::ports::PortError;
use photopipe_engine::ErrorKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The `errorType` of a failed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorType {
    /// The object has no bytes.
    #[serde(rename = "PhotoPipe.EmptyObject")]
    EmptyObject,
    /// Not an image format photopipe reads.
    #[serde(rename = "PhotoPipe.UnsupportedFormat")]
    UnsupportedFormat,
    /// Over a limit: bytes, pixels or decoding memory.
    #[serde(rename = "PhotoPipe.TooLarge")]
    TooLarge,
    /// Claims to be an image but cannot be read.
    #[serde(rename = "PhotoPipe.CorruptImage")]
    CorruptImage,
    /// The object was deleted before it was processed.
    #[serde(rename = "PhotoPipe.MissingObject")]
    MissingObject,
    /// The step's input is not what the state machine contract says.
    #[serde(rename = "PhotoPipe.InvalidInput")]
    InvalidInput,
    /// Storage, database or alerting refused for good (access denied, missing bucket or
    /// table, rejected statement): an operator must fix the setup; retrying will not help.
    #[serde(rename = "PhotoPipe.Internal")]
    Internal,
    /// Throttling, a 5xx, a database that is resuming: the state machine retries.
    #[serde(rename = "PhotoPipe.Transient")]
    Transient,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::EmptyObject => "PhotoPipe.EmptyObject",
            ErrorType::UnsupportedFormat => "PhotoPipe.UnsupportedFormat",
            ErrorType::TooLarge => "PhotoPipe.TooLarge",
            ErrorType::CorruptImage => "PhotoPipe.CorruptImage",
            ErrorType::MissingObject => "PhotoPipe.MissingObject",
            ErrorType::InvalidInput => "PhotoPipe.InvalidInput",
            ErrorType::Internal => "PhotoPipe.Internal",
            ErrorType::Transient => "PhotoPipe.Transient",
        }
    }

    /// Whether the state machine retries it.
    pub fn is_transient(self) -> bool {
        self == ErrorType::Transient
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ErrorKind> for ErrorType {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Empty => ErrorType::EmptyObject,
            ErrorKind::UnsupportedFormat => ErrorType::UnsupportedFormat,
            ErrorKind::Corrupt => ErrorType::CorruptImage,
            ErrorKind::TooLarge => ErrorType::TooLarge,
        }
    }
}

/// A step's failure: the Lambda adapter reports `error_type` as the `errorType` and
/// `message` as the `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    pub error_type: ErrorType,
    pub message: String,
}

impl StepError {
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        StepError {
            error_type,
            message: message.into(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        StepError::new(ErrorType::InvalidInput, message)
    }

    /// The `Cause` text Step Functions shows for a Lambda error,
    /// `{"errorType": …, "errorMessage": …}`: the local runner reports the same.
    pub fn cause(&self) -> String {
        serde_json::json!({"errorType": self.error_type, "errorMessage": self.message}).to_string()
    }

    /// The engine refused `bucket/key`.
    pub fn from_engine(bucket: &str, key: &str, error: photopipe_engine::Error) -> Self {
        StepError::new(
            error.kind.into(),
            format!("{}: {}", object_label(bucket, key), error.message),
        )
    }

    /// A port failed while `doing` something (a phrase such as "reading the photo at
    /// bucket \"b\", key \"k\""). A missing object here is a setup error; the callers that
    /// can tell a deleted upload apart check for [`PortError::NotFound`] first.
    pub fn from_port(doing: &str, error: PortError) -> Self {
        let error_type = match error {
            PortError::Transient(_) => ErrorType::Transient,
            PortError::NotFound | PortError::Permanent(_) => ErrorType::Internal,
            PortError::OverLimit { .. } => ErrorType::TooLarge,
        };
        StepError::new(error_type, format!("failed {doing}: {error}"))
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for StepError {}

/// How messages name an object: quoted and escaped, since keys may hold anything.
pub fn object_label(bucket: &str, key: &str) -> String {
    format!("bucket {bucket:?}, key {key:?}")
}
