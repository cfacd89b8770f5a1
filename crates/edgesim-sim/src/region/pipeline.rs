//! The Lambda@Edge pipeline for requests under a behaviour with functions,
//! read top to bottom next to EDGE-SEMANTICS.md:
//!
//! 1. viewer-request (every request, before the lookup): may answer; a
//!    generated answer is not cached and skips viewer-response;
//! 2. CloudFront adds its viewer headers; the cache key is built;
//! 3. cache lookup at the PoP, then the regional cache;
//! 4. origin-request (only on the way to the origin): may pick another
//!    origin or answer; a generated answer is cached like an origin's and
//!    origin-response does not run for it;
//! 5. origin fetch, then origin-response (every origin answer, also >= 400);
//! 6. the answer is stored per its TTL (errors per the error-caching TTL);
//! 7. viewer-response (hits too), skipped for status >= 400.
//!
//! A failed function gives the viewer 502 (invalid result) or 503
//! (execution error, timeout, out of memory, throttling); the simulation
//! goes on.

use std::collections::BTreeMap;

use edgesim_model::Device;
use edgesim_model::rng::{hash_str, mix64};
use edgesim_model::workload::{Object, Viewer};
use edgesim_triggers::{
    Failure, FailureKind, Handler, Invocation, InvokeContext, Origin as CfOrigin, Request,
    Response, Stage, StageOutcome, Str,
};
use rand::Rng;

use super::{
    ERROR_BODY_BYTES, EpochRngs, Lookup, OriginTrip, RegionSim, Tier, Upstream, body_bytes, lookup,
    response_tag, tag_origin, tag_source, tag_status,
};
use crate::metrics::{AnswerSource, EpochLatency, TriggerEpoch};

/// The host name viewers address (CloudFront's example distribution).
const DISTRIBUTION_DOMAIN: &str = "d111111abcdef8.cloudfront.net";

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

/// A request as it reaches the PoP.
pub(super) struct Arrival {
    /// Index of its route in the region.
    pub(super) route_index: usize,
    /// Who sends it.
    pub(super) viewer: Viewer,
    /// What it asks for.
    pub(super) object: Object,
    /// When it reaches the PoP, µs.
    pub(super) now_us: u64,
    /// Viewer round trip plus edge processing, µs.
    pub(super) base_us: u64,
}

/// What one stage's invocation leaves for the pipeline.
enum Step {
    Continue,
    Respond(Response),
    /// The viewer's status and why.
    Fail(u16, AnswerSource),
}

/// An answer from the origin side before it is stored: status, bytes
/// sent, how it is stored and where it came from.
type OriginSideAnswer = (u16, u64, Storage, AnswerSource);

/// The answer when the origin a function chose does not resolve: 502, an
/// error page, never stored, neither the function's nor an origin's.
const UNRESOLVED: OriginSideAnswer = (
    502,
    ERROR_BODY_BYTES,
    Storage::Never,
    AnswerSource::OriginUnreachable,
);

/// How an answer from the origin side is stored at the tiers it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    /// Not at all (a failed function).
    Never,
    /// Per the object's class and the cache policy.
    ObjectTtl,
    /// Per the Cache-Control a function put on the response, within the
    /// cache policy's TTLs (None: not stored).
    Ttl(Option<u64>),
}

/// How the cache tiers answered.
struct Answer {
    status: u16,
    /// Where the answer came from (and why, for an error).
    source: AnswerSource,
    /// The origin the answer is tagged with (the request's origin), when
    /// it went past the cache lookup.
    origin: Option<usize>,
    bytes: u64,
    ready_us: u64,
    edge_hit: bool,
    went_to_origin: bool,
}

