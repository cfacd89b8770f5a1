//! The first (schema) stage of scenario parsing, reporting every problem
//! of a file rather than the first.
//!
//! TOML syntax is parsed with `toml`'s recoverable parser, which lists
//! every syntax error (duplicate keys included). A file without syntax
//! errors is then deserialized into [`RawScenario`] with serde, which
//! stops at the first unknown key or mistyped value. To go on, the entry
//! at fault (the innermost key or array element whose span holds the
//! error) is removed from the parsed document and deserialization is tried
//! again, until it succeeds or [`MAX_SCHEMA_PROBLEMS`] problems are found.
//! Removing a required key makes serde report it missing next; that
//! follow-on "missing field" is recognised and not reported. The one
//! problem this cannot go past is a missing required key: serde names the
//! first of a table's missing keys only.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use crate::raw::RawScenario;
use crate::source::{Diagnostic, Diagnostics, SourceMap};

/// Most problems the schema stage looks for in one file (each costs one
/// more pass of serde over the document).
pub const MAX_SCHEMA_PROBLEMS: usize = 100;

/// Parses scenario text into its raw form, or every syntax problem (if
/// there is any) or else every schema problem, in file order.
pub(crate) fn deserialize(map: &SourceMap, text: &str) -> Result<RawScenario, Diagnostics> {
    let (mut root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        let diags = syntax
            .iter()
            .map(|e| diagnostic(map, text, e.span().unwrap_or(0..0), e.message()))
            .collect();
        return Err(sorted(diags));
    }
    let mut diags: Vec<Diagnostic> = Vec::new();
    // (table span, key) of required entries removed after a problem.
    let mut removed: Vec<(Range<usize>, String)> = Vec::new();
    loop {
        let error = match RawScenario::deserialize(toml::de::Deserializer::from(root.clone())) {
            Ok(raw) if diags.is_empty() => return Ok(raw),
            Ok(_) => return Err(sorted(diags)),
            Err(e) => e,
        };
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim_end();
        let follow_on = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
            .is_some_and(|key| removed.iter().any(|(s, k)| *s == span && k == key));
        if !follow_on {
            diags.push(diagnostic(map, text, span.clone(), message));
        }
        if diags.len() >= MAX_SCHEMA_PROBLEMS || !remove_at(&mut root, span.start, &mut removed) {
            return Err(sorted(diags));
        }
    }
}

fn sorted(mut diags: Vec<Diagnostic>) -> Diagnostics {
    diags.sort_by_key(|d| (d.line, d.col));
    diags.dedup();
    Diagnostics(diags)
}

fn diagnostic(map: &SourceMap, text: &str, span: Range<usize>, message: &str) -> Diagnostic {
    let entity = crate::scenario::enclosing_table(text, span.start);
    // serde names the Rust type a table was expected to be; say "a table".
    let message = match message.find("expected struct Raw") {
        Some(at) => format!("{}expected a table", &message[..at]),
        None => message.trim_end().to_owned(),
    };
    map.diagnostic(span, entity, message)
}

/// Whether byte `at` falls within `span` (an empty span holds its start).
fn holds(span: &Range<usize>, at: usize) -> bool {
    span.start <= at && at < span.end.max(span.start + 1)
}

/// The bytes a value and everything in it span. A table's own span is
/// only its header (`[simulation]`), so its keys are looked at too.
fn extent(value: &Spanned<DeValue<'_>>) -> Range<usize> {
    let mut span = value.span();
    let mut widen = |other: Range<usize>| {
        span.start = span.start.min(other.start);
        span.end = span.end.max(other.end);
    };
    match value.get_ref() {
        DeValue::Table(table) => {
            for (k, v) in table.iter() {
                widen(k.span());
                widen(extent(v));
            }
        }
        DeValue::Array(array) => {
            for item in array.iter() {
                widen(extent(item));
            }
        }
        _ => {}
    }
    span
}

/// Removes the innermost entry of `table` (a key or an array element)
/// whose key or value holds byte `at`; a removed key is remembered with
/// the span of its table in `removed`. False when no entry holds `at`
/// (the problem is the table itself, e.g. the document's missing key).
fn remove_at(
    table: &mut Spanned<DeTable<'_>>,
    at: usize,
    removed: &mut Vec<(Range<usize>, String)>,
) -> bool {
    let table_span = table.span();
    let Some(key) = table
        .get_ref()
        .iter()
        .find(|(k, v)| holds(&k.span(), at) || holds(&extent(v), at))
        .map(|(k, _)| k.clone())
    else {
        return false;
    };
    let inner = table.get_mut();
    let descended = !holds(&key.span(), at)
        && inner
            .get_mut(&key)
            .is_some_and(|value| remove_in_value(value, at, removed));
    if !descended {
        inner.remove(&key);
        removed.push((table_span, key.get_ref().to_string()));
    }
    true
}

