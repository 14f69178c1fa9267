//! Loading: what the runner cannot execute exactly must fail loudly, naming state and field.

use photopipe_statemachine::{validate, DefinitionError, StateMachine};
use serde_json::{json, Value};

/// A machine whose only state is `state`, named "S".
fn with_state(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

fn refusal(definition: Value) -> DefinitionError {
    validate(&definition.to_string()).expect_err("the definition must be refused")
}

fn assert_refused(definition: Value, state: Option<&str>, field: &str, message_part: &str) {
    let error = refusal(definition);
    assert_eq!(error.state.as_deref(), state, "{error}");
    assert_eq!(error.field.as_deref(), Some(field), "{error}");
    assert!(error.message.contains(message_part), "{error}");
}

#[test]
fn unsupported_state_types_are_refused() {
    for kind in ["Map", "Parallel"] {
        let state = json!({"Type": kind, "End": true, "ItemProcessor": {}, "Branches": []});
        assert_refused(with_state(state), Some("S"), "Type", "not supported");
    }
    assert_refused(
        with_state(json!({"Type": "Sleep", "End": true})),
        Some("S"),
        "Type",
        "not a state type",
    );
}

#[test]
fn unsupported_and_unknown_fields_are_refused() {
    let task = |extra: Value| {
        let mut state = json!({"Type": "Task", "Resource": "r", "End": true});
        state
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        with_state(state)
    };
    for field in [
        "HeartbeatSeconds",
        "Credentials",
        "Arguments",
        "Output",
        "ItemSelector",
        "TimeoutSecondsPath",
    ] {
        assert_refused(
            task(json!({field: 1})),
            Some("S"),
            field,
            "not supported by the photopipe local runner",
        );
    }
    assert_refused(
        task(json!({"Resutl": 1})),
        Some("S"),
        "Resutl",
        "not a valid field for a Task state",
    );
    assert_refused(
        task(json!({"QueryLanguage": "JSONata"})),
        Some("S"),
        "QueryLanguage",
        "JSONata",
    );
    assert_refused(
        task(json!({"Retry": [{"ErrorEquals": ["X"], "MaxAttemps": 2}]})),
        Some("S"),
        "Retry[0].MaxAttemps",
        "not a valid field for a retrier",
    );
    assert_refused(
        with_state(json!({"Type": "Fail", "InputPath": "$"})),
        Some("S"),
        "InputPath",
        "not a valid field",
    );
    let jsonata_machine =
        json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Succeed"}}});
    assert_refused(jsonata_machine, None, "QueryLanguage", "JSONata");
    let jsonata_choice = with_state(
        json!({"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "S"}]}),
    );
    assert_refused(jsonata_choice, Some("S"), "Choices[0].Condition", "JSONata");
}

#[test]
fn paths_and_templates_outside_the_supported_subset_are_refused() {
    let parameters = with_state(
        json!({"Type": "Pass", "End": true, "Parameters": {"x.$": "States.Format('{}', $.a)"}}),
    );
    assert_refused(parameters, Some("S"), "Parameters", "intrinsic");
    let wildcard = with_state(json!({"Type": "Pass", "End": true, "InputPath": "$.items[*]"}));
    assert_refused(wildcard, Some("S"), "InputPath", "not a reference path");
    let context_result = with_state(json!({"Type": "Pass", "End": true, "ResultPath": "$$.State"}));
    assert_refused(context_result, Some("S"), "ResultPath", "context object");
}

#[test]
fn transitions_must_be_complete_and_land_on_states() {
    let dangling = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}});
    assert_refused(dangling, Some("A"), "Next", "\"Nowhere\"");
    let bad_start = json!({"StartAt": "Nowhere", "States": {"A": {"Type": "Succeed"}}});
    assert_refused(bad_start, None, "StartAt", "not a state");
    let bad_catch = with_state(json!({"Type": "Task", "Resource": "r", "End": true,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]}));
    assert_refused(bad_catch, Some("S"), "Catch.Next", "\"Gone\"");
    let bad_default = with_state(json!({"Type": "Choice", "Default": "Gone",
        "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "S"}]}));
    assert_refused(bad_default, Some("S"), "Default", "\"Gone\"");
    assert_refused(
        with_state(json!({"Type": "Pass"})),
        Some("S"),
        "Next",
        "either Next or",
    );
    assert_refused(
        with_state(json!({"Type": "Pass", "Next": "S", "End": true})),
        Some("S"),
        "Next",
        "both",
    );
    assert_refused(
        with_state(json!({"Type": "Succeed", "Next": "S"})),
        Some("S"),
        "Next",
        "not a valid field",
    );
    let orphan =
        json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}});
    let error = refusal(orphan);
    assert_eq!((error.state.as_deref(), error.field), (Some("B"), None));
}

