//! The state machine's Tasks, linked in-process: the local counterpart of the four Lambdas.
//! Each resource of the ASL file maps to the same step function a Lambda wraps, and a
//! [`StepError`](photopipe_pipeline::StepError) becomes a Task failure with the same
//! `errorType` the definition's Retry and Catch match on.

use crate::metrics::Metrics;
use crate::pipeline::lock;
use photopipe_pipeline::steps::{self, parse_input};
use photopipe_pipeline::{Alerts, Catalog, Clock, Config, StepError, Storage};
use photopipe_statemachine::{TaskContext, TaskError, TaskInvoker};
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, Mutex};
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
    pub resize_slots: ResizeSlots,
}

/// Resizes running at once: one per core. More only queue for the CPU while each holds its
/// decoded image, which is what makes a busy server's memory grow.
///
/// Each slot is a rayon pool of one thread, and a resize runs on a free slot's thread: the
/// JPEG decoder hands its per-component work to the pool it runs in, so a decode stays on
/// that one thread instead of spawning threads of its own. One pool per slot, not one pool
/// for all: a rayon thread waiting for its decode's tasks takes other work queued on its
/// pool, and another resize started there, inside the first one's runtime `block_on`, would
/// panic.
pub struct ResizeSlots {
    pools: Vec<rayon::ThreadPool>,
    /// Indexes of the pools no resize is running on; a permit of `free` guarantees one.
    idle: Mutex<Vec<usize>>,
    free: tokio::sync::Semaphore,
}

impl ResizeSlots {
    pub fn new(count: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pools = (0..count)
            .map(|slot| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(move |_| format!("resize-{slot}"))
                    .build()
            })
            .collect::<Result<_, _>>()?;
        Ok(ResizeSlots {
            pools,
            idle: Mutex::new((0..count).collect()),
            free: tokio::sync::Semaphore::new(count),
        })
    }

    pub fn count(&self) -> usize {
        self.pools.len()
    }

    /// Waits for a free slot and runs `work` on its thread.
    async fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        let _permit = self
            .free
            .acquire()
            .await
            .expect("the resize slots' semaphore is never closed");
        let slot = Slot::take(&self.idle);
        tokio::task::block_in_place(|| self.pools[slot.index].install(work))
    }
}

/// A pool taken from the idle ones, given back when dropped (after a panic too).
struct Slot<'a> {
    idle: &'a Mutex<Vec<usize>>,
    index: usize,
}

impl<'a> Slot<'a> {
    fn take(idle: &'a Mutex<Vec<usize>>) -> Self {
        let index = lock(idle).pop().expect("a permit means an idle pool");
        Slot { idle, index }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        lock(self.idle).push(self.index);
    }
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
            "local:resize" => {
                let runtime = tokio::runtime::Handle::current();
                let resize = || {
                    runtime.block_on(respond(async {
                        steps::resize(parse_input(input)?, &self.storage, &self.config).await
                    }))
                };
                self.resize_slots.run(resize).await
            }
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
