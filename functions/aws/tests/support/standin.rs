//! The RDS Data API stand-in (`tests/data_api_standin.py`, started by `tests/moto.sh`)
//! from a test: its URL, plain-HTTP calls to it, its switches, and a MariaDB database of
//! the test's own. Standard library and serde_json only, so the CLI's tests include this
//! file too (`#[path]`) to reach the same stand-in.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;

/// The stand-in's URL, `None` (after a note) when the test is to be skipped.
pub fn standin_url() -> Option<String> {
    let url = std::env::var("PHOTOPIPE_DATA_API_URL")
        .ok()
        .filter(|v| !v.is_empty());
    if url.is_none() {
        if std::env::var("PHOTOPIPE_SKIP_DATA_API").as_deref() == Ok("1") {
            eprintln!(
                "note: PHOTOPIPE_SKIP_DATA_API=1 and no Data API stand-in: the Data API test is skipped"
            );
        } else {
            panic!(
                "no Data API stand-in: set PHOTOPIPE_DATA_API_URL (run `bash functions/aws/tests/moto.sh`, \
                 which starts tests/data_api_standin.py on MariaDB), or PHOTOPIPE_SKIP_DATA_API=1 to skip"
            );
        }
    }
    url
}

/// One request to the stand-in over plain HTTP/1.0 on loopback: (status, JSON body).
pub fn call(url: &str, method: &str, path: &str, body: &Value) -> (u16, Value) {
    try_call(url, method, path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// [`call`] without panicking (for `Drop`, which may run while a failed test unwinds).
pub fn try_call(url: &str, method: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let body = body.to_string();
    let mut stream = TcpStream::connect(authority)
        .map_err(|e| format!("the Data API stand-in at {url} does not answer: {e}"))?;
    let mut response = String::new();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .and_then(|()| stream.read_to_string(&mut response))
    .map_err(|e| e.to_string())?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {response:?}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let body = serde_json::from_str(body).map_err(|e| format!("{e}: {body:?}"))?;
    Ok((status, body))
}

/// A POST to one of the stand-in's own switches, which must succeed.
pub fn switch(url: &str, path: &str, body: Value) {
    let (status, answer) = call(url, "POST", path, &body);
    assert_eq!(status, 200, "{path}: {answer}");
}

/// A MariaDB database of this test alone, created and dropped through the stand-in.
pub struct Database {
    url: String,
    pub name: String,
}

impl Database {
    pub fn create(url: &str) -> Database {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("photopipe_dataapi_{}_{nanos}", std::process::id());
        let database = Database {
            url: url.to_owned(),
            name,
        };
        database.execute(&format!(
            "CREATE DATABASE `{}` CHARACTER SET utf8mb4",
            database.name
        ));
        database
    }

    pub fn execute(&self, statement: &str) {
        let request = json!({"resourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:setup",
            "secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:setup",
            "sql": statement});
        let (status, answer) = call(&self.url, "POST", "/Execute", &request);
        assert_eq!(status, 200, "{statement}: {answer}");
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let request = json!({"resourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:setup",
            "secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:setup",
            "sql": format!("DROP DATABASE IF EXISTS `{}`", self.name)});
        match try_call(&self.url, "POST", "/Execute", &request) {
            Ok((200, _)) => {}
            failed => eprintln!(
                "note: could not drop the database {}: {failed:?}",
                self.name
            ),
        }
    }
}
