//! Fakes shared by the spec tests: a scripted task invoker that records every call with the
//! (paused) time it happened, and small helpers to build machines and read histories.

use photopipe_statemachine::{
    EventDetails, Execution, Runner, StateMachine, TaskContext, TaskError, TaskInvoker,
};
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// What a fake task does when called.
pub enum Reply {
    Now(Result<Value, TaskError>),
    After(Duration, Result<Value, TaskError>),
}

pub fn ok(value: Value) -> Reply {
    Reply::Now(Ok(value))
}

pub fn fail(error: &str) -> Reply {
    Reply::Now(Err(TaskError::new(error, format!("{error} happened"))))
}

#[derive(Debug, Clone)]
pub struct Call {
    pub resource: String,
    pub input: Value,
    pub context: TaskContext,
    /// When the call happened, measured from when the fake was created.
    pub at: Duration,
}

type Script = dyn Fn(&str, &Value, &TaskContext) -> Reply + Send + Sync;

/// A TaskInvoker answering from a script: `(resource, input, context) -> Reply`.
pub struct FakeTasks {
    script: Box<Script>,
    created: Instant,
    calls: Mutex<Vec<Call>>,
}

impl FakeTasks {
    pub fn new(
        script: impl Fn(&str, &Value, &TaskContext) -> Reply + Send + Sync + 'static,
    ) -> Self {
        FakeTasks {
            script: Box::new(script),
            created: Instant::now(),
            calls: Mutex::new(Vec::new()),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

impl TaskInvoker for FakeTasks {
    async fn invoke(
        &self,
        resource: &str,
        input: Value,
        context: &TaskContext,
    ) -> Result<Value, TaskError> {
        let reply = (self.script)(resource, &input, context);
        self.calls.lock().unwrap().push(Call {
            resource: resource.to_string(),
            input,
            context: context.clone(),
            at: self.created.elapsed(),
        });
        match reply {
            Reply::Now(result) => result,
            Reply::After(delay, result) => {
                tokio::time::sleep(delay).await;
                result
            }
        }
    }
}

pub fn machine(definition: Value) -> StateMachine {
    StateMachine::parse("spec", &definition.to_string()).expect("the test definition loads")
}

/// Runs `definition` once with `tasks`; returns the record and the calls the tasks saw.
pub async fn run(definition: Value, tasks: FakeTasks, input: Value) -> (Execution, Vec<Call>) {
    let runner = Runner::new(machine(definition), tasks);
    let execution = runner.run("exec-1", input).await;
    (execution, runner.invoker().calls())
}

/// Seconds since the fake was created at which each call happened.
pub fn call_times(calls: &[Call]) -> Vec<f64> {
    calls.iter().map(|call| call.at.as_secs_f64()).collect()
}

/// A one-Task machine, with `task_fields` merged into the Task state.
pub fn single_task(task_fields: Value) -> Value {
    let mut task = serde_json::json!({"Type": "Task", "Resource": "work", "End": true});
    task.as_object_mut()
        .unwrap()
        .extend(task_fields.as_object().unwrap().clone());
    serde_json::json!({"StartAt": "Work", "States": {"Work": task}})
}

/// The `"type"` of every event, in order.
pub fn event_types(execution: &Execution) -> Vec<String> {
    execution
        .events
        .iter()
        .map(|event| {
            serde_json::to_value(&event.details).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

pub fn retry_delays_ms(execution: &Execution) -> Vec<u64> {
    execution
        .events
        .iter()
        .filter_map(|event| match event.details {
            EventDetails::RetryScheduled { delay_ms, .. } => Some(delay_ms),
            _ => None,
        })
        .collect()
}
