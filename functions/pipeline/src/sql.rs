//! The catalog's SQL, kept in one place so every adapter sends the same text.
//!
//! The RDS Data API adapter (Aurora MySQL) sends these statements as they are, with
//! `:name` parameters; the sqlx adapter (SQLite, MySQL, MariaDB) first rewrites them with
//! [`to_positional`]. The statements are portable between MySQL and SQLite; only the
//! migrations differ (`migrations/mysql`, `migrations/sqlite`: see the SQLite file for why).
//!
//! Reads `CAST` the date and time columns `AS CHAR`, so every engine returns them as the
//! text [`CatalogRow`] holds (`YYYY-MM-DD`, `HH:MM:SS`, `YYYY-MM-DD HH:MM:SS`): MySQL's
//! temporal types and SQLite's text then read the same, and with the Data API's
//! `formatRecordsAs: JSON` each record deserializes straight into a [`CatalogRow`].
//!
//! Ordering is never caller text: [`list_statement`] picks one of a fixed set of statements.

use crate::model::CatalogRow;
use crate::ports::{CatalogOrder, Direction};

/// The table's name.
pub const TABLE: &str = "file_upload_catalog";

/// A SQL engine family, for the migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL, MariaDB, Aurora MySQL.
    MySql,
    Sqlite,
}

/// One schema change, as a file of `migrations/<dialect>/` (the layout `sqlx migrate`
/// reads, too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub description: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The statements of the file, for drivers that run one per call (the Data API): the
    /// text split on `;`. Migration files keep `;` out of comments and literals, and end
    /// with their last statement, so this stays true.
    pub fn statements(&self) -> Vec<&'static str> {
        self.sql
            .split(';')
            .map(str::trim)
            .filter(|statement| !statement.is_empty())
            .collect()
    }
}

/// The migrations of `dialect`, oldest first.
pub fn migrations(dialect: Dialect) -> &'static [Migration] {
    match dialect {
        Dialect::MySql => &[Migration {
            version: 1,
            description: "file_upload_catalog",
            sql: include_str!("../migrations/mysql/0001_file_upload_catalog.sql"),
        }],
        Dialect::Sqlite => &[Migration {
            version: 1,
            description: "file_upload_catalog",
            sql: include_str!("../migrations/sqlite/0001_file_upload_catalog.sql"),
        }],
    }
}

/// Inserts one row; parameters from [`insert_params`]. A duplicate idempotency key fails
/// with the engine's unique-key error (see [`crate::ports::Catalog::insert_idempotent`]).
pub const INSERT_ROW: &str = "INSERT INTO file_upload_catalog (upload_date, upload_time, \
file_name, original_size, thumbnail_size, bucket, object_key, idempotency_key, \
original_width, original_height, thumbnail_width, thumbnail_height, original_format, \
thumbnail_format, thumbnail_key, execution_name, processing_ms, created_at) VALUES \
(:upload_date, :upload_time, :file_name, :original_size, :thumbnail_size, :bucket, \
:object_key, :idempotency_key, :original_width, :original_height, :thumbnail_width, \
:thumbnail_height, :original_format, :thumbnail_format, :thumbnail_key, :execution_name, \
:processing_ms, :created_at)";

/// Every column of [`CatalogRow`], named as its fields; the five the assignment asks for
/// come first.
macro_rules! select_rows {
    ($tail:expr) => {
        concat!(
            "SELECT CAST(upload_date AS CHAR) AS upload_date, ",
            "CAST(upload_time AS CHAR) AS upload_time, file_name, original_size, ",
            "thumbnail_size, id, bucket, object_key, idempotency_key, original_width, ",
            "original_height, thumbnail_width, thumbnail_height, original_format, ",
            "thumbnail_format, thumbnail_key, execution_name, processing_ms, ",
            "CAST(created_at AS CHAR) AS created_at FROM file_upload_catalog ",
            $tail
        )
    };
}

/// The row with `:idempotency_key`, if any.
pub const SELECT_BY_IDEMPOTENCY_KEY: &str =
    select_rows!("WHERE idempotency_key = :idempotency_key");

