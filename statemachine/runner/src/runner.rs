//! The interpreter: walks a [`StateMachine`] from StartAt to a terminal state, running each
//! state's input/output processing, calling Task resources through a caller-supplied
//! [`TaskInvoker`], retrying and catching errors as the definition says, and recording
//! every step in an [`Execution`]. All waiting goes through tokio's clock, so tests can pause
//! time and assert retry delays exactly.

use crate::dataflow::{filter, place_result, Template};
use crate::definition::{
    Operand, Retrier, State, StateKind, StateMachine, Task, Transition, WaitUntil,
};
use crate::errors::{TaskError, STATES_NO_CHOICE_MATCHED, STATES_RUNTIME, STATES_TIMEOUT};
use crate::history::{Ending, EventDetails, Execution, Recorder};
use crate::path::ReferencePath;
use crate::timestamp;
use serde_json::{json, Value};
use std::future::Future;
use std::hash::BuildHasher;
use std::time::Duration;

/// Runs a Task's `Resource`. The local pipeline maps resources to in-process handlers; a
/// test harness may forward them to Lambda binaries over HTTP. An `Err` is the task's
/// error (its `error` is what Retry and Catch match).
pub trait TaskInvoker: Send + Sync {
    fn invoke(
        &self,
        resource: &str,
        input: Value,
        context: &TaskContext,
    ) -> impl Future<Output = Result<Value, TaskError>> + Send;
}

/// What a task may want to know about the call besides its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskContext {
    pub execution_name: String,
    pub state_name: String,
    /// 0 on the first attempt, then 1, 2… across all retriers of the state.
    pub retry_count: u32,
    /// The state's TimeoutSeconds; the runner abandons the call after it.
    pub timeout: Duration,
}

/// Executes one state machine with one invoker, any number of times.
pub struct Runner<I> {
    machine: StateMachine,
    invoker: I,
}

/// Where a state hands over: its output, and the next state unless it ended the execution.
struct Step<'m> {
    output: Value,
    next: Option<&'m str>,
}

impl<'m> Step<'m> {
    fn after(transition: &'m Transition, output: Value) -> Self {
        Step {
            output,
            next: transition.next(),
        }
    }
}

/// Where in the execution a state runs; what the context object (`$$`) describes.
struct Visit<'m> {
    name: &'m str,
    state: &'m State,
    entered_time: String,
}

impl<I: TaskInvoker> Runner<I> {
    pub fn new(machine: StateMachine, invoker: I) -> Self {
        Runner { machine, invoker }
    }

    pub fn machine(&self) -> &StateMachine {
        &self.machine
    }

    pub fn invoker(&self) -> &I {
        &self.invoker
    }

    /// Runs one execution to its end and returns its record.
    pub async fn run(&self, name: &str, input: Value) -> Execution {
        self.run_observed(name, input, |_| {}).await
    }

    /// Like [`run`](Self::run), calling `observer` with the record after every new event
    /// (the first call shows status RUNNING), so the caller can persist progress.
    pub async fn run_observed(
        &self,
        name: &str,
        input: Value,
        mut observer: impl FnMut(&Execution) + Send,
    ) -> Execution {
        let mut recorder = Recorder::start(name, &self.machine.name, input.clone(), &mut observer);
        let outcome = match self.machine.timeout {
            None => self.walk(&mut recorder, input).await,
            Some(limit) => match tokio::time::timeout(limit, self.walk(&mut recorder, input)).await
            {
                Ok(outcome) => outcome,
                Err(_) => {
                    let error = TaskError::new(
                        STATES_TIMEOUT,
                        format!("the execution did not finish within {}s", limit.as_secs()),
                    );
                    return recorder.finish(Ending::Failed {
                        error,
                        timed_out: true,
                    });
                }
            },
        };
        recorder.finish(match outcome {
            Ok(output) => Ending::Succeeded(output),
            Err(error) => Ending::Failed {
                error,
                timed_out: false,
            },
        })
    }

    async fn walk(&self, recorder: &mut Recorder<'_>, input: Value) -> Result<Value, TaskError> {
        let mut name = self.machine.start_at.as_str();
        let mut input = input;
        loop {
            let state = &self.machine.states[name];
            recorder.record(EventDetails::StateEntered {
                state: name.to_string(),
                input: input.clone(),
            });
            let visit = Visit {
                name,
                state,
                entered_time: timestamp::format(recorder.now()),
            };
            let step = self.run_state(&visit, input, recorder).await?;
            recorder.record(EventDetails::StateExited {
                state: name.to_string(),
                output: step.output.clone(),
            });
            match step.next {
                None => return Ok(step.output),
                Some(next) => {
                    name = next;
                    input = step.output;
                }
            }
        }
    }

