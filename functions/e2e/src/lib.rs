//! What the end-to-end test (`tests/e2e.rs`) needs to drive photopipe's real Lambda
//! binaries on a machine with no AWS account: a client of cargo-lambda's runtime emulator,
//! the Lambda processes that poll it, and S3 event notifications as S3 encodes them.
//!
//! **Why an emulator and a runner.** Step Functions in moto does not run Lambdas (that needs
//! Docker), so the state machine is executed by photopipe's own ASL runner, and each Task is
//! forwarded by [`Emulator`] to a Lambda binary over the emulator's invoke API — the same
//! `POST /2015-03-31/functions/{name}/invocations` the Lambda service answers. A function's
//! error comes back as lambda_runtime reported it (`{"errorType", "errorMessage"}`), and
//! becomes the task error whose name Retry and Catch match, with the payload as its cause,
//! exactly as Step Functions builds `Error` and `Cause` from a Lambda error.
//!
//! The binaries are started here rather than by `cargo lambda watch` itself (it runs with
//! `--only-lambda-apis`): that way they are the prebuilt release binaries, each with the
//! environment its template gives it, and their logs land in files the test can show.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use photopipe_statemachine::{TaskContext, TaskError, TaskInvoker};
use serde_json::{json, Value};
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The error name of a failed call to the Lambda service itself (not to the function), as
/// Step Functions reports it; the state machine retries it.
pub const LAMBDA_SERVICE_EXCEPTION: &str = "Lambda.ServiceException";

/// A plain HTTP/1.1 client on loopback (the emulator, moto's inspection API, the Data API
/// stand-in's controls).
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An HTTP answer: status, the `X-Amz-Function-Error` header if any, and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub function_error: Option<String>,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "HTTP {}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

