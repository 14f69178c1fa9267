//! Retry (intervals, backoff, caps, per-retrier counters, wildcards), Catch, and timeouts.

use crate::support::{call_times, fail, ok, retry_delays_ms, run, single_task, FakeTasks, Reply};
use photopipe_statemachine::{ExecutionStatus, TaskError};
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Fails with the given errors in turn, then succeeds with `{"done": true}`.
fn failing_with(errors: &'static [&'static str]) -> FakeTasks {
    let calls = AtomicU32::new(0);
    FakeTasks::new(
        move |_, _, _| match errors.get(calls.fetch_add(1, Ordering::SeqCst) as usize) {
            Some(error) => fail(error),
            None => ok(json!({"done": true})),
        },
    )
}

#[tokio::test(start_paused = true)]
async fn backoff_multiplies_the_interval_and_stops_at_max_delay() {
    let definition = single_task(json!({"Retry": [{
        "ErrorEquals": ["Busy"], "IntervalSeconds": 3, "BackoffRate": 2.5, "MaxAttempts": 4, "MaxDelaySeconds": 20
    }]}));
    let (execution, calls) = run(definition, failing_with(&["Busy"; 4]), json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    // 3, 3×2.5, 3×2.5², then 3×2.5³ = 46.875 capped at 20.
    assert_eq!(retry_delays_ms(&execution), [3000, 7500, 18750, 20000]);
    assert_eq!(call_times(&calls), [0.0, 3.0, 10.5, 29.25, 49.25]);
    let retry_counts: Vec<u32> = calls.iter().map(|c| c.context.retry_count).collect();
    assert_eq!(retry_counts, [0, 1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn defaults_are_one_second_doubling_three_attempts() {
    let definition = single_task(json!({"Retry": [{"ErrorEquals": ["Busy"]}]}));
    let (execution, calls) = run(definition, failing_with(&["Busy"; 10]), json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(
        execution.error,
        Some(TaskError::new("Busy", "Busy happened"))
    );
    assert_eq!(retry_delays_ms(&execution), [1000, 2000, 4000]);
    assert_eq!(calls.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn max_attempts_zero_never_retries() {
    let definition = single_task(json!({"Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 0}]}));
    let (execution, calls) = run(definition, failing_with(&["Busy"]), json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(calls.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn full_jitter_stays_between_zero_and_the_backoff() {
    let definition = single_task(json!({"Retry": [{
        "ErrorEquals": ["Busy"], "IntervalSeconds": 10, "MaxAttempts": 3, "JitterStrategy": "FULL"
    }]}));
    let (execution, _) = run(definition, failing_with(&["Busy"; 3]), json!({})).await;
    let delays = retry_delays_ms(&execution);
    assert_eq!(delays.len(), 3);
    for (delay, ceiling) in delays.iter().zip([10_000, 20_000, 40_000]) {
        assert!(*delay <= ceiling, "{delay} > {ceiling}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_first_matching_retrier_applies_and_each_keeps_its_own_count() {
    let definition = single_task(json!({"Retry": [
        {"ErrorEquals": ["A"], "IntervalSeconds": 1, "MaxAttempts": 1},
        {"ErrorEquals": ["A", "B"], "IntervalSeconds": 5, "MaxAttempts": 2, "BackoffRate": 1.0}
    ]}));
    // B, A, B: the second retrier retries both Bs (its own count reaches 2), the first the A.
    let (execution, calls) = run(definition, failing_with(&["B", "A", "B"]), json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(call_times(&calls), [0.0, 5.0, 6.0, 11.0]);

    // A second A finds the first retrier exhausted; scanning does not continue to the second.
    let definition = single_task(json!({"Retry": [
        {"ErrorEquals": ["A"], "MaxAttempts": 1},
        {"ErrorEquals": ["A"], "MaxAttempts": 5}
    ]}));
    let (execution, calls) = run(definition, failing_with(&["A", "A"]), json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(calls.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn task_failed_matches_everything_but_timeouts_and_all_matches_timeouts_too() {
    let task_failed = |timeout_reply: bool| {
        FakeTasks::new(
            move |_, _, context| match (context.retry_count, timeout_reply) {
                (0, false) => fail("Anything.Custom"),
                (0, true) => Reply::After(Duration::from_secs(100), Ok(json!({}))),
                _ => ok(json!({"retried": true})),
            },
        )
    };
    let with_retry = |errors: serde_json::Value| {
        single_task(json!({"TimeoutSeconds": 5, "Retry": [{"ErrorEquals": errors}]}))
    };
    let (execution, _) = run(
        with_retry(json!(["States.TaskFailed"])),
        task_failed(false),
        json!({}),
    )
    .await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    let (execution, _) = run(
        with_retry(json!(["States.TaskFailed"])),
        task_failed(true),
        json!({}),
    )
    .await;
    assert_eq!(execution.error.unwrap().error, "States.Timeout");
    let (execution, _) = run(
        with_retry(json!(["States.ALL"])),
        task_failed(true),
        json!({}),
    )
    .await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn catch_routes_by_error_name_and_merges_the_error_at_its_result_path() {
    let definition = json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": "work", "End": true, "Catch": [
            {"ErrorEquals": ["Photo.Empty"], "Next": "Empty", "ResultPath": "$.error"},
            {"ErrorEquals": ["States.ALL"], "Next": "Other"}
        ]},
        "Empty": {"Type": "Pass", "End": true},
        "Other": {"Type": "Pass", "End": true}
    }});
    let (execution, _) = run(
        definition.clone(),
        failing_with(&["Photo.Empty"]),
        json!({"key": "a.jpg"}),
    )
    .await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(
        execution.output,
        Some(
            json!({"key": "a.jpg", "error": {"Error": "Photo.Empty", "Cause": "Photo.Empty happened"}})
        )
    );
    // The default ResultPath "$" replaces the input with the error output.
    let (execution, _) = run(
        definition,
        failing_with(&["Photo.Odd"]),
        json!({"key": "a.jpg"}),
    )
    .await;
    assert_eq!(
        execution.output,
        Some(json!({"Error": "Photo.Odd", "Cause": "Photo.Odd happened"}))
    );
}

#[tokio::test(start_paused = true)]
async fn retries_run_out_before_the_catch_takes_over() {
    let definition = json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": "work", "End": true,
            "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["Busy"], "Next": "Gave up", "ResultPath": null}]},
        "Gave up": {"Type": "Pass", "Result": "gave up", "End": true}
    }});
    let (execution, calls) = run(definition, failing_with(&["Busy"; 3]), json!({})).await;
    assert_eq!(calls.len(), 3);
    assert_eq!(execution.output, Some(json!("gave up")));
}

#[tokio::test(start_paused = true)]
async fn a_task_over_its_timeout_fails_with_states_timeout() {
    let slow = FakeTasks::new(|_, _, _| Reply::After(Duration::from_secs(61), Ok(json!({}))));
    // No TimeoutSeconds: the spec's default of 60 seconds applies.
    let (execution, calls) = run(single_task(json!({})), slow, json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_ref().unwrap().error, "States.Timeout");
    assert_eq!(calls[0].context.timeout, Duration::from_secs(60));
    assert_eq!(execution.events.last().unwrap().elapsed_ms, 60_000);
}

#[tokio::test(start_paused = true)]
async fn an_execution_over_its_timeout_times_out() {
    let definition = json!({"StartAt": "Work", "TimeoutSeconds": 10, "States": {
        "Work": {"Type": "Task", "Resource": "work", "End": true,
            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 4, "BackoffRate": 1.0, "MaxAttempts": 10}]}
    }});
    let (execution, calls) = run(definition, failing_with(&["Busy"; 10]), json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::TimedOut);
    assert_eq!(execution.error.unwrap().error, "States.Timeout");
    assert_eq!(call_times(&calls), [0.0, 4.0, 8.0]);
    let last = execution.events.last().unwrap();
    assert_eq!(last.elapsed_ms, 10_000);
    assert!(matches!(
        last.details,
        photopipe_statemachine::EventDetails::ExecutionTimedOut { .. }
    ));
}
