//! What every photopipe Lambda does around its step, so each `main.rs` is only the wiring
//! of its clients: configuration from the environment, JSON logs, one metrics line per
//! invocation, and errors that reach Step Functions with the step's `errorType`.
//!
//! **Errors.** The state machine's Retry and Catch match on the Lambda error's
//! `errorType`, and Step Functions puts `{"errorType", "errorMessage"}` in the `Cause`. A
//! [`StepFailure`] converts into lambda_runtime's [`Diagnostic`] with the step's
//! `PhotoPipe.*` type and its message, so the Cause is the very text the local runner
//! produces with `StepError::cause()`.
//!
//! **Metrics** use CloudWatch's embedded metric format: a JSON line on stdout that
//! CloudWatch Logs turns into metrics, with no API call and no agent (see [`emf_line`]).
//! It is printed as a bare line, not through the log formatter, because CloudWatch only
//! recognises it as the whole log event.

use lambda_runtime::{Diagnostic, Error};
use photopipe_pipeline::{Config, StepError};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::io::Write as _;
use std::str::FromStr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The output bucket (resize, catalog).
pub const OUTPUT_BUCKET: &str = "OUTPUT_BUCKET";
/// The log bucket (on_failure).
pub const LOG_BUCKET: &str = "LOG_BUCKET";
/// Set by Lambda: the function's memory in MB, which sizes the engine's limits.
const MEMORY_SIZE: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
/// The namespace of every photopipe metric.
const NAMESPACE: &str = "photopipe";

/// JSON logs on stdout, one object per event, filtered by `RUST_LOG` (default `info`).
/// Nothing here logs configuration values: the environment holds ARNs, never secrets,
/// but a habit of logging it is how secrets end up in logs.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .init();
}

/// The value of a variable the function cannot work without; a clear init error otherwise.
pub fn required_env(name: &str) -> Result<String, Error> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        _ => Err(format!("the environment variable {name} is required").into()),
    }
}

/// A variable that may be unset (or empty); an error when it is set but unparsable.
pub fn optional_env<T: FromStr>(name: &str) -> Result<Option<T>, Error>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value
            .parse()
            .map(Some)
            .map_err(|e| format!("the environment variable {name}={value:?}: {e}").into()),
        _ => Ok(None),
    }
}

/// The steps' configuration from the environment. `required` names the bucket variables
/// this function's step writes to ([`OUTPUT_BUCKET`], [`LOG_BUCKET`]); the other may be
/// unset.
///
/// Limits: `MAX_DECODE_BYTES` and `MAX_INPUT_BYTES` when set, otherwise half and a quarter
/// of the function's memory (at 128 MB: 64 and 32 MiB, leaving room for the runtime), never
/// above the engine's defaults. Validate refuses on the same limits resize would, so the
/// template should give both functions the same values (those of resize's memory).
/// `THUMBNAIL_MAX_EDGE` sets the thumbnail's longest edge.
pub fn config(required: &[&str]) -> Result<Config, Error> {
    let bucket = |name: &str| {
        if required.contains(&name) {
            required_env(name)
        } else {
            Ok(std::env::var(name).unwrap_or_default())
        }
    };
    let mut config = Config::new(bucket(OUTPUT_BUCKET)?, bucket(LOG_BUCKET)?);
    let memory = optional_env::<u64>(MEMORY_SIZE)?.map(|mb| mb * 1024 * 1024);
    let limits = &mut config.limits;
    limits.max_decode_bytes = optional_env("MAX_DECODE_BYTES")?
        .or(memory.map(|m| (m / 2).min(limits.max_decode_bytes)))
        .unwrap_or(limits.max_decode_bytes);
    limits.max_input_bytes = optional_env("MAX_INPUT_BYTES")?
        .or(memory.map(|m| (m / 4).min(limits.max_input_bytes)))
        .unwrap_or(limits.max_input_bytes);
    if let Some(max_edge) = optional_env("THUMBNAIL_MAX_EDGE")? {
        config.thumbnail.max_edge = max_edge;
    }
    Ok(config)
}

/// A step's failure on its way to Step Functions (a local type, so it can convert into
/// lambda_runtime's [`Diagnostic`]).
#[derive(Debug)]
pub struct StepFailure(pub StepError);

impl From<StepError> for StepFailure {
    fn from(error: StepError) -> Self {
        StepFailure(error)
    }
}