impl RegionSim {
    /// Runs one request through the full pipeline; returns its latency on
    /// top of the viewer round trip and edge processing, µs.
    pub(super) fn handle_with_triggers(
        &mut self,
        behavior: usize,
        arrival: Arrival,
        rngs: &mut EpochRngs,
    ) -> u64 {
        let Arrival {
            route_index,
            viewer,
            object,
            now_us,
            base_us,
        } = arrival;
        self.lambda_quotas.arrive(now_us);
        let scenario = std::sync::Arc::clone(&self.scenario);
        let (pop_local, pop_global, country) = {
            let r = &self.routes[route_index];
            (r.pop_local, r.pop_global, r.country)
        };
        let pop_id = scenario.pops[pop_global].id.as_str();
        let region_id = scenario.regions[self.region].id.as_str();
        let class_origin = scenario.behaviors[behavior]
            .origin
            .unwrap_or_else(|| self.objects.origin_of(&object));
        let cf_viewer = edgesim_triggers::Viewer {
            country: Str::from(scenario.viewers.countries[country].code.as_str()),
            device: device_of(viewer.device),
            os: os_of(viewer),
            viewer_id: viewer.id,
            client_ip: client_ip(viewer.id),
            location: edgesim_model::geo_tables::viewer_location(
                scenario.viewers.countries[country].code.as_str(),
            ),
        };
        let mut req = cf_viewer.request("GET", &self.objects.path_of(&object), DISTRIBUTION_DOMAIN);
        self.request_seq += 1;
        let controls = std::mem::take(&mut self.controls);
        let ctx = InvokeContext {
            now_us,
            region: region_id,
            pop: pop_id,
            request_id: self.request_seq,
            rand: rngs.triggers.random(),
            viewer_id: viewer.id,
            controls: &controls,
            viewer_country: scenario.viewers.countries[country].code.as_str(),
            migration_arm: None,
        };
        self.pops[pop_local].counters.requests += 1;
        let mut spent_us = 0;
        let mut variant = None;

        // 1. viewer-request.
        // Lambda@Edge runs in the region of the PoP's regional edge cache:
        // viewer functions pay the round trip there and back, hits too.
        let step = match self.invoke_in_region(
            behavior,
            Stage::ViewerRequest,
            &mut req,
            None,
            &ctx,
            (pop_local, true),
            rngs,
        ) {
            None => Step::Continue,
            Some(inv) => {
                spent_us += inv.duration_us;
                variant = inv.variant.as_ref().map(|v| v.name.to_string());
                step_of(inv.outcome)
            }
        };
        // Answers generated or failed at viewer-request skip the rest,
        // viewer-response included.
        let generated_at_viewer = !matches!(step, Step::Continue);
        if generated_at_viewer {
            self.pops[pop_local].counters.function_answers += 1;
        }
        let answer = match step {
            Step::Respond(resp) => Answer {
                status: resp.status,
                source: AnswerSource::Function,
                origin: None,
                bytes: generated_body_bytes(&resp),
                ready_us: now_us,
                edge_hit: false,
                went_to_origin: false,
            },
            Step::Fail(status, source) => Answer {
                status,
                source,
                origin: None,
                bytes: ERROR_BODY_BYTES,
                ready_us: now_us,
                edge_hit: false,
                went_to_origin: false,
            },
            Step::Continue => {
                // 2. CloudFront's headers (added after viewer-request; the
                // origin side sees only those the behaviour forwards), then
                // the cache key.
                let b = &scenario.behaviors[behavior];
                cf_viewer
                    .add_cloudfront_headers_where(&mut req.headers, |name| b.forwards_header(name));
                // A CloudFront-* header a viewer-request function set
                // itself goes no further than CloudFront's own would.
                if req
                    .headers
                    .iter()
                    .any(|h| h.name.starts_with("cloudfront-"))
                {
                    for name in edgesim_triggers::CLOUDFRONT_VIEWER_HEADERS {
                        if !b.forwards_header(name) {
                            req.headers.remove(name);
                        }
                    }
                }
                // The origin is part of the event from origin-request on.
                req.origin = Some(cf_origin(&scenario.origins[class_origin]));
                let mut key = cache_key(&scenario.behaviors[behavior], &req);
                // A migration whose arm is part of the cache key picks the
                // arm now; its origin-request split follows it.
                let arm = scenario
                    .migration
                    .as_ref()
                    .filter(|m| b.migration_split && m.spec.split.keyed())
                    .map(|m| {
                        let (arm, keyed) = keyed_arm(&m.spec, &controls, viewer.id, ctx.rand);
                        if arm && keyed {
                            key = mix64(key ^ NEW_ARM_KEY_SALT);
                        }
                        arm
                    });
                let ctx = InvokeContext {
                    migration_arm: arm,
                    ..ctx
                };
                self.lookup_or_fetch(
                    behavior,
                    pop_local,
                    key,
                    class_origin,
                    &object,
                    &mut req,
                    &ctx,
                    now_us,
                    rngs,
                )
            }
        };
        let mut status = answer.status;
        let mut source = answer.source;
        let mut bytes = answer.bytes;

        // 7. viewer-response: hits too, never for status >= 400 nor for
        // answers generated at viewer-request.
        if Stage::ViewerResponse.runs_for_status(status)
            && !generated_at_viewer
            && self.has_function(behavior, Stage::ViewerResponse)
        {
            // The cached (or fetched) answer's headers, regenerated, and
            // CloudFront's own.
            let mut resp = Response::new(status);
            let served = self.objects.object_at(&req.uri);
            let origin = answer.origin.unwrap_or(class_origin);
            resp.headers = self.origin_headers(
                origin,
                &req.uri,
                &served,
                answer.bytes,
                answer.ready_us,
                ctx.request_id,
            );
            edgesim_triggers::response_headers::add_cloudfront_response_headers(
                &mut resp.headers,
                if answer.edge_hit {
                    edgesim_triggers::response_headers::CacheResult::Hit
                } else if answer.source == AnswerSource::Function {
                    edgesim_triggers::response_headers::CacheResult::Generated
                } else {
                    edgesim_triggers::response_headers::CacheResult::Miss
                },
                pop_id,
                ctx.request_id,
            );
            req.origin = None;
            if let Some(inv) = self.invoke_in_region(
                behavior,
                Stage::ViewerResponse,
                &mut req,
                Some(&mut resp),
                &ctx,
                (pop_local, true),
                rngs,
            ) {
                spent_us += inv.duration_us;
                if let StageOutcome::Failed(f) = inv.outcome {
                    status = f.viewer_status;
                    source = AnswerSource::of_failure(&f.kind);
                    bytes = ERROR_BODY_BYTES;
                }
            }
        }
        self.controls = controls;

        self.count_answer(
            pop_local,
            viewer.id,
            status,
            bytes,
            (source, answer.origin),
            answer.edge_hit,
        );
        let latency_us = spent_us + (answer.ready_us - now_us);
        if let Some(name) = variant {
            let v = self.variants.entry(name).or_default();
            v.requests += 1;
            v.edge_hits += u64::from(answer.edge_hit);
            v.origin_fetches += u64::from(answer.went_to_origin);
            v.latency
                .get_or_insert_with(EpochLatency::default)
                .record(base_us + latency_us);
        }
        latency_us
    }

