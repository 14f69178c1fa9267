//! Helpers shared by the adapter tests: scratch folders and a small RFC 5322 reader.

#![allow(dead_code)] // Each test crate uses its own part.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("photopipe-local-{}", unique()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Unique within the machine for the tests' purposes: process, time and a counter.
pub fn unique() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{:x}_{}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A parsed message: unfolded headers in order, and the body with `\n` line ends.
pub struct Parsed {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Parsed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Reads an RFC 5322 message; panics on anything malformed (a header line without a colon,
/// a bare LF, a missing blank line).
pub fn parse_message(raw: &str) -> Parsed {
    assert!(
        !raw.replace("\r\n", "").contains('\n') && !raw.replace("\r\n", "").contains('\r'),
        "bare CR or LF in {raw:?}"
    );
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .expect("a blank line after the headers");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            headers
                .last_mut()
                .expect("a folded line follows a header")
                .1 += line;
        } else {
            let (name, value) = line.split_once(':').expect("a header line has a colon");
            assert!(
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()),
                "bad header name {name:?}"
            );
            headers.push((name.to_owned(), value.trim_start().to_owned()));
        }
    }
    Parsed {
        headers,
        body: body.replace("\r\n", "\n"),
    }
}
