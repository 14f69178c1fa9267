//! The trigger Lambda: S3 invokes it for each object created in the input bucket, and it
//! starts one execution of the state machine per object, named after the object's identity
//! so a repeated notification starts nothing new (`photopipe_pipeline::trigger`).
//!
//! The event is read into the pipeline crate's `S3Event`, which mirrors the JSON S3 sends
//! (the fields `aws_lambda_events::s3::S3Event` has, minus the ones nobody reads). A
//! failed start fails the invocation, so Lambda's asynchronous retries try the event again;
//! records already started are then `ExecutionAlreadyExists`, which counts as done.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use photopipe_aws::lambda::{self, Metric};
use photopipe_aws::{sdk, SfnStarter, Started};
use photopipe_pipeline::trigger::{decide, Decision, S3Event, TriggerConfig};
use photopipe_pipeline::StepError;
use serde::Serialize;

/// What one invocation did with its records.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
struct Outcome {
    started: u32,
    already_started: u32,
    ignored: u32,
}

async fn handle(starter: &SfnStarter, event: S3Event) -> Result<Outcome, StepError> {
    let mut outcome = Outcome::default();
    let mut first_error = None;
    for record in &event.records {
        let started = match decide(record, &TriggerConfig::default()) {
            Ok(Decision::Start(execution)) => starter.start(&execution).await.map_err(|e| {
                StepError::from_port(&format!("starting execution {:?}", execution.name), e)
            }),
            Ok(Decision::Ignore(why)) => {
                tracing::info!(key = %record.s3.object.key, why, "record ignored");
                outcome.ignored += 1;
                continue;
            }
            Err(e) => Err(e),
        };
        match started {
            Ok(Started::New { execution_arn }) => {
                tracing::info!(%execution_arn, "execution started");
                outcome.started += 1;
            }
            Ok(Started::AlreadyExists) => outcome.already_started += 1,
            // The other records still get their executions.
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    first_error.map_or(Ok(outcome), Err)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let state_machine_arn = lambda::required_env("STATE_MACHINE_ARN")?;
    let starter = &SfnStarter::new(&sdk::load().await, state_machine_arn);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        lambda::invoke("trigger", handle(starter, event.payload), |outcome| {
            vec![Metric {
                name: "ExecutionsStarted",
                value: outcome.started.into(),
                unit: "Count",
            }]
        })
        .await
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event S3 sends (the example of the S3 user guide), with a key holding a space
    /// and a `+`, as S3 encodes them.
    const EVENT: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
        "awsRegion":"eu-west-1","eventTime":"2024-05-01T10:00:00.123Z",
        "eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:AIDAEXAMPLE"},
        "requestParameters":{"sourceIPAddress":"203.0.113.7"},
        "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8"},
        "s3":{"s3SchemaVersion":"1.0","configurationId":"upload",
        "bucket":{"name":"alice-image-bucket-input","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},
        "arn":"arn:aws:s3:::alice-image-bucket-input"},
        "object":{"key":"2024/my+cat%2B1.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e",
        "versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko","sequencer":"0055AED6DCD90281E5"}}}]}"#;

    #[test]
    fn a_real_s3_event_becomes_the_execution_to_start() {
        let event: S3Event = serde_json::from_str(EVENT).unwrap();
        let Decision::Start(start) = decide(&event.records[0], &TriggerConfig::default()).unwrap()
        else {
            panic!("an ObjectCreated record starts an execution");
        };
        assert_eq!(start.input.bucket, "alice-image-bucket-input");
        assert_eq!(start.input.key, "2024/my cat+1.jpg");
        assert_eq!(start.input.size, 1024);
        assert_eq!(
            start.input.version_id.as_deref(),
            Some("096fKKXTRTtl3on89fVO.nfljtsv6qko")
        );
        assert!(start.name.len() <= 80, "{}", start.name);
    }
}
