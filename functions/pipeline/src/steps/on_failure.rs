//! OnFailure: what happens to an upload that could not be processed. It leaves a failure
//! record in the log bucket and tells the operations centre, exactly once per execution
//! however often Step Functions retries it, and without turning a burst of bad uploads into
//! a mail storm.
//!
//! **Record.** `failures/<upload date>/<execution name>.json`: one key per execution, so a
//! retry overwrites it instead of adding one. Its `alert` field says what was sent.
//!
//! **Once per execution.** `alerts/executions/<execution name>.json` holds the alert
//! decision and whether it was published. A retry finds it: published → nothing is sent
//! again; not published (the earlier publish failed) → the same decision is published now.
//! The mark is written right after a successful publish, so only a crash in between can
//! repeat an alert: a duplicate is preferred to a lost one.
//!
//! **Burst control.** Time is cut into windows (default: hours, from the epoch). The first
//! `max_per_window` failures of a window get individual alerts; the next one gets a single
//! burst notice saying that further failures of the window are only recorded (and where);
//! the rest are suppressed. Failures take numbered slots `alerts/window/<start>/<n>` with a
//! create-only write, so concurrent failures never share a slot and exactly one sends the
//! burst notice.

use crate::config::Config;
use crate::error::{object_label, ErrorType, StepError};
use crate::keys;
use crate::model::{AlertOutcome, Failed, FailureRecord, StepInput};
use crate::ports::{Alert, Alerts, Clock, NewObject, PortError, Storage};
use crate::timefmt;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use time::OffsetDateTime;

/// SNS refuses subjects of 100 characters or more.
const MAX_SUBJECT: usize = 99;

/// Records the failure and alerts (at most once); returns the record. Fails, for the state
/// machine to retry, when the record cannot be written or the alert cannot be published;
/// the record then says `send_failed` until a retry succeeds.
pub async fn on_failure(
    input: StepInput<Failed>,
    storage: &impl Storage,
    alerts: &impl Alerts,
    clock: &impl Clock,
    config: &Config,
) -> Result<FailureRecord, StepError> {
    let now = clock.now();
    let execution_name = &input.execution_name;
    let failed = &input.input;
    let upload_time = failed
        .event_time
        .as_deref()
        .and_then(timefmt::parse_rfc3339);
    let record_key = keys::failure_record_key(
        &timefmt::sql_date(upload_time.unwrap_or(now)),
        execution_name,
    );
    let mut record = FailureRecord {
        bucket: failed.bucket.clone(),
        key: failed.key.clone(),
        size: failed.size,
        upload_time: upload_time.map(timefmt::rfc3339),
        error_type: failed.error.error.clone(),
        error_message: cause_message(&failed.error.cause),
        execution_name: execution_name.clone(),
        failed_state: Some(failed_state(failed).to_owned()),
        recorded_at: timefmt::rfc3339(now),
        alert: AlertOutcome::SendFailed,
    };
    let letter = Letter {
        record: &record,
        record_location: object_label(&config.log_bucket, &record_key),
        config,
        window: Window::containing(now, config),
    };
    let alerted = alert_once(storage, alerts, config, &letter).await;
    let record_location = letter.record_location;
    record.alert = *alerted.as_ref().unwrap_or(&AlertOutcome::SendFailed);
    let json = serde_json::to_vec_pretty(&record).expect("the record serializes");
    storage
        .put(
            &config.log_bucket,
            &record_key,
            NewObject {
                bytes: &json,
                content_type: "application/json",
                cache_control: None,
            },
        )
        .await
        .map_err(|e| {
            StepError::from_port(&format!("writing the failure record {record_location}"), e)
        })?;
    alerted.map(|_| record)
}

/// Which task failed: the results already in the state tell how far the execution got.
fn failed_state(failed: &Failed) -> &'static str {
    match (&failed.validation, &failed.thumbnail) {
        (None, _) => "Validate",
        (Some(_), None) => "Resize",
        (Some(_), Some(_)) => "Catalog",
    }
}

