//! CloudFront's header map (lowercase name -> list of {key, value}) stored without per-header allocation.

use std::fmt;

use compact_str::CompactString;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The crate's string type: up to 24 bytes inline, `&'static str` without copying, heap beyond.
pub type Str = CompactString;

/// One header line as CloudFront shows it: the lowercase `name` it is filed under, the
/// original-case `key` and the `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEntry {
    /// Lowercase header name, the key of CloudFront's `headers` object.
    pub name: Str,
    /// Header name as sent on the wire (`User-Agent`).
    pub key: Str,
    /// Header value.
    pub value: Str,
}

/// An ordered multi-map of headers.
///
/// Entries with the same name are kept next to each other, in the order their names first
/// appeared, which is how CloudFront's event object groups them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers {
    entries: Vec<HeaderEntry>,
}

/// `user-agent` -> `User-Agent`: what CloudFront fills in when a handler omits `key`.
pub fn title_case(name: &str) -> Str {
    let mut out = Str::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
        upper = c == '-';
    }
    out
}

impl Headers {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            entries: Vec::with_capacity(n),
        }
    }

    /// Number of entries (header lines), not distinct names.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no header.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All entries in order.
    pub fn iter(&self) -> std::slice::Iter<'_, HeaderEntry> {
        self.entries.iter()
    }

    /// Entries grouped by lowercase name, in first-appearance order.
    pub fn groups(&self) -> Groups<'_> {
        Groups {
            rest: &self.entries,
        }
    }

    /// First value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = name.as_bytes();
        self.entries
            .iter()
            .find(|e| {
                let n = e.name.as_bytes();
                n.len() == name.len() && n.eq_ignore_ascii_case(name)
            })
            .map(|e| e.value.as_str())
    }

    /// All entries filed under `name` (case-insensitive).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.name.eq_ignore_ascii_case(name))
    }

    /// True when `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Value of a CloudFront boolean header (`"true"`).
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }

    /// Append a line, keeping same-name lines together. `name` must already be lowercase.
    pub fn append(&mut self, name: impl Into<Str>, key: impl Into<Str>, value: impl Into<Str>) {
        let name = name.into();
        let entry = HeaderEntry {
            key: key.into(),
            value: value.into(),
            name,
        };
        match self.entries.iter().rposition(|e| e.name == entry.name) {
            Some(last) => self.entries.insert(last + 1, entry),
            None => self.entries.push(entry),
        }
    }

    /// Replace every line of `key`'s lowercase name with one line.
    pub fn set(&mut self, key: &str, value: impl Into<Str>) {
        let name = Str::from(key).to_ascii_lowercase();
        let key = if key.bytes().any(|b| b.is_ascii_uppercase()) {
            Str::from(key)
        } else {
            title_case(key)
        };
        self.replace(name, key, value.into());
    }

    /// Like [`Headers::set`] for static strings: never allocates. `name` must be lowercase.
    ///
    /// A line that already holds exactly these static strings is left as it is, so setting the
    /// same headers again (a response passing the same trigger twice) costs one scan.
    pub fn set_static(&mut self, name: &'static str, key: &'static str, value: &'static str) {
        let same = |s: &Str, t: &'static str| s.as_ptr() == t.as_ptr() && s.len() == t.len();
        let Some(first) = self.entries.iter().position(|e| e.name.as_str() == name) else {
            self.entries.push(HeaderEntry {
                name: Str::const_new(name),
                key: Str::const_new(key),
                value: Str::const_new(value),
            });
            return;
        };
        let entry = &mut self.entries[first];
        if !same(&entry.key, key) {
            entry.key = Str::const_new(key);
        }
        if !same(&entry.value, value) {
            entry.value = Str::const_new(value);
        }
        self.remove_after(first, name);
    }

    /// Replace every line of `name` (lowercase) with one line `key: value`.
    pub fn set_named(&mut self, name: &'static str, key: &'static str, value: impl Into<Str>) {
        match self.entries.iter().position(|e| e.name.as_str() == name) {
            Some(first) => {
                let entry = &mut self.entries[first];
                entry.key = Str::const_new(key);
                entry.value = value.into();
                self.remove_after(first, name);
            }
            None => self.entries.push(HeaderEntry {
                name: Str::const_new(name),
                key: Str::const_new(key),
                value: value.into(),
            }),
        }
    }

    /// Remove the lines of `name` after index `first`.
    fn remove_after(&mut self, first: usize, name: &str) {
        if self.entries[first + 1..]
            .iter()
            .any(|e| e.name.as_str() == name)
        {
            let mut index = 0;
            self.entries.retain(|e| {
                index += 1;
                index <= first + 1 || e.name.as_str() != name
            });
        }
    }

    fn replace(&mut self, name: Str, key: Str, value: Str) {
        match self.entries.iter().position(|e| e.name == name) {
            Some(first) => {
                self.entries[first].key = key;
                self.entries[first].value = value;
                self.remove_after(first, &name);
            }
            None => self.entries.push(HeaderEntry { name, key, value }),
        }
    }

    /// Remove every line of `name`; true when something was removed.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| !e.name.eq_ignore_ascii_case(name));
        before != self.entries.len()
    }

    /// All entries as a slice.
    pub(crate) fn entries(&self) -> &[HeaderEntry] {
        &self.entries
    }

    /// Push an entry at the end without regrouping (for builders that already group).
    pub(crate) fn push_entry(&mut self, entry: HeaderEntry) {
        self.entries.push(entry);
    }

    /// True when both maps hold the same values for `name`, in the same order.
    pub fn same_values(&self, other: &Headers, name: &str) -> bool {
        self.get_all(name)
            .map(|e| &e.value)
            .eq(other.get_all(name).map(|e| &e.value))
    }

    /// Distinct lowercase names, in first-appearance order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.groups().map(|(name, _)| name)
    }

    /// Bytes these headers take on the wire (`Key: value\r\n` per line).
    pub fn wire_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.key.len() + e.value.len() + 4)
            .sum()
    }
}

