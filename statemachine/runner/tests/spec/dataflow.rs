//! Input and output processing: InputPath → Parameters → task → ResultSelector → ResultPath →
//! OutputPath, and the context object.

use crate::support::{ok, run, single_task, FakeTasks};
use photopipe_statemachine::ExecutionStatus;
use serde_json::{json, Value};

/// A task that answers `{"width": 640, "height": 480, "format": "jpeg"}` to anything.
fn resize() -> FakeTasks {
    FakeTasks::new(|_, _, _| ok(json!({"width": 640, "height": 480, "format": "jpeg"})))
}

async fn output_of(task_fields: Value, input: Value) -> Value {
    let (execution, _) = run(single_task(task_fields), resize(), input).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error
    );
    execution.output.unwrap()
}

#[tokio::test(start_paused = true)]
async fn result_path_replaces_discards_or_nests() {
    let input = json!({"key": "a.jpg", "meta": {"owner": "ann"}});
    let result = json!({"width": 640, "height": 480, "format": "jpeg"});
    assert_eq!(output_of(json!({}), input.clone()).await, result);
    assert_eq!(
        output_of(json!({"ResultPath": "$"}), input.clone()).await,
        result
    );
    assert_eq!(
        output_of(json!({"ResultPath": null}), input.clone()).await,
        input
    );
    assert_eq!(
        output_of(json!({"ResultPath": "$.meta.thumb.size"}), input).await,
        json!({"key": "a.jpg", "meta": {"owner": "ann", "thumb": {"size": result}}})
    );
}

#[tokio::test(start_paused = true)]
async fn result_path_into_a_scalar_is_a_result_path_match_failure() {
    let (execution, _) = run(
        single_task(json!({"ResultPath": "$.key.size"})),
        resize(),
        json!({"key": "a.jpg"}),
    )
    .await;
    assert_eq!(
        execution.error.unwrap().error,
        "States.ResultPathMatchFailure"
    );
}

#[tokio::test(start_paused = true)]
async fn input_path_and_parameters_shape_what_the_task_receives() {
    let definition = single_task(json!({
        "InputPath": "$.object",
        "Parameters": {
            "key.$": "$.key",
            "first_tag.$": "$.tags[0]",
            "fixed": "thumbnail",
            "execution.$": "$$.Execution.Name",
            "state.$": "$$.State.Name",
            "attempt.$": "$$.State.RetryCount",
            "machine.$": "$$.StateMachine.Name",
            "original.$": "$$.Execution.Input",
            "started.$": "$$.Execution.StartTime",
            "entered.$": "$$.State.EnteredTime",
            "id.$": "$$.Execution.Id"
        },
        "ResultPath": null
    }));
    let input = json!({"object": {"key": "a.jpg", "tags": ["cat", "dog"]}, "other": 1});
    let (execution, calls) = run(definition, resize(), input.clone()).await;
    let received = &calls[0].input;
    assert_eq!(received["key"], "a.jpg");
    assert_eq!(received["first_tag"], "cat");
    assert_eq!(received["fixed"], "thumbnail");
    assert_eq!(received["execution"], "exec-1");
    assert_eq!(received["state"], "Work");
    assert_eq!(received["attempt"], 0);
    assert_eq!(received["machine"], "spec");
    assert_eq!(received["original"], input);
    assert_eq!(received["started"], json!(execution.start_date));
    assert_eq!(received["entered"], json!(execution.events[1].timestamp));
    assert!(received["id"]
        .as_str()
        .unwrap()
        .ends_with(":execution:spec:exec-1"));
    // ResultPath applies to the raw state input, not to what InputPath selected.
    assert_eq!(execution.output, Some(input));
}

#[tokio::test(start_paused = true)]
async fn result_selector_reshapes_the_result_before_result_path() {
    let output = output_of(
        json!({
            "ResultSelector": {"size.$": "$.width", "state.$": "$$.State.Name"},
            "ResultPath": "$.thumbnail"
        }),
        json!({"key": "a.jpg"}),
    )
    .await;
    assert_eq!(
        output,
        json!({"key": "a.jpg", "thumbnail": {"size": 640, "state": "Work"}})
    );
}

#[tokio::test(start_paused = true)]
async fn output_path_selects_and_null_paths_give_empty_objects() {
    let input = json!({"key": "a.jpg"});
    assert_eq!(
        output_of(
            json!({"ResultPath": "$.r", "OutputPath": "$.r.format"}),
            input.clone()
        )
        .await,
        json!("jpeg")
    );
    assert_eq!(
        output_of(json!({"OutputPath": null}), input.clone()).await,
        json!({})
    );
    let (_, calls) = run(single_task(json!({"InputPath": null})), resize(), input).await;
    assert_eq!(calls[0].input, json!({}));
}

#[tokio::test(start_paused = true)]
async fn a_path_that_matches_nothing_fails_the_execution_with_states_runtime() {
    for fields in [
        json!({"InputPath": "$.missing"}),
        json!({"Parameters": {"x.$": "$.missing"}}),
        json!({"ResultSelector": {"x.$": "$.missing"}}),
        json!({"OutputPath": "$.missing"}),
    ] {
        // Runtime errors are not catchable, even by States.ALL.
        let mut fields = fields;
        fields["Catch"] = json!([{"ErrorEquals": ["States.ALL"], "Next": "Work"}]);
        let (execution, _) = run(single_task(fields.clone()), resize(), json!({})).await;
        assert_eq!(execution.status, ExecutionStatus::Failed, "{fields}");
        assert_eq!(execution.error.unwrap().error, "States.Runtime", "{fields}");
    }
}
