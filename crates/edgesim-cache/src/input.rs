//! Reading untrusted input in bounded memory, and echoing it safely.
//!
//! Every edgesim reader of user files goes through these helpers:
//!
//! * [`read_line_capped`] reads one line of a text stream but never more
//!   than a fixed number of bytes, so a file without line breaks
//!   (`/dev/zero`, a binary file, a decompression bomb) is an error at
//!   that line instead of an allocation of the whole stream;
//! * [`decompressed`] reads a stream plain, gzip or zstd, whichever its
//!   first bytes say, without reading it whole;
//! * [`read_file_capped`] reads a file that must be read whole (a
//!   scenario, a handler, an event), refusing it past a size limit
//!   without reading further;
//! * [`utf8_position`] finds the line and column of the first byte that
//!   is not UTF-8;
//! * [`excerpt`] makes a piece of input fit to print in a one-line error
//!   message: control characters (and bidirectional overrides) escaped as
//!   `\x1b` or `\u{202e}`, and cut to a fixed length with `…`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// Longest line, in bytes, that the line-oriented readers (CloudFront
/// logs, csv traces) accept: 64 KiB. Real log lines are well under 4 KiB.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Characters of input quoted in an error message before it is cut.
pub const EXCERPT_CHARS: usize = 120;

/// What [`read_line_capped`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// A line is in the buffer, without its `\n` or `\r\n`.
    Read,
    /// The stream is at its end; the buffer is empty.
    End,
    /// The line is longer than the cap; the buffer holds its first bytes
    /// and the stream is in the middle of it.
    TooLong,
}

/// Reads one line into `buffer` (cleared first), without its line ending,
/// reading at most `max + 2` bytes: a line of more than `max` bytes is
/// [`Line::TooLong`].
pub fn read_line_capped<R: BufRead + ?Sized>(
    source: &mut R,
    buffer: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    buffer.clear();
    let limit = max as u64 + 2;
    let read = source.take(limit).read_until(b'\n', buffer)?;
    if read == 0 {
        return Ok(Line::End);
    }
    let ended = buffer.last() == Some(&b'\n');
    if ended {
        buffer.pop();
        if buffer.last() == Some(&b'\r') {
            buffer.pop();
        }
    } else if read as u64 == limit {
        return Ok(Line::TooLong);
    }
    if buffer.len() > max {
        return Ok(Line::TooLong);
    }
    Ok(Line::Read)
}

/// How a stream is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (magic `1f 8b`); concatenated members read as one stream.
    Gzip,
    /// Zstandard (magic `28 b5 2f fd`); concatenated frames read as one
    /// stream.
    Zstd,
}

/// Bytes of the read buffers [`decompressed`] puts around a stream.
pub const STREAM_BUFFER_BYTES: usize = 1 << 16;

/// `reader` as a buffered text or binary stream, decompressed on the fly
/// when its first bytes are a gzip or zstd magic number (the file name is
/// not looked at). Memory: two buffers of `buffer` bytes and the
/// decompressor's window (32 KiB for gzip; for zstd the frame's window,
/// 8 MiB at most at the usual levels), whatever the stream's length.
pub fn decompressed<R: Read + Send + 'static>(
    reader: R,
    buffer: usize,
) -> io::Result<(Box<dyn BufRead + Send>, Compression)> {
    let mut raw = io::BufReader::with_capacity(buffer, reader);
    let head = raw.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(raw);
        Ok((
            Box::new(io::BufReader::with_capacity(buffer, gz)),
            Compression::Gzip,
        ))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let zs = zstd::stream::read::Decoder::with_buffer(raw)?;
        Ok((
            Box::new(io::BufReader::with_capacity(buffer, zs)),
            Compression::Zstd,
        ))
    } else {
        Ok((Box::new(raw), Compression::None))
    }
}

/// Why a file could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is larger than the limit (only `limit + 1` bytes were read).
    #[error("is larger than {limit} bytes, the limit for {what}")]
    TooLarge {
        /// The limit, bytes.
        limit: u64,
        /// What kind of file, e.g. "a scenario file".
        what: &'static str,
    },
    /// The file is not UTF-8 text.
    #[error("{line}:{col}: not valid UTF-8 (byte 0x{byte:02x}); {what} must be UTF-8 text")]
    NotUtf8 {
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column (in bytes) of the first bad byte.
        col: usize,
        /// The bad byte.
        byte: u8,
        /// What kind of file.
        what: &'static str,
    },
}

/// Reads a whole file of at most `limit` bytes; a larger one (or an
/// endless one such as `/dev/zero`) is refused after `limit + 1` bytes.
/// `what` names the kind of file in the error ("a scenario file").
pub fn read_file_capped(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit, what });
    }
    Ok(bytes)
}

/// [`read_file_capped`], then checked to be UTF-8 (the error gives the
/// line and column of the first bad byte).
pub fn read_text_capped(path: &Path, limit: u64, what: &'static str) -> Result<String, ReadError> {
    text_of(read_file_capped(path, limit, what)?, what)
}

