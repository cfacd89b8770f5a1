//! Declarative built-in triggers that run at native speed: A/B tests, origin splits, device and
//! country content, header injection and redirects.

mod ab_test;
mod add_headers;
mod device_content;
mod geo_content;
mod origin_split;
mod redirect;

use serde::{Deserialize, Serialize};

pub use ab_test::{AbAssign, AbTestConfig, AbVariantConfig};
pub use add_headers::AddHeadersConfig;
pub use device_content::{DeviceContentConfig, PerDevice};
pub use geo_content::{GeoAction, GeoContentConfig};
pub use origin_split::{OriginKind, OriginSplitConfig, SplitKey, WeightSpec};
pub use redirect::{RedirectConfig, RedirectRule};

use crate::config::ConfigError;
use crate::event::{Request, Response};
use crate::handler::{
    Failure, FailureKind, Handler, Invocation, InvokeContext, StageOutcome, VariantChoice,
};
use crate::pool::{ExecutionModel, Slot, WarmPool};
use crate::stage::Stage;

/// A built-in trigger's configuration, selected by `builtin = "<name>"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "builtin", rename_all = "snake_case")]
pub enum BuiltinConfig {
    /// Cookie-sticky A/B variant assignment with a URI prefix per variant (viewer-request).
    AbTest(AbTestConfig),
    /// Send a share of origin fetches to another origin (origin-request).
    OriginSplit(OriginSplitConfig),
    /// URI prefix or image suffix per device class (origin-request).
    DeviceContent(DeviceContentConfig),
    /// Origin, URI prefix or redirect per viewer country (origin-request).
    GeoContent(GeoContentConfig),
    /// Add headers (any stage where they are writable).
    AddHeaders(AddHeadersConfig),
    /// Redirect paths matching patterns (viewer-request or origin-request).
    Redirect(RedirectConfig),
}

impl BuiltinConfig {
    /// The `builtin = "..."` name.
    pub fn name(&self) -> &'static str {
        match self {
            BuiltinConfig::AbTest(_) => "ab_test",
            BuiltinConfig::OriginSplit(_) => "origin_split",
            BuiltinConfig::DeviceContent(_) => "device_content",
            BuiltinConfig::GeoContent(_) => "geo_content",
            BuiltinConfig::AddHeaders(_) => "add_headers",
            BuiltinConfig::Redirect(_) => "redirect",
        }
    }

    fn allowed_stages(&self) -> &'static [Stage] {
        match self {
            BuiltinConfig::AbTest(_) => &[Stage::ViewerRequest],
            BuiltinConfig::OriginSplit(_)
            | BuiltinConfig::DeviceContent(_)
            | BuiltinConfig::GeoContent(_) => &[Stage::OriginRequest],
            BuiltinConfig::AddHeaders(_) => &Stage::ALL,
            BuiltinConfig::Redirect(_) => &[Stage::ViewerRequest, Stage::OriginRequest],
        }
    }
}

/// What a rule decided.
pub(crate) enum RuleOutcome {
    Continue,
    Respond(Response),
    Variant(VariantChoice),
}

enum Rule {
    AbTest(ab_test::AbTest),
    OriginSplit(origin_split::OriginSplit),
    DeviceContent(device_content::DeviceContent),
    GeoContent(geo_content::GeoContent),
    AddHeaders(add_headers::AddHeaders),
    Redirect(redirect::Redirect),
}

/// A compiled built-in trigger with its execution environments.
pub struct BuiltinHandler {
    name: &'static str,
    rule: Rule,
    model: ExecutionModel,
    pool: WarmPool,
}

