//! The execution record, shaped like what the Step Functions console shows for an execution:
//! name, input, status, output or error, and the event history with times. It is plain serde
//! data so the local pipeline can store it and print it (`photopipe executions show NAME`).
//!
//! Times follow tokio's clock from the moment the execution starts, so a test running with
//! paused time sees exact, deterministic timestamps and elapsed durations.

use crate::errors::TaskError;
use crate::timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::SystemTime;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub name: String,
    pub execution_id: String,
    pub state_machine: String,
    pub status: ExecutionStatus,
    pub input: Value,
    /// Set when the execution succeeded.
    pub output: Option<Value>,
    /// Set when the execution failed or timed out.
    pub error: Option<TaskError>,
    /// RFC 3339, UTC.
    pub start_date: String,
    pub stop_date: Option<String>,
    pub events: Vec<HistoryEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// 1-based position in the history.
    pub id: u32,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// Time since the execution started.
    pub elapsed_ms: u64,
    #[serde(flatten)]
    pub details: EventDetails,
}

/// What happened; serialized with a `"type"` field naming the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventDetails {
    ExecutionStarted {
        input: Value,
    },
    StateEntered {
        state: String,
        input: Value,
    },
    /// `input` is the effective input the task receives (after InputPath and Parameters).
    TaskScheduled {
        state: String,
        resource: String,
        input: Value,
        retry_count: u32,
    },
    TaskSucceeded {
        state: String,
        resource: String,
        output: Value,
    },
    TaskFailed {
        state: String,
        resource: String,
        error: String,
        cause: String,
    },
    /// `attempt` counts retries made by this retrier (`retrier` is its index in Retry).
    RetryScheduled {
        state: String,
        error: String,
        retrier: usize,
        attempt: u32,
        delay_ms: u64,
    },
    /// A Catch routed the error; the state's output is the catch-processed input.
    CatchTaken {
        state: String,
        error: String,
        next: String,
    },
    StateExited {
        state: String,
        output: Value,
    },
    ExecutionSucceeded {
        output: Value,
    },
    ExecutionFailed {
        error: String,
        cause: String,
    },
    ExecutionTimedOut {
        error: String,
        cause: String,
    },
}

/// How an execution ended, as the runner found out.
pub(crate) enum Ending {
    Succeeded(Value),
    Failed { error: TaskError, timed_out: bool },
}

/// Builds the record as the execution runs and shows each new event to the observer.
pub(crate) struct Recorder<'a> {
    pub(crate) execution: Execution,
    started_wall: SystemTime,
    started: Instant,
    observer: &'a mut (dyn FnMut(&Execution) + Send),
}

impl<'a> Recorder<'a> {
    pub(crate) fn start(
        name: &str,
        state_machine: &str,
        input: Value,
        observer: &'a mut (dyn FnMut(&Execution) + Send),
    ) -> Self {
        let started_wall = SystemTime::now();
        let mut recorder = Recorder {
            execution: Execution {
                name: name.to_string(),
                execution_id: format!(
                    "arn:aws:states:local:000000000000:execution:{state_machine}:{name}"
                ),
                state_machine: state_machine.to_string(),
                status: ExecutionStatus::Running,
                input: input.clone(),
                output: None,
                error: None,
                start_date: timestamp::format(started_wall),
                stop_date: None,
                events: Vec::new(),
            },
            started_wall,
            started: Instant::now(),
            observer,
        };
        recorder.record(EventDetails::ExecutionStarted { input });
        recorder
    }

    /// The wall-clock time, advancing with tokio's (possibly paused) clock.
    pub(crate) fn now(&self) -> SystemTime {
        self.started_wall + self.started.elapsed()
    }

    pub(crate) fn record(&mut self, details: EventDetails) {
        let elapsed = self.started.elapsed();
        self.execution.events.push(HistoryEvent {
            id: self.execution.events.len() as u32 + 1,
            timestamp: timestamp::format(self.started_wall + elapsed),
            elapsed_ms: elapsed.as_millis() as u64,
            details,
        });
        (self.observer)(&self.execution);
    }

    pub(crate) fn finish(mut self, ending: Ending) -> Execution {
        self.execution.stop_date = Some(timestamp::format(self.now()));
        let details = match ending {
            Ending::Succeeded(output) => {
                self.execution.status = ExecutionStatus::Succeeded;
                self.execution.output = Some(output.clone());
                EventDetails::ExecutionSucceeded { output }
            }
            Ending::Failed { error, timed_out } => {
                let TaskError { error: name, cause } = error.clone();
                self.execution.error = Some(error);
                if timed_out {
                    self.execution.status = ExecutionStatus::TimedOut;
                    EventDetails::ExecutionTimedOut { error: name, cause }
                } else {
                    self.execution.status = ExecutionStatus::Failed;
                    EventDetails::ExecutionFailed { error: name, cause }
                }
            }
        };
        self.record(details);
        self.execution
    }
}
