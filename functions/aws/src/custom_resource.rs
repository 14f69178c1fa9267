//! The catalog's schema as a CloudFormation custom resource (`Custom::CatalogSchema` in
//! `sam/template.yaml`), served by the catalog Lambda, so that `sam deploy` leaves a stack
//! whose table exists before the first upload.
//!
//! CloudFormation invokes the function with a request and then waits — up to an hour, the
//! stack stuck in `CREATE_IN_PROGRESS` — for a JSON response PUT to the request's
//! pre-signed S3 URL. So every request ends in that PUT: `SUCCESS` once done, `FAILED`
//! with the reason otherwise, even for a request this code cannot read. Create and Update
//! run the migrations (re-runnable, recorded in `schema_migrations`); Delete does nothing:
//! the rows outlive the stack's schema resource (the cluster's own deletion policy decides
//! about the data). The physical id names the database, so it stays the same across
//! updates and CloudFormation never "replaces" the schema.
//!
//! A cluster scaled to zero answers `DatabaseResumingException` for 15–30 s while it wakes
//! up; those transient errors are retried until [`Retry::until`], which the Lambda sets
//! shortly before its own deadline so the FAILED response still goes out in time.
//!
//! The PUT goes through the HTTPS connector the SDK clients use (hyper, rustls on ring):
//! one HTTP stack in the binary. Its URL is never logged: it grants write access to the
//! response object.

use crate::data_api::DataApiCatalog;
use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest as Request;
pub use aws_lambda_events::cloudformation::{
    CloudFormationCustomResourceResponse as Response,
    CloudFormationCustomResourceResponseStatus as Status,
};
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use photopipe_pipeline::PortError;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// CloudFormation refuses responses over 4 KiB; the reason is the only unbounded part.
const MAX_REASON_CHARS: usize = 1000;

/// Whether a Lambda event is a custom-resource request (rather than a state-machine task
/// input, which has neither field).
pub fn is_request(event: &Value) -> bool {
    event.get("RequestType").is_some() && event.get("ResponseURL").is_some()
}

/// How long transient database errors are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// No attempt starts after this.
    pub until: SystemTime,
    /// Between attempts.
    pub pause: Duration,
}

impl Retry {
    /// For an invocation ending at `deadline`: every 5 s until 15 s before it, time enough
    /// for the last attempt's call and the response PUT.
    pub fn before(deadline: SystemTime) -> Retry {
        Retry {
            until: deadline - Duration::from_secs(15),
            pause: Duration::from_secs(5),
        }
    }
}

/// Sends responses to CloudFormation. Built once per container (it pools connections).
#[derive(Debug)]
pub struct Responder {
    connector: Connector,
}

impl Default for Responder {
    fn default() -> Self {
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(10))
            .build();
        Responder {
            connector: Connector::builder()
                .connector_settings(settings)
                .sleep_impl(TokioSleep::new())
                .tls_provider(crate::sdk::tls())
                .build(),
        }
    }
}

impl Responder {
    /// PUTs `response` to `url` as CloudFormation expects it: JSON, no content type (the
    /// URL's signature covers none).
    pub async fn put(&self, url: &str, response: &Response) -> Result<(), String> {
        let body = serde_json::to_vec(response).map_err(|e| e.to_string())?;
        let length = body.len().to_string();
        let mut request = HttpRequest::new(SdkBody::from(body));
        request.set_method("PUT").map_err(|e| e.to_string())?;
        request
            .set_uri(url)
            .map_err(|e| format!("the request's ResponseURL is not a URL: {e}"))?;
        request.headers_mut().insert("content-length", length);
        let answer = self
            .connector
            .call(request)
            .await
            .map_err(|e| format!("the response PUT to CloudFormation failed: {e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the response PUT to CloudFormation was answered HTTP {}",
                answer.status().as_u16()
            ))
        }
    }
}

/// Serves one `Custom::CatalogSchema` request: migrates `catalog` on Create and Update,
/// then PUTs the outcome to the request's `ResponseURL` and returns what it sent. An error
/// means no response reached CloudFormation (the invocation should then fail, so Lambda's
/// asynchronous retries send the request again).
pub async fn catalog_schema(
    event: Value,
    catalog: &DataApiCatalog,
    responder: &Responder,
    retry: Retry,
) -> Result<Response, String> {
    let field = |name: &str| {
        event
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let url = field("ResponseURL");
    if url.is_empty() {
        return Err("the custom-resource request has no ResponseURL to answer".into());
    }
    let database = &catalog.target().database;
    let mut response = Response::default();
    response.stack_id = field("StackId");
    response.request_id = field("RequestId");
    response.logical_resource_id = field("LogicalResourceId");
    // Update and Delete name the resource CloudFormation knows; Create (and a failed Create
    // that CloudFormation will then Delete) gets the stable one.
    response.physical_resource_id = match field("PhysicalResourceId") {
        id if id.is_empty() => format!("catalog-schema:{database}"),
        id => id,
    };
    let outcome = match serde_json::from_value::<Request>(event) {
        Ok(Request::Create(request)) => migrate(catalog, &request.resource_properties, retry).await,
        Ok(Request::Update(request)) => migrate(catalog, &request.resource_properties, retry).await,
        Ok(Request::Delete(_)) => Ok(format!(
            "nothing deleted: the catalog in {database:?} outlives its schema resource"
        )),
        Ok(_) => Err("an unknown RequestType".to_owned()),
        Err(e) => Err(format!("not a custom-resource request: {e}")),
    };
    let reason = match outcome {
        Ok(done) => {
            tracing::info!(database, %done, "custom resource: SUCCESS");
            response.status = Status::Success;
            done
        }
        Err(why) => {
            tracing::warn!(database, %why, "custom resource: FAILED");
            response.status = Status::Failed;
            why
        }
    };
    response.reason = Some(reason.chars().take(MAX_REASON_CHARS).collect());
    responder.put(&url, &response).await?;
    Ok(response)
}

/// The migrations, after checking that the resource asks for the database this function
/// writes to (`Database` property against `DB_NAME`).
async fn migrate(
    catalog: &DataApiCatalog,
    properties: &Value,
    retry: Retry,
) -> Result<String, String> {
    let database = &catalog.target().database;
    match properties.get("Database") {
        Some(asked) if asked.as_str() != Some(database) => {
            return Err(format!(
            "the resource's Database {asked} is not the function's database {database:?} (DB_NAME)"
        ))
        }
        _ => {}
    }
    let mut attempts = 1;
    loop {
        match catalog.migrate().await {
            Ok(applied) if applied.is_empty() => {
                return Ok(format!("the schema of {database:?} was already up to date"))
            }
            Ok(applied) => {
                return Ok(format!(
                    "applied the migrations {applied:?} to {database:?}"
                ))
            }
            Err(PortError::Transient(why)) if SystemTime::now() + retry.pause < retry.until => {
                tracing::warn!(attempts, %why, "migration: transient error, retrying");
                tokio::time::sleep(retry.pause).await;
                attempts += 1;
            }
            Err(e) => return Err(format!("after {attempts} attempt(s), {e}")),
        }
    }
}
