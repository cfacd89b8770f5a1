//! `redirect`: answer requests whose path matches a pattern with a 301/302 redirect.

use serde::{Deserialize, Serialize};

use super::RuleOutcome;
use crate::config::ConfigError;
use crate::event::{Request, Response};
use crate::headers::Str;
use crate::util::{glob_match, intern};

/// One rule; the first matching rule wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectRule {
    /// Path pattern (`/old/*`; `*` any run, `?` one character).
    pub path: String,
    /// Where to send the viewer; a `*` here is replaced by what the pattern's first `*` matched.
    pub location: String,
    /// 301, 302, 303, 307 or 308 (default 301).
    #[serde(default = "default_status")]
    pub status: u16,
    /// Append the query string to the location.
    #[serde(default)]
    pub keep_query: bool,
}

fn default_status() -> u16 {
    301
}

/// `builtin = "redirect"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectConfig {
    /// The rules, tried in order.
    pub rules: Vec<RedirectRule>,
}

struct Compiled {
    pattern: &'static str,
    location: &'static str,
    status: u16,
    keep_query: bool,
}

pub(crate) struct Redirect {
    rules: Vec<Compiled>,
}

impl Redirect {
    pub(crate) fn compile(config: &RedirectConfig) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if config.rules.is_empty() {
            errors.push(ConfigError::new("rules", "no rule"));
        }
        for (i, r) in config.rules.iter().enumerate() {
            if !(r.path.starts_with('/') || r.path.starts_with('*')) {
                errors.push(ConfigError::new(
                    format!("rules[{i}].path"),
                    format!("`{}` must start with `/` or `*`", r.path),
                ));
            }
            if r.location.is_empty() || r.location.contains(['\r', '\n']) {
                errors.push(ConfigError::new(
                    format!("rules[{i}].location"),
                    "must be a non-empty URL or path",
                ));
            }
            if ![301, 302, 303, 307, 308].contains(&r.status) {
                errors.push(ConfigError::new(
                    format!("rules[{i}].status"),
                    format!("{} is not a redirect status", r.status),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let rules = config
            .rules
            .iter()
            .map(|r| Compiled {
                pattern: intern(&r.path),
                location: intern(&r.location),
                status: r.status,
                keep_query: r.keep_query,
            })
            .collect();
        Ok(Redirect { rules })
    }

    pub(crate) fn apply(&self, request: &mut Request) -> RuleOutcome {
        for rule in &self.rules {
            let Some(captured) = glob_match(rule.pattern, &request.uri) else {
                continue;
            };
            let mut location = match rule.location.split_once('*') {
                Some((before, after)) => {
                    let mut s = Str::with_capacity(before.len() + captured.len() + after.len());
                    s.push_str(before);
                    s.push_str(captured);
                    s.push_str(after);
                    s
                }
                None => Str::const_new(rule.location),
            };
            if rule.keep_query && !request.querystring.is_empty() {
                location.push('?');
                location.push_str(&request.querystring);
            }
            let mut response = Response::new(rule.status);
            response.headers.append(
                Str::const_new("location"),
                Str::const_new("Location"),
                location,
            );
            return RuleOutcome::Respond(response);
        }
        RuleOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_redirects_with_capture() {
        let rule = Redirect::compile(&RedirectConfig {
            rules: vec![
                RedirectRule {
                    path: "/old/*".into(),
                    location: "https://new.example/*".into(),
                    status: 301,
                    keep_query: true,
                },
                RedirectRule {
                    path: "/*".into(),
                    location: "/home".into(),
                    status: 302,
                    keep_query: false,
                },
            ],
        })
        .unwrap();
        let mut r = Request::new("GET", "/old/a/b.html", "1.1.1.1");
        r.querystring = "x=1".into();
        let RuleOutcome::Respond(resp) = rule.apply(&mut r) else {
            panic!("expected a redirect")
        };
        assert_eq!(
            (resp.status, resp.headers.get("location")),
            (301, Some("https://new.example/a/b.html?x=1"))
        );
        let RuleOutcome::Respond(resp) = rule.apply(&mut Request::new("GET", "/other", "1.1.1.1"))
        else {
            panic!()
        };
        assert_eq!(resp.status, 302);
    }

    #[test]
    fn no_match_continues_and_bad_rules_are_reported() {
        let rule = Redirect::compile(&RedirectConfig {
            rules: vec![RedirectRule {
                path: "/a".into(),
                location: "/b".into(),
                status: 301,
                keep_query: false,
            }],
        })
        .unwrap();
        assert!(matches!(
            rule.apply(&mut Request::new("GET", "/c", "1.1.1.1")),
            RuleOutcome::Continue
        ));
        let errors = Redirect::compile(&RedirectConfig {
            rules: vec![RedirectRule {
                path: "a".into(),
                location: "".into(),
                status: 200,
                keep_query: false,
            }],
        })
        .err()
        .unwrap();
        assert_eq!(errors.len(), 3);
    }
}
