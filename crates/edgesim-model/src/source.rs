//! Positions in scenario files and the diagnostics that point at them.

use std::fmt;
use std::ops::Range;

/// Maps byte offsets of one source text to 1-based line and column.
#[derive(Debug, Clone)]
pub struct SourceMap {
    name: String,
    line_starts: Vec<usize>,
    text_len: usize,
}

impl SourceMap {
    /// Indexes `text`, known to the user as `name` (usually its path).
    pub fn new(name: impl Into<String>, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            name: name.into(),
            line_starts,
            text_len: text.len(),
        }
    }

    /// The name the source is known by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 1-based (line, column) of a byte offset; columns count bytes.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text_len);
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        (line + 1, offset - self.line_starts[line] + 1)
    }

    /// A diagnostic at the start of `span`.
    pub fn diagnostic(
        &self,
        span: Range<usize>,
        entity: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, col) = self.line_col(span.start);
        Diagnostic {
            file: self.name.clone(),
            line,
            col,
            entity: entity.into(),
            message: message.into(),
        }
    }
}

/// One problem found in a scenario, with where it is and what it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// The entity concerned, e.g. `pop "fra1"`; empty for file-level problems.
    pub entity: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

/// Characters of a diagnostic's entity shown before it is cut.
const ENTITY_CHARS: usize = 120;
/// Characters of a diagnostic's message shown before it is cut (messages
/// quote values from the file, which may be long).
const MESSAGE_CHARS: usize = 400;
/// Diagnostics of one file shown; the rest are counted in a last line.
pub const MAX_SHOWN: usize = 200;

impl Diagnostic {
    /// `file:line:col: ` then `label`, the entity and the message.
    fn write(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        use edgesim_cache::input::excerpt_chars;
        write!(
            f,
            "{}:{}:{}: {label}",
            excerpt_chars(&self.file, MESSAGE_CHARS),
            self.line,
            self.col
        )?;
        if !self.entity.is_empty() {
            write!(f, "{}: ", excerpt_chars(&self.entity, ENTITY_CHARS))?;
        }
        f.write_str(&excerpt_chars(&self.message, MESSAGE_CHARS))
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: entity: message`, on one line: control characters
    /// in the entity and message (which quote the file) are escaped, and
    /// both are cut when long.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "")
    }
}

/// A diagnostic shown as a warning: `file:line:col: warning: entity:
/// message` (something allowed but probably not meant; nothing fails).
#[derive(Debug, Clone, Copy)]
pub struct Warning<'a>(pub &'a Diagnostic);

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, "warning: ")
    }
}

/// Every problem found in one scenario, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    /// One line per diagnostic, the first [`MAX_SHOWN`] of them, then how
    /// many more there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        if let Some(first) = self.0.get(MAX_SHOWN) {
            write!(
                f,
                "\n{}: ... and {} more problem(s) not shown",
                first.file,
                self.0.len() - MAX_SHOWN
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let map = SourceMap::new("a.toml", "ab\ncd\n\nx");
        assert_eq!(map.line_col(0), (1, 1));
        assert_eq!(map.line_col(1), (1, 2));
        assert_eq!(map.line_col(3), (2, 1));
        assert_eq!(map.line_col(6), (3, 1));
        assert_eq!(map.line_col(7), (4, 1));
        assert_eq!(map.line_col(99), (4, 2));
    }

    #[test]
    fn diagnostics_escape_control_bytes_and_cut_long_text() {
        let map = SourceMap::new("s.toml", "x\n");
        let d = map.diagnostic(
            0..1,
            "pop \"\u{1b}[2J\"",
            format!("id \"{}\"", "x".repeat(1000)),
        );
        let shown = d.to_string();
        assert!(
            shown.starts_with("s.toml:1:1: pop \"\\x1b[2J\": id \"xxx"),
            "{shown}"
        );
        assert!(shown.ends_with('…'), "{shown}");
        assert!(shown.chars().count() < 450, "{shown}");
        let many = Diagnostics(vec![d; MAX_SHOWN + 5]);
        let text = many.to_string();
        assert_eq!(text.lines().count(), MAX_SHOWN + 1);
        assert!(
            text.ends_with("s.toml: ... and 5 more problem(s) not shown"),
            "{text}"
        );
    }

    #[test]
    fn warnings_say_so_after_the_position() {
        let map = SourceMap::new("s.toml", "x\ny = 1\n");
        let d = map.diagnostic(2..3, "network", "too fast");
        assert_eq!(
            Warning(&d).to_string(),
            "s.toml:2:1: warning: network: too fast"
        );
    }

    #[test]
    fn diagnostic_display_names_file_entity_and_problem() {
        let map = SourceMap::new("s.toml", "x\ny = 1\n");
        let d = map.diagnostic(2..3, "pop \"fra1\"", "cache_bytes must be > 0");
        assert_eq!(
            d.to_string(),
            "s.toml:2:1: pop \"fra1\": cache_bytes must be > 0"
        );
    }
}
