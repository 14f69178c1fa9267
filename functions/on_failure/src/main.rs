//! The OnFailure Lambda: the state machine's Catch target. Writes the failure record to the
//! log bucket and publishes at most one alert per execution to the SNS topic (burst
//! control included); see `photopipe_pipeline::steps::on_failure`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use photopipe_aws::lambda::{self, LOG_BUCKET};
use photopipe_aws::{sdk, S3Storage, SnsAlerts};
use photopipe_pipeline::ports::SystemClock;
use photopipe_pipeline::steps::{self, parse_input};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = &lambda::config(&[LOG_BUCKET])?;
    let topic_arn = lambda::required_env("ALERT_TOPIC_ARN")?;
    let sdk_config = sdk::load().await;
    let storage = &S3Storage::new(&sdk_config);
    let alerts = &SnsAlerts::new(&sdk_config, topic_arn);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let step = async {
            let input = parse_input(event.payload)?;
            steps::on_failure(input, storage, alerts, &SystemClock, config).await
        };
        lambda::invoke("on_failure", step, |_| Vec::new()).await
    }))
    .await
}
