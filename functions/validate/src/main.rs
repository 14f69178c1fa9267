//! The Validate Lambda: the state machine's first Task. Cheap checks on the upload (size,
//! format from the magic bytes, dimensions from the header, read with a ranged GET) before
//! any heavy work; see `photopipe_pipeline::steps::validate`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use photopipe_aws::{lambda, sdk, S3Storage};
use photopipe_pipeline::steps::{self, parse_input};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = &lambda::config(&[])?;
    let storage = &S3Storage::new(&sdk::load().await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let step = async { steps::validate(parse_input(event.payload)?, storage, config).await };
        lambda::invoke("validate", step, |_| Vec::new()).await
    }))
    .await
}
