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

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if !self.entity.is_empty() {
            write!(f, "{}: ", self.entity)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in one scenario, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
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
    fn diagnostic_display_names_file_entity_and_problem() {
        let map = SourceMap::new("s.toml", "x\ny = 1\n");
        let d = map.diagnostic(2..3, "pop \"fra1\"", "cache_bytes must be > 0");
        assert_eq!(
            d.to_string(),
            "s.toml:2:1: pop \"fra1\": cache_bytes must be > 0"
        );
    }
}
