//! `add_headers`: set fixed headers on the request (request stages) or the response (response
//! stages), e.g. security headers at origin-response so they are cached with the object.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RuleOutcome;
use crate::config::ConfigError;
use crate::event::{Request, Response};
use crate::headers::Headers;
use crate::stage::Stage;
use crate::util::intern;
use crate::validate::may_set_header;

/// `builtin = "add_headers"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddHeadersConfig {
    /// Header name (any case) -> value.
    pub headers: BTreeMap<String, String>,
    /// Replace a header that is already present (default true); false only adds missing ones.
    #[serde(default = "yes")]
    pub overwrite: bool,
}

fn yes() -> bool {
    true
}

pub(crate) struct AddHeaders {
    headers: Vec<(&'static str, &'static str, &'static str)>,
    overwrite: bool,
}

impl AddHeaders {
    pub(crate) fn compile(
        config: &AddHeadersConfig,
        stage: Stage,
    ) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut headers = Vec::new();
        if config.headers.is_empty() {
            errors.push(ConfigError::new("headers", "no header to add"));
        }
        for (key, value) in &config.headers {
            let field = format!("headers.{key}");
            let name = key.to_ascii_lowercase();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                errors.push(ConfigError::new(&field, "not a valid header name"));
            } else if !may_set_header(stage, &name) {
                errors.push(ConfigError::new(
                    &field,
                    format!("CloudFront does not let functions set `{key}` at {stage}"),
                ));
            }
            if value.contains(['\r', '\n', '\0']) {
                errors.push(ConfigError::new(
                    &field,
                    "value contains a control character",
                ));
            }
            headers.push((intern(&name), intern(key), intern(value)));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AddHeaders {
            headers,
            overwrite: config.overwrite,
        })
    }

    fn add_to(&self, target: &mut Headers) {
        for &(name, key, value) in &self.headers {
            if self.overwrite || !target.contains(name) {
                target.set_static(name, key, value);
            }
        }
    }

    pub(crate) fn apply(
        &self,
        stage: Stage,
        request: &mut Request,
        response: Option<&mut Response>,
    ) -> RuleOutcome {
        match response {
            Some(response) if !stage.is_request() => self.add_to(&mut response.headers),
            _ => self.add_to(&mut request.headers),
        }
        RuleOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)], overwrite: bool) -> AddHeadersConfig {
        AddHeadersConfig {
            headers: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            overwrite,
        }
    }

    #[test]
    fn adds_to_the_response_at_response_stages_without_allocating() {
        let rule = AddHeaders::compile(
            &config(
                &[(
                    "Strict-Transport-Security",
                    "max-age=63072000; includeSubdomains; preload",
                )],
                true,
            ),
            Stage::OriginResponse,
        )
        .unwrap();
        let mut request = Request::new("GET", "/", "1.1.1.1");
        let mut response = Response::new(200);
        rule.apply(Stage::OriginResponse, &mut request, Some(&mut response));
        let entry = response.headers.iter().next().unwrap();
        assert_eq!(entry.key, "Strict-Transport-Security");
        assert!(!entry.value.is_heap_allocated());
    }

    #[test]
    fn overwrite_false_keeps_existing() {
        let rule =
            AddHeaders::compile(&config(&[("X-A", "new")], false), Stage::ViewerRequest).unwrap();
        let mut request = Request::new("GET", "/", "1.1.1.1");
        request.headers.set("X-A", "old");
        rule.apply(Stage::ViewerRequest, &mut request, None);
        assert_eq!(request.headers.get("x-a"), Some("old"));
    }

    #[test]
    fn illegal_headers_are_config_errors() {
        let errors = AddHeaders::compile(
            &config(&[("Host", "x"), ("Via", "y"), ("X-Ok", "a\nb")], true),
            Stage::ViewerRequest,
        )
        .err()
        .unwrap();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(AddHeaders::compile(&config(&[("Host", "x")], true), Stage::OriginRequest).is_ok());
    }
}