/// The human message inside a Catch's `Cause`: a Lambda's error document carries it as
/// `errorMessage`; the local runner and Step Functions' own errors give plain text.
fn cause_message(cause: &str) -> String {
    #[derive(Deserialize)]
    struct LambdaError {
        #[serde(rename = "errorMessage")]
        error_message: String,
    }
    match serde_json::from_str::<LambdaError>(cause) {
        Ok(lambda) => lambda.error_message,
        Err(_) if cause.trim().is_empty() => "(no cause given)".to_owned(),
        Err(_) => cause.to_owned(),
    }
}

/// What `alerts/executions/<name>.json` remembers.
#[derive(Debug, Serialize, Deserialize)]
struct AlertState {
    outcome: AlertOutcome,
    published: bool,
}

async fn alert_once(
    storage: &impl Storage,
    alerts: &impl Alerts,
    config: &Config,
    letter: &Letter<'_>,
) -> Result<AlertOutcome, StepError> {
    let log = &config.log_bucket;
    let state_key = format!(
        "{}{}.json",
        keys::ALERT_EXECUTION_PREFIX,
        letter.record.execution_name
    );
    let bookkeeping = |doing: &str, e| {
        StepError::from_port(&format!("{doing} {}", object_label(log, &state_key)), e)
    };
    let outcome = match storage.get(log, &state_key, 4096).await {
        Ok(bytes) => {
            let state: AlertState = serde_json::from_slice(&bytes).map_err(|e| {
                StepError::new(
                    ErrorType::Internal,
                    format!("{} is unreadable: {e}", object_label(log, &state_key)),
                )
            })?;
            if state.published {
                return Ok(state.outcome);
            }
            state.outcome
        }
        Err(PortError::NotFound) => {
            let outcome = claim_slot(storage, config, letter).await?;
            let state = AlertState {
                outcome,
                published: outcome == AlertOutcome::Suppressed,
            };
            put_json(storage, log, &state_key, &state)
                .await
                .map_err(|e| bookkeeping("writing", e))?;
            if state.published {
                return Ok(outcome);
            }
            outcome
        }
        Err(e) => return Err(bookkeeping("reading", e)),
    };
    alerts.send(&letter.compose(outcome)).await.map_err(|e| {
        StepError::from_port(
            &format!(
                "publishing the alert for execution {}",
                letter.record.execution_name
            ),
            e,
        )
    })?;
    let published = AlertState {
        outcome,
        published: true,
    };
    put_json(storage, log, &state_key, &published)
        .await
        .map_err(|e| bookkeeping("writing", e))?;
    Ok(outcome)
}

/// Takes the first free slot of the current window: below `max_per_window` an individual
/// alert, exactly at it the burst notice, and past it (no slot taken) suppression.
async fn claim_slot(
    storage: &impl Storage,
    config: &Config,
    letter: &Letter<'_>,
) -> Result<AlertOutcome, StepError> {
    let log = &config.log_bucket;
    let prefix = format!(
        "{}{}/",
        keys::ALERT_WINDOW_PREFIX,
        timefmt::compact(letter.window.start)
    );
    let claiming_failed = |e| {
        StepError::from_port(
            &format!(
                "claiming an alert slot under {}",
                object_label(log, &prefix)
            ),
            e,
        )
    };
    let max = config.alerts.max_per_window;
    let taken = storage.list(log, &prefix).await.map_err(claiming_failed)?;
    let first_free = u32::try_from(taken.len()).unwrap_or(u32::MAX);
    for slot in first_free..=max {
        let claimed = storage
            .put_if_absent(
                log,
                &format!("{prefix}{slot:06}"),
                NewObject {
                    bytes: letter.record.execution_name.as_bytes(),
                    content_type: "text/plain",
                    cache_control: None,
                },
            )
            .await
            .map_err(claiming_failed)?;
        if claimed {
            return Ok(if slot < max {
                AlertOutcome::Sent
            } else {
                AlertOutcome::BurstNotice
            });
        }
    }
    Ok(AlertOutcome::Suppressed)
}

