//! The local execution history: one JSON file per execution in `<data dir>/executions/`,
//! rewritten as each event happens, so `photopipe executions show` and the executions page
//! show running executions too, and a restart can tell finished uploads from pending ones.

use photopipe_statemachine::{Execution, ExecutionStatus};
use std::io;
use std::path::{Path, PathBuf};

pub struct ExecutionStore {
    dir: PathBuf,
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
            .then(|| self.dir.join(format!("{name}.json")))
    }

    /// Writes the record atomically (a reader never sees half a file).
    pub fn save(&self, execution: &Execution) -> io::Result<()> {
        let path = self
            .path(&execution.name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "invalid execution name"))?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, serde_json::to_vec(execution)?)?;
        std::fs::rename(&temporary, &path)
    }

    pub fn load(&self, name: &str) -> io::Result<Option<Execution>> {
        let Some(path) = self.path(name) else {
            return Ok(None);
        };
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).map_err(io::Error::other)?,
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the execution ran to an end (a RUNNING record left by a crash is not).
    pub fn is_finished(&self, name: &str) -> io::Result<bool> {
        Ok(self
            .load(name)?
            .is_some_and(|e| e.status != ExecutionStatus::Running))
    }

    /// Every execution, newest first.
    pub fn list(&self) -> io::Result<Vec<Execution>> {
        let mut executions = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path)?;
                executions
                    .push(serde_json::from_slice::<Execution>(&bytes).map_err(io::Error::other)?);
            }
        }
        executions.sort_by(|a, b| {
            b.start_date
                .cmp(&a.start_date)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(executions)
    }
}