/// `bytes` as a `String`, or where the first byte that is not UTF-8 is.
pub fn text_of(bytes: Vec<u8>, what: &'static str) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let (line, col) = utf8_position(bytes, at);
        ReadError::NotUtf8 {
            line,
            col,
            byte: bytes.get(at).copied().unwrap_or(0),
            what,
        }
    })
}

/// 1-based line and column (counted in bytes, as scenario diagnostics
/// count them) of byte offset `at` of `bytes`.
pub fn utf8_position(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - line_start + 1)
}

/// Whether `c` must not reach a terminal as it is: control characters
/// (C0, DEL, C1) and the bidirectional embedding, override and isolate
/// characters that can make text display in another order than it reads.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` made safe to print in a one-line message: control characters
/// escaped (`\x1b`, `\x0a`, `\u{202e}`), then cut after `max_chars`
/// characters with `…`.
pub fn excerpt_chars(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    for (shown, c) in text.chars().enumerate() {
        if shown >= max_chars {
            out.push('…');
            return out;
        }
        if needs_escape(c) {
            if (c as u32) < 0x80 {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// [`excerpt_chars`] with the usual length, [`EXCERPT_CHARS`].
pub fn excerpt(text: &str) -> String {
    excerpt_chars(text, EXCERPT_CHARS)
}

/// [`excerpt`] of bytes that may not be UTF-8 (bad sequences become
/// U+FFFD). Only the first few hundred bytes are looked at.
pub fn excerpt_bytes(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(EXCERPT_CHARS * 4 + 4)];
    let mut text = excerpt(&String::from_utf8_lossy(head));
    if head.len() < bytes.len() && !text.ends_with('…') {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(input: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        let mut source = io::Cursor::new(input.to_vec());
        let mut out = Vec::new();
        let mut buffer = Vec::new();
        loop {
            let line = read_line_capped(&mut source, &mut buffer, max).unwrap();
            out.push((line, buffer.clone()));
            if line != Line::Read {
                return out;
            }
        }
    }

    #[test]
    fn lines_up_to_the_cap_are_read_longer_ones_are_not() {
        let got = lines(b"abcd\r\nabcde\n", 4);
        assert_eq!(got[0], (Line::Read, b"abcd".to_vec()));
        assert_eq!(got[1].0, Line::TooLong);
        assert_eq!(lines(b"abcd", 4)[0], (Line::Read, b"abcd".to_vec()));
        assert_eq!(lines(b"abcde", 4)[0].0, Line::TooLong);
        assert_eq!(lines(b"", 4)[0].0, Line::End);
        assert_eq!(lines(b"a\n\nb", 4).len(), 4);
    }

    #[test]
    fn an_endless_stream_is_refused_after_the_cap() {
        let mut zeros = io::BufReader::new(io::repeat(0));
        let mut buffer = Vec::new();
        let line = read_line_capped(&mut zeros, &mut buffer, MAX_LINE_BYTES).unwrap();
        assert_eq!(line, Line::TooLong);
        assert!(buffer.len() <= MAX_LINE_BYTES + 2);
    }

    #[test]
    fn files_over_the_limit_are_refused() {
        let e = read_file_capped(Path::new("/dev/zero"), 1000, "a test file").unwrap_err();
        assert_eq!(
            e.to_string(),
            "is larger than 1000 bytes, the limit for a test file"
        );
    }

    #[test]
    fn invalid_utf8_has_a_line_and_column() {
        let e = text_of(b"a = 1\nb = \"x\xffy\"\n".to_vec(), "a scenario file").unwrap_err();
        assert_eq!(
            e.to_string(),
            "2:7: not valid UTF-8 (byte 0xff); a scenario file must be UTF-8 text"
        );
        assert_eq!(utf8_position(b"\xff", 0), (1, 1));
    }

    #[test]
    fn excerpts_escape_control_characters_and_are_cut() {
        assert_eq!(excerpt("a\x1b[31mb\n"), "a\\x1b[31mb\\x0a");
        assert_eq!(excerpt("\u{202e}x\u{9b}"), "\\u{202e}x\\u{9b}");
        let long = "é".repeat(500);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt_bytes(b"ab\xffc"), "ab\u{fffd}c");
        assert!(excerpt_bytes(&[b'x'; 10_000]).ends_with('…'));
    }

    proptest! {
        #[test]
        fn excerpts_never_hold_control_characters(text in ".*") {
            let out = excerpt(&text);
            prop_assert!(!out.chars().any(needs_escape));
            prop_assert!(out.chars().count() <= EXCERPT_CHARS * 10 + 1);
        }

        #[test]
        fn capped_lines_never_exceed_the_cap(input in proptest::collection::vec(any::<u8>(), 0..512), max in 1usize..64) {
            for (line, buffer) in lines(&input, max) {
                prop_assert!(buffer.len() <= max + 2);
                if line == Line::Read {
                    prop_assert!(buffer.len() <= max);
                    prop_assert!(!buffer.contains(&b'\n'));
                }
            }
        }
    }
}
