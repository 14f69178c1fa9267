//! The state machine's Tasks, linked in-process: the local counterpart of the four Lambdas.
//! Each resource of the ASL file maps to the same step function a Lambda wraps, and a
//! [`StepError`](photopipe_pipeline::StepError) becomes a Task failure with the same
//! `errorType` the definition's Retry and Catch match on.

use crate::metrics::Metrics;
use photopipe_pipeline::steps::{self, parse_input};
use photopipe_pipeline::{Alerts, Catalog, Clock, Config, StepError, Storage};
use photopipe_statemachine::{TaskContext, TaskError, TaskInvoker};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// The resource names the ASL placeholders are substituted with locally.
pub const SUBSTITUTIONS: [(&str, &str); 4] = [
    ("ValidateFunctionArn", "local:validate"),
    ("ResizeFunctionArn", "local:resize"),
    ("CatalogFunctionArn", "local:catalog"),
    ("OnFailureFunctionArn", "local:on_failure"),
];

/// The ports and settings every step runs over.
pub struct Steps<S, C, A, K> {
    pub storage: S,
    pub catalog: C,
    pub alerts: A,
    pub clock: K,
    pub config: Config,
    pub metrics: Arc<Metrics>,
    /// Resizes running at once: one per core. More only queue for the CPU while each holds
    /// its decoded image, which is what makes a busy server's memory grow.
    pub resize_slots: tokio::sync::Semaphore,
    /// The threads the engine runs on, one per resize slot: the JPEG decoder hands its
    /// per-component work to the pool it runs in, so a resize never spawns threads of its
    /// own and never takes more cores than there are slots.
    pub resize_pool: rayon::ThreadPool,
}

impl<S: Storage, C: Catalog, A: Alerts, K: Clock> TaskInvoker for Steps<S, C, A, K> {
    async fn invoke(
        &self,
        resource: &str,
        input: Value,
        context: &TaskContext,
    ) -> Result<Value, TaskError> {
        let started = Instant::now();
        let result = match resource {
            "local:validate" => {
                respond(async {
                    steps::validate(parse_input(input)?, &self.storage, &self.config).await
                })
                .await
            }
            // The engine works synchronously for up to a few hundred milliseconds; tell the
            // runtime, so other uploads and HTTP requests move to other threads meanwhile.
            "local:resize" => match self.resize_slots.acquire().await {
                Ok(_slot) => tokio::task::block_in_place(|| {
                    let runtime = tokio::runtime::Handle::current();
                    self.resize_pool.install(|| {
                        runtime.block_on(respond(async {
                            steps::resize(parse_input(input)?, &self.storage, &self.config).await
                        }))
                    })
                }),
                Err(_) => Err(TaskError::new(
                    "PhotoPipe.Internal",
                    "the resize slots are closed",
                )),
            },
            "local:catalog" => {
                respond(async {
                    let input = parse_input(input)?;
                    steps::catalog(
                        input,
                        &self.storage,
                        &self.catalog,
                        &self.clock,
                        &self.config,
                    )
                    .await
                })
                .await
            }
            "local:on_failure" => {
                respond(async {
                    let input = parse_input(input)?;
                    steps::on_failure(
                        input,
                        &self.storage,
                        &self.alerts,
                        &self.clock,
                        &self.config,
                    )
                    .await
                })
                .await
            }
            other => Err(TaskError::new(
                "PhotoPipe.InvalidInput",
                format!("no local handler for the Task resource {other:?}"),
            )),
        };
        self.metrics.observe_step(
            &context.state_name,
            started.elapsed(),
            result.as_ref().err(),
        );
        result
    }
}

/// Runs a step and turns its outcome into the Task's result or error.
async fn respond<T: Serialize>(
    step: impl std::future::Future<Output = Result<T, StepError>>,
) -> Result<Value, TaskError> {
    match step.await {
        Ok(output) => serde_json::to_value(output).map_err(|e| {
            TaskError::new(
                "PhotoPipe.Internal",
                format!("cannot serialise the step result: {e}"),
            )
        }),
        Err(error) => Err(TaskError::new(error.error_type.as_str(), error.cause())),
    }
}
