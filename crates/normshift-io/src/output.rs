use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Temporary files of every [`AtomicFile`] not yet committed or dropped, so a signal handler
/// can remove them ([`remove_partial_outputs`]). Commits rename under this lock, so an
/// output is either renamed completely before the handler runs or never.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock leaves the list itself intact.
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn forget_pending(temp: &Path) {
    let mut list = pending();
    if let Some(i) = list.iter().position(|p| p == temp) {
        list.swap_remove(i);
    }
}

/// Removes the temporary file of every [`AtomicFile`] still open and keeps later commits from
/// renaming anything: for an interrupt handler that exits the process right after. Returns
/// how many files it removed.
///
/// Once called, [`AtomicFile::commit`] blocks forever (the process is about to exit), so
/// call it only on the way out.
pub fn remove_partial_outputs() -> usize {
    let list = pending();
    let mut removed = 0;
    for temp in list.iter() {
        if std::fs::remove_file(temp).is_ok() {
            removed += 1;
        }
    }
    // Held until the process exits: no commit may rename a file after this point.
    std::mem::forget(list);
    removed
}

/// A file written next to its destination under a temporary name and renamed into place by
/// [`commit`](Self::commit). Dropped without commit (an error, a panic unwinding), the
/// temporary file is removed and the destination is untouched; on SIGINT the binary calls
/// [`remove_partial_outputs`], which removes it too.
pub struct AtomicFile {
    /// `None` only after a commit.
    temp: Option<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            forget_pending(temp.path());
        }
        // Dropping `temp` deletes the file.
    }
}

impl AtomicFile {
    /// Creates the temporary file in the destination's directory (so the rename is atomic).
    pub fn create(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".normshift-")
            .suffix(".partial")
            .tempfile_in(dir)
            // tempfile's message names its own temporary path; the user named `path`.
            .map_err(|e| {
                let reason = if dir.is_dir() {
                    e.kind().to_string()
                } else {
                    format!("the directory {} does not exist", dir.display())
                };
                Error::io(path, std::io::Error::new(e.kind(), reason))
            })?;
        pending().push(temp.path().to_path_buf());
        Ok(Self {
            temp: Some(temp),
            path: path.to_path_buf(),
        })
    }

    /// The file to write into.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.temp
            .as_mut()
            .expect("the temporary file exists until commit")
            .as_file_mut()
    }

    /// The final destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the temporary file onto the destination.
    pub fn commit(mut self) -> Result<()> {
        let path = self.path.clone();
        let temp = self
            .temp
            .as_mut()
            .expect("the temporary file exists until commit");
        temp.as_file_mut()
            .flush()
            .map_err(|e| Error::io(&path, e))?;
        // Temporary files are private (0600): give the output the mode of the file it
        // replaces, or an ordinary file's 0644.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0o644);
            std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io(&path, e))?;
        }
        temp.as_file().sync_all().map_err(|e| Error::io(&path, e))?;
        // Rename under the lock: an interrupt either finds the temporary file (and removes
        // it) or finds the output complete.
        let mut list = pending();
        let temp = self
            .temp
            .take()
            .expect("the temporary file exists until commit");
        let temp_path = temp.path().to_path_buf();
        let persisted = temp.persist(&path);
        if let Some(i) = list.iter().position(|p| *p == temp_path) {
            list.swap_remove(i);
        }
        drop(list);
        persisted.map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }
}

/// Refuses an output path that names one of the inputs (also through links or `./` forms).
pub fn check_not_input(output: &Path, inputs: &[&Path]) -> Result<()> {
    let canonical_out = std::fs::canonicalize(output).ok();
    for input in inputs {
        let same = match (&canonical_out, std::fs::canonicalize(input)) {
            (Some(o), Ok(i)) => *o == i,
            _ => output == *input,
        };
        if same {
            return Err(Error::OutputIsInput {
                path: output.to_path_buf(),
            });
        }
    }
    Ok(())
}
