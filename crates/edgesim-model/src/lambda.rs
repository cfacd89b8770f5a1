//! `[lambda]`: the account's Lambda@Edge quotas per AWS region.
//!
//! Lambda@Edge runs a function in the AWS region nearest the edge location
//! that received the request, and every function of the account in that
//! region shares two quotas (EDGE-SEMANTICS.md, "Limits"): concurrent
//! executions (1,000 by default, shared with ordinary Lambda) and requests
//! per second (10,000). Beyond either, invocations are throttled and the
//! viewer gets a 503. In the simulator a region is one regional edge
//! cache's AWS region, so the quotas are enforced per simulated region,
//! across all functions of all behaviours there.

use serde::Deserialize;
use toml::Spanned;

use crate::source::{Diagnostic, SourceMap};

/// `[lambda]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLambda {
    /// Concurrent executions per region across all functions.
    pub concurrency_limit: Option<Spanned<i64>>,
    /// Invocations per second per region across all functions.
    pub rate_limit_rps: Option<Spanned<f64>>,
}

/// The account's Lambda@Edge quotas in every region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LambdaQuotas {
    /// Executions running at once in one region before throttling.
    pub concurrency_limit: u32,
    /// Invocations started in any one-second window in one region before
    /// throttling.
    pub rate_limit_rps: f64,
}

impl Default for LambdaQuotas {
    /// AWS's defaults: 1,000 concurrent executions and 10,000 requests/s.
    fn default() -> Self {
        LambdaQuotas {
            concurrency_limit: 1_000,
            rate_limit_rps: 10_000.0,
        }
    }
}

const ENTITY: &str = "lambda";

/// Validates `[lambda]`, reporting every problem.
pub(crate) fn validate(
    raw: &Spanned<RawLambda>,
    map: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> LambdaQuotas {
    let mut out = LambdaQuotas::default();
    let r = raw.get_ref();
    if let Some(n) = &r.concurrency_limit {
        match u32::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => out.concurrency_limit = v,
            _ => diags.push(map.diagnostic(
                n.span(),
                ENTITY,
                format!(
                    "concurrency_limit must be a whole number from 1 to {}, got {}",
                    u32::MAX,
                    n.get_ref()
                ),
            )),
        }
    }
    if let Some(x) = &r.rate_limit_rps {
        let v = *x.get_ref();
        if v.is_finite() && v >= 1.0 {
            out.rate_limit_rps = v;
        } else {
            diags.push(map.diagnostic(
                x.span(),
                ENTITY,
                format!("rate_limit_rps must be at least 1 request/s, got {v}"),
            ));
        }
    }
    out
}
