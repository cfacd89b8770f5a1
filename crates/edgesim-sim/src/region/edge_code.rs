//! Edge code in a region: each behaviour's compiled functions behind
//! [`Handler`], how one is invoked (the account's quotas, the trip to the
//! Lambda@Edge region, the counts), and the pieces of the Lambda@Edge
//! event the driver ([`super::driver`]) builds from a simulated viewer.

use std::collections::BTreeMap;

use edgesim_model::Device;
use edgesim_model::rng::{hash_str, mix64};
use edgesim_model::workload::{Object, Viewer};
use edgesim_triggers::{
    Failure, FailureKind, Handler, Invocation, InvokeContext, Origin as CfOrigin, Request,
    Response, Stage, StageOutcome, Str,
};

use super::{ERROR_BODY_BYTES, EpochRngs, RegionSim};
use crate::metrics::{AnswerSource, EpochLatency, TriggerEpoch};

/// The host name viewers address (CloudFront's example distribution).
pub(super) const DISTRIBUTION_DOMAIN: &str = "d111111abcdef8.cloudfront.net";

/// One behaviour's compiled functions, per stage, and their counts.
pub(super) struct BehaviorRuntime {
    handlers: [Option<Box<dyn Handler + Send>>; 4],
    stats: [TriggerEpoch; 4],
}

impl BehaviorRuntime {
    /// Compiles the behaviour's functions for one region.
    pub(super) fn compile(
        behavior_index: usize,
        behavior: &edgesim_model::scenario::Behavior,
        sources: &BTreeMap<String, String>,
    ) -> Result<BehaviorRuntime, String> {
        let load = |path: &str| {
            sources.get(path).cloned().ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{path} was not shipped"),
                )
            })
        };
        let mut handlers: [Option<Box<dyn Handler + Send>>; 4] = Default::default();
        for stage in Stage::ALL {
            if let Some(config) = &behavior.triggers[stage as usize] {
                let handler =
                    edgesim_triggers::compile(config, stage, &load).map_err(|errors| {
                        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                        format!(
                            "behavior \"{}\" {}: {}",
                            behavior.path_pattern,
                            stage.as_str(),
                            list.join("; ")
                        )
                    })?;
                handlers[stage as usize] = Some(handler);
            }
        }
        let stats = std::array::from_fn(|stage| TriggerEpoch {
            behavior: behavior_index,
            stage,
            ..TriggerEpoch::default()
        });
        Ok(BehaviorRuntime { handlers, stats })
    }

    /// Takes the epoch's counts of stages that ran, resetting them.
    pub(super) fn take_stats(&mut self) -> impl Iterator<Item = TriggerEpoch> + '_ {
        self.stats
            .iter_mut()
            .filter(|s| s.invocations > 0)
            .map(|s| {
                let out = *s;
                *s = TriggerEpoch {
                    behavior: s.behavior,
                    stage: s.stage,
                    ..TriggerEpoch::default()
                };
                out
            })
    }
}

/// Per-variant traffic of the current epoch.
#[derive(Default)]
pub(super) struct VariantState {
    pub(super) requests: u64,
    pub(super) edge_hits: u64,
    pub(super) origin_fetches: u64,
    pub(super) latency: Option<EpochLatency>,
}

/// What one stage's invocation leaves for the pipeline.
pub(super) enum Step {
    Continue,
    Respond(Response),
    /// The viewer's status and why.
    Fail(u16, AnswerSource),
}

/// An answer from the origin side before it is stored: status, bytes
/// sent, how it is stored and where it came from.
pub(super) type OriginSideAnswer = (u16, u64, Storage, AnswerSource);

/// The answer when the origin a function chose does not resolve: 502, an
/// error page, never stored, neither the function's nor an origin's.
pub(super) const UNRESOLVED: OriginSideAnswer = (
    502,
    ERROR_BODY_BYTES,
    Storage::Never,
    AnswerSource::OriginUnreachable,
);

/// How an answer from the origin side is stored at the tiers it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Storage {
    /// Not at all (a failed function).
    Never,
    /// Per the object's class and the cache policy.
    ObjectTtl,
    /// Per the Cache-Control a function put on the response, within the
    /// cache policy's TTLs (None: not stored).
    Ttl(Option<u64>),
}