    /// Steps 3 to 6: the cache tiers, and the origin with its functions.
    #[allow(clippy::too_many_arguments)]
    fn lookup_or_fetch(
        &mut self,
        behavior: usize,
        pop_local: usize,
        key: u64,
        default_origin: usize,
        object: &Object,
        req: &mut Request,
        ctx: &InvokeContext,
        now_us: u64,
        rngs: &mut EpochRngs,
    ) -> Answer {
        // 3. The PoP's cache, a fetch already in flight, the regional cache.
        let pop = &mut self.pops[pop_local];
        let stale = match lookup(&mut pop.cache, &pop.in_flight, key, now_us) {
            Lookup::Fresh { tag, size } => {
                pop.counters.edge_hits += 1;
                return Answer {
                    status: tag_status(tag),
                    source: tag_source(tag),
                    origin: Some(tag_origin(tag)),
                    bytes: size,
                    ready_us: now_us,
                    edge_hit: true,
                    went_to_origin: false,
                };
            }
            Lookup::InFlight(p) => {
                pop.counters.edge_collapsed += 1;
                return Answer {
                    status: tag_status(p.tag),
                    source: tag_source(p.tag),
                    origin: Some(tag_origin(p.tag)),
                    bytes: p.size,
                    ready_us: p.ready_us,
                    edge_hit: false,
                    went_to_origin: false,
                };
            }
            Lookup::Miss { stale } => stale,
        };
        let trip = match self.upstream_lookup(pop_local, key, default_origin, stale, now_us, rngs) {
            Upstream::Answered {
                ready_at_pop_us,
                tag,
                size,
            } => {
                if let Some(ttl_us) = self.ttl_us(object, tag_status(tag)) {
                    self.schedule_fill(
                        Tier::Pop(pop_local),
                        key,
                        size,
                        ready_at_pop_us,
                        ttl_us,
                        tag,
                    );
                }
                return Answer {
                    status: tag_status(tag),
                    source: tag_source(tag),
                    origin: Some(tag_origin(tag)),
                    bytes: size,
                    ready_us: ready_at_pop_us,
                    edge_hit: false,
                    went_to_origin: false,
                };
            }
            Upstream::Origin(trip) => trip,
        };

        // 4. origin-request, where the fetch leaves from. Answers that do
        // not reach the origin are the function's.
        let mut at_us = trip.at_us;
        let mut origin = default_origin;
        // Origin functions run where the fetch leaves: at the regional
        // cache or the Origin Shield at no extra cost, and from a PoP that
        // fetches directly only after a round trip to its region.
        let remote = (pop_local, !trip.via_regional && trip.shield.is_none());
        let (status, bytes, storage, source) = match self.invoke_in_region(
            behavior,
            Stage::OriginRequest,
            req,
            None,
            ctx,
            remote,
            rngs,
        ) {
            Some(inv) if !matches!(inv.outcome, StageOutcome::Continue) => {
                at_us += inv.duration_us;
                self.pops[pop_local].counters.function_answers += 1;
                self.answer_of(inv.outcome)
                    .expect("not a continue: filtered above")
            }
            inv => {
                at_us += inv.map_or(0, |i| i.duration_us);
                match req
                    .origin
                    .as_ref()
                    .and_then(|o| self.origin_index(o.domain_name()))
                {
                    // The origin domain does not resolve: 502, and the
                    // origin-request function already ran (we cannot know
                    // earlier which origin it will pick). Neither the
                    // function's answer nor an origin's.
                    None => {
                        self.pops[pop_local].counters.unresolved += 1;
                        UNRESOLVED
                    }
                    Some(chosen) => {
                        origin = chosen;
                        // 5. The fetch, then origin-response on its answer.
                        // Faults and size are those of the object the
                        // fetch asks for, whatever the cache key.
                        let mut fetched_object = self.objects.object_at(&req.uri);
                        let (fetch_us, mut fetched, mut fetched_source) = self.classified_fetch(
                            pop_local,
                            &trip,
                            at_us,
                            origin,
                            fetched_object.key,
                            self.objects.size_of(&fetched_object),
                            true,
                            rngs,
                        );
                        at_us += fetch_us;
                        // An origin group fails over once: CloudFront sends
                        // the same request to the secondary, and the
                        // origin-request function runs again for it.
                        if let Some((backup, on)) = &self.scenario.origins[origin].failover
                            && on.contains(&fetched)
                        {
                            let backup = *backup;
                            req.origin = Some(cf_origin(&self.scenario.origins[backup]));
                            let again = self.invoke_in_region(
                                behavior,
                                Stage::OriginRequest,
                                req,
                                None,
                                ctx,
                                remote,
                                rngs,
                            );
                            at_us += again.as_ref().map_or(0, |i| i.duration_us);
                            // The request already counts as an origin
                            // fetch: what the function does now changes
                            // the answer, not how the request ended.
                            if let Some(answer) = again.and_then(|i| self.answer_of(i.outcome)) {
                                return self.store_answer(
                                    object, &trip, pop_local, key, backup, answer, at_us,
                                );
                            }
                            let chosen = req
                                .origin
                                .as_ref()
                                .and_then(|o| self.origin_index(o.domain_name()));
                            let Some(chosen) = chosen else {
                                // Sent to a domain that does not resolve.
                                return self.store_answer(
                                    object, &trip, pop_local, key, backup, UNRESOLVED, at_us,
                                );
                            };
                            origin = chosen;
                            fetched_object = self.objects.object_at(&req.uri);
                            let (more_us, status, source) = self.classified_fetch(
                                pop_local,
                                &trip,
                                at_us,
                                origin,
                                fetched_object.key,
                                self.objects.size_of(&fetched_object),
                                false,
                                rngs,
                            );
                            at_us += more_us;
                            fetched = status;
                            fetched_source = source;
                        }
                        let size = self.objects.size_of(&fetched_object);
                        let mut resp = Response::new(fetched);
                        // What origin-response sees: the origin's
                        // headers (a changed Cache-Control decides the TTL).
                        let mut origin_cc = None;
                        if self.has_function(behavior, Stage::OriginResponse) {
                            origin_cc = self
                                .objects
                                .cache_control_of(&fetched_object)
                                .map(str::to_owned);
                            resp.headers = self.origin_headers(
                                origin,
                                &req.uri,
                                &fetched_object,
                                body_bytes(fetched, size),
                                at_us,
                                ctx.request_id,
                            );
                        }
                        let mut status = fetched;
                        let mut storage = Storage::ObjectTtl;
                        let mut source = fetched_source;
                        let mut bytes = body_bytes(fetched, size);
                        if let Some(inv) = self.invoke_in_region(
                            behavior,
                            Stage::OriginResponse,
                            req,
                            Some(&mut resp),
                            ctx,
                            remote,
                            rngs,
                        ) {
                            at_us += inv.duration_us;
                            match inv.outcome {
                                StageOutcome::Failed(f) => {
                                    status = f.viewer_status;
                                    storage = Storage::Never;
                                    source = AnswerSource::of_failure(&f.kind);
                                    bytes = ERROR_BODY_BYTES;
                                }
                                // A Cache-Control the function set
                                // decides the TTL (a classic use).
                                _ => {
                                    status = resp.status;
                                    if status != fetched {
                                        // The function's answer now.
                                        source = AnswerSource::Function;
                                    }
                                    storage = self.storage_of(&resp, origin_cc.as_deref());
                                    if resp.body.is_some() {
                                        // The function replaced the body:
                                        // what the viewer gets is the
                                        // function's.
                                        source = AnswerSource::Function;
                                        bytes = generated_body_bytes(&resp);
                                    } else if status != fetched {
                                        bytes = body_bytes(status, size);
                                    }
                                }
                            }
                        }
                        // Stored for as long as the fetched object's
                        // freshness says, not the viewer's URI's.
                        if matches!(storage, Storage::ObjectTtl) {
                            storage = Storage::Ttl(self.ttl_us(&fetched_object, status));
                        }
                        (status, bytes, storage, source)
                    }
                }
            }
        };

        self.store_answer(
            object,
            &trip,
            pop_local,
            key,
            origin,
            (status, bytes, storage, source),
            at_us,
        )
    }

