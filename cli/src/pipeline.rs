//! The local pipeline: what AWS does around the Lambdas, done in one process. An upload is
//! written to the input bucket (a folder), described by the same S3 event record AWS would
//! send, turned into an execution by the same trigger logic (same deterministic name, so a
//! duplicate starts nothing), and run by the local interpreter of the same ASL file, with
//! every event recorded for `photopipe executions`.

use crate::executions::ExecutionStore;
use crate::metrics::Metrics;
use crate::steps::{Steps, SUBSTITUTIONS};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use photopipe_pipeline::trigger::{self, Decision, ObjectEvent};
use photopipe_pipeline::{Alerts, Catalog, Clock, PortError, Storage};
use photopipe_statemachine::{EventDetails, Execution, ExecutionStatus, Runner, StateMachine};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The state machine definition, compiled in so the binary runs anywhere.
pub const DEFINITION: &str = include_str!("../../statemachine/photo_pipeline.asl.json");

/// S3 sends keys form-encoded: unreserved characters as they are, a space as `+`.
const S3_KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

#[derive(Debug)]
pub enum PipelineError {
    /// The upload could not be stored or read back.
    Storage(PortError),
    /// The trigger refused the object (e.g. a key no execution name can be made from).
    Trigger(String),
    /// The execution history could not be written.
    History(std::io::Error),
}

impl std::fmt::Display for PipelineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PipelineError::Storage(e) => write!(f, "storage: {e}"),
            PipelineError::Trigger(e) => write!(f, "trigger: {e}"),
            PipelineError::History(e) => write!(f, "execution history: {e}"),
        }
    }
}

impl std::error::Error for PipelineError {}

pub struct Pipeline<S, C, A, K> {
    runner: Runner<Steps<S, C, A, K>>,
    store: ExecutionStore,
    metrics: Arc<Metrics>,
    input_bucket: String,
    /// Executions running in this process, so a watcher and an upload of the same object
    /// do not run it twice at once.
    in_flight: Mutex<HashSet<String>>,
    /// Executions known to have ended (a history, once ended, stays so): the watcher's scan of
    /// the input bucket each second reads the history of each upload only until then, not
    /// every one of thousands again every second.
    ended: Mutex<HashSet<String>>,
}

impl<S: Storage, C: Catalog, A: Alerts, K: Clock> Pipeline<S, C, A, K> {
    pub fn new(
        steps: Steps<S, C, A, K>,
        input_bucket: impl Into<String>,
        store: ExecutionStore,
    ) -> Result<Self, photopipe_statemachine::DefinitionError> {
        let machine = StateMachine::load("photo_pipeline", DEFINITION, SUBSTITUTIONS)?;
        let metrics = steps.metrics.clone();
        Ok(Pipeline {
            runner: Runner::new(machine, steps),
            store,
            metrics,
            input_bucket: input_bucket.into(),
            in_flight: Mutex::new(HashSet::new()),
            ended: Mutex::new(HashSet::new()),
        })
    }

    pub fn steps(&self) -> &Steps<S, C, A, K> {
        self.runner.invoker()
    }

    pub fn executions(&self) -> &ExecutionStore {
        &self.store
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Runs the execution for the object `key` of the input bucket, as its S3 event would
    /// start it; an execution of the same object version that already finished is returned
    /// instead of running again.
    pub async fn process(&self, key: &str) -> Result<Execution, PipelineError> {
        let start = self.execution_for(key).await?;
        self.start(&start).await
    }

    /// Runs `start` to the end; an execution of the same name that already finished is
    /// returned instead, as Step Functions refuses to start a name twice.
    pub async fn start(&self, start: &trigger::ExecutionStart) -> Result<Execution, PipelineError> {
        loop {
            if let Some(done) = self.finished(&start.name)? {
                return Ok(done);
            }
            let claimed = lock(&self.in_flight).insert(start.name.clone());
            if claimed {
                break;
            }
            // Running elsewhere in this process: wait for its record to show the end.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let result = self.run(start).await;
        lock(&self.in_flight).remove(&start.name);
        result
    }

    /// Keys of the input bucket whose execution has not finished (new files, or uploads
    /// interrupted by a restart), of those `ready` accepts (checked first, before the
    /// object is read).
    pub async fn pending(
        &self,
        ready: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, PipelineError> {
        let mut keys = self
            .steps()
            .storage
            .list(&self.input_bucket, "")
            .await
            .map_err(PipelineError::Storage)?;
        keys.sort();
        let mut pending = Vec::new();
        for key in keys.into_iter().filter(|key| ready(key)) {
            let name = match self.execution_for(&key).await {
                Ok(start) => start.name,
                // Deleted between listing and now, or refused by the trigger: nothing to run.
                Err(_) => continue,
            };
            if !self.has_ended(&name)? {
                pending.push(key);
            }
        }
        Ok(pending)
    }

    fn has_ended(&self, name: &str) -> Result<bool, PipelineError> {
        if lock(&self.ended).contains(name) {
            return Ok(true);
        }
        let ended = self
            .store
            .is_finished(name)
            .map_err(PipelineError::History)?;
        if ended {
            lock(&self.ended).insert(name.to_owned());
        }
        Ok(ended)
    }

    fn finished(&self, name: &str) -> Result<Option<Execution>, PipelineError> {
        let record = self.store.load(name).map_err(PipelineError::History)?;
        Ok(record.filter(|e| e.status != ExecutionStatus::Running))
    }

    /// The execution S3's event for this object would start (event time: now).
    pub async fn execution_for(&self, key: &str) -> Result<trigger::ExecutionStart, PipelineError> {
        let head = self
            .steps()
            .storage
            .head(&self.input_bucket, key)
            .await
            .map_err(PipelineError::Storage)?;
        let event = ObjectEvent {
            event_name: "ObjectCreated:Put".into(),
            event_time: self.steps().clock.now(),
            bucket: self.input_bucket.clone(),
            key: utf8_percent_encode(key, S3_KEY_ENCODE)
                .to_string()
                .replace("%20", "+"),
            size: Some(head.size),
            etag: head.etag,
            version_id: None,
        };
        match trigger::decide(&event, &Default::default()) {
            Ok(Decision::Start(start)) => Ok(start),
            Ok(Decision::Ignore(why)) => Err(PipelineError::Trigger(why.to_string())),
            Err(e) => Err(PipelineError::Trigger(e.message)),
        }
    }

    async fn run(&self, start: &trigger::ExecutionStart) -> Result<Execution, PipelineError> {
        let input = serde_json::to_value(&start.input).expect("an Upload always serialises");
        let mut history = self
            .store
            .writer(&start.name)
            .map_err(PipelineError::History)?;
        self.metrics.execution_started();
        let mut save_error = None;
        let execution =
            self.runner
                .run_observed(&start.name, input, |record| {
                    // Appended as each state starts and when the execution ends: enough to
                    // follow a running execution, without a write per event.
                    let milestone = record.status != ExecutionStatus::Running
                        || record.events.last().is_some_and(|e| {
                            matches!(e.details, EventDetails::StateEntered { .. })
                        });
                    if milestone && save_error.is_none() {
                        if let Err(e) = history.append(record) {
                            save_error = Some(e);
                        }
                    }
                })
                .await;
        self.metrics.execution_finished(&execution);
        match save_error {
            Some(e) => Err(PipelineError::History(e)),
            None => {
                lock(&self.ended).insert(start.name.clone());
                Ok(execution)
            }
        }
    }
}

/// Locks `mutex` even if a thread panicked while holding it: what these locks guard (sets of
/// names, free slots) is whole after every single update.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
