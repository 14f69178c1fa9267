//! The real definition, `statemachine/photo_pipeline.asl.json`, run with fake steps: the
//! data-flow contract of statemachine/README.md and the retry/failure policy.

use crate::support::{event_types, fail, ok, Call, FakeTasks};
use photopipe_statemachine::{
    validate, EventDetails, Execution, ExecutionStatus, Runner, StateMachine, TaskError,
};
use serde_json::{json, Value};

const DEFINITION: &str = include_str!("../../../photo_pipeline.asl.json");

const SUBSTITUTIONS: [(&str, &str); 4] = [
    ("ValidateFunctionArn", "validate"),
    ("ResizeFunctionArn", "resize"),
    ("CatalogFunctionArn", "catalog"),
    ("OnFailureFunctionArn", "on_failure"),
];

fn upload() -> Value {
    json!({
        "bucket": "photos-in", "key": "2024/cat.jpg", "size": 123456, "etag": "9b2cf535f27731c974343645a3985328",
        "version_id": null, "event_time": "2024-05-01T10:00:00Z"
    })
}

fn success_of(resource: &str) -> Value {
    match resource {
        "validate" => json!({"format": "jpeg", "width": 4000, "height": 3000}),
        "resize" => {
            json!({"bucket": "photos-thumbnails", "key": "thumbnails/2024/cat.jpg", "width": 320, "height": 240, "format": "jpeg", "bytes": 20480})
        }
        "catalog" => json!({"photo_id": "photos-in/2024/cat.jpg", "created": true}),
        "on_failure" => json!({"recorded": true, "alerted": true}),
        other => panic!("unexpected resource {other}"),
    }
}

/// For some resources, the errors their first calls fail with.
type Failures = &'static [(&'static str, &'static [&'static str])];

/// Steps that fail with the listed errors on their first calls, then succeed.
fn steps(failures: Failures) -> FakeTasks {
    FakeTasks::new(move |resource, _, context| {
        let errors = failures
            .iter()
            .find(|(name, _)| *name == resource)
            .map_or(&[][..], |(_, errors)| errors);
        match errors.get(context.retry_count as usize) {
            Some(error) => fail(error),
            None => ok(success_of(resource)),
        }
    })
}

async fn run_pipeline(tasks: FakeTasks) -> (Execution, Vec<Call>) {
    let machine = StateMachine::load("photo_pipeline", DEFINITION, SUBSTITUTIONS)
        .expect("the real definition loads");
    let runner = Runner::new(machine, tasks);
    let execution = runner.run("upload-1", upload()).await;
    (execution, runner.invoker().calls())
}

fn resources(calls: &[Call]) -> Vec<&str> {
    calls.iter().map(|call| call.resource.as_str()).collect()
}

