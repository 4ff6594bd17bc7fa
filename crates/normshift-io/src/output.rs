use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file written next to its destination under a temporary name and renamed into place by
/// [`commit`](Self::commit). Dropped without commit (an error, Ctrl-C unwinding), the temporary
/// file is removed and the destination is untouched.
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
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
            .map_err(|e| Error::io(path, e))?;
        Ok(Self {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// The file to write into.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.temp.as_file_mut()
    }

    /// The final destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the temporary file onto the destination.
    pub fn commit(mut self) -> Result<()> {
        let path = self.path.clone();
        self.temp
            .as_file_mut()
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
            std::fs::set_permissions(self.temp.path(), std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io(&path, e))?;
        }
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(&path, e))?;
        self.temp
            .persist(&path)
            .map_err(|e| Error::io(&path, e.error))?;
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
