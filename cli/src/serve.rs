//! `photopipe serve`: the local stand-in for everything AWS serves. The output bucket as the
//! S3 website endpoint would serve it (index and error documents included), uploads over
//! `PUT /uploads/{name}` that run the pipeline and answer with its outcome, the catalog as
//! JSON, the executions page the Step Functions console shows, health and metrics — and a
//! watcher that starts executions for files dropped into `input/`, as S3 events would.

use crate::local::{LocalPipeline, INPUT_BUCKET};
use crate::report::{outcome_json, ExecutionOutcome};
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use photopipe_pipeline::ports::{CatalogOrder, Direction};
use photopipe_pipeline::{Catalog, PortError, Storage};
use serde::Deserialize;
use serde_json::json;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

/// How often the watcher looks at `input/`.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// How long a file in `input/` must go unmodified before the watcher takes it as whole: a
/// photo still being copied in would otherwise fail as corrupt (and alert) before its
/// complete version ran. Two seconds, as file-sync tools wait (chokidar's
/// `awaitWriteFinish`).
const SETTLE_TIME: Duration = Duration::from_secs(2);
/// Executions on the executions page unless `?limit=` says otherwise.
const EXECUTIONS_SHOWN: usize = 200;
/// An upload's body is written to the input bucket in pieces of this size as it arrives.
const UPLOAD_PIECE: usize = 256 * 1024;

type App = Arc<LocalPipeline>;

pub fn router(app: App) -> Router {
    Router::new()
        .route("/uploads/{name}", put(upload))
        .route("/api/catalog", get(catalog))
        .route("/executions", get(executions_page))
        .route("/executions/{name}", get(execution_json))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/metrics", get(metrics))
        .fallback(get(website))
        .with_state(app)
}

/// Serves until the process is stopped, watching `input/` meanwhile.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    tokio::spawn(watch_input(app.clone()));
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(release_freed_memory());
    axum::serve(listener, router(app))
        .with_graceful_shutdown(stop_requested())
        .await
}

/// Resolves on Ctrl-C or SIGTERM (what systemd, `docker stop` and `kill` send), so uploads
/// in flight are answered before the server exits. A signal that cannot be listened for is
/// reported and never resolves, rather than stopping the server at once.
async fn stop_requested() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("photopipe: cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => drop(terminate.recv().await),
            Err(e) => {
                eprintln!("photopipe: cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    eprintln!("photopipe: stopping: answering the uploads in flight first");
}

/// Hands the memory freed since the last second back to the system. glibc returns only
/// the free memory at the top of its heaps, and a server's heaps, holding photos of every
/// size one after the other, keep free holes between the blocks still in use. `malloc_trim`
/// releases the free pages inside the holes too: after a 5,000-upload soak the idle server
/// was back at 39 MiB instead of 71. Once a second costs well under a millisecond.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
async fn release_freed_memory() {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        // SAFETY: malloc_trim only walks the allocator's own free lists, under its locks. Its
        // result only says whether any memory was released.
        let trim = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) });
        if let Err(e) = trim.await {
            eprintln!("photopipe: releasing freed memory: {e}");
        }
    }
}

/// Runs executions for files that appear in `input/` without one (copied in by hand, or
/// left by a restart), as S3's ObjectCreated events would start them.
async fn watch_input(app: App) {
    loop {
        let storage = &app.steps().storage;
        match app
            .pending(|key| storage.is_settled(INPUT_BUCKET, key, SETTLE_TIME))
            .await
        {
            Ok(keys) => {
                for key in keys {
                    if let Err(e) = app.process(&key).await {
                        eprintln!("photopipe: watcher: {key:?}: {e}");
                    }
                }
            }
            Err(e) => eprintln!("photopipe: watcher: {e}"),
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
}

fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"ok": false, "error": message.into()}))).into_response()
}