/// Iterator over `(lowercase name, lines)` groups; see [`Headers::groups`].
pub struct Groups<'a> {
    rest: &'a [HeaderEntry],
}

impl<'a> Iterator for Groups<'a> {
    type Item = (&'a str, &'a [HeaderEntry]);

    fn next(&mut self) -> Option<Self::Item> {
        let first = self.rest.first()?;
        let n = self
            .rest
            .iter()
            .take_while(|e| e.name == first.name)
            .count();
        let (group, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some((first.name.as_str(), group))
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a HeaderEntry;
    type IntoIter = std::slice::Iter<'a, HeaderEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

#[derive(Serialize)]
struct KeyValueOut<'a> {
    key: &'a str,
    value: &'a str,
}

struct GroupOut<'a>(&'a [HeaderEntry]);

impl Serialize for GroupOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|e| KeyValueOut {
            key: &e.key,
            value: &e.value,
        }))
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, group) in self.groups() {
            map.serialize_entry(name, &GroupOut(group))?;
        }
        map.end()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyValueIn {
    key: Option<Str>,
    value: Str,
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeadersVisitor;
        impl<'de> Visitor<'de> for HeadersVisitor {
            type Value = Headers;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of lowercase header name to a list of {key, value}")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut headers = Headers::new();
                while let Some(name) = map.next_key::<Str>()? {
                    let lines: Vec<KeyValueIn> = map.next_value()?;
                    if name.bytes().any(|b| b.is_ascii_uppercase()) {
                        return Err(de::Error::custom(format!(
                            "header name `{name}` must be lowercase"
                        )));
                    }
                    for line in lines {
                        let key = line.key.unwrap_or_else(|| title_case(&name));
                        headers.append(name.clone(), key, line.value);
                    }
                }
                Ok(headers)
            }
        }
        deserializer.deserialize_map(HeadersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_case_fills_missing_keys() {
        assert_eq!(title_case("user-agent"), "User-Agent");
        assert_eq!(title_case("x-a"), "X-A");
    }

    #[test]
    fn append_keeps_same_names_together_and_serializes_grouped() {
        let mut h = Headers::new();
        h.append("cookie", "Cookie", "a=1");
        h.append("host", "Host", "example.com");
        h.append("cookie", "Cookie", "b=2");
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(
            json,
            r#"{"cookie":[{"key":"Cookie","value":"a=1"},{"key":"Cookie","value":"b=2"}],"host":[{"key":"Host","value":"example.com"}]}"#
        );
        let back: Headers = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn set_replaces_all_lines_and_remove_clears() {
        let mut h = Headers::new();
        h.append("cookie", "Cookie", "a=1");
        h.append("cookie", "Cookie", "b=2");
        h.set("Cookie", "c=3");
        assert_eq!(h.get_all("cookie").count(), 1);
        assert_eq!(h.get("COOKIE"), Some("c=3"));
        assert!(h.remove("cookie"));
        assert!(h.is_empty());
    }

    #[test]
    fn static_headers_do_not_allocate() {
        let mut h = Headers::with_capacity(4);
        h.set_static(
            "cloudfront-is-smarttv-viewer",
            "CloudFront-Is-SmartTV-Viewer",
            "false",
        );
        let e = h.iter().next().unwrap();
        assert!(!e.name.is_heap_allocated() && !e.key.is_heap_allocated());
    }

    #[test]
    fn missing_key_is_title_cased_on_input() {
        let h: Headers = serde_json::from_str(r#"{"x-test":[{"value":"1"}]}"#).unwrap();
        assert_eq!(h.iter().next().unwrap().key, "X-Test");
        assert!(serde_json::from_str::<Headers>(r#"{"X-Test":[{"value":"1"}]}"#).is_err());
    }
}