#[test]
fn the_definition_validates_for_ci() {
    validate(DEFINITION).unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_happy_path_accumulates_each_result_under_its_key() {
    let (execution, calls) = run_pipeline(steps(&[])).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(resources(&calls), ["validate", "resize", "catalog"]);

    let mut document = upload();
    assert_eq!(
        calls[0].input,
        json!({"execution_name": "upload-1", "input": document})
    );
    document["validation"] = success_of("validate");
    assert_eq!(
        calls[1].input,
        json!({"execution_name": "upload-1", "input": document})
    );
    document["thumbnail"] = success_of("resize");
    assert_eq!(
        calls[2].input,
        json!({"execution_name": "upload-1", "input": document})
    );
    document["catalog"] = success_of("catalog");
    assert_eq!(execution.output, Some(document));
    assert_eq!(
        event_types(&execution).last().unwrap(),
        "ExecutionSucceeded"
    );
}

#[tokio::test(start_paused = true)]
async fn a_permanent_error_at_any_step_goes_straight_to_on_failure_and_fails_the_execution() {
    let cases: [(Failures, &str, &[&str]); 4] = [
        (
            &[("validate", &["PhotoPipe.EmptyObject"])],
            "PhotoPipe.EmptyObject",
            &["validate"],
        ),
        (
            &[("validate", &["PhotoPipe.UnsupportedFormat"])],
            "PhotoPipe.UnsupportedFormat",
            &["validate"],
        ),
        (
            &[("resize", &["PhotoPipe.CorruptImage"])],
            "PhotoPipe.CorruptImage",
            &["validate", "resize"],
        ),
        (
            &[("catalog", &["PhotoPipe.TooLarge"])],
            "PhotoPipe.TooLarge",
            &["validate", "resize", "catalog"],
        ),
    ];
    for (failures, error, steps_before) in cases {
        let (execution, calls) = run_pipeline(steps(failures)).await;
        let mut expected_calls = steps_before.to_vec();
        expected_calls.push("on_failure");
        assert_eq!(
            resources(&calls),
            expected_calls,
            "{error}: no retry for a permanent error"
        );
        assert_eq!(execution.status, ExecutionStatus::Failed);
        assert_eq!(
            execution.error,
            Some(TaskError::new(error, format!("{error} happened")))
        );

        let on_failure_input = &calls.last().unwrap().input;
        assert_eq!(on_failure_input["execution_name"], "upload-1");
        assert_eq!(on_failure_input["input"]["key"], "2024/cat.jpg");
        assert_eq!(
            on_failure_input["input"]["error"],
            json!({"Error": error, "Cause": format!("{error} happened")})
        );
    }
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried_with_capped_jittered_backoff() {
    let failures: Failures = &[
        ("validate", &["Lambda.TooManyRequestsException"]),
        (
            "catalog",
            &[
                "PhotoPipe.Transient",
                "PhotoPipe.Transient",
                "States.Timeout",
                "PhotoPipe.Transient",
                "PhotoPipe.Transient",
            ],
        ),
    ];
    let (execution, calls) = run_pipeline(steps(failures)).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(
        resources(&calls),
        [
            "validate", "validate", "resize", "catalog", "catalog", "catalog", "catalog",
            "catalog", "catalog"
        ]
    );
    let catalog_delays: Vec<u64> = execution
        .events
        .iter()
        .filter_map(|event| match &event.details {
            EventDetails::RetryScheduled {
                state, delay_ms, ..
            } if state == "Catalog" => Some(*delay_ms),
            _ => None,
        })
        .collect();
    // FULL jitter below 2, 4, 8, 16 and MaxDelaySeconds 30 (not 32).
    for (delay, ceiling) in catalog_delays
        .iter()
        .zip([2_000, 4_000, 8_000, 16_000, 30_000])
    {
        assert!(*delay <= ceiling, "{catalog_delays:?}");
    }
    assert_eq!(catalog_delays.len(), 5);
}

#[tokio::test(start_paused = true)]
async fn transient_errors_that_persist_end_in_on_failure() {
    let failures: Failures = &[("resize", &["Lambda.ServiceException"; 6])];
    let (execution, calls) = run_pipeline(steps(failures)).await;
    assert_eq!(
        resources(&calls).iter().filter(|r| **r == "resize").count(),
        6
    );
    assert_eq!(resources(&calls).last(), Some(&"on_failure"));
    assert_eq!(execution.error.unwrap().error, "Lambda.ServiceException");
}

#[tokio::test(start_paused = true)]
async fn on_failure_is_itself_retried_when_it_fails_transiently() {
    let failures: Failures = &[
        ("validate", &["PhotoPipe.CorruptImage"]),
        ("on_failure", &["PhotoPipe.Transient"]),
    ];
    let (execution, calls) = run_pipeline(steps(failures)).await;
    assert_eq!(resources(&calls), ["validate", "on_failure", "on_failure"]);
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.unwrap().error, "PhotoPipe.CorruptImage");
    let failed_state_input = execution
        .events
        .iter()
        .find_map(|event| match &event.details {
            EventDetails::StateEntered { state, input } if state == "Failed" => Some(input.clone()),
            _ => None,
        });
    assert_eq!(
        failed_state_input.unwrap()["on_failure"],
        success_of("on_failure")
    );
}
