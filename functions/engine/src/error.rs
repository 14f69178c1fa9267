//! Why a file could not be thumbnailed, as a stable machine-readable kind plus a sentence for
//! people. The kinds are part of photopipe's contract: the CLI prints them, the state machine
//! maps them to `PhotoPipe.*` error types, and failure records store them.

use std::fmt;

/// The stable, snake_case category of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The file has no bytes at all.
    Empty,
    /// The content is not an image format photopipe reads (text, JSON, HEIC without support…).
    UnsupportedFormat,
    /// It claims to be an image but cannot be decoded (truncated, damaged, lying header).
    Corrupt,
    /// Over a configured limit: input bytes, pixels, or the decoding memory budget.
    TooLarge,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::UnsupportedFormat => "unsupported_format",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::TooLarge => "too_large",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with its kind and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn empty() -> Self {
        Error::new(ErrorKind::Empty, "the file is empty (0 bytes)")
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::UnsupportedFormat, message)
    }

    pub fn corrupt(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Corrupt, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::TooLarge, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
