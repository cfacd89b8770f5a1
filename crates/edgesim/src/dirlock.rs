//! One run at a time per report directory: an advisory lock (flock, via
//! `std::fs::File::try_lock`) on `DIR.lock` beside the directory, held for
//! the life of the command. The operating system drops it when the
//! process dies, however it dies, so a crashed run never leaves it stuck.
//! The file names its holder (pid, start time, command) for the refusal
//! message, and is removed when the holder is done.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A held lock on a report directory; released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    path: PathBuf,
    _file: File,
}

/// The staging directory beside a report directory: `DIR.partial`.
pub(crate) fn partial_of(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().map_or_else(
        || std::ffi::OsString::from("report"),
        std::ffi::OsStr::to_os_string,
    );
    name.push(".partial");
    dir.with_file_name(name)
}

/// The report directory a (possibly staging) directory belongs to: `DIR`
/// for `DIR.partial`, else itself.
pub(crate) fn report_of(dir: &Path) -> PathBuf {
    match dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".partial"))
    {
        Some(base) if !base.is_empty() => dir.with_file_name(base),
        _ => dir.to_owned(),
    }
}

/// The lock file of report directory `dir` (and of its `DIR.partial`).
fn lock_path(dir: &Path) -> PathBuf {
    let dir = report_of(dir);
    let mut name = dir.file_name().map_or_else(
        || std::ffi::OsString::from("report"),
        std::ffi::OsStr::to_os_string,
    );
    name.push(".lock");
    dir.with_file_name(name)
}

impl DirLock {
    /// Takes the lock of report directory `dir` (its parent must exist),
    /// or fails at once naming the command that holds it.
    pub(crate) fn acquire(dir: &Path) -> anyhow::Result<DirLock> {
        let path = lock_path(dir);
        let shown = report_of(dir);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot open the lock file {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let holder = holder.trim();
                    anyhow::bail!(
                        "{} is in use by another edgesim ({}); wait for it to finish, or choose another directory",
                        shown.display(),
                        if holder.is_empty() {
                            "it is just starting".to_owned()
                        } else {
                            holder.replace('\n', ", ")
                        }
                    );
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            // A holder that finished removed the file it locked: ours may
            // be that one, unlinked. Lock the file at the path, not a ghost.
            if !same_file(&file, &path) {
                continue;
            }
            let mut file = file;
            file.set_len(0)
                .and_then(|()| file.write_all(holder_text().as_bytes()))
                .and_then(|()| file.flush())
                .with_context(|| format!("cannot write the lock file {}", path.display()))?;
            return Ok(DirLock { path, _file: file });
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Removed while still held: a process that opened it meanwhile
        // finds it is not the file at the path any more and tries again.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Who holds the lock: pid, start time and command line.
fn holder_text() -> String {
    let args: Vec<String> = std::env::args().collect();
    format!(
        "pid {}\nstarted {}\ncommand: {}\n",
        std::process::id(),
        utc_now(),
        args.join(" ")
    )
}

/// The time now as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

/// `secs` after 1970-01-01 00:00:00 UTC as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_283_045), "2026-12-03 07:30:45 UTC");
    }

    #[test]
    fn a_second_lock_is_refused_naming_the_first_and_freed_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let first = DirLock::acquire(&out).unwrap();
        let e = DirLock::acquire(&partial_of(&out)).unwrap_err().to_string();
        assert!(
            e.contains("is in use by another edgesim")
                && e.contains(&format!("pid {}", std::process::id())),
            "{e}"
        );
        drop(first);
        assert!(!tmp.path().join("out.lock").exists());
        let _again = DirLock::acquire(&out).unwrap();
    }

    #[test]
    fn partial_and_report_names() {
        let d = Path::new("reports/x");
        assert_eq!(partial_of(d), Path::new("reports/x.partial"));
        assert_eq!(report_of(&partial_of(d)), d);
        assert_eq!(report_of(d), d);
        assert_eq!(lock_path(&partial_of(d)), Path::new("reports/x.lock"));
    }
}