    async fn run_state<'m>(
        &'m self,
        visit: &Visit<'m>,
        input: Value,
        recorder: &mut Recorder<'_>,
    ) -> Result<Step<'m>, TaskError> {
        let state = visit.state;
        match &state.kind {
            StateKind::Task(task) => self.run_task(visit, task, input, recorder).await,
            StateKind::Pass {
                parameters,
                result,
                result_path,
                transition,
            } => {
                let context = self.context(recorder, visit, 0);
                let effective = effective_input(state, parameters.as_ref(), &input, &context)?;
                let result = result.clone().unwrap_or(effective);
                Ok(Step::after(
                    transition,
                    state_output(state, result_path.as_ref(), input, result)?,
                ))
            }
            StateKind::Choice { choices, default } => {
                let effective = filter(state.input_path.as_ref(), &input)?;
                let mut next = default.as_deref();
                for rule in choices {
                    if rule.matches(&effective)? {
                        next = Some(rule.next());
                        break;
                    }
                }
                let next = next.ok_or_else(|| {
                    TaskError::new(
                        STATES_NO_CHOICE_MATCHED,
                        format!("no choice rule matched the input {effective}"),
                    )
                })?;
                Ok(Step {
                    output: filter(state.output_path.as_ref(), &effective)?,
                    next: Some(next),
                })
            }
            StateKind::Wait { until, transition } => {
                let effective = filter(state.input_path.as_ref(), &input)?;
                let delay = match until {
                    WaitUntil::Seconds(seconds) => Duration::from_secs(seconds.resolve(
                        &effective,
                        Value::as_u64,
                        "a non-negative integer",
                    )?),
                    WaitUntil::Timestamp(at) => {
                        let at = at.resolve(
                            &effective,
                            |v| v.as_str().and_then(timestamp::parse),
                            "an RFC 3339 timestamp",
                        )?;
                        timestamp::to_system_time(at)
                            .duration_since(recorder.now())
                            .unwrap_or(Duration::ZERO)
                    }
                };
                tokio::time::sleep(delay).await;
                Ok(Step::after(
                    transition,
                    filter(state.output_path.as_ref(), &effective)?,
                ))
            }
            StateKind::Succeed => {
                let effective = filter(state.input_path.as_ref(), &input)?;
                Ok(Step {
                    output: filter(state.output_path.as_ref(), &effective)?,
                    next: None,
                })
            }
            StateKind::Fail { error, cause } => {
                let text = |operand: &Option<Operand<String>>| {
                    operand.as_ref().map_or(Ok(String::new()), |operand| {
                        operand.resolve(&input, |v| v.as_str().map(str::to_string), "a string")
                    })
                };
                Err(TaskError::new(text(error)?, text(cause)?))
            }
        }
    }

    /// One Task state: attempts, retries with backoff, and finally a Catch or the error.
    async fn run_task<'m>(
        &'m self,
        visit: &Visit<'m>,
        task: &'m Task,
        input: Value,
        recorder: &mut Recorder<'_>,
    ) -> Result<Step<'m>, TaskError> {
        // Each retrier counts its own retries; RetryCount in the context counts them all.
        let mut retries_per_retrier = vec![0u32; task.retriers.len()];
        let mut retry_count = 0;
        let error = loop {
            let error = match self
                .attempt(visit, task, &input, retry_count, recorder)
                .await
            {
                Ok(output) => return Ok(Step::after(&task.transition, output)),
                Err(error) if error.error == STATES_RUNTIME => return Err(error),
                Err(error) => error,
            };
            let Some((retrier, attempt, delay)) =
                schedule_retry(&task.retriers, &mut retries_per_retrier, &error)
            else {
                break error;
            };
            recorder.record(EventDetails::RetryScheduled {
                state: visit.name.to_string(),
                error: error.error,
                retrier,
                attempt,
                delay_ms: delay.as_millis() as u64,
            });
            tokio::time::sleep(delay).await;
            retry_count += 1;
        };
        let Some(catcher) = task
            .catchers
            .iter()
            .find(|c| error.is_matched_by(&c.error_equals))
        else {
            return Err(error);
        };
        // A Catch whose ResultPath cannot be applied leaves nothing sensible to run next.
        let output = place_result(catcher.result_path.as_ref(), input, error.to_output())
            .map_err(|e| TaskError::runtime(e.cause))?;
        recorder.record(EventDetails::CatchTaken {
            state: visit.name.to_string(),
            error: error.error,
            next: catcher.next.clone(),
        });
        Ok(Step {
            output,
            next: Some(&catcher.next),
        })
    }

    /// A single call of the task's resource, with its input and output processing.
    async fn attempt(
        &self,
        visit: &Visit<'_>,
        task: &Task,
        input: &Value,
        retry_count: u32,
        recorder: &mut Recorder<'_>,
    ) -> Result<Value, TaskError> {
        let context = self.context(recorder, visit, retry_count);
        let effective = effective_input(visit.state, task.parameters.as_ref(), input, &context)?;
        recorder.record(EventDetails::TaskScheduled {
            state: visit.name.to_string(),
            resource: task.resource.clone(),
            input: effective.clone(),
            retry_count,
        });
        let task_context = TaskContext {
            execution_name: recorder.execution.name.clone(),
            state_name: visit.name.to_string(),
            retry_count,
            timeout: task.timeout,
        };
        let call = self
            .invoker
            .invoke(&task.resource, effective, &task_context);
        let result = tokio::time::timeout(task.timeout, call)
            .await
            .unwrap_or_else(|_| {
                Err(TaskError::new(
                    STATES_TIMEOUT,
                    format!("the task did not finish within {}s", task.timeout.as_secs()),
                ))
            });
        let (state, resource) = (visit.name.to_string(), task.resource.clone());
        let result = match result {
            Ok(output) => {
                recorder.record(EventDetails::TaskSucceeded {
                    state,
                    resource,
                    output: output.clone(),
                });
                output
            }
            Err(error) => {
                recorder.record(EventDetails::TaskFailed {
                    state,
                    resource,
                    error: error.error.clone(),
                    cause: error.cause.clone(),
                });
                return Err(error);
            }
        };
        let selected = match &task.result_selector {
            Some(selector) => selector.render(&result, &context)?,
            None => result,
        };
        state_output(
            visit.state,
            task.result_path.as_ref(),
            input.clone(),
            selected,
        )
    }

    /// The context object (`$$`) for a state visit.
    fn context(&self, recorder: &Recorder<'_>, visit: &Visit<'_>, retry_count: u32) -> Value {
        let execution = &recorder.execution;
        json!({
            "Execution": {
                "Id": execution.execution_id,
                "Input": execution.input,
                "Name": execution.name,
                "StartTime": execution.start_date,
            },
            "State": {
                "Name": visit.name,
                "EnteredTime": visit.entered_time,
                "RetryCount": retry_count,
            },
            "StateMachine": {
                "Id": format!("arn:aws:states:local:000000000000:stateMachine:{}", self.machine.name),
                "Name": self.machine.name,
            },
        })
    }
}

