//! The handful of timestamp spellings the pipeline writes, all in UTC: SQL `DATE`, `TIME`
//! and `DATETIME` literals that MySQL and SQLite both accept, RFC 3339 for JSON, and a
//! compact form for object keys.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// `YYYY-MM-DD`.
pub fn sql_date(at: OffsetDateTime) -> String {
    format(at, format_description!("[year]-[month]-[day]"))
}

/// `HH:MM:SS`.
pub fn sql_time(at: OffsetDateTime) -> String {
    format(at, format_description!("[hour]:[minute]:[second]"))
}

/// `YYYY-MM-DD HH:MM:SS`.
pub fn sql_datetime(at: OffsetDateTime) -> String {
    format(
        at,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
}

/// `YYYYMMDDTHHMMSSZ` (ISO 8601 basic): no `:`, so it is safe in keys and file names.
pub fn compact(at: OffsetDateTime) -> String {
    format(
        at,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
}

/// [`compact`] to the millisecond (`YYYYMMDDTHHMMSS.mmmZ`), for names made more than once a
/// second.
pub fn compact_millis(at: OffsetDateTime) -> String {
    format(
        at,
        format_description!("[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"),
    )
}

/// RFC 3339 in UTC (`…Z`).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("every UTC time of years 0–9999 formats as RFC 3339")
}

/// Parses RFC 3339 and converts to UTC.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|at| at.to_offset(UtcOffset::UTC))
}

fn format(
    at: OffsetDateTime,
    description: &[time::format_description::BorrowedFormatItem<'_>],
) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(description)
        .expect("numeric date components always format")
}
