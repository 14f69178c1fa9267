//! Errors as the States Language sees them: a name plus a human-readable cause, the pair a
//! Task reports, Retry and Catch match on, and a Catch hands on as `{"Error", "Cause"}`. The
//! predefined `States.*` names and their matching rules live here so the runner and the tests
//! agree on them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

/// Matches every error in Retry/Catch; must stand alone in the last retrier or catcher.
pub const STATES_ALL: &str = "States.ALL";
/// Matches every error a Task reports except `States.Timeout`.
pub const STATES_TASK_FAILED: &str = "States.TaskFailed";
/// A Task or the whole execution ran past its TimeoutSeconds.
pub const STATES_TIMEOUT: &str = "States.Timeout";
/// Input/output processing failed (a path named nothing, a payload was malformed). Terminal:
/// no retrier or catcher sees it, as in Step Functions, because the definition is at fault.
pub const STATES_RUNTIME: &str = "States.Runtime";
/// ResultPath could not be applied to the state input.
pub const STATES_RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
/// A Choice state without Default found no matching rule.
pub const STATES_NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";

/// A named failure: what a [`TaskInvoker`](crate::TaskInvoker) returns, what Retry/Catch
/// match, and what a failed execution reports. `error` is the error type (for example
/// `PhotoPipe.EmptyObject`, or a Lambda `errorType`); `cause` says what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskError {
    pub error: String,
    pub cause: String,
}

impl TaskError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }

    pub(crate) fn runtime(cause: impl Into<String>) -> Self {
        TaskError::new(STATES_RUNTIME, cause)
    }

    /// The error output a Catch places at its ResultPath.
    pub(crate) fn to_output(&self) -> Value {
        json!({"Error": self.error, "Cause": self.cause})
    }

    /// Whether a retrier or catcher listing `error_equals` handles this error.
    pub(crate) fn is_matched_by(&self, error_equals: &[String]) -> bool {
        self.error != STATES_RUNTIME
            && error_equals.iter().any(|name| {
                *name == self.error
                    || name == STATES_ALL
                    || (name == STATES_TASK_FAILED && self.error != STATES_TIMEOUT)
            })
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for TaskError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn wildcards_match_as_the_spec_says() {
        let custom = TaskError::new("PhotoPipe.Transient", "db busy");
        let timeout = TaskError::new(STATES_TIMEOUT, "slow");
        assert!(custom.is_matched_by(&names(&["PhotoPipe.Transient"])));
        assert!(!custom.is_matched_by(&names(&["PhotoPipe.TooLarge"])));
        assert!(custom.is_matched_by(&names(&[STATES_TASK_FAILED])));
        assert!(!timeout.is_matched_by(&names(&[STATES_TASK_FAILED])));
        assert!(timeout.is_matched_by(&names(&[STATES_ALL])));
        assert!(!TaskError::runtime("bad path").is_matched_by(&names(&[STATES_ALL])));
    }
}
