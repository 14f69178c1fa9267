//! How an execution is shown to people and tools: the `{"ok", "execution", "catalog" |
//! "failure"}` answer of `PUT /uploads` and `photopipe run --json`, the executions page
//! (the local Step Functions console) and the text lines of the commands. Everything taken
//! from an upload is escaped before it reaches HTML.

use photopipe_statemachine::{EventDetails, Execution, ExecutionStatus};
use serde_json::{json, Value};
use std::fmt::Write;

/// What an execution produced: its catalog row, or its failure record.
pub struct ExecutionOutcome<'a> {
    pub execution: &'a Execution,
    pub catalog: Option<&'a Value>,
    pub failure: Option<&'a Value>,
}

impl<'a> ExecutionOutcome<'a> {
    pub fn of(execution: &'a Execution) -> Self {
        let catalog = execution.output.as_ref().and_then(|o| o.get("catalog"));
        // A failed execution has no output; the OnFailure task's result is its record.
        let failure = execution
            .events
            .iter()
            .rev()
            .find_map(|event| match &event.details {
                EventDetails::TaskSucceeded { state, output, .. } if state == "OnFailure" => {
                    Some(output)
                }
                _ => None,
            });
        ExecutionOutcome {
            execution,
            catalog,
            failure,
        }
    }

    pub fn ok(&self) -> bool {
        self.execution.status == ExecutionStatus::Succeeded
    }
}

pub fn outcome_json(outcome: &ExecutionOutcome) -> Value {
    let execution = &outcome.execution.name;
    if outcome.ok() {
        json!({"ok": true, "execution": execution, "catalog": outcome.catalog})
    } else {
        // Without a record (OnFailure itself failed for good) the execution's error is all
        // there is; it must still reach the caller.
        let failure = outcome.failure.cloned().unwrap_or_else(|| {
            let error = outcome.execution.error.as_ref();
            json!({
                "error_type": error.map(|e| e.error.as_str()),
                "error_message": error.map(|e| e.cause.as_str()),
                "execution_name": execution,
            })
        });
        json!({"ok": false, "execution": execution, "failure": failure})
    }
}

/// One line for a terminal.
pub fn outcome_line(key: &str, outcome: &ExecutionOutcome) -> String {
    let text = |v: Option<&Value>, field: &str| {
        v.and_then(|v| v.get(field))
            .map(|f| f.as_str().map_or_else(|| f.to_string(), str::to_string))
            .unwrap_or_default()
    };
    if outcome.ok() {
        format!(
            "ok    {key:?}: thumbnail {} ({} bytes), execution {}",
            text(outcome.catalog, "thumbnail_key"),
            text(outcome.catalog, "thumbnail_size"),
            outcome.execution.name
        )
    } else {
        format!(
            "FAIL  {key:?}: {}: {}, execution {}",
            text(outcome.failure, "error_type"),
            text(outcome.failure, "error_message"),
            outcome.execution.name
        )
    }
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An RFC 3339 UTC time as `<time>`, shown as date and time (which may wrap between them).
fn time_html(rfc3339: &str) -> String {
    if rfc3339.is_empty() {
        return String::new();
    }
    let shown = rfc3339.replacen('T', " ", 1);
    format!(
        "<time datetime=\"{}\">{}</time>",
        escape_html(rfc3339),
        escape_html(shown.trim_end_matches('Z'))
    )
}

/// The executions page: newest first, each with its states as the console lists them;
/// `total` is how many there are in all.
pub fn executions_html(executions: &[Execution], total: usize) -> String {
    let mut rows = String::new();
    for execution in executions {
        let states: Vec<String> = execution
            .events
            .iter()
            .filter_map(|e| match &e.details {
                EventDetails::StateExited { state, .. } => Some(state.clone()),
                EventDetails::TaskFailed { state, error, .. } => Some(format!("{state} ✗ {error}")),
                EventDetails::RetryScheduled { state, attempt, .. } => {
                    Some(format!("{state} retry {attempt}"))
                }
                _ => None,
            })
            .collect();
        // A Task's cause is its error JSON; its message is what a person needs.
        let error = execution
            .error
            .as_ref()
            .map(|e| {
                let cause = serde_json::from_str::<Value>(&e.cause).ok();
                let message = cause.as_ref().and_then(|c| c["errorMessage"].as_str());
                format!("{}: {}", e.error, message.unwrap_or(&e.cause))
            })
            .unwrap_or_default();
        let key = execution.input["key"].as_str().unwrap_or("");
        let status = format!("{:?}", execution.status).to_uppercase();
        let _ = writeln!(
            rows,
            "<tr><td class=\"file\">{key}</td><td><a href=\"/executions/{href}\">{name}</a></td>\
             <td class=\"{class}\">{status}</td><td>{start}</td><td>{stop}</td><td>{states}</td><td>{error}</td></tr>",
            href = escape_html(&percent_encoding::utf8_percent_encode(&execution.name, percent_encoding::NON_ALPHANUMERIC).to_string()),
            key = escape_html(key),
            name = escape_html(&execution.name),
            class = status.to_lowercase(),
            start = time_html(&execution.start_date),
            stop = time_html(execution.stop_date.as_deref().unwrap_or("")),
            states = escape_html(&states.join(" → ")),
            error = escape_html(&error),
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'self'\">\
         <title>Executions · photopipe</title><link rel=\"stylesheet\" href=\"/assets/gallery.css\"></head>\
         <body><main class=\"wrap executions\"><h1>Executions</h1><p>{count}, newest first. \
         Each links to its full history as JSON. <a href=\"/\">Gallery</a></p>\
         <div class=\"table-scroll\"><table><thead><tr><th>File</th><th>Execution</th><th>Status</th><th>Started (UTC)</th>\
         <th>Stopped (UTC)</th><th>States</th><th>Error</th></tr></thead>\
         <tbody>\n{rows}</tbody></table></div></main></body></html>\n",
        count = if executions.len() < total {
            format!(
                "The {} most recent of {total} executions (<a href=\"/executions?limit={total}\">all</a>)",
                executions.len()
            )
        } else {
            format!("{total} executions")
        }
    )
}