#[test]
fn retry_and_catch_lists_follow_the_spec() {
    let retry = |retriers: Value| {
        with_state(json!({"Type": "Task", "Resource": "r", "End": true, "Retry": retriers}))
    };
    let all_not_last = retry(json!([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]));
    assert_refused(
        all_not_last,
        Some("S"),
        "Retry[0].ErrorEquals",
        "States.ALL",
    );
    assert_refused(
        retry(json!([{"ErrorEquals": ["States.ALL", "X"]}])),
        Some("S"),
        "Retry[0].ErrorEquals",
        "alone",
    );
    assert_refused(
        retry(json!([{"ErrorEquals": []}])),
        Some("S"),
        "Retry[0].ErrorEquals",
        "non-empty",
    );
    assert_refused(
        retry(json!([{"ErrorEquals": ["X"], "BackoffRate": 0.5}])),
        Some("S"),
        "Retry[0].BackoffRate",
        "1.0",
    );
    assert_refused(
        retry(json!([{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}])),
        Some("S"),
        "Retry[0].JitterStrategy",
        "FULL",
    );
    assert_refused(
        retry(json!([{"ErrorEquals": ["X"], "IntervalSeconds": 0}])),
        Some("S"),
        "Retry[0].IntervalSeconds",
        "positive",
    );
}

#[test]
fn choice_rules_need_one_known_operator_and_valid_literals() {
    let choice = |rule: Value| with_state(json!({"Type": "Choice", "Choices": [rule]}));
    let unknown = choice(json!({"Variable": "$.a", "StringContains": "x", "Next": "S"}));
    assert_refused(
        unknown,
        Some("S"),
        "Choices[0].StringContains",
        "not a comparison operator",
    );
    let two = choice(json!({"Variable": "$.a", "IsNull": true, "IsString": true, "Next": "S"}));
    assert_refused(two, Some("S"), "Choices[0].Variable", "exactly one");
    let bad_time = choice(json!({"Variable": "$.a", "TimestampEquals": "noon", "Next": "S"}));
    assert_refused(
        bad_time,
        Some("S"),
        "Choices[0].TimestampEquals",
        "not a valid Timestamp",
    );
    let nested_next =
        choice(json!({"Not": {"Variable": "$.a", "IsNull": true, "Next": "S"}, "Next": "S"}));
    assert_refused(
        nested_next,
        Some("S"),
        "Choices[0].Not.Next",
        "not a valid field",
    );
    let boolean_order = choice(json!({"Variable": "$.a", "BooleanLessThan": true, "Next": "S"}));
    assert_refused(
        boolean_order,
        Some("S"),
        "Choices[0].BooleanLessThan",
        "not a comparison operator",
    );
}

#[test]
fn substitutions_fill_placeholders_and_a_missing_one_is_an_error() {
    let text = json!({"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": "${WorkArn}", "End": true}}}).to_string();
    assert!(StateMachine::load("m", &text, [("WorkArn", "arn:work")]).is_ok());
    let error = StateMachine::load("m", &text, [("OtherArn", "x")]).unwrap_err();
    assert!(error.message.contains("${WorkArn}"), "{error}");
    // Validation for CI accepts the placeholders as they are.
    assert!(validate(&text).is_ok());
    assert!(refusal(json!("not an object"))
        .message
        .contains("JSON object"));
    assert!(validate("{")
        .unwrap_err()
        .message
        .contains("not valid JSON"));
}