async fn put_json<T: Serialize>(
    storage: &impl Storage,
    bucket: &str,
    key: &str,
    value: &T,
) -> Result<(), PortError> {
    let json = serde_json::to_vec(value).expect("bookkeeping serializes");
    storage
        .put(
            bucket,
            key,
            NewObject {
                bytes: &json,
                content_type: "application/json",
                cache_control: None,
            },
        )
        .await
}

/// An alert window: `[start, start + length)`, aligned to the epoch.
struct Window {
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl Window {
    fn containing(now: OffsetDateTime, config: &Config) -> Window {
        let length = config.alerts.window.as_secs().clamp(1, i64::MAX as u64) as i64;
        let start_secs = now.unix_timestamp().div_euclid(length) * length;
        let start = OffsetDateTime::from_unix_timestamp(start_secs)
            .expect("a window start is no earlier than the time in it");
        Window {
            start,
            end: start + time::Duration::seconds(length),
        }
    }
}

/// Everything an alert says about one failure.
struct Letter<'a> {
    record: &'a FailureRecord,
    record_location: String,
    config: &'a Config,
    window: Window,
}

impl Letter<'_> {
    fn compose(&self, outcome: AlertOutcome) -> Alert {
        let record = self.record;
        let (subject, opening) = match outcome {
            AlertOutcome::BurstNotice => (
                format!(
                    "photopipe: more than {} failed uploads, alerts paused until {}",
                    self.config.alerts.max_per_window,
                    timefmt::rfc3339(self.window.end)
                ),
                format!(
                    "More than {max} uploads failed between {start} and {end}. Until {end}, \
                     further failures are only recorded, each as a JSON file in the log bucket \
                     {log:?} under the prefix {prefix:?}; no more alerts are sent.\n\n\
                     The failure that reached the limit:",
                    max = self.config.alerts.max_per_window,
                    start = timefmt::rfc3339(self.window.start),
                    end = timefmt::rfc3339(self.window.end),
                    log = self.config.log_bucket,
                    prefix = keys::FAILURE_PREFIX,
                ),
            ),
            _ => (
                format!(
                    "photopipe: {} for {}",
                    record.error_type,
                    crate::model::file_name_of(&record.key)
                ),
                "An upload could not be processed:".to_owned(),
            ),
        };
        let mut body = opening;
        let size = record
            .size
            .map_or_else(|| "unknown".to_owned(), |size| format!("{size} bytes"));
        let fields = [
            ("Bucket", format!("{:?}", record.bucket)),
            ("Key", format!("{:?}", record.key)),
            ("Size", size),
            (
                "Uploaded at",
                record
                    .upload_time
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
            ),
            ("Error type", plain(&record.error_type)),
            ("Message", plain(&record.error_message)),
            (
                "Failed step",
                record.failed_state.clone().unwrap_or_default(),
            ),
            ("Execution", plain(&record.execution_name)),
            ("Failure record", self.record_location.clone()),
        ];
        for (label, value) in fields {
            let _ = write!(body, "\n  {:<15} {value}", format!("{label}:"));
        }
        body.push('\n');
        Alert {
            subject: subject_line(&subject),
            body,
        }
    }
}

/// `text` on one line with nothing invisible: control characters (CR and LF could forge
/// lines or mail headers), line and paragraph separators and bidirectional overrides are
/// shown as `\u{…}` escapes.
fn plain(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        let invisible = c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
        if invisible {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// A subject SNS and mail headers accept: printable ASCII only (anything else becomes
/// `?`, CR/LF included), under 100 characters.
fn subject_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .take(MAX_SUBJECT)
        .collect()
}
