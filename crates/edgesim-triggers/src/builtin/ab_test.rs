//! `ab_test`: cookie-sticky A/B variant assignment at viewer-request, with a URI prefix per variant.
//!
//! What a real setup does, and how it is modelled: a viewer-request function reads the variant
//! cookie (`X-Experiment-Name=B`); without one it draws a variant by weight. It rewrites the URI
//! to the variant's prefix, so each variant is cached separately, and adds the cookie to the
//! request it forwards. Viewer-request cannot set response cookies, so a companion
//! viewer-response function sends `Set-Cookie` when the request carried no cookie; the
//! simulator sees that as [`VariantChoice::newly_assigned`] and may store the cookie for the
//! viewer. With `assign = "viewer"` the draw hashes the viewer id instead of a per-request
//! random number, which gives the same stickiness without cookie storage.

use serde::{Deserialize, Serialize};

use super::{RuleOutcome, check_prefix, concat, prefixed};
use crate::config::ConfigError;
use crate::event::Request;
use crate::handler::{InvokeContext, VariantChoice};
use crate::headers::Str;
use crate::util::{glob_match, hash_bytes, intern, mix64, unit_fraction};

/// How a viewer without a cookie gets a variant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbAssign {
    /// Draw from the request's random number (AWS's example).
    #[default]
    Random,
    /// Hash the viewer id: sticky even when the simulator keeps no cookies.
    Viewer,
}

/// One variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbVariantConfig {
    /// Name, also the cookie value.
    pub name: String,
    /// Share of new viewers, in [0, 1]; all weights sum to 1.
    pub weight: f64,
    /// Prepended to the URI (`/experiment-b`); empty keeps the URI.
    #[serde(default)]
    pub uri_prefix: String,
}

/// `builtin = "ab_test"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbTestConfig {
    /// Cookie holding the variant name.
    #[serde(default = "default_cookie")]
    pub cookie: String,
    /// The variants.
    pub variants: Vec<AbVariantConfig>,
    /// How viewers without a cookie are assigned.
    #[serde(default)]
    pub assign: AbAssign,
    /// Path patterns the experiment covers (`*`, `?`); empty covers every path.
    #[serde(default)]
    pub paths: Vec<String>,
}

fn default_cookie() -> String {
    "X-Experiment-Name".to_string()
}

struct Variant {
    name: &'static str,
    cumulative: f64,
    prefix: &'static str,
    cookie_pair: &'static str,
}

pub(crate) struct AbTest {
    /// `<cookie>=`.
    cookie_eq: &'static str,
    variants: Vec<Variant>,
    assign: AbAssign,
    paths: Vec<String>,
    salt: u64,
}

/// The value of the first pair named `name_eq` (`name=`) in a `Cookie` header value: pairs are
/// separated by `;`, leading whitespace is ignored, and the value runs to the next `;`.
///
/// One forward pass over the bytes (no substring searcher to set up: headers are short).
fn cookie_value<'a>(header: &'a str, name_eq: &str) -> Option<&'a str> {
    let bytes = header.as_bytes();
    let mut start = 0;
    loop {
        while start < bytes.len() && (bytes[start].is_ascii_whitespace() || bytes[start] == 0x0b) {
            start += 1;
        }
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b';')
            .map_or(bytes.len(), |i| start + i);
        if bytes[start..end].starts_with(name_eq.as_bytes()) {
            // `name_eq` ends with the ASCII `=` and `end` is at `;` or the end: char boundaries.
            return Some(&header[start + name_eq.len()..end]);
        }
        if end == bytes.len() {
            return None;
        }
        start = end + 1;
    }
}

