//! Counters for `GET /metrics`, in the Prometheus text format: what an operator graphs and
//! alerts on locally, as CloudWatch does for the Lambdas and Step Functions in AWS.
//! Hand-rolled: a few counters and one histogram do not justify a metrics crate.

use photopipe_statemachine::{EventDetails, Execution, ExecutionStatus, TaskError};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the step-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Counters>,
}

#[derive(Default)]
struct Counters {
    started: u64,
    succeeded: u64,
    failed_by_error: BTreeMap<String, u64>,
    retries: u64,
    /// Per step: bucket counts, sum of seconds, count, and failures.
    steps: BTreeMap<String, StepLatency>,
}

#[derive(Default)]
struct StepLatency {
    buckets: [u64; LATENCY_BUCKETS.len()],
    sum: f64,
    count: u64,
    errors: u64,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Counters) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn execution_started(&self) {
        self.with(|c| c.started += 1);
    }

    /// Records how an execution ended and how many retries it took.
    pub fn execution_finished(&self, execution: &Execution) {
        let retries = execution
            .events
            .iter()
            .filter(|e| matches!(e.details, EventDetails::RetryScheduled { .. }))
            .count() as u64;
        self.with(|c| {
            c.retries += retries;
            match (&execution.status, &execution.error) {
                (ExecutionStatus::Succeeded, _) => c.succeeded += 1,
                (_, Some(error)) => *c.failed_by_error.entry(error.error.clone()).or_default() += 1,
                (_, None) => *c.failed_by_error.entry("unknown".into()).or_default() += 1,
            }
        });
    }

    pub fn observe_step(&self, step: &str, elapsed: Duration, error: Option<&TaskError>) {
        let seconds = elapsed.as_secs_f64();
        self.with(|c| {
            let latency = c.steps.entry(step.to_string()).or_default();
            for (bucket, bound) in latency.buckets.iter_mut().zip(LATENCY_BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            latency.sum += seconds;
            latency.count += 1;
            latency.errors += u64::from(error.is_some());
        });
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self) -> String {
        self.with(|c| {
            let mut out = String::new();
            let mut counter = |name: &str, help: &str, samples: Vec<(String, f64)>| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
                for (labels, value) in samples {
                    let _ = writeln!(out, "{name}{labels} {value}");
                }
            };
            counter(
                "photopipe_executions_started_total",
                "Executions started.",
                vec![(String::new(), c.started as f64)],
            );
            counter(
                "photopipe_executions_succeeded_total",
                "Executions that made a thumbnail and a catalog row.",
                vec![(String::new(), c.succeeded as f64)],
            );
            counter(
                "photopipe_executions_failed_total",
                "Executions that ended in OnFailure, by error type.",
                c.failed_by_error
                    .iter()
                    .map(|(error, n)| {
                        (
                            format!("{{error_type=\"{}\"}}", label_value(error)),
                            *n as f64,
                        )
                    })
                    .collect(),
            );
            counter(
                "photopipe_task_retries_total",
                "Task retries scheduled by Retry rules.",
                vec![(String::new(), c.retries as f64)],
            );
            counter(
                "photopipe_step_errors_total",
                "Task attempts that failed, by step.",
                c.steps
                    .iter()
                    .map(|(step, l)| {
                        (
                            format!("{{step=\"{}\"}}", label_value(step)),
                            l.errors as f64,
                        )
                    })
                    .collect(),
            );
            let name = "photopipe_step_duration_seconds";
            let _ = writeln!(
                out,
                "# HELP {name} Time a step took, per attempt.\n# TYPE {name} histogram"
            );
            for (step, latency) in &c.steps {
                let step = label_value(step);
                for (bound, n) in LATENCY_BUCKETS.iter().zip(latency.buckets) {
                    let _ = writeln!(out, "{name}_bucket{{step=\"{step}\",le=\"{bound}\"}} {n}");
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{{step=\"{step}\",le=\"+Inf\"}} {}",
                    latency.count
                );
                let _ = writeln!(out, "{name}_sum{{step=\"{step}\"}} {}", latency.sum);
                let _ = writeln!(out, "{name}_count{{step=\"{step}\"}} {}", latency.count);
            }
            out
        })
    }
}

/// Escapes a label value as the text format requires.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