/// How the cache tiers answered.
pub(super) struct Answer {
    pub(super) status: u16,
    /// Where the answer came from (and why, for an error).
    pub(super) source: AnswerSource,
    /// The origin the answer is tagged with (the request's origin), when
    /// it went past the cache lookup.
    pub(super) origin: Option<usize>,
    pub(super) bytes: u64,
    pub(super) ready_us: u64,
    pub(super) edge_hit: bool,
    pub(super) went_to_origin: bool,
    /// Where the time from the PoP to `ready_us` went (the origin side's
    /// parts: regional tiers, origin, functions there, waiting).
    pub(super) ttfb: crate::metrics::TtfbParts,
}

impl RegionSim {
    /// What an origin-request function that did not continue answers
    /// instead of the origin: its generated response, cached like an
    /// origin's, or the status of its failure, never cached. None when it
    /// continued.
    pub(super) fn answer_of(&self, outcome: StageOutcome) -> Option<OriginSideAnswer> {
        Some(match step_of(outcome) {
            Step::Respond(resp) => (
                resp.status,
                generated_body_bytes(&resp),
                self.storage_of(&resp, None),
                AnswerSource::Function,
            ),
            Step::Fail(status, source) => (status, ERROR_BODY_BYTES, Storage::Never, source),
            Step::Continue => return None,
        })
    }

    /// How a response a function generated or changed is stored: by the
    /// Cache-Control it carries (CloudFront reads it like an origin's),
    /// else by the object's class.
    pub(super) fn storage_of(
        &self,
        resp: &Response,
        origin_cache_control: Option<&str>,
    ) -> Storage {
        let cache_control = resp.headers.get("cache-control");
        if cache_control == origin_cache_control {
            return Storage::ObjectTtl;
        }
        Storage::Ttl(
            edgesim_cache::freshness::ttl_secs(
                &self.scenario.cache_policy,
                resp.status,
                cache_control,
                None,
                0,
            )
            .map(|s| s * 1_000_000),
        )
    }

    /// Whether the behaviour has a function at `stage`.
    pub(super) fn has_function(&self, behavior: usize, stage: Stage) -> bool {
        self.behaviors[behavior]
            .as_ref()
            .is_some_and(|r| r.handlers[stage as usize].is_some())
    }

    /// The headers `origin` answers `uri` with (`object`, `size` bytes of
    /// body, at `now_us`), regenerated: see edgesim_triggers::response_headers.
    pub(super) fn origin_headers(
        &self,
        origin: usize,
        uri: &str,
        object: &Object,
        size: u64,
        now_us: u64,
        request_id: u64,
    ) -> edgesim_triggers::Headers {
        use edgesim_triggers::response_headers::{OriginAnswer, OriginServer};
        let cache_control = self.objects.cache_control_of(object);
        edgesim_triggers::response_headers::origin_response_headers(&OriginAnswer {
            server: match self.scenario.origins[origin].kind {
                edgesim_model::OriginKind::S3 => OriginServer::S3,
                edgesim_model::OriginKind::Custom => OriginServer::Custom,
            },
            uri,
            object_key: object.key,
            size,
            cache_control,
            now_us,
            request_id,
        })
    }

