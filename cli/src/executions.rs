//! The local execution history: one file per execution in `<data dir>/executions/`, so
//! `photopipe executions show` and the executions page show running executions too, and a
//! restart can tell finished uploads from pending ones.
//!
//! Each file is JSON lines, appended as the execution runs: first the execution as it
//! started, then its events, last how it ended. Appending (instead of rewriting the record
//! through a new file at each step) keeps the local pipeline at one new file per execution:
//! creating files, not writing bytes, is what a busy pipeline pays for on ext4. Every
//! append is one `write` of whole lines, and readers take only newline-terminated lines,
//! so a reader never sees half an event, even while the execution runs or after a crash.

use photopipe_statemachine::{Execution, ExecutionStatus, HistoryEvent, TaskError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const EXTENSION: &str = "jsonl";
/// How a history's last line starts once the execution has ended ([`Line::End`]).
const END_PREFIX: &[u8] = br#"{"end":"#;

pub struct ExecutionStore {
    dir: PathBuf,
}

/// One line of a history file: read as owned values ([`StoredLine`]), written from borrowed
/// ones, so appending an event does not copy it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line<S, E, N> {
    /// The execution as it started (status RUNNING, no events).
    Start(S),
    Event(E),
    End(N),
}

type StoredLine = Line<Execution, HistoryEvent, Ending>;
type NewLine<'a> = Line<&'a Execution, &'a HistoryEvent, &'a Ending>;

#[derive(Serialize, Deserialize)]
struct Ending {
    status: ExecutionStatus,
    output: Option<Value>,
    error: Option<TaskError>,
    stop_date: Option<String>,
}

/// Appends one execution's record to its file as the execution runs.
pub struct HistoryWriter {
    path: PathBuf,
    /// Opened at the first append.
    file: Option<File>,
    events_written: usize,
}

