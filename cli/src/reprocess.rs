//! `photopipe reprocess`: runs the pipeline again for uploads that do not have what every
//! upload should end with — a thumbnail and a catalog row — after a thumbnail was deleted,
//! the catalog restored from an older backup, or (with `--failed`) a bug fixed that made
//! uploads fail.
//!
//! Each object of the input bucket is judged by what exists for its current version:
//! - **complete** (its catalog row, found by the idempotency key, and the thumbnail that row
//!   names): left alone;
//! - **never finished** (no ended execution under the name its S3 event gets): that very
//!   execution runs, as `serve` would run it after a restart;
//! - **failed before** (no catalog row, a failure record for its key in the log bucket): only
//!   with `--failed`, since without a fix it would fail the same way and alert again;
//! - otherwise (no catalog row, or no thumbnail): reprocessed.
//!
//! A reprocess is a second execution of an object version, so it needs a name of its own
//! ([`keys::rerun_name`]: the object's name plus `-r<UTC time of the run>`): Step Functions
//! refuses a name it has seen, and the local history keeps one record per name. It runs
//! with the first execution's input, so the catalog row keeps the upload's own date and
//! time. Nothing is duplicated: the thumbnail key and the catalog's idempotency key come
//! from the upload, not from the execution name, so a rerun overwrites the same thumbnail
//! and finds the row when it is there. A rerun that fails again leaves its own failure
//! record and alert (burst control still applies).

use crate::local::{self, LocalPipeline, INPUT_BUCKET, LOG_BUCKET, OUTPUT_BUCKET};
use crate::report::{outcome_line, ExecutionOutcome};
use crate::settings::{LocalArgs, Settings};
use photopipe_pipeline::trigger::ExecutionStart;
use photopipe_pipeline::{
    keys, timefmt, Catalog, Clock, FailureRecord, PortError, Storage, Upload,
};
use photopipe_statemachine::ExecutionStatus;
use std::collections::HashSet;
use std::process::ExitCode;
use time::OffsetDateTime;

/// Failure records are a few hundred bytes; anything near this is not one.
const MAX_FAILURE_RECORD_BYTES: u64 = 1 << 20;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    local: LocalArgs,
    /// Also reprocess objects that failed before (they have a failure record), e.g. after
    /// the fault was fixed.
    #[arg(long)]
    failed: bool,
    /// Only list what would be reprocessed, and why; change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// What an object's current version lacks.
enum Verdict {
    Complete,
    /// Its own execution never ran to an end: that execution runs.
    NeverFinished,
    FailedBefore {
        first: Upload,
    },
    Incomplete {
        why: &'static str,
        first: Upload,
    },
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    let settings = Settings::resolve(&args.local, None)?;
    let app = local::open(&settings).await?;
    let steps = app.steps();
    let mut objects = steps
        .storage
        .list(INPUT_BUCKET, "")
        .await
        .map_err(|e| format!("listing the input bucket: {e}"))?;
    objects.sort();
    let failed_keys = failed_keys(&app).await?;
    let tag = rerun_tag(steps.clock.now());
    let (mut complete, mut left_failed, mut selected, mut failures) = (0, 0, 0, 0);
    for key in &objects {
        let start = app
            .execution_for(key)
            .await
            .map_err(|e| format!("{key:?}: {e}"))?;
        let (start, why) = match judge(&app, &start, &failed_keys).await? {
            Verdict::Complete => {
                complete += 1;
                continue;
            }
            Verdict::FailedBefore { .. } if !args.failed => {
                left_failed += 1;
                println!("skip  {key:?}: failed before (see logs/failures/); --failed includes it");
                continue;
            }
            Verdict::NeverFinished => (start, "no finished execution"),
            Verdict::FailedBefore { first } => (rerun(first, &tag), "failed before"),
            Verdict::Incomplete { why, first } => (rerun(first, &tag), why),
        };
        selected += 1;
        if args.dry_run {
            println!(
                "would reprocess {key:?}: {why}, as execution {}",
                start.name
            );
            continue;
        }
        let execution = app
            .start(&start)
            .await
            .map_err(|e| format!("{key:?}: {e}"))?;
        let outcome = ExecutionOutcome::of(&execution);
        failures += usize::from(!outcome.ok());
        println!("{}", outcome_line(key, &outcome));
    }
    let done = if args.dry_run {
        format!("{selected} to reprocess")
    } else {
        format!("{selected} reprocessed ({failures} failed)")
    };
    eprintln!(
        "{} objects in the input bucket: {complete} complete, {done}, {left_failed} failed before and left alone",
        objects.len()
    );
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn judge(
    app: &LocalPipeline,
    start: &ExecutionStart,
    failed_keys: &HashSet<String>,
) -> Result<Verdict, String> {
    let steps = app.steps();
    let upload = &start.input;
    let row = steps
        .catalog
        .by_idempotency_key(&keys::fingerprint(upload))
        .await
        .map_err(|e| format!("catalog: {e}"))?;
    let has_thumbnail = match &row {
        None => false,
        Some(row) => match steps.storage.head(OUTPUT_BUCKET, &row.thumbnail_key).await {
            Ok(_) => true,
            Err(PortError::NotFound) => false,
            Err(e) => return Err(format!("thumbnail {:?}: {e}", row.thumbnail_key)),
        },
    };
    if has_thumbnail {
        return Ok(Verdict::Complete);
    }
    let first = app
        .executions()
        .load(&start.name)
        .map_err(|e| format!("execution {}: {e}", start.name))?;
    let Some(first) = first.filter(|e| e.status != ExecutionStatus::Running) else {
        return Ok(Verdict::NeverFinished);
    };
    let first: Upload = serde_json::from_value(first.input)
        .map_err(|e| format!("execution {}: its input is not an upload: {e}", start.name))?;
    Ok(match row {
        None if failed_keys.contains(&upload.key) => Verdict::FailedBefore { first },
        None => Verdict::Incomplete {
            why: "no catalog row",
            first,
        },
        Some(_) => Verdict::Incomplete {
            why: "no thumbnail",
            first,
        },
    })
}

/// A new execution of the upload its first execution processed.
fn rerun(first: Upload, tag: &str) -> ExecutionStart {
    ExecutionStart {
        name: keys::rerun_name(&first, tag),
        input: first,
    }
}

/// `r<UTC date>T<time>.<ms>Z`: one per run, so each run's executions are new names and
/// show together in the history.
fn rerun_tag(now: OffsetDateTime) -> String {
    format!("r{}", timefmt::compact_millis(now))
}

/// Keys of the input bucket that have a failure record in the log bucket.
async fn failed_keys(app: &LocalPipeline) -> Result<HashSet<String>, String> {
    let storage = &app.steps().storage;
    let records = storage
        .list(LOG_BUCKET, keys::FAILURE_PREFIX)
        .await
        .map_err(|e| format!("listing the failure records: {e}"))?;
    let mut failed = HashSet::new();
    for record_key in records {
        let unreadable = |e: String| format!("failure record {LOG_BUCKET}/{record_key}: {e}");
        let bytes = storage
            .get(LOG_BUCKET, &record_key, MAX_FAILURE_RECORD_BYTES)
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        let record: FailureRecord =
            serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
        if record.bucket == INPUT_BUCKET {
            failed.insert(record.key);
        }
    }
    Ok(failed)
}
