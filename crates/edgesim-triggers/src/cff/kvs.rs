//! CloudFront KeyValueStore backed by a JSON file: loading, CloudFront's size limits, and the
//! read counter the cost model bills.
//!
//! The file is either a plain object of string values (`{"/old": "/new"}`) or the import
//! format CloudFront accepts for a store (`{"data": [{"key": "/old", "value": "/new"}]}`).
//! Limits (CloudFront quotas, "Quotas on CloudFront KeyValueStore"): 5 MB a store (keys plus
//! values), keys up to 512 bytes, values up to 1 KB.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

/// Largest store: keys plus values, bytes.
pub const MAX_STORE_BYTES: usize = 5 * 1024 * 1024;
/// Longest key, bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Longest value, bytes.
pub const MAX_VALUE_BYTES: usize = 1024;

/// A loaded store, shared by every run of the function that owns it.
#[derive(Debug, Clone)]
pub struct KeyValueStore {
    name: String,
    entries: Arc<BTreeMap<String, String>>,
    reads: Arc<AtomicU64>,
}

impl KeyValueStore {
    /// Parse the store file `name` (shown in messages) and check CloudFront's limits,
    /// reporting every entry that breaks one.
    pub fn parse(name: &str, text: &str) -> Result<KeyValueStore, Vec<String>> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| vec![format!("key value store `{name}` is not JSON: {e}")])?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut errors = Vec::new();
        let shape = || {
            vec![format!(
                "key value store `{name}` must be an object of string values or {{\"data\": [{{\"key\": ..., \"value\": ...}}]}}"
            )]
        };
        match &value {
            Value::Object(map)
                if map.len() == 1 && map.get("data").is_some_and(Value::is_array) =>
            {
                let Some(Value::Array(items)) = map.get("data") else {
                    return Err(shape());
                };
                for (i, item) in items.iter().enumerate() {
                    match (item.get("key"), item.get("value")) {
                        (Some(Value::String(k)), Some(Value::String(v))) => {
                            pairs.push((k.clone(), v.clone()))
                        }
                        _ => errors.push(format!(
                            "key value store `{name}`: data[{i}] must be {{\"key\": string, \"value\": string}}"
                        )),
                    }
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        Value::String(v) => pairs.push((k.clone(), v.clone())),
                        other => errors.push(format!(
                            "key value store `{name}`: the value of `{k}` must be a string, got {other}"
                        )),
                    }
                }
            }
            _ => return Err(shape()),
        }
        let mut entries = BTreeMap::new();
        let mut total = 0usize;
        for (k, v) in pairs {
            if k.is_empty() {
                errors.push(format!("key value store `{name}`: a key is empty"));
            }
            if k.len() > MAX_KEY_BYTES {
                errors.push(format!(
                    "key value store `{name}`: key `{}...` is {} bytes; CloudFront allows at most {MAX_KEY_BYTES}",
                    k.chars().take(32).collect::<String>(),
                    k.len()
                ));
            }
            if v.len() > MAX_VALUE_BYTES {
                errors.push(format!(
                    "key value store `{name}`: the value of `{}` is {} bytes; CloudFront allows at most {MAX_VALUE_BYTES}",
                    k.chars().take(64).collect::<String>(),
                    v.len()
                ));
            }
            total += k.len() + v.len();
            if entries.insert(k.clone(), v).is_some() {
                errors.push(format!("key value store `{name}`: key `{k}` appears twice"));
            }
        }
        if total > MAX_STORE_BYTES {
            errors.push(format!(
                "key value store `{name}` holds {total} bytes of keys and values; CloudFront allows at most {MAX_STORE_BYTES} (5 MB) a store"
            ));
        }
        if errors.is_empty() {
            Ok(KeyValueStore {
                name: name.to_string(),
                entries: Arc::new(entries),
                reads: Arc::new(AtomicU64::new(0)),
            })
        } else {
            Err(errors)
        }
    }

    /// The file the store came from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the store has no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`, counting one read.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.entries.get(key).map(String::as_str)
    }

    /// Whether `key` exists, counting one read.
    pub fn exists(&self, key: &str) -> bool {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.entries.contains_key(key)
    }

    /// Reads (`get`, `exists`, `meta`) so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Count one read that is not a key lookup (`meta()`).
    pub fn count_read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        let plain = KeyValueStore::parse("a.json", r#"{"/old": "/new", "x": "1"}"#).unwrap();
        assert_eq!(plain.get("/old"), Some("/new"));
        assert!(plain.exists("x"));
        assert!(!plain.exists("y"));
        assert_eq!(plain.reads(), 3);
        let import =
            KeyValueStore::parse("b.json", r#"{"data": [{"key": "k", "value": "v"}]}"#).unwrap();
        assert_eq!(import.get("k"), Some("v"));
        assert_eq!(import.len(), 1);
    }

    #[test]
    fn limits_are_enforced_with_every_problem_named() {
        let long_key = "k".repeat(513);
        let long_value = "v".repeat(1025);
        let text =
            serde_json::json!({ long_key.clone(): "x", "ok": long_value, "n": 3 }).to_string();
        let errors = KeyValueStore::parse("s.json", &text).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("is 513 bytes; CloudFront allows at most 512"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("the value of `ok` is 1025 bytes"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("the value of `n` must be a string"))
        );
        // 5 MB a store: 6,000 entries of 1 KB values are over.
        let mut big = serde_json::Map::new();
        for i in 0..6_000 {
            big.insert(format!("key{i}"), Value::String("v".repeat(1000)));
        }
        let errors = KeyValueStore::parse("big.json", &Value::Object(big).to_string()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("at most 5242880 (5 MB) a store"),
            "{errors:?}"
        );
        assert!(KeyValueStore::parse("x.json", "[1]").is_err());
        assert!(KeyValueStore::parse("x.json", "{").unwrap_err()[0].contains("not JSON"));
    }
}