impl ExecutionStore {
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(ExecutionStore {
            dir: dir.to_path_buf(),
        })
    }

    /// Execution names are validated by the trigger (no `/`, no `..`), so a name is a safe
    /// file name; anything else is refused rather than trusted.
    fn path(&self, name: &str) -> Option<PathBuf> {
        photopipe_pipeline::keys::is_valid_execution_name(name)
            .then(|| self.dir.join(format!("{name}.{EXTENSION}")))
    }

    /// A writer for the execution `name`; its first append replaces what an interrupted
    /// run of the same name left behind.
    pub fn writer(&self, name: &str) -> io::Result<HistoryWriter> {
        let path = self
            .path(name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "invalid execution name"))?;
        Ok(HistoryWriter {
            path,
            file: None,
            events_written: 0,
        })
    }

    pub fn load(&self, name: &str) -> io::Result<Option<Execution>> {
        let Some(path) = self.path(name) else {
            return Ok(None);
        };
        match std::fs::read(&path) {
            Ok(bytes) => parse(&bytes).map_err(|e| corrupt(&path, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the execution ran to an end (a RUNNING record left by a crash is not): its
    /// last complete line is the ending. The watcher asks this of every upload each second,
    /// so it does not parse the history.
    pub fn is_finished(&self, name: &str) -> io::Result<bool> {
        let Some(path) = self.path(name) else {
            return Ok(false);
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(end) => &bytes[..end],
            None => return Ok(false),
        };
        let last_line = complete.rsplit(|&b| b == b'\n').next().unwrap_or_default();
        Ok(last_line.starts_with(END_PREFIX))
    }

    /// Every execution, newest first.
    pub fn list(&self) -> io::Result<Vec<Execution>> {
        Ok(self.recent(usize::MAX)?.0)
    }

    /// The `limit` executions written to last (by file time: only those files are read), newest
    /// first, and how many there are in all.
    pub fn recent(&self, limit: usize) -> io::Result<(Vec<Execution>, usize)> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == EXTENSION) {
                files.push((entry.metadata()?.modified()?, path));
            }
        }
        let total = files.len();
        files.sort_unstable_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        let mut executions = Vec::new();
        for (_, path) in files.into_iter().take(limit) {
            let bytes = std::fs::read(&path)?;
            // None: a file just created, its first line not yet written.
            if let Some(execution) = parse(&bytes).map_err(|e| corrupt(&path, e))? {
                executions.push(execution);
            }
        }
        executions.sort_by(|a, b| {
            b.start_date
                .cmp(&a.start_date)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok((executions, total))
    }
}

impl HistoryWriter {
    /// Appends what `record` holds that the file does not yet: the new events, and the
    /// ending once the execution has ended.
    pub fn append(&mut self, record: &Execution) -> io::Result<()> {
        let mut lines = Vec::new();
        if self.file.is_none() {
            let start = Execution {
                name: record.name.clone(),
                execution_id: record.execution_id.clone(),
                state_machine: record.state_machine.clone(),
                status: ExecutionStatus::Running,
                input: record.input.clone(),
                output: None,
                error: None,
                start_date: record.start_date.clone(),
                stop_date: None,
                events: Vec::new(),
            };
            push_line(&mut lines, &Line::Start(&start))?;
        }
        for event in &record.events[self.events_written..] {
            push_line(&mut lines, &Line::Event(event))?;
        }
        if record.status != ExecutionStatus::Running {
            let ending = Ending {
                status: record.status,
                output: record.output.clone(),
                error: record.error.clone(),
                stop_date: record.stop_date.clone(),
            };
            push_line(&mut lines, &Line::End(&ending))?;
        }
        let file = match &mut self.file {
            Some(file) => file,
            none => none.insert(
                OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&self.path)?,
            ),
        };
        file.write_all(&lines)?;
        self.events_written = record.events.len();
        Ok(())
    }
}

fn push_line(buffer: &mut Vec<u8>, line: &NewLine) -> io::Result<()> {
    serde_json::to_writer(&mut *buffer, line)?;
    buffer.push(b'\n');
    Ok(())
}

/// The execution a history file records; `None` for a file whose first line is not yet
/// complete. An unterminated last line is an append in progress (or cut short by a crash)
/// and is left out.
fn parse(bytes: &[u8]) -> Result<Option<Execution>, String> {
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => return Ok(None),
    };
    let mut lines = complete.split(|&b| b == b'\n').enumerate();
    let mut execution = None;
    for (index, line) in &mut lines {
        let line: StoredLine =
            serde_json::from_slice(line).map_err(|e| format!("line {}: {e}", index + 1))?;
        match (line, &mut execution) {
            (Line::Start(start), None) => execution = Some(start),
            (Line::Event(event), Some(execution)) => execution.events.push(event),
            (Line::End(ending), Some(execution)) => {
                execution.status = ending.status;
                execution.output = ending.output;
                execution.error = ending.error;
                execution.stop_date = ending.stop_date;
            }
            _ => return Err(format!("line {}: out of order", index + 1)),
        }
    }
    Ok(execution)
}

