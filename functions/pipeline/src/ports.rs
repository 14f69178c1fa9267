//! The small traits the steps run over, so the same step code drives S3, RDS and SNS in the
//! Lambdas, and folders, SQLite/MariaDB and mail in the local runner.
//!
//! Each adapter classifies its own failures into [`PortError`]: it alone knows that an S3
//! `SlowDown` or a Data API `DatabaseResumingException` is worth retrying while an
//! `AccessDenied` is not. The steps turn that into the state machine's error types.
//!
//! The traits use `impl Future + Send` returns (no `async-trait`), so a Lambda handler can
//! hold their futures across `.await` on a multi-threaded runtime.

use crate::model::CatalogRow;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use time::OffsetDateTime;

/// Why a port call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortError {
    /// The object, or the row, does not exist.
    NotFound,
    /// The object is bigger than the caller's `max_bytes`; nothing was buffered.
    OverLimit { size: u64, max_bytes: u64 },
    /// Worth retrying: throttling, timeouts, 5xx, a database that is starting.
    Transient(String),
    /// Retrying will not help: access denied, no such bucket or table, a rejected request.
    Permanent(String),
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::NotFound => f.write_str("not found"),
            PortError::OverLimit { size, max_bytes } => {
                write!(f, "{size} bytes, over the limit of {max_bytes} bytes")
            }
            PortError::Transient(message) => write!(f, "{message} (transient)"),
            PortError::Permanent(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for PortError {}

/// What a HEAD request tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub etag: Option<String>,
    pub content_type: Option<String>,
}

/// An object to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewObject<'a> {
    pub bytes: &'a [u8],
    pub content_type: &'a str,
    /// The `Cache-Control` the website endpoint will serve it with.
    pub cache_control: Option<&'a str>,
}

/// Buckets of objects: S3, or folders in the local data dir. Keys are opaque strings
/// (adapters must never use one as a file path unchecked).
pub trait Storage: Send + Sync {
    fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<ObjectHead, PortError>> + Send;

    /// The first `len` bytes (all of them when the object is shorter).
    fn get_range(
        &self,
        bucket: &str,
        key: &str,
        len: u64,
    ) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send;

    /// The whole object, or [`PortError::OverLimit`] without buffering it when it is over
    /// `max_bytes`.
    fn get(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send;

    /// Creates or replaces the object.
    fn put(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject<'_>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Creates the object only if the key is free (S3 `If-None-Match: *`, a folder's
    /// `create_new`), atomically: of concurrent callers exactly one gets `true`.
    fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject<'_>,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// The keys that start with `prefix`, in any order.
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
}

/// What [`Catalog::insert_idempotent`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The row is new; this is it as stored (with its id).
    Inserted(CatalogRow),
    /// A row with the same idempotency key was already there (a retried or duplicated
    /// execution); this is that row, unchanged. No second row was written.
    AlreadyPresent(CatalogRow),
}

/// Which column a listing is sorted by. Only these: they map to fixed statements, so no
/// caller-supplied text ever reaches the SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogOrder {
    /// Upload date and time (the gallery's order).
    UploadTime,
    ThumbnailSize,
    OriginalSize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Asc,
    Desc,
}

/// The `file_upload_catalog` table, through the RDS Data API or sqlx; both send the
/// statements of [`crate::sql`].
pub trait Catalog: Send + Sync {
    /// Inserts `row` (its `id` is ignored) with a plain `INSERT`; the unique
    /// `idempotency_key` makes a second insert fail with a duplicate-key error, which the
    /// adapter recognises (MySQL 1062, SQLite `SQLITE_CONSTRAINT_UNIQUE`) and answers with
    /// [`InsertOutcome::AlreadyPresent`] and the stored row, read back with
    /// [`crate::sql::SELECT_BY_IDEMPOTENCY_KEY`].
    fn insert_idempotent(
        &self,
        row: &CatalogRow,
    ) -> impl Future<Output = Result<InsertOutcome, PortError>> + Send;

    /// Up to `limit` rows sorted by `order` (ties broken by id in the same direction).
    /// The five smallest thumbnails: `list(CatalogOrder::ThumbnailSize, Direction::Asc, 5)`.
    fn list(
        &self,
        order: CatalogOrder,
        direction: Direction,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CatalogRow>, PortError>> + Send;

    fn by_idempotency_key(
        &self,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Option<CatalogRow>, PortError>> + Send;
}

/// One plain-text message to operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// One line of printable ASCII under 100 characters (SNS's rule for subjects, and
    /// safe as a mail header).
    pub subject: String,
    /// Plain text, lines separated by `\n`.
    pub body: String,
}

/// The operations centre's inbox: SNS → e-mail, or SMTP / `.eml` files locally.
pub trait Alerts: Send + Sync {
    fn send(&self, alert: &Alert) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The current time, injected so tests can pin it.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