    /// [`Self::invoke`] where the function runs: a Lambda@Edge function in
    /// the Lambda@Edge region, so with `(pop, true)` the invocation also
    /// pays a round trip between the PoP and its regional edge cache's
    /// region (sampled like every round trip, counted as the stage's
    /// `trip_us`); a CloudFront Function at the PoP itself, at no trip.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn invoke_in_region(
        &mut self,
        behavior: usize,
        stage: Stage,
        req: &mut Request,
        resp: Option<&mut Response>,
        ctx: &InvokeContext,
        (pop_local, remote): (usize, bool),
        rngs: &mut EpochRngs,
    ) -> Option<Invocation> {
        let at_pop = self.behaviors[behavior]
            .as_ref()
            .and_then(|r| r.handlers[stage as usize].as_ref())
            .is_some_and(|h| h.runs_at_pop());
        let mut inv = self.invoke(behavior, stage, req, resp, ctx)?;
        if remote && !at_pop {
            let trip_us = crate::network::sample_rtt_us(
                &self.scenario.network,
                &self.pops[pop_local].regional_path,
                None,
                &mut rngs.network,
            )
            .round() as u64;
            inv.duration_us += trip_us;
            if let Some(runtime) = self.behaviors[behavior].as_mut() {
                runtime.stats[stage as usize].trip_us += trip_us;
            }
        }
        Some(inv)
    }

    /// Invokes the behaviour's function at `stage`, if it has one, and
    /// counts the outcome.
    pub(super) fn invoke(
        &mut self,
        behavior: usize,
        stage: Stage,
        req: &mut Request,
        resp: Option<&mut Response>,
        ctx: &InvokeContext,
    ) -> Option<Invocation> {
        let runtime = self.behaviors[behavior].as_mut()?;
        let handler = runtime.handlers[stage as usize].as_mut()?;
        // The account's quotas in the region come first: a throttled
        // invocation never reaches the function (nor its warm pool).
        let inv = match self.lambda_quotas.admit(ctx.now_us) {
            Ok(()) => {
                let inv = handler.invoke(stage, req, resp, ctx);
                if !matches!(
                    &inv.outcome,
                    StageOutcome::Failed(f) if matches!(f.kind, FailureKind::Throttled)
                ) {
                    self.lambda_quotas.finish(ctx.now_us, inv.duration_us);
                }
                inv
            }
            Err(throttle) => Invocation::with_outcome(
                StageOutcome::Failed(Failure::new(FailureKind::Throttled, throttle.message())),
                0,
            ),
        };
        let s = &mut runtime.stats[stage as usize];
        s.invocations += 1;
        s.cold_starts += u64::from(inv.cold_start);
        s.kvs_reads += u64::from(inv.kvs_reads);
        s.duration_us += inv.duration_us;
        s.log_lines += inv.log_lines;
        s.log_truncated += u64::from(inv.log_truncated);
        if !inv.logs.is_empty() {
            let pattern = &self.scenario.behaviors[behavior].path_pattern;
            self.function_logs.keep(ctx, pattern, stage, &inv.logs);
        }
        match &inv.outcome {
            StageOutcome::Continue => {}
            StageOutcome::Respond(_) => s.responded += 1,
            StageOutcome::Failed(f) => match f.kind {
                FailureKind::Invalid { .. } => s.invalid += 1,
                FailureKind::Exception => s.errors += 1,
                FailureKind::Timeout => s.timeouts += 1,
                FailureKind::OutOfMemory => s.out_of_memory += 1,
                FailureKind::Throttled => s.throttled += 1,
            },
        }
        Some(inv)
    }

    /// The scenario origin a domain name (or origin id) names.
    pub(super) fn origin_index(&self, domain: &str) -> Option<usize> {
        self.scenario
            .origins
            .iter()
            .position(|o| o.domain_name.eq_ignore_ascii_case(domain) || o.id == domain)
    }
}

/// Mixed into the cache key of objects fetched for the new arm when the
/// arm is part of the key, so that the arms never share cached copies.
pub(super) const NEW_ARM_KEY_SALT: u64 = 0x6e65_772d_6172_6d00;

/// The arm of a migration whose arm is chosen before the lookup: whether
/// the request goes to the new origin, and whether the arm is in the cache
/// key. A viewer cohort (sticky) or, for continuous deployment without
/// stickiness, each request; once a continuous deployment is promoted,
/// everything goes to the new origin through the primary (unkeyed) cache.
pub(super) fn keyed_arm(
    spec: &edgesim_migration::Migration,
    plan: Option<crate::controls::MigrationControl>,
    viewer_id: u64,
    rand: u64,
) -> (bool, bool) {
    use edgesim_migration::SplitKey;
    let plan = plan.unwrap_or_default();
    if plan.promoted {
        return (true, false);
    }
    let weight = plan.weight.clamp(0.0, 1.0);
    let sticky = spec.split == SplitKey::ViewerCohortKeyed || spec.sticky;
    let draw = if sticky {
        mix64(viewer_id ^ 0x636f_686f_7274)
    } else {
        mix64(rand ^ 0x7374_6167_6500)
    };
    (edgesim_model::rng::unit_f64(draw) < weight, true)
}

pub(super) fn step_of(outcome: StageOutcome) -> Step {
    match outcome {
        StageOutcome::Continue => Step::Continue,
        StageOutcome::Respond(r) => Step::Respond(r),
        StageOutcome::Failed(f) => Step::Fail(f.viewer_status, AnswerSource::of_failure(&f.kind)),
    }
}

/// Bytes of the body a function generated, as sent to the viewer
/// (base64 bodies decoded); headers are not counted, as for origins'
/// answers.
pub(super) fn generated_body_bytes(resp: &Response) -> u64 {
    let Some(body) = &resp.body else {
        return 0;
    };
    match resp.body_encoding {
        Some(edgesim_triggers::BodyEncoding::Base64) => {
            let data = body.trim_end_matches('=').len() as u64;
            data * 3 / 4
        }
        _ => body.len() as u64,
    }
}

