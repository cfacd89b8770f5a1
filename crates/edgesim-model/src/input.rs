//! The files edgesim reads whole, and how large each may be: scenario
//! files, trigger handler sources, events and bodies for `trigger test`.
//! Each is read with [`edgesim_cache::input::read_file_capped`], so an
//! oversized or endless file (`/dev/zero`) is refused after the limit
//! instead of filling memory; text files must be UTF-8, and the error for
//! one that is not gives the line and column of the first bad byte.

use std::path::Path;

pub use edgesim_cache::input::ReadError;
use edgesim_cache::input::{read_file_capped, read_text_capped};

/// Largest scenario file: 1 MiB (the shipped ones are under 40 KiB; one
/// at the limit of 5,000 PoPs, written as cloudfront-scale.toml writes its
/// 450, is under 450 KiB). Parsing a file of this size into a TOML tree
/// takes about 50 MB at most.
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Largest trigger handler source: 50 MiB, CloudFront's largest function
/// package (origin-facing triggers; viewer triggers are held to 1 MiB
/// when the scenario is validated).
pub const MAX_HANDLER_BYTES: u64 = 50 << 20;

/// Largest event JSON for `edgesim trigger test`: 4 MiB (a CloudFront
/// event with a 1 MB body, base64-encoded, is under 1.5 MB).
pub const MAX_EVENT_BYTES: u64 = 4 << 20;

/// Largest request body file for `edgesim trigger test --body`: 4 MiB
/// (functions see at most the first 1 MB of a body).
pub const MAX_BODY_BYTES: u64 = 4 << 20;

/// A file that could not be read, with its name: `file: cause`, or
/// `file:line:col: ...` for text that is not UTF-8.
#[derive(Debug, thiserror::Error)]
pub struct FileError {
    /// The file as the user named it.
    pub path: String,
    /// What went wrong.
    pub cause: ReadError,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            ReadError::NotUtf8 { .. } => write!(f, "{}:{}", self.path, self.cause),
            cause => write!(f, "{}: {cause}", self.path),
        }
    }
}

fn named<T>(path: &Path, result: Result<T, ReadError>) -> Result<T, FileError> {
    result.map_err(|cause| FileError {
        path: path.display().to_string(),
        cause,
    })
}

/// Reads a scenario file (at most [`MAX_SCENARIO_BYTES`], UTF-8).
pub fn read_scenario(path: &Path) -> Result<String, FileError> {
    named(
        path,
        read_text_capped(path, MAX_SCENARIO_BYTES, "a scenario file"),
    )
}

/// Reads a trigger handler source (at most [`MAX_HANDLER_BYTES`], UTF-8).
pub fn read_handler(path: &Path) -> Result<String, FileError> {
    named(
        path,
        read_text_capped(path, MAX_HANDLER_BYTES, "a handler source"),
    )
}

/// Reads an event JSON file (at most [`MAX_EVENT_BYTES`], UTF-8).
pub fn read_event(path: &Path) -> Result<String, FileError> {
    named(
        path,
        read_text_capped(path, MAX_EVENT_BYTES, "an event file"),
    )
}

/// Reads a request body file (at most [`MAX_BODY_BYTES`], any bytes).
pub fn read_body(path: &Path) -> Result<Vec<u8>, FileError> {
    named(path, read_file_capped(path, MAX_BODY_BYTES, "a body file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_files_are_refused_naming_the_file_and_limit() {
        let e = read_scenario(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/zero: is larger than 1048576 bytes, the limit for a scenario file"
        );
        let e = read_handler(Path::new("/nonexistent/h.js")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/h.js: "), "{e}");
    }

    #[test]
    fn a_file_that_is_not_utf8_names_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, b"name = \"a\"\n\n  x = \"\xc3\x28\"\n").unwrap();
        let e = read_scenario(&path).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "bad.toml:3:8: not valid UTF-8 (byte 0xc3); a scenario file must be UTF-8 text"
            ),
            "{e}"
        );
    }
}
