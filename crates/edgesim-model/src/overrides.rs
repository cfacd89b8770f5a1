//! `--set path=value` overrides, applied to a scenario's TOML before
//! validation, so that every command (and every agent, which receives the
//! overridden text) sees the same scenario.
//!
//! A path is dotted keys (`simulation.seed`, `viewers.requests_per_sec`);
//! a key naming an array of tables applies the rest of the path to every
//! element (`pops.cache_bytes=4GiB` sets every PoP's cache), or to one
//! element with an index (`pops.0.cache_bytes=4GiB`). The value is read as
//! a TOML value (`42`, `0.5`, `"lru"`, `[1, 2]`, `{ dist = "fixed", value = 3 }`);
//! anything that is not valid TOML is taken as a string (`4GiB`, `s3fifo`).
//!
//! `count` after an array of tables keeps its first N entries
//! (`pops.count=50`: the first 50 PoPs), so that `edgesim sweep` can vary
//! how many there are.

use toml::{Table, Value};

/// Why an override could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--set {spec}: {problem}")]
pub struct OverrideError {
    /// The override as given.
    pub spec: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Applies `path=value` overrides to scenario text; returns the new text.
pub fn apply_overrides(text: &str, overrides: &[String]) -> Result<String, OverrideError> {
    if overrides.is_empty() {
        return Ok(text.to_owned());
    }
    let mut table: Table = text.parse().map_err(|e: toml::de::Error| OverrideError {
        spec: overrides.join(" "),
        problem: format!("the scenario is not valid TOML: {}", e.message()),
    })?;
    for spec in overrides {
        let err = |problem: String| OverrideError {
            spec: spec.clone(),
            problem,
        };
        let (path, raw) = spec
            .split_once('=')
            .ok_or_else(|| err("expected PATH=VALUE".into()))?;
        let keys: Vec<&str> = path.trim().split('.').collect();
        if keys.iter().any(|k| k.is_empty()) {
            return Err(err(format!("bad path \"{path}\"")));
        }
        let value = parse_value(raw.trim());
        set(&mut table, &keys, &value).map_err(err)?;
    }
    toml::to_string(&table).map_err(|e| OverrideError {
        spec: overrides.join(" "),
        problem: e.to_string(),
    })
}

/// A TOML value from its text, or the text itself as a string.
fn parse_value(raw: &str) -> Value {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

fn set(table: &mut Table, keys: &[&str], value: &Value) -> Result<(), String> {
    let (first, rest) = keys.split_first().expect("non-empty path");
    if rest.is_empty() {
        table.insert((*first).to_owned(), value.clone());
        return Ok(());
    }
    match table
        .entry((*first).to_owned())
        .or_insert_with(|| Value::Table(Table::new()))
    {
        Value::Table(inner) => set(inner, rest, value),
        Value::Array(items) if rest == ["count"] => {
            let n = value
                .as_integer()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    format!("`{first}.count` must be a whole number >= 1, got {value}")
                })?;
            if n > items.len() {
                return Err(format!(
                    "`{first}` has {} entries, cannot keep {n}",
                    items.len()
                ));
            }
            items.truncate(n);
            Ok(())
        }
        Value::Array(items) => {
            let (targets, rest): (Vec<usize>, &[&str]) = match rest[0].parse::<usize>() {
                Ok(i) if i < items.len() => (vec![i], &rest[1..]),
                Ok(i) => {
                    return Err(format!(
                        "`{first}` has {} entries, no entry {i}",
                        items.len()
                    ));
                }
                Err(_) => ((0..items.len()).collect(), rest),
            };
            if rest.is_empty() {
                for i in targets {
                    items[i] = value.clone();
                }
                return Ok(());
            }
            for i in targets {
                match &mut items[i] {
                    Value::Table(inner) => set(inner, rest, value)?,
                    _ => return Err(format!("`{first}` entry {i} is not a table")),
                }
            }
            Ok(())
        }
        _ => Err(format!("`{first}` is a value, not a table")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_keeps_the_first_entries_of_an_array() {
        let text = "[[pops]]\nid = \"a\"\n[[pops]]\nid = \"b\"\n[[pops]]\nid = \"c\"\n";
        let out = apply_overrides(text, &["pops.count=2".into()]).unwrap();
        let t: Table = out.parse().unwrap();
        let ids: Vec<&str> = t["pops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(
            apply_overrides(text, &["pops.count=4".into()])
                .unwrap_err()
                .to_string(),
            "--set pops.count=4: `pops` has 3 entries, cannot keep 4"
        );
        assert_eq!(
            apply_overrides(text, &["pops.count=0".into()])
                .unwrap_err()
                .to_string(),
            "--set pops.count=0: `pops.count` must be a whole number >= 1, got 0"
        );
    }

    const TEXT: &str = "name = \"x\"\n[simulation]\nduration_secs = 10\n[[pops]]\nid = \"a\"\ncache_bytes = \"1GiB\"\n[[pops]]\nid = \"b\"\ncache_bytes = \"1GiB\"\n";

    fn get(text: &str) -> Table {
        text.parse().unwrap()
    }

    #[test]
    fn sets_scalars_creates_missing_keys_and_fans_out_over_arrays() {
        let out = apply_overrides(
            TEXT,
            &[
                "simulation.seed=7".into(),
                "pops.cache_bytes=4GiB".into(),
                "pops.1.id=\"z\"".into(),
            ],
        )
        .unwrap();
        let t = get(&out);
        assert_eq!(t["simulation"]["seed"].as_integer(), Some(7));
        assert_eq!(t["simulation"]["duration_secs"].as_integer(), Some(10));
        let pops = t["pops"].as_array().unwrap();
        assert!(
            pops.iter()
                .all(|p| p["cache_bytes"].as_str() == Some("4GiB"))
        );
        assert_eq!(pops[1]["id"].as_str(), Some("z"));
        assert_eq!(pops[0]["id"].as_str(), Some("a"));
    }

    #[test]
    fn values_are_toml_or_else_strings() {
        assert_eq!(parse_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_value("s3fifo"), Value::String("s3fifo".into()));
        assert_eq!(parse_value("\"s3fifo\""), Value::String("s3fifo".into()));
        assert!(matches!(
            parse_value("{ dist = \"fixed\", value = 3 }"),
            Value::Table(_)
        ));
    }

    #[test]
    fn bad_overrides_name_themselves() {
        assert_eq!(
            apply_overrides(TEXT, &["seed".into()])
                .unwrap_err()
                .to_string(),
            "--set seed: expected PATH=VALUE"
        );
        assert_eq!(
            apply_overrides(TEXT, &["pops.5.id=1".into()])
                .unwrap_err()
                .to_string(),
            "--set pops.5.id=1: `pops` has 2 entries, no entry 5"
        );
        assert_eq!(
            apply_overrides(TEXT, &["name.x=1".into()])
                .unwrap_err()
                .to_string(),
            "--set name.x=1: `name` is a value, not a table"
        );
        assert_eq!(apply_overrides(TEXT, &[]).unwrap(), TEXT);
    }
}
