//! Choice rules: every comparison operator, the type tests, And/Or/Not, Default, and
//! States.NoChoiceMatched.

use crate::support::{machine, FakeTasks};
use photopipe_statemachine::{ExecutionStatus, Runner};
use serde_json::{json, Value};

/// Runs a Choice with one rule over `input`: Ok(true) if it matched, Ok(false) if the
/// Default was taken, Err(error name) if the execution failed.
async fn choose(rule: Value, input: Value) -> Result<bool, String> {
    let mut rule = rule;
    rule["Next"] = json!("Matched");
    let definition = json!({"StartAt": "Decide", "States": {
        "Decide": {"Type": "Choice", "Choices": [rule], "Default": "Other"},
        "Matched": {"Type": "Succeed"},
        "Other": {"Type": "Fail", "Error": "NotMatched"}
    }});
    let runner = Runner::new(
        machine(definition),
        FakeTasks::new(|_, _, _| unreachable!()),
    );
    let execution = runner.run("choice", input).await;
    match (execution.status, execution.error) {
        (ExecutionStatus::Succeeded, _) => Ok(true),
        (_, Some(error)) if error.error == "NotMatched" => Ok(false),
        (_, error) => Err(error.map(|e| e.error).unwrap_or_default()),
    }
}

#[tokio::test(start_paused = true)]
async fn every_comparison_operator_behaves_as_specified() {
    let input = json!({
        "s": "beta", "other_s": "beta", "n": 10, "other_n": 10.0, "f": 2.5, "b": true, "null": null,
        "t": "2024-05-01T10:00:00Z", "later_t": "2024-05-01T12:00:00+01:00", "key": "photos/2024/cat.JPG",
        "star": "a*b"
    });
    let cases: &[(Value, bool)] = &[
        (json!({"Variable": "$.s", "StringEquals": "beta"}), true),
        (json!({"Variable": "$.s", "StringEquals": "Beta"}), false),
        (
            json!({"Variable": "$.s", "StringEqualsPath": "$.other_s"}),
            true,
        ),
        (json!({"Variable": "$.s", "StringLessThan": "gamma"}), true),
        (json!({"Variable": "$.s", "StringLessThan": "beta"}), false),
        (
            json!({"Variable": "$.s", "StringGreaterThan": "alpha"}),
            true,
        ),
        (
            json!({"Variable": "$.s", "StringLessThanEquals": "beta"}),
            true,
        ),
        (
            json!({"Variable": "$.s", "StringGreaterThanEquals": "betb"}),
            false,
        ),
        (
            json!({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.other_s"}),
            true,
        ),
        (json!({"Variable": "$.n", "StringEquals": "10"}), false),
        (json!({"Variable": "$.n", "NumericEquals": 10}), true),
        (
            json!({"Variable": "$.n", "NumericEqualsPath": "$.other_n"}),
            true,
        ),
        (json!({"Variable": "$.f", "NumericLessThan": 3}), true),
        (json!({"Variable": "$.f", "NumericGreaterThan": 2.5}), false),
        (
            json!({"Variable": "$.f", "NumericGreaterThanEquals": 2.5}),
            true,
        ),
        (
            json!({"Variable": "$.f", "NumericLessThanEqualsPath": "$.n"}),
            true,
        ),
        (
            json!({"Variable": "$.f", "NumericGreaterThanPath": "$.n"}),
            false,
        ),
        (json!({"Variable": "$.s", "NumericEquals": 1}), false),
        (json!({"Variable": "$.b", "BooleanEquals": true}), true),
        (json!({"Variable": "$.b", "BooleanEqualsPath": "$.b"}), true),
        (json!({"Variable": "$.s", "BooleanEquals": false}), false),
        (
            json!({"Variable": "$.t", "TimestampEquals": "2024-05-01T12:00:00+02:00"}),
            true,
        ),
        (
            json!({"Variable": "$.t", "TimestampLessThanPath": "$.later_t"}),
            true,
        ),
        (
            json!({"Variable": "$.t", "TimestampGreaterThan": "2024-05-01T09:59:59.999Z"}),
            true,
        ),
        (
            json!({"Variable": "$.t", "TimestampLessThanEquals": "2024-05-01T10:00:00Z"}),
            true,
        ),
        (
            json!({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.later_t"}),
            false,
        ),
        (
            json!({"Variable": "$.s", "TimestampEquals": "2024-05-01T10:00:00Z"}),
            false,
        ),
        (
            json!({"Variable": "$.key", "StringMatches": "photos/*.JPG"}),
            true,
        ),
        (
            json!({"Variable": "$.key", "StringMatches": "photos/*.jpg"}),
            false,
        ),
        (
            json!({"Variable": "$.star", "StringMatches": "a\\*b"}),
            true,
        ),
        (json!({"Variable": "$.key", "StringMatches": "*\\*"}), false),
        (json!({"Variable": "$.null", "IsNull": true}), true),
        (json!({"Variable": "$.s", "IsNull": true}), false),
        (json!({"Variable": "$.s", "IsPresent": true}), true),
        (json!({"Variable": "$.nope", "IsPresent": false}), true),
        (json!({"Variable": "$.f", "IsNumeric": true}), true),
        (json!({"Variable": "$.s", "IsString": true}), true),
        (json!({"Variable": "$.b", "IsBoolean": false}), false),
        (json!({"Variable": "$.t", "IsTimestamp": true}), true),
        (json!({"Variable": "$.s", "IsTimestamp": false}), true),
        (
            json!({"And": [{"Variable": "$.n", "NumericEquals": 10}, {"Variable": "$.b", "BooleanEquals": true}]}),
            true,
        ),
        (
            json!({"And": [{"Variable": "$.n", "NumericEquals": 10}, {"Variable": "$.b", "BooleanEquals": false}]}),
            false,
        ),
        (
            json!({"Or": [{"Variable": "$.n", "NumericEquals": 11}, {"Variable": "$.s", "StringEquals": "beta"}]}),
            true,
        ),
        (
            json!({"Not": {"Variable": "$.s", "StringEquals": "beta"}}),
            false,
        ),
        (
            json!({"Not": {"Or": [{"Variable": "$.nope", "IsPresent": true}]}}),
            true,
        ),
    ];
    for (rule, expected) in cases {
        assert_eq!(
            choose(rule.clone(), input.clone()).await,
            Ok(*expected),
            "{rule}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn comparing_a_missing_variable_is_a_runtime_error() {
    let outcome = choose(
        json!({"Variable": "$.nope", "StringEquals": "x"}),
        json!({}),
    )
    .await;
    assert_eq!(outcome, Err("States.Runtime".to_string()));
}

#[tokio::test(start_paused = true)]
async fn no_match_without_default_fails_with_no_choice_matched() {
    let definition = json!({"StartAt": "Decide", "States": {
        "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}]},
        "Done": {"Type": "Succeed"}
    }});
    let runner = Runner::new(
        machine(definition),
        FakeTasks::new(|_, _, _| unreachable!()),
    );
    let execution = runner.run("choice", json!({"n": 2})).await;
    assert_eq!(execution.error.unwrap().error, "States.NoChoiceMatched");
}

#[tokio::test(start_paused = true)]
async fn the_first_matching_rule_wins_and_paths_shape_the_output() {
    let definition = json!({"StartAt": "Decide", "States": {
        "Decide": {"Type": "Choice", "InputPath": "$.photo", "OutputPath": "$.size", "Choices": [
            {"Variable": "$.size", "NumericGreaterThan": 100, "Next": "Big"},
            {"Variable": "$.size", "NumericGreaterThan": 10, "Next": "Medium"}
        ], "Default": "Small"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Medium": {"Type": "Pass", "ResultPath": "$", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true}
    }});
    let runner = Runner::new(
        machine(definition),
        FakeTasks::new(|_, _, _| unreachable!()),
    );
    assert_eq!(
        runner
            .run("a", json!({"photo": {"size": 500}}))
            .await
            .output,
        Some(json!("big"))
    );
    assert_eq!(
        runner.run("b", json!({"photo": {"size": 50}})).await.output,
        Some(json!(50))
    );
    assert_eq!(
        runner.run("c", json!({"photo": {"size": 5}})).await.output,
        Some(json!("small"))
    );
}