async fn upload(State(app): State<App>, Path(name): Path<String>, request: Request) -> Response {
    if let Err(why) = check_upload_name(&name) {
        return json_error(StatusCode::BAD_REQUEST, format!("bad file name: {why}"));
    }
    if let Err(refused) = receive_upload(&app, &name, request).await {
        return refused;
    }
    match app.process(&name).await {
        Ok(execution) => {
            let outcome = ExecutionOutcome::of(&execution);
            (StatusCode::CREATED, Json(outcome_json(&outcome))).into_response()
        }
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// Writes the request body into the input bucket as `key` while it arrives, a piece at a
/// time, so a server with many uploads in flight never holds their bodies; nothing appears
/// under the key unless the whole body arrived within the pipeline's limit.
async fn receive_upload(app: &App, key: &str, request: Request) -> Result<(), Response> {
    let limit = app.steps().config.limits.max_input_bytes;
    let too_large = || {
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is over the limit of {limit} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let storage = app.steps().storage.clone();
    let owned_key = key.to_owned();
    let mut writer = off_runtime(move || {
        storage.object_writer(INPUT_BUCKET, &owned_key, "application/octet-stream", None)
    })
    .await?;
    let mut body = request.into_body();
    let mut piece = Vec::with_capacity(UPLOAD_PIECE);
    let mut received = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            json_error(
                StatusCode::BAD_REQUEST,
                format!("the upload did not arrive whole: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // Trailers.
        };
        received += data.len() as u64;
        if received > limit {
            return Err(too_large());
        }
        piece.extend_from_slice(&data);
        if piece.len() >= UPLOAD_PIECE {
            // The piece goes to the blocking thread and comes back emptied, for the next one.
            let full = std::mem::take(&mut piece);
            (writer, piece) = off_runtime(move || {
                writer.write(&full)?;
                let mut emptied = full;
                emptied.clear();
                Ok((writer, emptied))
            })
            .await?;
        }
    }
    off_runtime(move || {
        writer.write(&piece)?;
        writer.publish(false)
    })
    .await
    .map(drop)
}

/// Runs blocking storage work on tokio's blocking threads; a failure is the server's.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PortError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage: {e}"),
        )),
        Err(e) => Err(json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("storage task failed: {e}"),
        )),
    }
}

/// Upload names become keys at the top of the input bucket: one path segment of printable
/// characters, as a browser's file name is.
fn check_upload_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 255 {
        return Err("it must be 1 to 255 bytes long");
    }
    if name.contains(['/', '\\']) {
        return Err("it must not contain / or \\");
    }
    if name.chars().any(char::is_control) {
        return Err("it must not contain control characters");
    }
    if name == "." || name == ".." {
        return Err("it must not be . or ..");
    }
    Ok(())
}

#[derive(Deserialize)]
struct CatalogQuery {
    order_by: Option<CatalogOrder>,
    direction: Option<Direction>,
    limit: Option<u32>,
}

async fn catalog(
    State(app): State<App>,
    query: Result<Query<CatalogQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "order_by is upload_time, thumbnail_size or original_size; direction asc or desc; limit a number",
        );
    };
    let order = query.order_by.unwrap_or(CatalogOrder::UploadTime);
    let direction = query.direction.unwrap_or(match order {
        CatalogOrder::UploadTime => Direction::Desc,
        _ => Direction::Asc,
    });
    let limit = query.limit.unwrap_or(100).min(1000);
    match app.steps().catalog.list(order, direction, limit).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, format!("catalog: {e}")),
    }
}

async fn metrics(State(app): State<App>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics().render(),
    )
        .into_response()
}

async fn execution_json(State(app): State<App>, Path(name): Path<String>) -> Response {
    match app.executions().load(&name) {
        Ok(Some(execution)) => Json(execution).into_response(),
        Ok(None) => json_error(StatusCode::NOT_FOUND, "no such execution"),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
struct ExecutionsQuery {
    limit: Option<NonZeroUsize>,
}

/// The executions page shows the most recent ones: reading every history ever written on
/// each request would grow without bound.
async fn executions_page(
    State(app): State<App>,
    query: Result<Query<ExecutionsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return json_error(StatusCode::BAD_REQUEST, "limit must be a positive integer");
    };
    let limit = query.limit.map_or(EXECUTIONS_SHOWN, NonZeroUsize::get);
    match app.executions().recent(limit) {
        Ok((executions, total)) => {
            Html(crate::report::executions_html(&executions, total)).into_response()
        }
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The output bucket as the S3 website endpoint serves it: `/` and `…/` are the index
/// document, a missing key is the error document with status 404.
async fn website(State(app): State<App>, uri: axum::http::Uri) -> Response {
    let storage = &app.steps().storage;
    let bucket = &app.steps().config.output_bucket;
    let Ok(path) = percent_encoding::percent_decode_str(uri.path()).decode_utf8() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut key = path.trim_start_matches('/').to_string();
    if key.is_empty() || key.ends_with('/') {
        key.push_str("index.html");
    }
    match object_response(storage, bucket, &key, StatusCode::OK).await {
        Ok(response) => response,
        Err(PortError::NotFound) => {
            object_response(storage, bucket, "error.html", StatusCode::NOT_FOUND)
                .await
                .unwrap_or_else(|_| StatusCode::NOT_FOUND.into_response())
        }
        Err(e) => {
            eprintln!("photopipe: website: {key:?}: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn object_response(
    storage: &impl Storage,
    bucket: &str,
    key: &str,
    status: StatusCode,
) -> Result<Response, PortError> {
    let head = storage.head(bucket, key).await?;
    let bytes = storage.get(bucket, key, head.size).await?;
    let content_type = head
        .content_type
        .and_then(|t| HeaderValue::from_str(&t).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(bytes))
        .map_err(|e| PortError::Permanent(e.to_string()))
}