impl From<StepFailure> for Diagnostic {
    fn from(StepFailure(error): StepFailure) -> Self {
        Diagnostic {
            error_type: error.error_type.as_str().to_owned(),
            error_message: error.message,
        }
    }
}

/// One CloudWatch metric of an invocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    /// A CloudWatch unit: `Milliseconds`, `Bytes`, `Count`…
    pub unit: &'static str,
}

/// Runs one invocation of `function`'s step: times it, logs its outcome, prints its
/// metrics line — `ProcessingTime`, `Failures` (0 or 1) and what `metrics` reads from a
/// success — and hands its result or typed error to the runtime.
pub async fn invoke<T: Serialize>(
    function: &'static str,
    step: impl Future<Output = Result<T, StepError>>,
    metrics: impl FnOnce(&T) -> Vec<Metric>,
) -> Result<T, StepFailure> {
    let started = Instant::now();
    // Boxed: the SDK's futures nest so deep that, inlined into a `main`'s async block,
    // they overflow the compiler's layout query depth. One allocation per invocation.
    let result = Box::pin(step).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut all = vec![
        Metric {
            name: "ProcessingTime",
            value: elapsed_ms,
            unit: "Milliseconds",
        },
        Metric {
            name: "Failures",
            value: if result.is_ok() { 0.0 } else { 1.0 },
            unit: "Count",
        },
    ];
    match &result {
        Ok(output) => {
            all.extend(metrics(output));
            tracing::info!(function, elapsed_ms, "step succeeded");
        }
        Err(error) => tracing::warn!(
            function,
            elapsed_ms,
            error_type = error.error_type.as_str(),
            message = %error.message,
            "step failed"
        ),
    }
    let error_type = result.as_ref().err().map(|e| e.error_type.as_str());
    let line = emf_line(function, &all, error_type, unix_millis());
    // A lost metrics line must not fail the photo.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
    result.map_err(StepFailure)
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// An embedded-metric-format record: `metrics` in the `photopipe` namespace with the
/// dimension `FunctionName`; the error type, if any, rides along as a property (searchable
/// in Logs Insights without multiplying metric series).
pub fn emf_line(
    function: &str,
    metrics: &[Metric],
    error_type: Option<&str>,
    timestamp_ms: u64,
) -> String {
    let mut record = Map::new();
    record.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": metrics
                    .iter()
                    .map(|m| json!({"Name": m.name, "Unit": m.unit}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    record.insert("FunctionName".into(), function.into());
    for metric in metrics {
        record.insert(metric.name.into(), json!(metric.value));
    }
    if let Some(error_type) = error_type {
        record.insert("ErrorType".into(), error_type.into());
    }
    Value::Object(record).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use photopipe_pipeline::ErrorType;

    #[test]
    fn a_step_error_becomes_a_diagnostic_with_its_error_type() {
        let error = StepError::new(ErrorType::CorruptImage, "bucket \"b\", key \"k\": bad");
        let diagnostic = Diagnostic::from(StepFailure::from(error.clone()));
        assert_eq!(diagnostic.error_type, "PhotoPipe.CorruptImage");
        assert_eq!(diagnostic.error_message, error.message);
        // What Step Functions builds from it is the local runner's Cause.
        assert_eq!(
            json!({"errorType": diagnostic.error_type, "errorMessage": diagnostic.error_message})
                .to_string(),
            error.cause()
        );
    }

    #[test]
    fn the_metrics_line_is_embedded_metric_format() {
        let line = emf_line(
            "resize",
            &[
                Metric {
                    name: "ProcessingTime",
                    value: 12.5,
                    unit: "Milliseconds",
                },
                Metric {
                    name: "ThumbnailBytes",
                    value: 18342.0,
                    unit: "Bytes",
                },
            ],
            Some("PhotoPipe.Transient"),
            1_714_557_600_000,
        );
        let record: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            record,
            json!({
                "_aws": {
                    "Timestamp": 1_714_557_600_000u64,
                    "CloudWatchMetrics": [{
                        "Namespace": "photopipe",
                        "Dimensions": [["FunctionName"]],
                        "Metrics": [
                            {"Name": "ProcessingTime", "Unit": "Milliseconds"},
                            {"Name": "ThumbnailBytes", "Unit": "Bytes"},
                        ],
                    }],
                },
                "FunctionName": "resize",
                "ProcessingTime": 12.5,
                "ThumbnailBytes": 18342.0,
                "ErrorType": "PhotoPipe.Transient",
            })
        );
        assert!(!line.contains('\n'));
    }
}
