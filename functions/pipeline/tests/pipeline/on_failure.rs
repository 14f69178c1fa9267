use crate::support::{FixedClock, MemoryStorage, Op, RecordingAlerts, EXECUTION, INPUT, LOGS};
use photopipe_pipeline::model::{Failed, StepInput};
use photopipe_pipeline::steps::{on_failure, parse_input};
use photopipe_pipeline::{
    AlertOutcome, AlertPolicy, Config, ErrorType, FailureRecord, PortError, StepError,
};
use serde_json::{json, Value};
use std::time::Duration;
use time::macros::datetime;

const RECORD: &str = "failures/2024-05-01/IMG_0001.jpg-0123456789abcdef.json";

struct World {
    storage: MemoryStorage,
    alerts: RecordingAlerts,
    clock: FixedClock,
    config: Config,
}

impl World {
    fn new() -> Self {
        World {
            storage: MemoryStorage::default(),
            alerts: RecordingAlerts::default(),
            // The next day: the record is still filed under the upload's date.
            clock: FixedClock::at(datetime!(2024-05-02 09:15:00 UTC)),
            config: Config::new("out", LOGS),
        }
    }

    async fn run(&self, input: Value) -> Result<FailureRecord, StepError> {
        let input: StepInput<Failed> = parse_input(input)?;
        on_failure(
            input,
            &self.storage,
            &self.alerts,
            &self.clock,
            &self.config,
        )
        .await
    }

    fn record(&self, key: &str) -> FailureRecord {
        let object = self
            .storage
            .object(LOGS, key)
            .expect("the failure record exists");
        assert_eq!(object.content_type, "application/json");
        serde_json::from_slice(&object.bytes).unwrap()
    }
}

/// The state OnFailure receives when Validate refused an empty upload of `key`.
fn empty_upload(execution: &str, key: &str) -> Value {
    let cause = StepError::new(
        ErrorType::EmptyObject,
        format!("bucket \"{INPUT}\", key {key:?}: the file is empty (0 bytes)"),
    )
    .cause();
    json!({
        "execution_name": execution,
        "input": {
            "bucket": INPUT, "key": key, "size": 0, "etag": "d41d8cd98f00b204e9800998ecf8427e",
            "event_time": "2024-05-01T12:34:56.789Z",
            "error": {"Error": "PhotoPipe.EmptyObject", "Cause": cause},
        }
    })
}

#[tokio::test]
async fn a_failure_is_recorded_and_alerted_once() {
    let world = World::new();
    let record = world
        .run(empty_upload(EXECUTION, "trip/empty.jpg"))
        .await
        .unwrap();
    let expected = FailureRecord {
        bucket: INPUT.into(),
        key: "trip/empty.jpg".into(),
        size: Some(0),
        upload_time: Some("2024-05-01T12:34:56.789Z".into()),
        error_type: "PhotoPipe.EmptyObject".into(),
        error_message: format!(
            "bucket \"{INPUT}\", key \"trip/empty.jpg\": the file is empty (0 bytes)"
        ),
        execution_name: EXECUTION.into(),
        failed_state: Some("Validate".into()),
        recorded_at: "2024-05-02T09:15:00Z".into(),
        alert: AlertOutcome::Sent,
    };
    assert_eq!(record, expected);
    assert_eq!(world.record(RECORD), expected);

    let sent = world.alerts.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].subject,
        "photopipe: PhotoPipe.EmptyObject for empty.jpg"
    );
    let body = &sent[0].body;
    for line in [
        "  Bucket:         \"photos-in\"",
        "  Key:            \"trip/empty.jpg\"",
        "  Size:           0 bytes",
        "  Uploaded at:    2024-05-01T12:34:56.789Z",
        "  Error type:     PhotoPipe.EmptyObject",
        "  Failed step:    Validate",
        "  Execution:      IMG_0001.jpg-0123456789abcdef",
        "  Failure record: bucket \"photos-logs\", key \"failures/2024-05-01/IMG_0001.jpg-0123456789abcdef.json\"",
    ] {
        assert!(body.lines().any(|l| l == line), "{line:?} missing from:\n{body}");
    }
    assert!(body.contains("the file is empty (0 bytes)"), "{body}");
}