/// InputPath, then Parameters: what the state works on.
fn effective_input(
    state: &State,
    parameters: Option<&Template>,
    input: &Value,
    context: &Value,
) -> Result<Value, TaskError> {
    let selected = filter(state.input_path.as_ref(), input)?;
    match parameters {
        Some(parameters) => parameters.render(&selected, context),
        None => Ok(selected),
    }
}

/// ResultPath, then OutputPath: what the state passes on.
fn state_output(
    state: &State,
    result_path: Option<&ReferencePath>,
    input: Value,
    result: Value,
) -> Result<Value, TaskError> {
    filter(
        state.output_path.as_ref(),
        &place_result(result_path, input, result)?,
    )
}

/// The spec's retry decision: the first retrier whose ErrorEquals matches applies, if it has
/// attempts left (later retriers are not consulted). Returns that retrier's index, its retry
/// number, and the delay before retrying.
fn schedule_retry(
    retriers: &[Retrier],
    retries_per_retrier: &mut [u32],
    error: &TaskError,
) -> Option<(usize, u32, Duration)> {
    let index = retriers
        .iter()
        .position(|r| error.is_matched_by(&r.error_equals))?;
    let retrier = &retriers[index];
    if retries_per_retrier[index] >= retrier.max_attempts {
        return None;
    }
    retries_per_retrier[index] += 1;
    let attempt = retries_per_retrier[index];
    let backoff = retrier.backoff(attempt);
    let delay = if retrier.full_jitter {
        random_fraction_of(backoff)
    } else {
        backoff
    };
    Some((index, attempt, delay))
}

/// FULL jitter: a uniformly random delay between zero and the backoff.
fn random_fraction_of(backoff: Duration) -> Duration {
    // Each RandomState is freshly keyed, which is all the randomness jitter needs.
    let random = std::collections::hash_map::RandomState::new().hash_one(0u8);
    backoff.mul_f64(random as f64 / u64::MAX as f64)
}
