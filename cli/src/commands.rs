//! The local commands: `serve`, `run`, `demo`, `catalog` and `executions`, each a thin
//! layer over the local pipeline that prints for people or, with `--json`, for tools.

use crate::data_api;
use crate::local;
use crate::report::{outcome_json, outcome_line, ExecutionOutcome};
use crate::settings::{LocalArgs, Settings, DEFAULT_LISTEN};
use indicatif::{ProgressBar, ProgressStyle};
use photopipe_local::FolderStorage;
use photopipe_pipeline::ports::{CatalogOrder, Direction};
use photopipe_pipeline::{Catalog, CatalogRow, PortError};
use photopipe_statemachine::Execution;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

type CommandResult = Result<ExitCode, String>;

pub async fn serve(args: &LocalArgs, listen: Option<String>) -> CommandResult {
    let settings = Settings::resolve(args, listen)?;
    let address = settings
        .listen
        .clone()
        .unwrap_or_else(|| DEFAULT_LISTEN.into());
    let app = Arc::new(local::open(&settings).await?);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    eprintln!(
        "photopipe: serving http://{address}/ (data in {})",
        settings.data_dir.display()
    );
    crate::serve::serve(app, listener)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

pub async fn run(
    args: &LocalArgs,
    jobs: Option<usize>,
    as_json: bool,
    files: &[PathBuf],
) -> CommandResult {
    let settings = Settings {
        resize_jobs: jobs,
        ..Settings::resolve(args, None)?
    };
    let app = Arc::new(local::open(&settings).await?);
    let failures = upload_all(&app, files, as_json).await?;
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Uploads each file (named by its file name) and prints its outcome, in the order given;
/// returns the number that did not end with a thumbnail and a catalog row.
///
/// One upload more than there are resize slots is in flight: while the engine works on one
/// photo, the next is copied into the input bucket and validated and the previous one
/// catalogued, as uploads and executions overlap on AWS. "In flight" counts unfinished
/// uploads, not unreported ones: a small photo that finishes while a big one before it is
/// still resizing makes room for the next file at once, and its outcome waits to be printed
/// in order. The resize slots (`--jobs`) bound the CPU-heavy part, and each upload's bytes
/// are dropped once stored. Files of the same name (the same key) wait for each other: one
/// must not replace the other's bytes while its execution reads them.
async fn upload_all(
    app: &Arc<local::LocalPipeline>,
    files: &[PathBuf],
    as_json: bool,
) -> Result<usize, String> {
    let progress = if !as_json && files.len() >= 20 && std::io::stderr().is_terminal() {
        ProgressBar::new(files.len() as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} uploads, {eta} left")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let in_flight = app.steps().resize_slots.count() + 1;
    let mut running = tokio::task::JoinSet::new();
    let mut batch = Batch::default();
    let mut failures = 0;
    let mut report = |key: &str, execution: Execution| {
        let outcome = ExecutionOutcome::of(&execution);
        failures += usize::from(!outcome.ok());
        let line = if as_json {
            outcome_json(&outcome).to_string()
        } else {
            outcome_line(key, &outcome)
        };
        progress.suspend(|| println!("{line}"));
        progress.inc(1);
    };
    for (place, file) in files.iter().enumerate() {
        let key = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| format!("{} has no file name", file.display()))?;
        while running.len() == in_flight || batch.is_running(&key) {
            let Some(joined) = running.join_next().await else {
                break;
            };
            batch.finished(joined)?;
            batch.report_ready(&mut report)?;
        }
        batch.started(place, &key);
        running.spawn(upload_one(app.clone(), place, file.clone(), key));
    }
    while let Some(joined) = running.join_next().await {
        batch.finished(joined)?;
    }
    batch.report_ready(&mut report)?;
    progress.finish_and_clear();
    if !as_json {
        eprintln!(
            "{} uploads: {} catalogued, {failures} failed",
            files.len(),
            files.len() - failures
        );
    }
    Ok(failures)
}

type Finished = (usize, Result<Execution, String>);

/// The uploads of a batch, by their place in it: those running, and those finished but
/// waiting for the ones before them to be reported.
#[derive(Default)]
struct Batch {
    running: BTreeMap<usize, String>,
    waiting: BTreeMap<usize, (String, Result<Execution, String>)>,
    next_to_report: usize,
}

impl Batch {
    fn started(&mut self, place: usize, key: &str) {
        self.running.insert(place, key.to_owned());
    }

    fn is_running(&self, key: &str) -> bool {
        self.running.values().any(|running| running == key)
    }

    fn finished(&mut self, joined: Result<Finished, tokio::task::JoinError>) -> Result<(), String> {
        let (place, execution) = joined.map_err(|e| format!("an upload task failed: {e}"))?;
        let key = self
            .running
            .remove(&place)
            .expect("a finished upload was started");
        self.waiting.insert(place, (key, execution));
        Ok(())
    }

    /// Reports every outcome whose turn has come; an upload that could not run stops all.
    fn report_ready(&mut self, report: &mut impl FnMut(&str, Execution)) -> Result<(), String> {
        while let Some((key, execution)) = self.waiting.remove(&self.next_to_report) {
            report(&key, execution?);
            self.next_to_report += 1;
        }
        Ok(())
    }
}

/// Copies `file` into the input bucket as `key` and runs its execution; `place` says which
/// upload of the batch this is.
async fn upload_one(
    app: Arc<local::LocalPipeline>,
    place: usize,
    file: PathBuf,
    key: String,
) -> Finished {
    (place, store_and_run(&app, file, key).await)
}

async fn store_and_run(
    app: &local::LocalPipeline,
    file: PathBuf,
    key: String,
) -> Result<Execution, String> {
    let limit = app.steps().config.limits.max_input_bytes;
    let storage = app.steps().storage.clone();
    let stored_key = key.clone();
    tokio::task::spawn_blocking(move || copy_upload(&storage, &file, &stored_key, limit))
        .await
        .map_err(|e| format!("storing {key:?} failed: {e}"))??;
    app.process(&key).await.map_err(|e| format!("{key:?}: {e}"))
}

/// Copies `path` into the input bucket as `key` a piece at a time (never whole in memory),
/// refusing a file over the pipeline's limit: Validate would refuse it, so say it here,
/// where the user is.
fn copy_upload(storage: &FolderStorage, path: &Path, key: &str, limit: u64) -> Result<(), String> {
    use std::io::Read;
    let cannot_read = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let cannot_store = |e: PortError| format!("{key:?}: {e}");
    let mut source = std::fs::File::open(path).map_err(cannot_read)?;
    let mut writer = storage
        .object_writer(local::INPUT_BUCKET, key, "application/octet-stream", None)
        .map_err(cannot_store)?;
    let mut piece = vec![0; 256 * 1024];
    let mut size = 0;
    loop {
        let read = match source.read(&mut piece) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(cannot_read(e)),
        };
        size += read as u64;
        if size > limit {
            return Err(format!(
                "{} is over the upload limit of {limit} bytes",
                path.display()
            ));
        }
        writer.write(&piece[..read]).map_err(cannot_store)?;
    }
    writer.publish(false).map(drop).map_err(cannot_store)
}

pub async fn demo(data_dir: &Path, uploads: &Path, listen: &str, no_serve: bool) -> CommandResult {
    let mut files: Vec<PathBuf> = std::fs::read_dir(uploads)
        .map_err(|e| {
            format!(
                "cannot read the sample uploads in {}: {e}",
                uploads.display()
            )
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.file_name().is_some_and(|n| n != "SOURCES.md"))
        .collect();
    files.sort();
    if data_dir.exists() {
        std::fs::remove_dir_all(data_dir)
            .map_err(|e| format!("cannot empty {}: {e}", data_dir.display()))?;
    }
    let args = LocalArgs {
        data_dir: Some(data_dir.to_path_buf()),
        ..LocalArgs::default()
    };
    let settings = Settings::resolve(&args, Some(listen.to_string()))?;
    let app = Arc::new(local::open(&settings).await?);
    let failures = upload_all(&app, &files, false).await?;
    let smallest = app
        .steps()
        .catalog
        .list(CatalogOrder::ThumbnailSize, Direction::Asc, 5)
        .await
        .map_err(|e| format!("catalog: {e}"))?;
    println!("\nThe five smallest thumbnails:");
    print_rows(&smallest);
    let dir = data_dir.display();
    println!(
        "\n{} photos catalogued, {failures} failures recorded.\n\
         Thumbnails:       {dir}/output/thumbnails/\n\
         Failure records:  {dir}/logs/failures/\n\
         Alerts (e-mail):  {dir}/outbox/\n\
         Executions:       {dir}/executions/ (photopipe executions list --data-dir {dir})\n\
         Catalog:          {}",
        files.len() - failures,
        settings.catalog_location()
    );
    if no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!("Gallery:          http://{listen}/  (executions: http://{listen}/executions; Ctrl-C stops)");
    crate::serve::serve(app, listener)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand)]
pub enum CatalogQuery {
    /// The N smallest thumbnails.
    Smallest {
        #[command(flatten)]
        local: LocalArgs,
        #[arg(long, default_value_t = 5)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Rows in a chosen order (newest first by default).
    List {
        #[command(flatten)]
        local: LocalArgs,
        #[arg(long, value_enum, default_value_t = OrderBy::UploadTime)]
        order_by: OrderBy,
        #[arg(long, value_enum)]
        direction: Option<SortDirection>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OrderBy {
    UploadTime,
    ThumbnailSize,
    OriginalSize,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SortDirection {
    Asc,
    Desc,
}

pub async fn catalog(query: CatalogQuery) -> CommandResult {
    let (local, order, direction, limit, as_json) = match query {
        CatalogQuery::Smallest { local, limit, json } => (
            local,
            CatalogOrder::ThumbnailSize,
            Direction::Asc,
            limit,
            json,
        ),
        CatalogQuery::List {
            local,
            order_by,
            direction,
            limit,
            json,
        } => {
            let order = match order_by {
                OrderBy::UploadTime => CatalogOrder::UploadTime,
                OrderBy::ThumbnailSize => CatalogOrder::ThumbnailSize,
                OrderBy::OriginalSize => CatalogOrder::OriginalSize,
            };
            let direction = match (direction, order) {
                (Some(SortDirection::Asc), _) => Direction::Asc,
                (Some(SortDirection::Desc), _) | (None, CatalogOrder::UploadTime) => {
                    Direction::Desc
                }
                (None, _) => Direction::Asc,
            };
            (local, order, direction, limit, json)
        }
    };
    let settings = Settings::resolve(&local, None)?;
    let rows = match settings.database_url.as_deref() {
        Some(url) if url.starts_with(data_api::SCHEME) => {
            data_api::list(url, order, direction, limit).await?
        }
        _ => local::open_catalog(&settings)
            .await?
            .list(order, direction, limit)
            .await
            .map_err(|e| format!("catalog: {e}"))?,
    };
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?
        );
    } else {
        print_rows(&rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_rows(rows: &[CatalogRow]) {
    println!(
        "{:<10}  {:<8}  {:>13}  {:>14}  file name",
        "date", "time", "original size", "thumbnail size"
    );
    for row in rows {
        println!(
            "{:<10}  {:<8}  {:>13}  {:>14}  {:?}",
            row.upload_date, row.upload_time, row.original_size, row.thumbnail_size, row.file_name
        );
    }
}

#[derive(clap::Subcommand)]
pub enum ExecutionsQuery {
    /// Every execution, newest first.
    List {
        #[command(flatten)]
        local: LocalArgs,
        #[arg(long)]
        json: bool,
    },
    /// One execution with its full event history.
    Show {
        #[command(flatten)]
        local: LocalArgs,
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn executions(query: ExecutionsQuery) -> CommandResult {
    match query {
        ExecutionsQuery::List { local, json } => {
            let store = local::open_executions(&Settings::resolve(&local, None)?)?;
            let executions = store.list().map_err(|e| format!("executions: {e}"))?;
            if json {
                let summaries: Vec<_> = executions
                    .iter()
                    .map(|e| {
                        serde_json::json!({"name": e.name, "status": e.status, "start_date": e.start_date,
                                           "stop_date": e.stop_date, "error": e.error})
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summaries).map_err(|e| e.to_string())?
                );
            } else {
                for e in &executions {
                    let status = serde_json::to_value(e.status)
                        .ok()
                        .and_then(|s| s.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let error = e.error.as_ref().map(|e| e.error.as_str()).unwrap_or("");
                    println!("{:<9}  {}  {}  {}", status, e.start_date, e.name, error);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ExecutionsQuery::Show { local, name, json } => {
            let store = local::open_executions(&Settings::resolve(&local, None)?)?;
            let execution = store
                .load(&name)
                .map_err(|e| format!("executions: {e}"))?
                .ok_or_else(|| format!("no execution named {name:?}"))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&execution).map_err(|e| e.to_string())?
                );
            } else {
                println!(
                    "{} ({:?}), started {}",
                    execution.name, execution.status, execution.start_date
                );
                for event in &execution.events {
                    let details = serde_json::to_value(&event.details).unwrap_or_default();
                    let kind = details.get("type").and_then(|t| t.as_str()).unwrap_or("?");
                    let state = details.get("state").and_then(|t| t.as_str()).unwrap_or("");
                    let error = details.get("error").and_then(|t| t.as_str()).unwrap_or("");
                    println!("  +{:>6} ms  {kind:<18} {state} {error}", event.elapsed_ms);
                }
                if let Some(error) = &execution.error {
                    println!("error: {}: {}", error.error, error.cause);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
