//! Pass, Wait, Succeed and Fail states, and the execution record: event order, times,
//! the observer, serialization.

use crate::support::{event_types, fail, machine, ok, run, FakeTasks};
use photopipe_statemachine::{EventDetails, Execution, ExecutionStatus, Runner, TaskError};
use serde_json::{json, Value};

fn no_tasks() -> FakeTasks {
    FakeTasks::new(|resource, _, _| panic!("no task expected, {resource} was called"))
}

async fn run_without_tasks(definition: Value, input: Value) -> Execution {
    run(definition, no_tasks(), input).await.0
}

#[tokio::test(start_paused = true)]
async fn pass_injects_result_or_parameters() {
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"size": 320}, "ResultPath": "$.config", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"size.$": "$.config.size", "key.$": "$.key"}, "Next": "C"},
        "C": {"Type": "Pass", "InputPath": "$.size", "ResultPath": "$.copy", "End": true}
    }});
    let execution = run_without_tasks(definition, json!({"key": "a.jpg"})).await;
    assert_eq!(
        execution.output,
        Some(json!({"size": 320, "key": "a.jpg", "copy": 320}))
    );
}

#[tokio::test(start_paused = true)]
async fn fail_reports_its_error_and_cause_literal_or_from_paths() {
    let literal = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Photo.Bad", "Cause": "it is bad"}}});
    let execution = run_without_tasks(literal, json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(
        execution.error,
        Some(TaskError::new("Photo.Bad", "it is bad"))
    );
    assert_eq!(
        event_types(&execution),
        ["ExecutionStarted", "StateEntered", "ExecutionFailed"]
    );

    let from_paths = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e.name", "CausePath": "$.e.why"}}});
    let execution =
        run_without_tasks(from_paths, json!({"e": {"name": "X.Y", "why": "because"}})).await;
    assert_eq!(execution.error, Some(TaskError::new("X.Y", "because")));
}

#[tokio::test(start_paused = true)]
async fn wait_sleeps_for_seconds_a_seconds_path_or_until_a_timestamp() {
    let definition = json!({"StartAt": "Fixed", "States": {
        "Fixed": {"Type": "Wait", "Seconds": 5, "Next": "FromInput"},
        "FromInput": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Until"},
        "Until": {"Type": "Wait", "TimestampPath": "$.until", "Next": "Done"},
        "Done": {"Type": "Succeed"}
    }});
    // A timestamp in the past does not wait at all.
    let execution = run_without_tasks(
        definition,
        json!({"delay": 7, "until": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(execution.events.last().unwrap().elapsed_ms, 12_000);
}

#[tokio::test(start_paused = true)]
async fn succeed_applies_input_and_output_paths() {
    let definition = json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}});
    let execution = run_without_tasks(definition, json!({"a": {"b": 1}})).await;
    assert_eq!(execution.output, Some(json!(1)));
}

#[tokio::test(start_paused = true)]
async fn history_records_every_step_in_order_with_times() {
    let definition = json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": "work", "Next": "Done",
            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 2}]},
        "Done": {"Type": "Succeed"}
    }});
    let tasks = FakeTasks::new(|_, _, context| {
        if context.retry_count == 0 {
            fail("Busy")
        } else {
            ok(json!({"n": 1}))
        }
    });
    let (execution, _) = run(definition, tasks, json!({"in": true})).await;
    assert_eq!(
        event_types(&execution),
        [
            "ExecutionStarted",
            "StateEntered",
            "TaskScheduled",
            "TaskFailed",
            "RetryScheduled",
            "TaskScheduled",
            "TaskSucceeded",
            "StateExited",
            "StateEntered",
            "StateExited",
            "ExecutionSucceeded",
        ]
    );
    let ids: Vec<u32> = execution.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=11).collect::<Vec<_>>());
    let elapsed: Vec<u64> = execution.events.iter().map(|e| e.elapsed_ms).collect();
    assert_eq!(elapsed, [0, 0, 0, 0, 0, 2000, 2000, 2000, 2000, 2000, 2000]);
    assert_eq!(
        execution.events[3].details,
        EventDetails::TaskFailed {
            state: "Work".into(),
            resource: "work".into(),
            error: "Busy".into(),
            cause: "Busy happened".into()
        }
    );
    assert_eq!(
        execution.stop_date.as_ref(),
        Some(&execution.events[10].timestamp)
    );
    assert_eq!(execution.output, Some(json!({"n": 1})));
}

#[tokio::test(start_paused = true)]
async fn the_observer_sees_the_record_grow_from_running_to_done() {
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let runner = Runner::new(machine(definition), no_tasks());
    let mut seen = Vec::new();
    let execution = runner
        .run_observed("watched", json!({}), |record| {
            seen.push((record.status, record.events.len()))
        })
        .await;
    assert_eq!(
        seen,
        [
            (ExecutionStatus::Running, 1),
            (ExecutionStatus::Running, 2),
            (ExecutionStatus::Running, 3),
            (ExecutionStatus::Succeeded, 4),
        ]
    );
    assert_eq!(execution.events.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn the_record_round_trips_through_json_in_the_console_shape() {
    let definition =
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}});
    let execution = run_without_tasks(definition, json!({"k": 1})).await;
    let text = serde_json::to_value(&execution).unwrap();
    assert_eq!(text["status"], "FAILED");
    assert_eq!(text["error"], json!({"error": "E", "cause": "C"}));
    assert_eq!(
        text["events"][1],
        json!({
            "id": 2, "timestamp": execution.events[1].timestamp, "elapsed_ms": 0,
            "type": "StateEntered", "state": "F", "input": {"k": 1}
        })
    );
    let back: Execution = serde_json::from_value(text).unwrap();
    assert_eq!(back, execution);
}

#[test]
fn executions_can_run_on_a_multithreaded_runtime() {
    fn assert_send<T: Send>(_: T) {}
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let runner = Runner::new(machine(definition), no_tasks());
    assert_send(runner.run("x", json!({})));
}
