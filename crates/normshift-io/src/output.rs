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
    /// The destination as the user named it (for messages).
    path: PathBuf,
    /// Where the output is renamed to: `path`, or the file a symbolic link `path` points to.
    target: PathBuf,
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            // Deleted under the lock: an interrupt in between would otherwise find the file
            // off the list and exit before it is gone.
            let mut list = pending();
            if let Some(i) = list.iter().position(|p| p == temp.path()) {
                list.swap_remove(i);
            }
            drop(temp);
        }
    }
}

impl AtomicFile {
    /// Creates the temporary file in the destination's directory (so the rename is atomic).
    ///
    /// A destination that is a symbolic link is written through: the output replaces the file
    /// the link points to (created if the link dangles, as `open` would), and the link stays.
    /// A destination that is a directory, or an existing device, pipe or socket, is refused
    /// here, before any work.
    ///
    /// On Unix a new output gets the mode any newly created file gets, `0o666` less the
    /// umask; an output that replaces a file gets that file's mode. The temporary file is never
    /// more readable than the output will be.
    pub fn create(path: &Path) -> Result<Self> {
        let target = resolve_links(path).map_err(|e| Error::io(path, e))?;
        let existing = std::fs::metadata(&target).ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(Error::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory; name a file to write",
                ),
            ));
        }
        // Renaming over a device, a pipe or a socket would replace it (`/dev/null` for root).
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            return Err(Error::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "is not a regular file (a device, a pipe or a socket); name a file to write",
                ),
            ));
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".normshift-").suffix(".partial");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The kernel applies the umask to this mode, as it does for any `open(O_CREAT)`:
            // a new output gets 0o666 & !umask; a replaced file's mode is restored exactly in
            // `commit`, and until then the temporary file is at most as readable as it.
            let mode = existing
                .as_ref()
                .map_or(0o666, |m| m.permissions().mode() & 0o777);
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        // Created under the lock, so that an interrupt cannot come between the file's
        // creation and its listing (and leave it behind).
        let mut list = pending();
        let temp = builder
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
        list.push(temp.path().to_path_buf());
        drop(list);
        Ok(Self {
            temp: Some(temp),
            path: path.to_path_buf(),
            target,
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
        // An output that replaces a file keeps that file's mode; a new one keeps the mode it
        // was created with (0o666 less the umask, see `create`).
        #[cfg(unix)]
        if let Ok(existing) = std::fs::metadata(&self.target) {
            use std::os::unix::fs::PermissionsExt;
            let mode = existing.permissions().mode();
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
        let persisted = temp.persist(&self.target);
        if let Some(i) = list.iter().position(|p| *p == temp_path) {
            list.swap_remove(i);
        }
        drop(list);
        persisted.map_err(|e| Error::io(&path, e.error))?;
        // The rename is in the directory: sync it too, or after a power loss the old file
        // can come back. Best effort: some file systems cannot sync a directory, and the
        // output is complete either way.
        #[cfg(unix)]
        if let Some(dir) = self.target.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

/// Most symbolic links followed in a chain before giving up, as Linux's `ELOOP` limit.
const MAX_LINKS: usize = 40;

/// The file writing to `path` reaches: `path` itself, or the end of the chain of symbolic
/// links it starts (which need not exist yet: writing through a dangling link creates its
/// target). Links in the directories above are left alone; renaming through them is fine.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Refuses an output path that names one of the inputs (also through links, `./` forms and,
/// on Unix, hard links: renaming over a hard link would leave the input intact but cut the
/// link the user named).
pub fn check_not_input(output: &Path, inputs: &[&Path]) -> Result<()> {
    let canonical_out = std::fs::canonicalize(output).ok();
    #[cfg(unix)]
    let file_id = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
    };
    for input in inputs {
        let same = match (&canonical_out, std::fs::canonicalize(input)) {
            (Some(o), Ok(i)) => *o == i,
            _ => output == *input,
        };
        #[cfg(unix)]
        let same = same || file_id(output).is_some_and(|o| file_id(input) == Some(o));
        if same {
            return Err(Error::OutputIsInput {
                path: output.to_path_buf(),
            });
        }
    }
    Ok(())
}