impl Http {
    /// `method url` with `body` as JSON when there is one.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let mut request = Request::builder().method(method).uri(url);
        let body = match body {
            Some(value) => {
                request = request.header("content-type", "application/json");
                Bytes::from(value.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("{url}: {e}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let function_error = response
            .headers()
            .get("x-amz-function-error")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{url}: reading the body: {e}"))?
            .to_bytes();
        Ok(Answer {
            status,
            function_error,
            body,
        })
    }

    pub async fn get_json(&self, url: &str) -> Result<Value, String> {
        let answer = self.send(Method::GET, url, None).await?;
        check_ok(url, &answer)?;
        answer.json()
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> Result<Value, String> {
        let answer = self.send(Method::POST, url, Some(body)).await?;
        check_ok(url, &answer)?;
        answer.json()
    }
}

fn check_ok(url: &str, answer: &Answer) -> Result<(), String> {
    if answer.status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "{url}: HTTP {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ))
    }
}

/// cargo-lambda's runtime emulator (`cargo lambda watch --only-lambda-apis`): functions poll
/// its runtime API, callers invoke them through its invoke API. As a [`TaskInvoker`], a
/// Task's resource is the function's name.
#[derive(Clone)]
pub struct Emulator {
    url: String,
    http: Http,
}

impl Emulator {
    /// The emulator at `url` (`http://127.0.0.1:PORT`).
    pub fn new(url: &str) -> Self {
        Emulator {
            url: url.trim_end_matches('/').to_owned(),
            http: Http::default(),
        }
    }

    /// What a function named `function` gets as `AWS_LAMBDA_RUNTIME_API`: the emulator
    /// routes `/.rt/{function}/2018-06-01/runtime/…` to that function's queue.
    pub fn runtime_api(&self, function: &str) -> String {
        format!("{}/.rt/{function}", self.url)
    }

    /// Invokes `function` synchronously (RequestResponse) with `payload`. `Err` carries the
    /// function's `errorType` and its whole error payload, or [`LAMBDA_SERVICE_EXCEPTION`]
    /// when the invoke API itself failed.
    pub async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, TaskError> {
        let url = format!("{}/2015-03-31/functions/{function}/invocations", self.url);
        let answer = self
            .http
            .send(Method::POST, &url, Some(payload))
            .await
            .map_err(|e| TaskError::new(LAMBDA_SERVICE_EXCEPTION, e))?;
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        // Lambda answers a function error with 200 and X-Amz-Function-Error; the emulator
        // with a 500 carrying the same payload.
        let function_failed =
            answer.function_error.is_some() || answer.status == StatusCode::INTERNAL_SERVER_ERROR;
        if function_failed {
            let error_type = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["errorType"].as_str().map(str::to_owned));
            return Err(match error_type {
                Some(error_type) => TaskError::new(error_type, body),
                None => TaskError::new(
                    LAMBDA_SERVICE_EXCEPTION,
                    format!(
                        "{function}: an error without errorType (HTTP {}): {body}",
                        answer.status
                    ),
                ),
            });
        }
        if !answer.status.is_success() {
            return Err(TaskError::new(
                LAMBDA_SERVICE_EXCEPTION,
                format!("{function}: HTTP {}: {body}", answer.status),
            ));
        }
        answer
            .json()
            .map_err(|e| TaskError::new(LAMBDA_SERVICE_EXCEPTION, format!("{function}: {e}")))
    }
}

impl TaskInvoker for Emulator {
    async fn invoke(
        &self,
        resource: &str,
        input: Value,
        _context: &TaskContext,
    ) -> Result<Value, TaskError> {
        Emulator::invoke(self, resource, &input).await
    }
}

/// A Lambda binary running against the emulator as the function `name`; killed on drop.
pub struct Lambda {
    pub name: String,
    child: Child,
}

impl Lambda {
    /// Starts `binary` as the function `name` with the variables Lambda sets (memory:
    /// `memory_mb`) plus `env`, its stdout and stderr (the JSON logs) appended to `log`.
    /// The rest of the environment is inherited: the AWS endpoint and dummy credentials.
    pub fn spawn(
        emulator: &Emulator,
        binary: &Path,
        name: &str,
        memory_mb: u32,
        env: &[(&str, &str)],
        log: &Path,
    ) -> Result<Lambda, String> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", emulator.runtime_api(name))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        Ok(Lambda {
            name: name.to_owned(),
            child,
        })
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `ObjectCreated:Put` notification for one object, as S3 sends it to the trigger: the
/// key URL-encoded ([`encode_key`]), the ETag without quotes, `versionId` only for a
/// versioned bucket.
pub fn s3_event(
    bucket: &str,
    key: &str,
    size: u64,
    etag: &str,
    version_id: Option<&str>,
    event_time: &str,
) -> Value {
    let mut object = json!({
        "key": encode_key(key),
        "size": size,
        "eTag": etag,
        "sequencer": "0062E99A88DC407460",
    });
    if let Some(version_id) = version_id {
        object["versionId"] = json!(version_id);
    }
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": event_time,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAE2ETEST"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "E2E0000000000001", "x-amz-id-2": "e2e"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "upload",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "E2EOWNER"},
                "arn": format!("arn:aws:s3:::{bucket}"),
            },
            "object": object,
        },
    }]})
}

/// A key as S3 writes it into event notifications: form-style URL encoding, so a space is
/// `+`, a `+` is `%2B`, and other bytes outside the unreserved set (UTF-8 included) are
/// `%XX`; `/` stays.
pub fn encode_key(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                encoded.push(byte as char)
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_as_s3_encodes_them_in_events() {
        assert_eq!(encode_key("2026/beach day+1.jpg"), "2026/beach+day%2B1.jpg");
        assert_eq!(encode_key("été/☕.jpg"), "%C3%A9t%C3%A9/%E2%98%95.jpg");
        assert_eq!(encode_key("a%b&c=d"), "a%25b%26c%3Dd");
    }

    #[test]
    fn the_event_carries_the_encoded_key_and_the_version_only_when_there_is_one() {
        let event = s3_event(
            "in",
            "my cat.jpg",
            3,
            "abc",
            None,
            "2026-11-28T10:00:00.000Z",
        );
        let object = &event["Records"][0]["s3"]["object"];
        assert_eq!(object["key"], "my+cat.jpg");
        assert!(object.get("versionId").is_none());
        let versioned = s3_event("in", "k", 3, "abc", Some("v1"), "2026-11-28T10:00:00.000Z");
        assert_eq!(versioned["Records"][0]["s3"]["object"]["versionId"], "v1");
    }
}