#[tokio::test]
async fn retries_after_success_send_nothing_more() {
    let world = World::new();
    let first = world
        .run(empty_upload(EXECUTION, "empty.jpg"))
        .await
        .unwrap();
    world.clock.set(datetime!(2024-05-02 10:30:00 UTC));
    let retry = world
        .run(empty_upload(EXECUTION, "empty.jpg"))
        .await
        .unwrap();
    assert_eq!(retry.alert, AlertOutcome::Sent);
    assert_eq!(retry.recorded_at, "2024-05-02T10:30:00Z");
    assert_eq!(first.alert, retry.alert);
    assert_eq!(world.alerts.sent().len(), 1);
    assert_eq!(world.storage.keys(LOGS, "failures/"), vec![RECORD]);
}

#[tokio::test]
async fn a_failed_publish_is_recorded_and_the_retry_sends_it() {
    let world = World::new();
    world
        .alerts
        .fail_next(PortError::Transient("SNS throttled".into()));
    let error = world
        .run(empty_upload(EXECUTION, "empty.jpg"))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, ErrorType::Transient);
    assert!(error.message.contains("SNS throttled"), "{error}");
    assert_eq!(world.record(RECORD).alert, AlertOutcome::SendFailed);
    assert!(world.alerts.sent().is_empty());

    let record = world
        .run(empty_upload(EXECUTION, "empty.jpg"))
        .await
        .unwrap();
    assert_eq!(record.alert, AlertOutcome::Sent);
    assert_eq!(world.record(RECORD).alert, AlertOutcome::Sent);
    world
        .run(empty_upload(EXECUTION, "empty.jpg"))
        .await
        .unwrap();
    assert_eq!(world.alerts.sent().len(), 1);
    // The retry reused its window slot rather than taking a second one.
    assert_eq!(world.storage.keys(LOGS, "alerts/window/").len(), 1);
}

#[tokio::test]
async fn a_failed_record_write_is_retried_without_a_second_alert() {
    let world = World::new();
    world
        .storage
        .fail_next(Op::Put, "failures/", PortError::Transient("503".into()));
    let error = world
        .run(empty_upload(EXECUTION, "empty.jpg"))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, ErrorType::Transient);
    assert!(error.message.contains("failure record"), "{error}");
    assert_eq!(world.alerts.sent().len(), 1);

    world
        .run(empty_upload(EXECUTION, "empty.jpg"))
        .await
        .unwrap();
    assert_eq!(world.alerts.sent().len(), 1);
    assert_eq!(world.record(RECORD).alert, AlertOutcome::Sent);
}

#[tokio::test]
async fn a_burst_sends_n_alerts_then_one_notice_then_nothing() {
    let mut world = World::new();
    world.config.alerts = AlertPolicy {
        max_per_window: 3,
        window: Duration::from_secs(3600),
    };
    let mut outcomes = Vec::new();
    for i in 0..6 {
        let execution = format!("bad{i}.jpg-0123456789abcdef");
        let record = world
            .run(empty_upload(&execution, &format!("bad{i}.jpg")))
            .await
            .unwrap();
        outcomes.push(record.alert);
        // Every failure is recorded, alerted or not.
        assert_eq!(
            world
                .record(&format!("failures/2024-05-01/{execution}.json"))
                .alert,
            record.alert
        );
    }
    use AlertOutcome::*;
    assert_eq!(
        outcomes,
        [Sent, Sent, Sent, BurstNotice, Suppressed, Suppressed]
    );

    let sent = world.alerts.sent();
    assert_eq!(sent.len(), 4);
    let notice = &sent[3];
    assert_eq!(
        notice.subject,
        "photopipe: more than 3 failed uploads, alerts paused until 2024-05-02T10:00:00Z"
    );
    assert!(
        notice.body.starts_with(
            "More than 3 uploads failed between 2024-05-02T09:00:00Z and 2024-05-02T10:00:00Z. \
             Until 2024-05-02T10:00:00Z, further failures are only recorded, each as a JSON \
             file in the log bucket \"photos-logs\" under the prefix \"failures/\""
        ),
        "{}",
        notice.body
    );
    assert!(
        notice.body.contains("\"bad3.jpg\""),
        "the notice describes its own failure"
    );

    // A retry of a suppressed execution stays suppressed and silent.
    let retry = world
        .run(empty_upload("bad5.jpg-0123456789abcdef", "bad5.jpg"))
        .await
        .unwrap();
    assert_eq!(retry.alert, Suppressed);

    // The next window has a fresh budget.
    world.clock.set(datetime!(2024-05-02 10:00:00 UTC));
    let record = world
        .run(empty_upload("next.jpg-0123456789abcdef", "next.jpg"))
        .await
        .unwrap();
    assert_eq!(record.alert, Sent);
    assert_eq!(world.alerts.sent().len(), 5);
}