pub(super) fn device_of(d: Device) -> edgesim_triggers::Device {
    match d {
        Device::Desktop => edgesim_triggers::Device::Desktop,
        Device::Mobile => edgesim_triggers::Device::Mobile,
        Device::Tablet => edgesim_triggers::Device::Tablet,
        Device::SmartTv => edgesim_triggers::Device::SmartTv,
    }
}

/// Phones and tablets run Android or iOS (about 55/45), others neither;
/// a property of the viewer.
pub(super) fn os_of(v: Viewer) -> edgesim_triggers::Os {
    match v.device {
        Device::Mobile | Device::Tablet if mix64(v.id ^ 0x6f73) % 100 < 55 => {
            edgesim_triggers::Os::Android
        }
        Device::Mobile | Device::Tablet => edgesim_triggers::Os::Ios,
        _ => edgesim_triggers::Os::Other,
    }
}

/// A stable client address per viewer, from the documentation ranges.
pub(super) fn client_ip(viewer_id: u64) -> Str {
    const NETS: [&str; 3] = ["192.0.2", "198.51.100", "203.0.113"];
    let h = mix64(viewer_id);
    Str::from(format!("{}.{}", NETS[(h % 3) as usize], (h >> 8) % 254 + 1))
}

/// The event's origin object for a scenario origin.
pub(super) fn cf_origin(o: &edgesim_model::Origin) -> CfOrigin {
    match o.kind {
        edgesim_model::OriginKind::S3 => {
            let region = if edgesim_model::geo_tables::aws_region(&o.location_name).is_some() {
                o.location_name.as_str()
            } else {
                "us-east-1"
            };
            CfOrigin::s3(&o.domain_name, region)
        }
        edgesim_model::OriginKind::Custom => CfOrigin::custom(&o.domain_name),
    }
}

/// The cache key: the URI plus the query-string parameters, headers and
/// cookies the behaviour's cache policy names (never the origin).
pub(super) fn cache_key(b: &edgesim_model::scenario::Behavior, req: &Request) -> u64 {
    let mut key = String::with_capacity(req.uri.len() + 32);
    key.push_str(&req.uri);
    for name in &b.cache_key_query_strings {
        key.push('\u{1}');
        for pair in req.querystring.split('&') {
            if pair.split('=').next() == Some(name.as_str()) {
                key.push_str(pair);
            }
        }
    }
    for name in &b.cache_key_headers {
        key.push('\u{2}');
        key.push_str(req.headers.get(name).unwrap_or(""));
    }
    for name in &b.cache_key_cookies {
        key.push('\u{3}');
        let value = req
            .headers
            .get_all("cookie")
            .flat_map(|h| h.value.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v);
        key.push_str(value);
    }
    hash_str(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_include_only_the_named_parts() {
        let mut b = edgesim_model::scenario::Behavior {
            path_pattern: "/*".into(),
            origin: None,
            cache_key_headers: vec![],
            cache_key_cookies: vec![],
            cache_key_query_strings: vec![],
            origin_request_headers: vec![],
            triggers: Default::default(),
            migration_split: false,
        };
        let mut a = Request::new("GET", "/x", "192.0.2.1");
        a.headers.set("Cookie", "variant=b; other=1");
        a.headers.set("CloudFront-Is-Mobile-Viewer", "true");
        let mut c = a.clone();
        c.headers.set("Cookie", "variant=a; other=1");
        assert_eq!(
            cache_key(&b, &a),
            cache_key(&b, &c),
            "cookies not in the key by default"
        );
        b.cache_key_cookies = vec!["variant".into()];
        assert_ne!(cache_key(&b, &a), cache_key(&b, &c));
        b.cache_key_cookies.clear();
        b.cache_key_headers = vec!["cloudfront-is-mobile-viewer".into()];
        let mut d = a.clone();
        d.headers.set("CloudFront-Is-Mobile-Viewer", "false");
        assert_ne!(cache_key(&b, &a), cache_key(&b, &d));
        let mut e = a.clone();
        e.uri = Str::from("/y");
        assert_ne!(cache_key(&b, &a), cache_key(&b, &e));
    }

    #[test]
    fn viewer_properties_are_stable() {
        let v = Viewer {
            id: 77,
            device: Device::Mobile,
            city: 0,
        };
        assert_eq!(os_of(v), os_of(v));
        assert_eq!(client_ip(77), client_ip(77));
        assert!(
            client_ip(77).starts_with("192.0.2.")
                || client_ip(77).starts_with("198.51.100.")
                || client_ip(77).starts_with("203.0.113.")
        );
    }
}
