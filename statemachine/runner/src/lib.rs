//! photopipe's local Step Functions: an interpreter for the Amazon States Language that runs
//! the very definition production deploys (`statemachine/photo_pipeline.asl.json`), calling
//! the step handlers in-process instead of Lambda.
//!
//! It implements Task, Pass, Choice, Wait, Succeed and Fail states, JSONPath input/output
//! processing with the context object, Retry and Catch. Anything else is refused at load
//! time, naming the state and field, so a flow never runs differently here than in the cloud.
//!
//! ```no_run
//! # async fn example(invoker: impl photopipe_statemachine::TaskInvoker) -> Result<(), Box<dyn std::error::Error>> {
//! use photopipe_statemachine::{Runner, StateMachine};
//! let text = std::fs::read_to_string("statemachine/photo_pipeline.asl.json")?;
//! let substitutions = [
//!     ("ValidateFunctionArn", "validate"),
//!     ("ResizeFunctionArn", "resize"),
//!     ("CatalogFunctionArn", "catalog"),
//!     ("OnFailureFunctionArn", "on_failure"),
//! ];
//! let machine = StateMachine::load("photo_pipeline", &text, substitutions)?;
//! let runner = Runner::new(machine, invoker);
//! let input = serde_json::json!({"bucket": "photopipe-uploads", "key": "cat.jpg"});
//! let execution = runner.run_observed("upload-1", input, |record| {
//!     // Persist `record` here: it grows by one event per call, status RUNNING until the end.
//!     let _ = record;
//! }).await;
//! println!("{}", serde_json::to_string_pretty(&execution)?);
//! # Ok(()) }
//! ```

mod choice;
mod dataflow;
mod definition;
mod errors;
mod history;
mod path;
mod runner;
mod timestamp;

pub use definition::{DefinitionError, StateMachine};
pub use errors::{
    TaskError, STATES_ALL, STATES_NO_CHOICE_MATCHED, STATES_RESULT_PATH_MATCH_FAILURE,
    STATES_RUNTIME, STATES_TASK_FAILED, STATES_TIMEOUT,
};
pub use history::{EventDetails, Execution, ExecutionStatus, HistoryEvent};
pub use runner::{Runner, TaskContext, TaskInvoker};

/// Checks that a definition loads, for CI: every `${Placeholder}` may stay unsubstituted
/// (it is then just a resource name), but everything else must be executable here.
pub fn validate(definition: &str) -> Result<(), DefinitionError> {
    StateMachine::parse("validate", definition).map(drop)
}