#[tokio::test]
async fn a_slot_taken_concurrently_is_skipped() {
    let mut world = World::new();
    world.config.alerts.max_per_window = 2;
    // Another failure holds slot 1, so the window lists one slot and this failure's
    // create-only write of slot 1 loses: it moves on to slot 2, the burst notice.
    world.storage.insert(
        LOGS,
        "alerts/window/20240502T090000Z/000001",
        b"other-execution",
    );
    use AlertOutcome::*;
    assert_eq!(
        world.run(empty_upload("b-1", "b.jpg")).await.unwrap().alert,
        BurstNotice
    );
    assert_eq!(
        world.run(empty_upload("c-1", "c.jpg")).await.unwrap().alert,
        Suppressed
    );
    assert_eq!(world.alerts.sent().len(), 1);
}

#[tokio::test]
async fn nothing_user_supplied_breaks_out_of_the_subject_or_its_line() {
    let world = World::new();
    let key = "x\r\nBcc: victim@example.com\r\n\u{202E}gpj.exe\u{2028}é.jpg";
    world.run(empty_upload(EXECUTION, key)).await.unwrap();
    let alert = &world.alerts.sent()[0];
    assert!(alert.subject.len() < 100);
    assert!(
        alert
            .subject
            .chars()
            .all(|c| c == ' ' || c.is_ascii_graphic()),
        "{:?}",
        alert.subject
    );
    assert!(!alert.body.contains('\r'));
    assert!(!alert.body.contains('\u{202E}'));
    assert!(!alert.body.contains('\u{2028}'));
    assert!(
        !alert
            .body
            .lines()
            .any(|l| l.trim_start().starts_with("Bcc")),
        "{}",
        alert.body
    );
    let long = "y".repeat(300);
    world.run(empty_upload("long-1", &long)).await.unwrap();
    assert_eq!(world.alerts.sent()[1].subject.len(), 99);
}

#[tokio::test]
async fn the_failed_step_is_inferred_and_plain_causes_are_kept() {
    let world = World::new();
    let mut input = empty_upload(EXECUTION, "a.jpg");
    input["input"]["validation"] = json!({"format": "jpeg"});
    input["input"]["thumbnail"] = json!({"key": "thumbnails/a.jpg"});
    input["input"]["error"] =
        json!({"Error": "States.Timeout", "Cause": "Task timed out after 60 s"});
    let record = world.run(input).await.unwrap();
    assert_eq!(record.failed_state.as_deref(), Some("Catalog"));
    assert_eq!(record.error_type, "States.Timeout");
    assert_eq!(record.error_message, "Task timed out after 60 s");
    assert_eq!(
        world.alerts.sent()[0].subject,
        "photopipe: States.Timeout for a.jpg"
    );
}

#[tokio::test]
async fn a_malformed_upload_is_still_recorded_but_a_missing_error_is_refused() {
    let world = World::new();
    let record = world
        .run(json!({"execution_name": "manual-1", "input": {"error": {"Error": "PhotoPipe.InvalidInput"}}}))
        .await
        .unwrap();
    assert_eq!(record.bucket, "");
    assert_eq!(record.error_message, "(no cause given)");
    assert!(world
        .storage
        .object(LOGS, "failures/2024-05-02/manual-1.json")
        .is_some());

    let error = world
        .run(json!({"execution_name": "manual-2", "input": {"bucket": "b"}}))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, ErrorType::InvalidInput);
    let error = world
        .run(json!({"execution_name": "../../etc", "input": {"error": {"Error": "x"}}}))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, ErrorType::InvalidInput);
}
