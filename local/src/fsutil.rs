//! File-system helpers shared by the folder buckets and the mail outbox: writes that readers
//! and folder watchers never see half done, and the mapping of io errors onto
//! [`PortError`]s, so a full disk is retried by the state machine while a permission
//! problem is not.

use photopipe_pipeline::PortError;
use std::fmt::Display;
use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Names of temporary files start with a dot: keys never map to such names (see
/// [`crate::storage`]), so listings and watchers skip them.
const TEMP_PREFIX: &str = ".photopipe-tmp-";

/// Whether a write waits for the disk (an fsync costs milliseconds per file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sync {
    Flush,
    Skip,
}

/// A file being written next to its destination, removed on drop unless it was moved there.
pub(crate) struct TempFile {
    path: PathBuf,
    file: File,
}

impl TempFile {
    /// A new, empty file in `dir` (created if missing).
    pub(crate) fn create(dir: &Path) -> io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        fs::create_dir_all(dir)?;
        // Unique among live processes; a leftover of a crashed one is simply overwritten.
        let name = format!(
            "{TEMP_PREFIX}{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = File::create(&path)?;
        Ok(TempFile { path, file })
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    /// Ends the writing. With [`Sync::Flush`] the file is flushed to disk, so the rename that
    /// publishes it never publishes an empty file after a crash; data that can be rebuilt
    /// skips that cost ([`Sync::Skip`]). The metadata returned is taken after the last write:
    /// a rename keeps the inode and the modification time, so it describes the destination
    /// too.
    pub(crate) fn finish(&self, sync: Sync) -> io::Result<Metadata> {
        if sync == Sync::Flush {
            self.file.sync_data()?;
        }
        self.file.metadata()
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Moves the file to `target`, replacing whatever is there, atomically.
    pub(crate) fn replace(self, target: &Path) -> io::Result<()> {
        fs::rename(&self.path, target)
        // On success the drop's removal finds nothing to remove.
    }

    /// Moves the file to `target` only if nothing is there, atomically (`link(2)` fails
    /// when the name exists): `false` when it was taken.
    pub(crate) fn create_new(self, target: &Path) -> io::Result<bool> {
        match fs::hard_link(&self.path, target) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(err) => Err(err),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Nothing to do when it was renamed away; any other failure leaves a dot-file that
        // nothing reads.
        let _ = fs::remove_file(&self.path);
    }
}

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a part.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], sync: Sync) -> io::Result<()> {
    let mut temp = TempFile::create(path.parent().unwrap_or(Path::new(".")))?;
    temp.write_all(bytes)?;
    temp.finish(sync)?;
    temp.replace(path)
}

/// `err` while working on `what`, classified: missing → [`PortError::NotFound`]; a full
/// disk, an I/O error, too many open files, a busy resource → [`PortError::Transient`];
/// anything else (permissions, a name too long, a file where a folder should be) →
/// [`PortError::Permanent`].
pub(crate) fn port_error(what: impl Display, err: io::Error) -> PortError {
    use ErrorKind::*;
    // EIO, ENFILE, EMFILE: no stable ErrorKind of their own.
    const EIO: i32 = 5;
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    match err.kind() {
        NotFound | NotADirectory | IsADirectory => PortError::NotFound,
        StorageFull
        | QuotaExceeded
        | ResourceBusy
        | StaleNetworkFileHandle
        | TimedOut
        | Interrupted
        | WouldBlock
        | OutOfMemory => PortError::Transient(format!("{what}: {err}")),
        _ if matches!(err.raw_os_error(), Some(EIO | ENFILE | EMFILE)) => {
            PortError::Transient(format!("{what}: {err}"))
        }
        _ => PortError::Permanent(format!("{what}: {err}")),
    }
}

/// Runs blocking file-system work off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PortError> + Send + 'static,
) -> Result<T, PortError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| PortError::Permanent(format!("file-system task failed: {err}")))?
}
