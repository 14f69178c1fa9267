//! The trigger Lambda: S3 invokes it for each object created in the input bucket, and it
//! starts one execution of the state machine per object, named after the object's identity
//! so a repeated notification starts nothing new (`photopipe_pipeline::trigger`).
//!
//! The event is read with `aws_lambda_events::s3::S3Event` and each record converted into
//! the pipeline's [`ObjectEvent`], the few fields `decide` reads: the pipeline crate is also
//! the local pipeline's, which has no Lambda events, so the conversion (and `aws_lambda_events`
//! with its chrono) lives here, in the one binary that receives them. A record without the
//! bucket or the key fails with a message saying which; one without a size or an ETag fails in
//! `decide`, unless it is not an ObjectCreated record (S3 sends neither for a deletion). An
//! event whose `eventTime` is not RFC 3339 fails as a whole, in the runtime's deserialization.
//!
//! A failed start fails the invocation, so Lambda's asynchronous retries try the event again;
//! records already started are then `ExecutionAlreadyExists`, which counts as done.

use aws_lambda_events::s3::{S3Event, S3EventRecord};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use photopipe_aws::lambda::{self, Metric};
use photopipe_aws::{sdk, SfnStarter, Started};
use photopipe_pipeline::trigger::{decide, Decision, ObjectEvent, TriggerConfig};
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
        let decided = object_event(record)
            .and_then(|object| Ok((decide(&object, &TriggerConfig::default())?, object)));
        let started = match decided {
            Ok((Decision::Start(execution), _)) => starter.start(&execution).await.map_err(|e| {
                StepError::from_port(&format!("starting execution {:?}", execution.name), e)
            }),
            Ok((Decision::Ignore(why), object)) => {
                tracing::info!(key = %object.key, why, "record ignored");
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

/// What `record` says about its object, as the pipeline's trigger logic reads it.
fn object_event(record: &S3EventRecord) -> Result<ObjectEvent, StepError> {
    let object = &record.s3.object;
    let missing = |what: &str| {
        StepError::invalid_input(format!(
            "the S3 event record ({}, bucket {:?}, key {:?}) has no {what}",
            record.event_name.as_deref().unwrap_or("no eventName"),
            record.s3.bucket.name.as_deref().unwrap_or(""),
            object.key.as_deref().unwrap_or(""),
        ))
    };
    let bucket = record
        .s3
        .bucket
        .name
        .clone()
        .ok_or_else(|| missing("bucket name"))?;
    let key = object.key.clone().ok_or_else(|| missing("object key"))?;
    let size = object
        .size
        .map(|size| u64::try_from(size).map_err(|_| missing("valid object size")))
        .transpose()?;
    let at = record.event_time;
    let nanos =
        i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
    let event_time = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| missing(&format!("eventTime within years 1–9999 ({at})")))?;
    Ok(ObjectEvent {
        event_name: record.event_name.clone().unwrap_or_default(),
        event_time,
        bucket,
        key,
        size,
        etag: object.e_tag.clone(),
        version_id: object.version_id.clone(),
    })
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

    fn decide_first(event: &str) -> Result<Decision, StepError> {
        let event: S3Event = serde_json::from_str(event).unwrap();
        decide(&object_event(&event.records[0])?, &TriggerConfig::default())
    }

    #[test]
    fn a_real_s3_event_becomes_the_execution_to_start() {
        let Decision::Start(start) = decide_first(EVENT).unwrap() else {
            panic!("an ObjectCreated record starts an execution");
        };
        assert_eq!(start.input.bucket, "alice-image-bucket-input");
        assert_eq!(start.input.key, "2024/my cat+1.jpg");
        assert_eq!(start.input.size, 1024);
        assert_eq!(start.input.etag, "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            start.input.version_id.as_deref(),
            Some("096fKKXTRTtl3on89fVO.nfljtsv6qko")
        );
        assert_eq!(
            serde_json::to_value(&start.input).unwrap()["event_time"],
            "2024-05-01T10:00:00.123Z"
        );
        assert!(start.name.len() <= 80, "{}", start.name);
    }

    #[test]
    fn a_deletion_without_size_or_etag_is_ignored() {
        let event = EVENT
            .replace("ObjectCreated:Put", "ObjectRemoved:Delete")
            .replace(
                r#""size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","#,
                "",
            );
        assert!(matches!(decide_first(&event), Ok(Decision::Ignore(_))));
    }

    #[test]
    fn a_record_missing_what_the_trigger_needs_is_a_clear_error() {
        let cases = [
            (
                r#""name":"alice-image-bucket-input","#,
                "",
                "has no bucket name",
            ),
            (r#""key":"2024/my+cat%2B1.jpg","#, "", "has no object key"),
            (r#""size":1024"#, r#""size":-1"#, "has no valid object size"),
            (r#""size":1024,"#, "", "has no object size"),
            (
                r#""eTag":"d41d8cd98f00b204e9800998ecf8427e","#,
                "",
                "has no eTag",
            ),
        ];
        for (field, replacement, message) in cases {
            assert!(EVENT.contains(field), "{field}");
            let error = decide_first(&EVENT.replace(field, replacement)).unwrap_err();
            assert_eq!(
                error.error_type,
                photopipe_pipeline::ErrorType::InvalidInput
            );
            assert!(error.message.contains(message), "{}", error.message);
        }
        // A time that is not RFC 3339 is refused by the event type itself, before any record.
        let bad_time = EVENT.replace("2024-05-01T10:00:00.123Z", "yesterday");
        assert!(serde_json::from_str::<S3Event>(&bad_time).is_err());
    }
}
