//! [`Storage`] on S3: the input, output and log buckets.
//!
//! Two calls carry the pipeline's guarantees. [`Storage::get`] looks at the object's
//! `Content-Length` before buffering a byte, so an upload over the limit costs a header,
//! not the function's memory. [`Storage::put_if_absent`] is a conditional write
//! (`If-None-Match: *`, which S3 enforces atomically since 2024): the on_failure step's
//! alert slots rely on exactly one of several concurrent writers winning.

use crate::classify::{error_code, port_error, status};
use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use photopipe_pipeline::ports::NewObject;
use photopipe_pipeline::{ObjectHead, PortError, Storage};

/// S3 buckets through one shared client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Client,
}

impl S3Storage {
    pub fn new(config: &SdkConfig) -> Self {
        S3Storage {
            client: Client::new(config),
        }
    }
}

/// A failed call on one object: a missing object is [`PortError::NotFound`] (HEAD has no
/// body, so its 404 has only the generic `NotFound` code); a missing bucket is not.
fn object_error<E>(
    doing: &str,
    bucket: &str,
    key: &str,
    error: SdkError<E, HttpResponse>,
) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error_code(&error) {
        Some("NoSuchKey" | "NotFound") => PortError::NotFound,
        _ => port_error(&format!("{doing} s3://{bucket}/{key}"), &error),
    }
}

/// S3 quotes ETags (`"9b2c…"`); the pipeline keeps them bare, as S3 events carry them.
fn bare_etag(etag: Option<String>) -> Option<String> {
    etag.map(|etag| etag.trim_matches('"').to_owned())
}

fn length(content_length: Option<i64>) -> u64 {
    content_length
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

/// Reads a response body into memory, failing as soon as it passes `max_bytes` (for a
/// response without a usable `Content-Length`).
async fn collect(
    mut body: ByteStream,
    capacity: u64,
    max_bytes: u64,
    doing: impl Fn() -> String,
) -> Result<Vec<u8>, PortError> {
    let mut bytes = Vec::with_capacity(usize::try_from(capacity.min(max_bytes)).unwrap_or(0));
    while let Some(chunk) = body
        .try_next()
        .await
        // The connection broke mid-body: a retry will most likely read it whole.
        .map_err(|e| PortError::Transient(format!("{}: {e}", doing())))?
    {
        let size = bytes.len() as u64 + chunk.len() as u64;
        if size > max_bytes {
            return Err(PortError::OverLimit { size, max_bytes });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

impl Storage for S3Storage {
    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectHead, PortError> {
        let head = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| object_error("reading the metadata of", bucket, key, e))?;
        Ok(ObjectHead {
            size: length(head.content_length),
            etag: bare_etag(head.e_tag),
            content_type: head.content_type,
        })
    }

    async fn get_range(&self, bucket: &str, key: &str, len: u64) -> Result<Vec<u8>, PortError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let object = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(format!("bytes=0-{}", len - 1))
            .send()
            .await;
        let object = match object {
            Ok(object) => object,
            // A range past the end of an empty object: there are no bytes to return.
            Err(e) if status(&e) == Some(416) => return Ok(Vec::new()),
            Err(e) => return Err(object_error("reading the start of", bucket, key, e)),
        };
        let capacity = length(object.content_length);
        collect(object.body, capacity, len, || {
            format!("reading the start of s3://{bucket}/{key}")
        })
        .await
    }

    async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Vec<u8>, PortError> {
        let object = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| object_error("reading", bucket, key, e))?;
        let size = length(object.content_length);
        if size > max_bytes {
            // Dropping the body closes the connection without reading it.
            return Err(PortError::OverLimit { size, max_bytes });
        }
        collect(object.body, size, max_bytes, || {
            format!("reading s3://{bucket}/{key}")
        })
        .await
    }

    async fn put(&self, bucket: &str, key: &str, object: NewObject<'_>) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(object.bytes.to_vec()))
            .content_type(object.content_type)
            .set_cache_control(object.cache_control.map(str::to_owned))
            .send()
            .await
            .map_err(|e| port_error(&format!("writing s3://{bucket}/{key}"), &e))?;
        Ok(())
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject<'_>,
    ) -> Result<bool, PortError> {
        let written = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(object.bytes.to_vec()))
            .content_type(object.content_type)
            .set_cache_control(object.cache_control.map(str::to_owned))
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            // 412 Precondition Failed: the key is taken.
            Err(e) if status(&e) == Some(412) => Ok(false),
            Err(e) => Err(port_error(
                &format!("creating s3://{bucket}/{key} (if absent)"),
                &e,
            )),
        }
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| port_error(&format!("listing s3://{bucket}/{prefix}*"), &e))?;
            keys.extend(page.contents.into_iter().flatten().filter_map(|o| o.key));
        }
        Ok(keys)
    }
}
