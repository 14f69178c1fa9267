//! Every name the pipeline derives from an upload, and every key it writes.
//!
//! Names are deterministic so that retries and duplicate notifications land on the same
//! execution, thumbnail, catalog row and failure record instead of making new ones. They
//! are built from a readable part (the file name, reduced to characters that are safe
//! everywhere: `A–Z a–z 0–9 . _ -`) and a stable hash of the object's identity (bucket, key,
//! version id or else etag), so two different objects never share a name.
//!
//! Key scheme (output bucket = the website's root; log bucket = operators' records):
//!
//! | what | bucket | key |
//! |---|---|---|
//! | thumbnail | output | `thumbnails/<object name>.<jpg\|webp>` |
//! | gallery data | output | `gallery.json` |
//! | failure record | log | `failures/<upload date>/<execution name>.json` |
//! | alert window slot | log | `alerts/window/<window start>/<slot>` |
//! | alert state of an execution | log | `alerts/executions/<execution name>.json` |
//!
//! A thumbnail key never contains `/`, `..`, `?`, `#`, `%` or spaces from the original key,
//! so its URL path is the key itself, unencoded, and cannot escape `thumbnails/` (a key like
//! `a/../b?x#y` becomes `thumbnails/b_x_y-<hash>.jpg`). Including the etag/version makes the
//! thumbnail of each object version a distinct, immutable URL, so it may be cached forever.

use crate::model::{file_name_of, Upload};
use sha2::{Digest, Sha256};

/// Where thumbnails live in the output bucket.
pub const THUMBNAIL_PREFIX: &str = "thumbnails/";
/// The gallery data in the output bucket, next to the website's `index.html`.
pub const GALLERY_KEY: &str = "gallery.json";
/// Failure records in the log bucket.
pub const FAILURE_PREFIX: &str = "failures/";
/// Alert bookkeeping in the log bucket (a lifecycle rule may expire it after a day).
pub const ALERT_WINDOW_PREFIX: &str = "alerts/window/";
pub const ALERT_EXECUTION_PREFIX: &str = "alerts/executions/";

/// Step Functions allows 80 characters in an execution name.
pub const MAX_EXECUTION_NAME: usize = 80;
/// Hex digits of the identity hash in names: 64 bits, so collisions are out of reach.
const NAME_HASH_HEX: usize = 16;

/// The object's identity as 64 hex digits (SHA-256): the catalog's idempotency key.
/// Each part is length-prefixed so `("a", "bc")` and `("ab", "c")` differ.
pub fn fingerprint(upload: &Upload) -> String {
    let revision = upload.version_id.as_deref().unwrap_or(&upload.etag);
    let mut hash = Sha256::new();
    hash.update(b"photopipe/upload/v1");
    for part in [&upload.bucket, &upload.key, revision] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `<readable file name>-<16 hex digits>`, at most 80 characters of `A–Z a–z 0–9 . _ -`:
/// the execution name the trigger starts, and the stem of the thumbnail key.
pub fn object_name(upload: &Upload) -> String {
    named(upload, "")
}

/// The name of a later execution of the same object version (a reprocess, after a fix or
/// after its thumbnail or catalog row went missing): `<object name>-<tag>`, the readable
/// part shortened so the whole stays within 80 characters. Step Functions refuses a second
/// execution with a name it has seen (for 90 days after the first one closed), so a rerun
/// needs a name of its own; the thumbnail key and the catalog's idempotency key come from
/// the upload, not from the name, so the rerun still lands on the same thumbnail and row.
/// `tag` (e.g. the time of the reprocess) must be made of `A–Z a–z 0–9 . _ -` and at most
/// [`MAX_RERUN_TAG`] long.
pub fn rerun_name(upload: &Upload, tag: &str) -> String {
    named(upload, &format!("-{tag}"))
}

/// How long a [`rerun_name`] tag may be: the readable part keeps at least 30 characters.
pub const MAX_RERUN_TAG: usize = 32;

fn named(upload: &Upload, suffix: &str) -> String {
    let hash = &fingerprint(upload)[..NAME_HASH_HEX];
    let room = MAX_EXECUTION_NAME - 1 - NAME_HASH_HEX;
    let readable = readable_part(file_name_of(&upload.key), room.saturating_sub(suffix.len()));
    format!("{readable}-{hash}{suffix}")
}

/// `thumbnails/<object name>.<extension>`.
pub fn thumbnail_key(upload: &Upload, format: photopipe_engine::OutputFormat) -> String {
    format!(
        "{THUMBNAIL_PREFIX}{}.{}",
        object_name(upload),
        format.extension()
    )
}

/// `failures/<YYYY-MM-DD>/<execution name>.json`.
pub fn failure_record_key(upload_date: &str, execution_name: &str) -> String {
    format!("{FAILURE_PREFIX}{upload_date}/{execution_name}.json")
}

/// Whether Step Functions would accept `name` (1–80 characters; no whitespace, control
/// characters or any of `<>{}[]?*"#%\^|~`$&,;:/`). Names also go into log-bucket keys, so
/// the steps refuse others.
pub fn is_valid_execution_name(name: &str) -> bool {
    const FORBIDDEN: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";
    (1..=MAX_EXECUTION_NAME).contains(&name.chars().count())
        && !matches!(name, "." | "..")
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !FORBIDDEN.contains(c))
}

/// Whether `key` can be used verbatim as a URL path relative to the site root: segments of
/// RFC 3986 unreserved characters only, none empty, `.` or `..`. Every key of this module's
/// scheme is; the gallery checks the keys it reads back from the catalog anyway.
pub fn is_url_safe(key: &str) -> bool {
    key.split('/').all(|segment| {
        !matches!(segment, "" | "." | "..")
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    })
}

/// `file_name` reduced to `A–Z a–z 0–9 . _ -` (runs of anything else become one `_`),
/// without leading dots (no hidden files, never `.` or `..`), at most `max_len` long; or
/// `upload` when nothing readable is left.
fn readable_part(file_name: &str, max_len: usize) -> String {
    let mut readable = String::with_capacity(file_name.len().min(max_len));
    for c in file_name.chars() {
        let safe = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if safe {
            readable.push(c);
        } else if !readable.ends_with('_') {
            readable.push('_');
        }
    }
    let readable = readable.trim_start_matches('.');
    // ASCII only by now, so byte truncation stays on a character boundary.
    let readable = &readable[..readable.len().min(max_len)];
    if readable.trim_matches(['_', '.', '-']).is_empty() {
        "upload".to_owned()
    } else {
        readable.to_owned()
    }
}