/// Byte equality for short strings without a call to `bcmp`.
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl AbTest {
    pub(crate) fn compile(config: &AbTestConfig) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if !token(&config.cookie) {
            errors.push(ConfigError::new(
                "cookie",
                format!("`{}` is not a valid cookie name", config.cookie),
            ));
        }
        if config.variants.is_empty() {
            errors.push(ConfigError::new(
                "variants",
                "at least one variant is needed",
            ));
        }
        let mut total = 0.0;
        let mut variants = Vec::new();
        for (i, v) in config.variants.iter().enumerate() {
            if !token(&v.name) {
                errors.push(ConfigError::new(
                    format!("variants[{i}].name"),
                    format!("`{}` is not a valid cookie value", v.name),
                ));
            }
            if config.variants[..i].iter().any(|w| w.name == v.name) {
                errors.push(ConfigError::new(
                    format!("variants[{i}].name"),
                    format!("`{}` is used twice", v.name),
                ));
            }
            if !(0.0..=1.0).contains(&v.weight) {
                errors.push(ConfigError::new(
                    format!("variants[{i}].weight"),
                    format!("must be in [0, 1]; got {}", v.weight),
                ));
            }
            check_prefix(
                &format!("variants[{i}].uri_prefix"),
                &v.uri_prefix,
                &mut errors,
            );
            total += v.weight;
            variants.push(Variant {
                name: intern(&v.name),
                cumulative: total,
                prefix: intern(&v.uri_prefix),
                cookie_pair: intern(&format!("{}={}", config.cookie, v.name)),
            });
        }
        if !config.variants.is_empty() && (total - 1.0).abs() > 1e-6 {
            errors.push(ConfigError::new(
                "variants",
                format!("weights must sum to 1; they sum to {total}"),
            ));
        }
        for (i, p) in config.paths.iter().enumerate() {
            if !(p.starts_with('/') || p.starts_with('*')) {
                errors.push(ConfigError::new(
                    format!("paths[{i}]"),
                    format!("`{p}` must start with `/` or `*`"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AbTest {
            cookie_eq: intern(&format!("{}=", config.cookie)),
            variants,
            assign: config.assign,
            paths: config.paths.clone(),
            salt: hash_bytes(config.cookie.as_bytes()),
        })
    }

    /// The variant named by the first `<cookie>=<value>` pair of the `Cookie` headers (`None`
    /// when there is none, or its value is no variant).
    fn variant_in_cookie(&self, request: &Request) -> Option<usize> {
        for header in request.headers.iter() {
            if !short_eq(header.name.as_bytes(), b"cookie") {
                continue;
            }
            if let Some(value) = cookie_value(&header.value, self.cookie_eq) {
                let value = value.trim_end().as_bytes();
                return self
                    .variants
                    .iter()
                    .position(|v| short_eq(v.name.as_bytes(), value));
            }
        }
        None
    }

    pub(crate) fn apply(&self, request: &mut Request, ctx: &InvokeContext<'_>) -> RuleOutcome {
        if !self.paths.is_empty()
            && !self
                .paths
                .iter()
                .any(|p| glob_match(p, &request.uri).is_some())
        {
            return RuleOutcome::Continue;
        }
        let (index, newly_assigned) = match self.variant_in_cookie(request) {
            Some(i) => (i, false),
            None => {
                let draw = match self.assign {
                    AbAssign::Random => ctx.rand,
                    AbAssign::Viewer => mix64(ctx.viewer_id ^ self.salt),
                };
                let u = unit_fraction(draw);
                let i = self
                    .variants
                    .iter()
                    .position(|v| u < v.cumulative)
                    .unwrap_or(self.variants.len() - 1);
                (i, true)
            }
        };
        let variant = &self.variants[index];
        if newly_assigned {
            let existing = request
                .headers
                .get("cookie")
                .map(|c| concat(&[c, "; ", variant.cookie_pair]));
            match existing {
                Some(joined) => request.headers.set_named("cookie", "Cookie", joined),
                None => request
                    .headers
                    .set_static("cookie", "Cookie", variant.cookie_pair),
            }
        }
        if !variant.prefix.is_empty() {
            request.uri = prefixed(variant.prefix, &request.uri);
        }
        RuleOutcome::Variant(VariantChoice {
            name: Str::const_new(variant.name),
            newly_assigned,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::Controls;

    fn ab(assign: AbAssign) -> AbTest {
        AbTest::compile(&AbTestConfig {
            cookie: default_cookie(),
            variants: vec![
                AbVariantConfig {
                    name: "A".into(),
                    weight: 0.8,
                    uri_prefix: String::new(),
                },
                AbVariantConfig {
                    name: "B".into(),
                    weight: 0.2,
                    uri_prefix: "/experiment-b".into(),
                },
            ],
            assign,
            paths: vec![],
        })
        .unwrap()
    }

    fn choose(rule: &AbTest, request: &mut Request, rand: u64, viewer_id: u64) -> VariantChoice {
        let controls = Controls::new();
        let ctx = InvokeContext {
            viewer_id,
            ..InvokeContext::simple(&controls, rand)
        };
        match rule.apply(request, &ctx) {
            RuleOutcome::Variant(v) => v,
            _ => panic!("expected a variant"),
        }
    }

    #[test]
    fn cookie_wins_and_rewrites_uri() {
        let rule = ab(AbAssign::Random);
        let mut r = Request::new("GET", "/index.html", "1.1.1.1");
        r.headers.set(
            "Cookie",
            "my-X-Experiment-Name=A; session=1;X-Experiment-Name=B",
        );
        let v = choose(&rule, &mut r, 0, 1);
        assert_eq!((v.name.as_str(), v.newly_assigned), ("B", false));
        assert_eq!(r.uri, "/experiment-b/index.html");
    }

    #[test]
    fn new_viewers_are_split_by_weight_and_get_the_cookie() {
        let rule = ab(AbAssign::Random);
        let mut b = 0;
        for i in 0..10_000u64 {
            let mut r = Request::new("GET", "/", "1.1.1.1");
            let v = choose(&rule, &mut r, mix64(i), 1);
            assert!(v.newly_assigned);
            assert!(
                r.headers
                    .get("cookie")
                    .unwrap()
                    .starts_with("X-Experiment-Name=")
            );
            b += usize::from(v.name == "B");
        }
        assert!((1_800..2_200).contains(&b), "{b}");
    }

    #[test]
    fn viewer_assignment_is_sticky() {
        let rule = ab(AbAssign::Viewer);
        let first = choose(&rule, &mut Request::new("GET", "/", "1.1.1.1"), 1, 77);
        for rand in 2..20 {
            assert_eq!(
                choose(&rule, &mut Request::new("GET", "/", "1.1.1.1"), rand, 77).name,
                first.name
            );
        }
    }

    #[test]
    fn weights_must_sum_to_one() {
        let config = AbTestConfig {
            cookie: "bad cookie".into(),
            variants: vec![AbVariantConfig {
                name: "A".into(),
                weight: 0.5,
                uri_prefix: "b/".into(),
            }],
            assign: AbAssign::Random,
            paths: vec!["x".into()],
        };
        let fields: Vec<String> = AbTest::compile(&config)
            .err()
            .unwrap()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["cookie", "variants[0].uri_prefix", "variants", "paths[0]"]
        );
    }
}