/// Removes the innermost entry within `value` that holds `at`; false if
/// `value` has none (the value itself is at fault).
fn remove_in_value(
    value: &mut Spanned<DeValue<'_>>,
    at: usize,
    removed: &mut Vec<(Range<usize>, String)>,
) -> bool {
    let span = value.span();
    match value.get_mut() {
        DeValue::Table(table) => {
            let mut spanned = Spanned::new(span.clone(), std::mem::take(table));
            let done = remove_at(&mut spanned, at, removed);
            *table = spanned.into_inner();
            done
        }
        DeValue::Array(array) => {
            let Some(i) = array.iter().position(|item| holds(&extent(item), at)) else {
                return false;
            };
            if remove_in_value(&mut array.as_mut()[i], at, removed) {
                return true;
            }
            let mut kept = DeArray::new();
            for (j, item) in std::mem::replace(array, DeArray::new()).iter().enumerate() {
                if j != i {
                    kept.push(item.clone());
                }
            }
            *array = kept;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let map = SourceMap::new("s.toml", text);
        match deserialize(&map, text) {
            Ok(_) => Vec::new(),
            Err(d) => d.0.iter().map(ToString::to_string).collect(),
        }
    }

    const BASE: &str = r#"
[simulation]
duration_secs = 10

[[pops]]
id = "a"
city = "FRA"
cache_bytes = 1000

[[origins]]
id = "o"
kind = "s3"
location = "eu-central-1"

[catalog]
objects = 10
zipf_alpha = 0.8
size = 100

[viewers]
requests_per_sec = 10
countries = { DE = 1 }
"#;

    #[test]
    fn a_good_file_has_no_problems() {
        assert_eq!(problems(BASE), Vec::<String>::new());
    }

    #[test]
    fn every_unknown_key_and_wrong_type_is_reported() {
        let text = BASE
            .replace("duration_secs = 10", "duration_secs = \"ten\"\nbogus = 1")
            .replace("cache_bytes = 1000", "cache_bytes = 1000\ncolour = \"red\"")
            .replace("size = 100", "size = true")
            .replace("requests_per_sec = 10", "requests_per_sec = 10\nrate = 5");
        let found = problems(&text);
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(
            found[0].starts_with("s.toml:3:17: simulation: "),
            "{found:#?}"
        );
        assert!(found[1].contains("s.toml:4:1: simulation: unknown field `bogus`"));
        assert!(found[2].contains("s.toml:10:1: pops #1: unknown field `colour`"));
        assert!(found[3].starts_with("s.toml:20:8: catalog: "), "{found:#?}");
        assert!(
            found[4].contains("viewers: unknown field `rate`"),
            "{found:#?}"
        );
        // No follow-on "missing field `duration_secs`".
        assert!(
            !found.iter().any(|f| f.contains("missing field")),
            "{found:#?}"
        );
    }

    #[test]
    fn a_missing_table_is_reported_once() {
        let text = BASE.replace("[simulation]\nduration_secs = 10\n", "");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("missing field `simulation`"),
            "{found:#?}"
        );
    }

    #[test]
    fn every_syntax_error_is_reported() {
        let text = BASE
            .replace("objects = 10", "objects = 10\nobjects = 11")
            .replace("zipf_alpha = 0.8", "zipf_alpha = = 0.8")
            .replace("id = \"a\"", "id = \"a");
        let found = problems(&text);
        assert!(found.len() >= 3, "{found:#?}");
        assert!(
            found.iter().any(|f| f.contains("duplicate key")),
            "{found:#?}"
        );
    }

    #[test]
    fn problems_in_array_elements_and_inline_tables_are_all_found() {
        let mut text = BASE.to_owned();
        for i in 0..3 {
            text.push_str(&format!(
                "\n[[events]]\nkind = \"pop_outage\"\nat_secs = 1\npop = \"a\"\nnope{i} = 1\n"
            ));
        }
        let found = problems(&text);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[2].contains("events #3"), "{found:#?}");
    }
}
