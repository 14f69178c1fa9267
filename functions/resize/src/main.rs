//! The Resize Lambda: reads the validated upload, makes its thumbnail with the engine and
//! writes it to the output bucket; see `photopipe_pipeline::steps::resize`. The only
//! function that links the image engine, and the one whose memory sizes the limits.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use photopipe_aws::lambda::{self, Metric, OUTPUT_BUCKET};
use photopipe_aws::{sdk, S3Storage};
use photopipe_pipeline::steps::{self, parse_input};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = &lambda::config(&[OUTPUT_BUCKET])?;
    let storage = &S3Storage::new(&sdk::load().await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let step = async { steps::resize(parse_input(event.payload)?, storage, config).await };
        lambda::invoke("resize", step, |thumbnail| {
            vec![Metric {
                name: "ThumbnailBytes",
                value: thumbnail.bytes as f64,
                unit: "Bytes",
            }]
        })
        .await
    }))
    .await
}