fn corrupt(path: &Path, message: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {message}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use photopipe_statemachine::EventDetails;
    use serde_json::json;

    /// A fresh folder for one test, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "photopipe-executions-{}-{test}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            Scratch(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn event(id: u32, details: EventDetails) -> HistoryEvent {
        HistoryEvent {
            id,
            timestamp: "2026-11-28T10:00:00.000Z".into(),
            elapsed_ms: u64::from(id),
            details,
        }
    }

    fn running() -> Execution {
        Execution {
            name: "photo-1".into(),
            execution_id: "arn:aws:states:local:000000000000:execution:m:photo-1".into(),
            state_machine: "m".into(),
            status: ExecutionStatus::Running,
            input: json!({"key": "a.jpg"}),
            output: None,
            error: None,
            start_date: "2026-11-28T10:00:00.000Z".into(),
            stop_date: None,
            events: vec![event(
                1,
                EventDetails::ExecutionStarted {
                    input: json!({"key": "a.jpg"}),
                },
            )],
        }
    }

    #[test]
    fn appends_read_back_as_the_record_at_each_point() {
        let dir = Scratch::new("appends");
        let store = ExecutionStore::open(dir.path()).unwrap();
        let mut record = running();
        let mut writer = store.writer(&record.name).unwrap();
        writer.append(&record).unwrap();
        assert_eq!(store.load("photo-1").unwrap(), Some(record.clone()));
        assert!(!store.is_finished("photo-1").unwrap());

        record.events.push(event(
            2,
            EventDetails::StateEntered {
                state: "Validate".into(),
                input: json!({}),
            },
        ));
        record.events.push(event(
            3,
            EventDetails::ExecutionSucceeded {
                output: json!({"ok": true}),
            },
        ));
        record.status = ExecutionStatus::Succeeded;
        record.output = Some(json!({"ok": true}));
        record.stop_date = Some("2026-11-28T10:00:01.000Z".into());
        writer.append(&record).unwrap();
        assert_eq!(store.load("photo-1").unwrap(), Some(record.clone()));
        assert!(store.is_finished("photo-1").unwrap());
        // Cut inside the ending line (a crash mid-append): not finished.
        let path = dir.path().join("photo-1.jsonl");
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 2]).unwrap();
        assert!(!store.is_finished("photo-1").unwrap());
        std::fs::write(&path, &whole).unwrap();
        assert_eq!(store.list().unwrap(), vec![record]);
    }

    #[test]
    fn an_unfinished_line_is_left_out_and_a_new_run_starts_the_file_afresh() {
        let dir = Scratch::new("unfinished");
        let store = ExecutionStore::open(dir.path()).unwrap();
        let record = running();
        store.writer(&record.name).unwrap().append(&record).unwrap();
        let path = dir.path().join("photo-1.jsonl");
        let mut torn = std::fs::read(&path).unwrap();
        torn.extend_from_slice(br#"{"event":{"id":2,"timest"#);
        std::fs::write(&path, &torn).unwrap();
        assert_eq!(store.load("photo-1").unwrap(), Some(record.clone()));

        // A file cut inside its first line is an execution not yet recorded.
        std::fs::write(&path, &torn[..10]).unwrap();
        assert_eq!(store.load("photo-1").unwrap(), None);
        assert!(store.list().unwrap().is_empty());

        // The rerun after a crash replaces the leftover.
        std::fs::write(&path, &torn).unwrap();
        store.writer(&record.name).unwrap().append(&record).unwrap();
        let rewritten = std::fs::read(&path).unwrap();
        assert_eq!(rewritten.iter().filter(|&&b| b == b'\n').count(), 2);
        assert_eq!(store.load("photo-1").unwrap(), Some(record));
    }

    #[test]
    fn recent_reads_only_the_files_written_to_last() {
        let dir = Scratch::new("recent");
        let store = ExecutionStore::open(dir.path()).unwrap();
        let written = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
        for (n, age_s) in [(1, 30), (2, 10), (3, 20)] {
            let record = Execution {
                name: format!("photo-{n}"),
                start_date: format!("2026-11-28T10:00:0{n}.000Z"),
                ..running()
            };
            store.writer(&record.name).unwrap().append(&record).unwrap();
            std::fs::File::options()
                .write(true)
                .open(dir.path().join(format!("photo-{n}.jsonl")))
                .unwrap()
                .set_modified(written - std::time::Duration::from_secs(age_s))
                .unwrap();
        }
        let (recent, total) = store.recent(2).unwrap();
        let names: Vec<_> = recent.iter().map(|e| e.name.as_str()).collect();
        assert_eq!((names, total), (vec!["photo-3", "photo-2"], 3));
        assert_eq!(store.list().unwrap().len(), 3);
    }

    #[test]
    fn a_damaged_complete_line_is_an_error_naming_the_file() {
        let dir = Scratch::new("damaged");
        let store = ExecutionStore::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("photo-1.jsonl"), b"{\"event\":\n").unwrap();
        let err = store.load("photo-1").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("photo-1.jsonl: line 1"), "{err}");
    }

    #[test]
    fn names_that_are_not_execution_names_are_refused() {
        let dir = Scratch::new("refused");
        let store = ExecutionStore::open(dir.path()).unwrap();
        assert!(store.writer("../escape").is_err());
        assert_eq!(store.load("../escape").unwrap(), None);
    }
}