/// Compile a built-in for `stage`, reporting every problem.
pub fn compile(
    config: &BuiltinConfig,
    stage: Stage,
    model: ExecutionModel,
) -> Result<BuiltinHandler, Vec<ConfigError>> {
    let mut errors = Vec::new();
    if !config.allowed_stages().contains(&stage) {
        let allowed: Vec<&str> = config.allowed_stages().iter().map(|s| s.as_str()).collect();
        errors.push(ConfigError::new(
            "builtin",
            format!(
                "`{}` cannot run at {stage}; it runs at {}",
                config.name(),
                allowed.join(" or ")
            ),
        ));
    }
    let rule = match config {
        BuiltinConfig::AbTest(c) => ab_test::AbTest::compile(c).map(Rule::AbTest),
        BuiltinConfig::OriginSplit(c) => {
            origin_split::OriginSplit::compile(c).map(Rule::OriginSplit)
        }
        BuiltinConfig::DeviceContent(c) => {
            device_content::DeviceContent::compile(c).map(Rule::DeviceContent)
        }
        BuiltinConfig::GeoContent(c) => geo_content::GeoContent::compile(c).map(Rule::GeoContent),
        BuiltinConfig::AddHeaders(c) => {
            add_headers::AddHeaders::compile(c, stage).map(Rule::AddHeaders)
        }
        BuiltinConfig::Redirect(c) => redirect::Redirect::compile(c).map(Rule::Redirect),
    };
    match rule {
        Ok(rule) if errors.is_empty() => Ok(BuiltinHandler {
            name: config.name(),
            rule,
            model,
            pool: WarmPool::new(),
        }),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

impl BuiltinHandler {
    /// Cold starts, warm starts and throttles so far.
    pub fn pool_stats(&self) -> crate::pool::PoolStats {
        self.pool.stats()
    }
}

impl Handler for BuiltinHandler {
    fn invoke(
        &mut self,
        stage: Stage,
        request: &mut Request,
        response: Option<&mut Response>,
        ctx: &InvokeContext<'_>,
    ) -> Invocation {
        let slot = self.pool.acquire(ctx.region, ctx.now_us, &self.model);
        if let Some(message) = slot.throttle_message() {
            let failure = Failure::new(FailureKind::Throttled, message);
            return Invocation::with_outcome(StageOutcome::Failed(failure), 0);
        }
        let outcome = match &self.rule {
            Rule::AbTest(r) => r.apply(request, ctx),
            Rule::OriginSplit(r) => r.apply(request, ctx),
            Rule::DeviceContent(r) => r.apply(request),
            Rule::GeoContent(r) => r.apply(request),
            Rule::AddHeaders(r) => r.apply(stage, request, response),
            Rule::Redirect(r) => r.apply(request),
        };
        let cold_start = slot == Slot::Cold;
        let duration_us = self.model.overhead_us
            + if cold_start {
                self.model.cold_start_us
            } else {
                0
            };
        self.pool
            .release(ctx.region, slot, ctx.now_us, duration_us, true);
        let (outcome, variant) = match outcome {
            RuleOutcome::Continue => (StageOutcome::Continue, None),
            RuleOutcome::Respond(r) => (StageOutcome::Respond(r), None),
            RuleOutcome::Variant(v) => (StageOutcome::Continue, Some(v)),
        };
        Invocation {
            outcome,
            duration_us,
            logs: Vec::new(),
            log_lines: 0,
            log_truncated: false,
            cold_start,
            variant,
            kvs_reads: 0,
            origin_change: None,
            compute_utilization: None,
        }
    }

    fn describe(&self) -> String {
        format!("builtin {}", self.name)
    }
}

/// Check a URI prefix from a configuration: empty, or `/...` without a trailing `/`.
pub(crate) fn check_prefix(field: &str, prefix: &str, errors: &mut Vec<ConfigError>) {
    if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.ends_with('/')) {
        errors.push(ConfigError::new(
            field,
            format!("`{prefix}` must start with `/` and not end with `/`"),
        ));
    }
}

/// `prefix` + `uri` as a new URI.
pub(crate) fn prefixed(prefix: &str, uri: &str) -> crate::headers::Str {
    concat(&[prefix, uri])
}

/// The parts joined into one string: built on the stack and stored inline when it fits in
/// 24 bytes (the common case for URIs), so no allocation and a single copy.
pub(crate) fn concat(parts: &[&str]) -> crate::headers::Str {
    const INLINE: usize = 24;
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total <= INLINE {
        let mut buf = [0u8; INLINE];
        let mut at = 0;
        for p in parts {
            buf[at..at + p.len()].copy_from_slice(p.as_bytes());
            at += p.len();
        }
        // Whole `str`s joined: always UTF-8.
        if let Ok(text) = std::str::from_utf8(&buf[..total]) {
            return crate::headers::Str::from(text);
        }
    }
    let mut out = crate::headers::Str::with_capacity(total);
    for p in parts {
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::Controls;

    #[test]
    fn wrong_stage_and_rule_errors_are_reported_together() {
        let config: BuiltinConfig = serde_json::from_value(serde_json::json!({
            "builtin": "ab_test",
            "variants": [{"name": "A", "weight": 0.7}, {"name": "B", "weight": 0.7}]
        }))
        .unwrap();
        let errors = compile(
            &config,
            Stage::OriginResponse,
            ExecutionModel::lambda_defaults(Stage::OriginResponse),
        )
        .err()
        .unwrap();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text[0].contains("cannot run at origin-response"),
            "{text:?}"
        );
        assert!(text[1].contains("sum to 1"), "{text:?}");
    }

    #[test]
    fn builtins_pay_overhead_and_cold_start() {
        let config: BuiltinConfig = serde_json::from_value(serde_json::json!({
            "builtin": "add_headers", "headers": {"X-Frame-Options": "DENY"}
        }))
        .unwrap();
        let mut handler = compile(
            &config,
            Stage::OriginResponse,
            ExecutionModel::lambda_defaults(Stage::OriginResponse),
        )
        .unwrap();
        let controls = Controls::new();
        let ctx = InvokeContext::simple(&controls, 1);
        let mut request = Request::new("GET", "/", "1.2.3.4");
        let mut response = Response::new(200);
        let first = handler.invoke(
            Stage::OriginResponse,
            &mut request,
            Some(&mut response),
            &ctx,
        );
        assert!(first.cold_start);
        assert_eq!(first.duration_us, 151_000);
        let later = InvokeContext {
            now_us: 1_000_000,
            ..ctx
        };
        let second = handler.invoke(
            Stage::OriginResponse,
            &mut request,
            Some(&mut response),
            &later,
        );
        assert!(!second.cold_start);
        assert_eq!(second.duration_us, 1_000);
        assert_eq!(response.headers.get("x-frame-options"), Some("DENY"));
    }
}
