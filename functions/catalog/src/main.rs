//! The Catalog Lambda: the upload's row in `file_upload_catalog` (Aurora MySQL, through the
//! RDS Data API), then the website's `gallery.json`; see
//! `photopipe_pipeline::steps::catalog`.
//!
//! The table's migrations run on a container's first invocation rather than at cold start:
//! a database scaled to zero takes longer to resume than Lambda's init phase may last,
//! while an invocation that meets a resuming database fails as `PhotoPipe.Transient` and
//! the state machine retries it.
//!
//! The same function is the `Custom::CatalogSchema` custom resource of the template: an
//! event with `RequestType` and `ResponseURL` is CloudFormation's, not a task input, and
//! is served by `photopipe_aws::custom_resource` (migrate, then answer CloudFormation).

use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use photopipe_aws::custom_resource::{self, Responder, Response, Retry};
use photopipe_aws::lambda::{self, OUTPUT_BUCKET};
use photopipe_aws::{sdk, DataApiCatalog, DataApiTarget, S3Storage};
use photopipe_pipeline::ports::SystemClock;
use photopipe_pipeline::steps::{self, parse_input};
use photopipe_pipeline::{Cataloged, StepError};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::OnceCell;

/// What an invocation returns: the step's output to Step Functions, or (for the logs and
/// `cargo lambda invoke`; CloudFormation reads only the PUT) the custom-resource response.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer {
    Step(Cataloged),
    CustomResource(Response),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = &lambda::config(&[OUTPUT_BUCKET])?;
    let target = DataApiTarget {
        resource_arn: lambda::required_env("DB_CLUSTER_ARN")?,
        secret_arn: lambda::required_env("DB_SECRET_ARN")?,
        database: lambda::required_env("DB_NAME")?,
    };
    let sdk_config = sdk::load().await;
    let storage = &S3Storage::new(&sdk_config);
    let catalog = &DataApiCatalog::new(&sdk_config, target);
    let migrated = &OnceCell::new();
    let responder = &Responder::default();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        if custom_resource::is_request(&event.payload) {
            let retry = Retry::before(event.context.deadline());
            let served =
                custom_resource::catalog_schema(event.payload, catalog, responder, retry).await;
            // The response already says how the request went; an error here means
            // CloudFormation heard nothing, and Lambda's retry of this event will answer.
            return served
                .map(Answer::CustomResource)
                .map_err(|message| Diagnostic {
                    error_type: "PhotoPipe.CustomResource".into(),
                    error_message: message,
                });
        }
        let step = async {
            migrated
                .get_or_try_init(|| async {
                    let applied = catalog.migrate().await;
                    applied.map_err(|e| StepError::from_port("migrating the catalog", e))
                })
                .await?;
            let input = parse_input(event.payload)?;
            steps::catalog(input, storage, catalog, &SystemClock, config).await
        };
        let result = lambda::invoke("catalog", step, |_| Vec::new()).await;
        result.map(Answer::Step).map_err(Diagnostic::from)
    }))
    .await
}