    /// Step 6: stores an answer that came back at `at_us` per its TTL at
    /// the tiers it passes, and describes it.
    #[allow(clippy::too_many_arguments)]
    fn store_answer(
        &mut self,
        object: &Object,
        trip: &OriginTrip,
        pop_local: usize,
        key: u64,
        origin: usize,
        (status, bytes, storage, source): OriginSideAnswer,
        at_us: u64,
    ) -> Answer {
        let tag = response_tag(status, origin, source);
        let ttl_us = match storage {
            Storage::Never => None,
            Storage::ObjectTtl => self.ttl_us(object, status),
            Storage::Ttl(ttl_us) => ttl_us,
        };
        if let Some(ttl_us) = ttl_us {
            self.fill_upstream(trip, key, bytes, at_us, ttl_us, tag);
            self.schedule_fill(
                Tier::Pop(pop_local),
                key,
                bytes,
                at_us + trip.back_us,
                ttl_us,
                tag,
            );
        }
        Answer {
            status,
            source,
            origin: Some(origin),
            bytes,
            ready_us: at_us + trip.back_us,
            edge_hit: false,
            went_to_origin: true,
        }
    }

    /// What an origin-request function that did not continue answers
    /// instead of the origin: its generated response, cached like an
    /// origin's, or the status of its failure, never cached. None when it
    /// continued.
    fn answer_of(&self, outcome: StageOutcome) -> Option<OriginSideAnswer> {
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
    fn storage_of(&self, resp: &Response, origin_cache_control: Option<&str>) -> Storage {
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
    fn has_function(&self, behavior: usize, stage: Stage) -> bool {
        self.behaviors[behavior]
            .as_ref()
            .is_some_and(|r| r.handlers[stage as usize].is_some())
    }

    /// The headers `origin` answers `uri` with (`object`, `size` bytes of
    /// body, at `now_us`), regenerated: see edgesim_triggers::response_headers.
    fn origin_headers(
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

    /// [`Self::invoke`] in the Lambda@Edge region: with `(pop, true)` the
    /// invocation also pays a round trip between the PoP and its regional
    /// edge cache's region (sampled like every round trip, counted as the
    /// stage's `trip_us`).
    #[allow(clippy::too_many_arguments)]
    fn invoke_in_region(
        &mut self,
        behavior: usize,
        stage: Stage,
        req: &mut Request,
        resp: Option<&mut Response>,
        ctx: &InvokeContext,
        (pop_local, remote): (usize, bool),
        rngs: &mut EpochRngs,
    ) -> Option<Invocation> {
        let mut inv = self.invoke(behavior, stage, req, resp, ctx)?;
        if remote {
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
    fn invoke(
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
    fn origin_index(&self, domain: &str) -> Option<usize> {
        self.scenario
            .origins
            .iter()
            .position(|o| o.domain_name.eq_ignore_ascii_case(domain) || o.id == domain)
    }
}

/// Mixed into the cache key of objects fetched for the new arm when the
/// arm is part of the key, so that the arms never share cached copies.
const NEW_ARM_KEY_SALT: u64 = 0x6e65_772d_6172_6d00;

/// The arm of a migration whose arm is chosen before the lookup: whether
/// the request goes to the new origin, and whether the arm is in the cache
/// key. A viewer cohort (sticky) or, for continuous deployment without
/// stickiness, each request; once a continuous deployment is promoted,
/// everything goes to the new origin through the primary (unkeyed) cache.
fn keyed_arm(
    spec: &edgesim_migration::Migration,
    controls: &edgesim_triggers::Controls,
    viewer_id: u64,
    rand: u64,
) -> (bool, bool) {
    use edgesim_migration::SplitKey;
    if controls
        .get(crate::controls::MIGRATION_PROMOTED)
        .unwrap_or(0.0)
        > 0.5
    {
        return (true, false);
    }
    let weight = controls
        .get(crate::controls::MIGRATION_WEIGHT)
        .unwrap_or(0.0)
        .clamp(0.0, 1.0);
    let sticky = spec.split == SplitKey::ViewerCohortKeyed || spec.sticky;
    let draw = if sticky {
        mix64(viewer_id ^ 0x636f_686f_7274)
    } else {
        mix64(rand ^ 0x7374_6167_6500)
    };
    (edgesim_model::rng::unit_f64(draw) < weight, true)
}

fn step_of(outcome: StageOutcome) -> Step {
    match outcome {
        StageOutcome::Continue => Step::Continue,
        StageOutcome::Respond(r) => Step::Respond(r),
        StageOutcome::Failed(f) => Step::Fail(f.viewer_status, AnswerSource::of_failure(&f.kind)),
    }
}

/// Bytes of the body a function generated, as sent to the viewer
/// (base64 bodies decoded); headers are not counted, as for origins'
/// answers.
fn generated_body_bytes(resp: &Response) -> u64 {
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

fn device_of(d: Device) -> edgesim_triggers::Device {
    match d {
        Device::Desktop => edgesim_triggers::Device::Desktop,
        Device::Mobile => edgesim_triggers::Device::Mobile,
        Device::Tablet => edgesim_triggers::Device::Tablet,
        Device::SmartTv => edgesim_triggers::Device::SmartTv,
    }
}

/// Phones and tablets run Android or iOS (about 55/45), others neither;
/// a property of the viewer.
fn os_of(v: Viewer) -> edgesim_triggers::Os {
    match v.device {
        Device::Mobile | Device::Tablet if mix64(v.id ^ 0x6f73) % 100 < 55 => {
            edgesim_triggers::Os::Android
        }
        Device::Mobile | Device::Tablet => edgesim_triggers::Os::Ios,
        _ => edgesim_triggers::Os::Other,
    }
}

/// A stable client address per viewer, from the documentation ranges.
fn client_ip(viewer_id: u64) -> Str {
    const NETS: [&str; 3] = ["192.0.2", "198.51.100", "203.0.113"];
    let h = mix64(viewer_id);
    Str::from(format!("{}.{}", NETS[(h % 3) as usize], (h >> 8) % 254 + 1))
}

/// The event's origin object for a scenario origin.
fn cf_origin(o: &edgesim_model::Origin) -> CfOrigin {
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
fn cache_key(b: &edgesim_model::scenario::Behavior, req: &Request) -> u64 {
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