/// Rows by `$column`s, all in the one `$direction`, `:limit` of them. The page is picked
/// from the index alone in a derived table and joined back by `id`: the select list's
/// `CAST(upload_date AS CHAR) AS upload_date` would capture a bare `upload_date` in the
/// outer `ORDER BY` (both engines resolve result aliases first), ordering by the cast and
/// so scanning and sorting the whole table on every gallery refresh; and MariaDB, asked
/// for 500 full rows, prefers that filesort to the index even with the columns qualified.
macro_rules! page_by {
    ($direction:literal: $first:literal $(, $column:literal)*) => {
        select_rows!(concat!(
            "JOIN (SELECT id FROM file_upload_catalog ORDER BY ",
            $first, " ", $direction, $(", ", $column, " ", $direction,)*
            " LIMIT :limit) AS page USING (id) ORDER BY ",
            "file_upload_catalog.", $first, " ", $direction,
            $(", file_upload_catalog.", $column, " ", $direction,)*
        ))
    };
}

/// The assignment's query: the `:limit` smallest thumbnails.
pub const SELECT_SMALLEST_THUMBNAILS: &str = page_by!("ASC": "thumbnail_size", "id");

/// The listing statement for `order` and `direction`, with a `:limit` parameter.
pub fn list_statement(order: CatalogOrder, direction: Direction) -> &'static str {
    use CatalogOrder::*;
    use Direction::*;
    match (order, direction) {
        (ThumbnailSize, Asc) => SELECT_SMALLEST_THUMBNAILS,
        (ThumbnailSize, Desc) => page_by!("DESC": "thumbnail_size", "id"),
        (OriginalSize, Asc) => page_by!("ASC": "original_size", "id"),
        (OriginalSize, Desc) => page_by!("DESC": "original_size", "id"),
        (UploadTime, Asc) => page_by!("ASC": "upload_date", "upload_time", "id"),
        (UploadTime, Desc) => page_by!("DESC": "upload_date", "upload_time", "id"),
    }
}

/// A typed parameter value. The Data API needs the temporal type hints (`DATE`, `TIME`,
/// `TIMESTAMP` with a string value); sqlx binds them as text, which MySQL converts and
/// SQLite stores as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
    Date(String),
    Time(String),
    Timestamp(String),
}

/// The parameters of [`INSERT_ROW`] for `row`, by name.
pub fn insert_params(row: &CatalogRow) -> Vec<(&'static str, SqlValue)> {
    use SqlValue::*;
    // Sizes and durations fit i64 (BIGINT) by far; saturate rather than wrap if not.
    let int = |n: u64| Int(i64::try_from(n).unwrap_or(i64::MAX));
    vec![
        ("upload_date", Date(row.upload_date.clone())),
        ("upload_time", Time(row.upload_time.clone())),
        ("file_name", Text(row.file_name.clone())),
        ("original_size", int(row.original_size)),
        ("thumbnail_size", int(row.thumbnail_size)),
        ("bucket", Text(row.bucket.clone())),
        ("object_key", Text(row.object_key.clone())),
        ("idempotency_key", Text(row.idempotency_key.clone())),
        ("original_width", Int(row.original_width.into())),
        ("original_height", Int(row.original_height.into())),
        ("thumbnail_width", Int(row.thumbnail_width.into())),
        ("thumbnail_height", Int(row.thumbnail_height.into())),
        ("original_format", Text(row.original_format.clone())),
        ("thumbnail_format", Text(row.thumbnail_format.clone())),
        ("thumbnail_key", Text(row.thumbnail_key.clone())),
        ("execution_name", Text(row.execution_name.clone())),
        ("processing_ms", int(row.processing_ms)),
        ("created_at", Timestamp(row.created_at.clone())),
    ]
}

/// Rewrites `:name` parameters as `?` for drivers with positional parameters, returning the
/// names in the order to bind them. For this module's statements, which have no string
/// literals or `::` casts.
pub fn to_positional(statement: &str) -> (String, Vec<&str>) {
    let mut sql = String::with_capacity(statement.len());
    let mut names = Vec::new();
    let mut rest = statement;
    while let Some(colon) = rest.find(':') {
        sql.push_str(&rest[..colon]);
        let after = &rest[colon + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if name_len == 0 {
            sql.push(':');
        } else {
            sql.push('?');
            names.push(&after[..name_len]);
        }
        rest = &after[name_len..];
    }
    sql.push_str(rest);
    (sql, names)
}
