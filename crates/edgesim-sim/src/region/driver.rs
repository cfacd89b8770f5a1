//! The request driver: one request, from its arrival at the PoP to the
//! answer its viewer gets, read top to bottom next to EDGE-SEMANTICS.md.
//! Poisson arrivals and replayed logs both call [`RegionSim::serve`]; it is
//! the only path a request takes.
//!
//! 1. viewer-request (every request, before the lookup): may answer; a
//!    generated answer is not cached and skips viewer-response;
//! 2. CloudFront adds its viewer headers; the cache key is built;
//! 3. the tiers: the PoP's cache, a fetch in flight, the regional edge
//!    cache, the Origin Shield;
//! 4. origin-request (only on the way to the origin): may pick another
//!    origin or answer; a generated answer is cached like an origin's and
//!    origin-response does not run for it;
//! 5. the origin, with the origin group's failover to its secondary
//!    (written once, here);
//! 6. origin-response (every origin answer, also >= 400);
//! 7. the answer is stored per its TTL at the tiers it passes (errors per
//!    the error-caching TTL);
//! 8. viewer-response (hits too), skipped for status >= 400;
//! 9. the answer and its latency are counted.
//!
//! Edge code plugs in behind [`edgesim_triggers::Handler`] (built-ins,
//! JavaScript, Python): a behaviour without any runs the same steps with
//! every stage empty, and builds no event at all (the request's cache key
//! is then its object's). A failed function gives the viewer 502 (invalid
//! result) or 503 (execution error, timeout, out of memory, throttling);
//! the simulation goes on.

use std::sync::Arc;

use edgesim_model::rng::mix64;
use edgesim_model::workload::{Object, Viewer};
use edgesim_triggers::{InvokeContext, Request, Response, Stage, StageOutcome};
use rand::Rng;

use super::edge_code::{
    Answer, DISTRIBUTION_DOMAIN, NEW_ARM_KEY_SALT, OriginSideAnswer, Step, Storage, UNRESOLVED,
    cache_key, cf_origin, client_ip, device_of, generated_body_bytes, keyed_arm, os_of, step_of,
};
use super::{
    Admission, Counters, ERROR_BODY_BYTES, EpochRngs, Lookup, OriginTrip, RegionSim, Tier,
    Upstream, body_bytes, count_origin_fetch, lookup, response_tag, tag_origin, tag_source,
    tag_status,
};
use crate::connections::{ViewerLeg, ViewerProtocol, origin_handshake_rtts};
use crate::metrics::{AnswerSource, EpochLatency, TtfbParts};
use crate::network::sample_rtt_us;

/// The time on the origin side of a request, from when its fetch leaves
/// the sending tier: where it is (`at_us`), and how much of it went to
/// functions and to opening connections to origins.
struct OriginClock {
    at_us: u64,
    function_us: u64,
    connect_us: u64,
}

impl OriginClock {
    /// A function ran for `us`.
    fn function(&mut self, us: u64) {
        self.at_us += us;
        self.function_us += us;
    }

    /// A fetch took `us`, `connect_us` of it opening a connection.
    fn fetch(&mut self, (us, connect_us): (u64, u64)) {
        self.at_us += us;
        self.connect_us += connect_us;
    }
}

/// The Lambda@Edge event of a request under a behaviour with edge code:
/// what its functions see and change, and what the invocations cost.
struct Event<'a> {
    behavior: usize,
    request: Request,
    ctx: InvokeContext<'a>,
    /// Time spent in functions on the viewer side (their trips included), µs.
    viewer_side_us: u64,
    /// The A/B variant a function assigned, if any.
    variant: Option<String>,
    /// The origin a CloudFront Function chose at viewer-request, if any.
    origin_change: Option<edgesim_triggers::OriginChange>,
}

impl RegionSim {
    /// Serves one request of `viewer` for `object` arriving at the PoP of
    /// route `route_index` at `now_us`: steps 1 to 9 of the module's list.
    pub(super) fn serve(
        &mut self,
        route_index: usize,
        viewer: Viewer,
        object: Object,
        now_us: u64,
        rngs: &mut EpochRngs,
    ) {
        let net = self.scenario.network;
        let (pop_local, pop_global, country) = {
            let r = &self.routes[route_index];
            (r.pop_local, r.pop_global, r.country)
        };
        // The viewer's round trip to its PoP and the PoP's own work.
        let viewer_rtt_us = sample_rtt_us(
            &net,
            &self.routes[route_index].path,
            Some(viewer.device),
            &mut rngs.network,
        );
        let base_us = (viewer_rtt_us + net.edge_processing_ms * 1000.0).round() as u64;
        let behavior = self.behavior_of(&object);
        let class_origin = behavior
            .and_then(|b| self.scenario.behaviors[b].origin)
            .unwrap_or_else(|| self.objects.origin_of(&object));

        // The event, when the behaviour has edge code (or a cache key
        // that reads the request); a request without builds nothing (not
        // even a reference to the scenario the event borrows from).
        let with_code = behavior.filter(|&b| self.behaviors[b].is_some());
        let scenario = with_code.map(|_| Arc::clone(&self.scenario));
        let controls = match with_code {
            Some(_) => std::mem::take(&mut self.controls),
            None => edgesim_triggers::Controls::new(),
        };
        let mut event = match (with_code, scenario.as_deref()) {
            (Some(b), Some(scenario)) => {
                self.lambda_quotas.arrive(now_us);
                let code = scenario.viewers.countries[country].code.as_str();
                let cf_viewer = edgesim_triggers::Viewer {
                    country: edgesim_triggers::Str::from(code),
                    device: device_of(viewer.device),
                    os: os_of(viewer),
                    viewer_id: viewer.id,
                    client_ip: client_ip(viewer.id),
                    location: edgesim_model::cities::viewer_location(viewer.city),
                };
                let request =
                    cf_viewer.request("GET", &self.objects.path_of(&object), DISTRIBUTION_DOMAIN);
                self.request_seq += 1;
                Some((
                    cf_viewer,
                    Event {
                        behavior: b,
                        request,
                        ctx: InvokeContext {
                            now_us,
                            region: scenario.regions[self.region].id.as_str(),
                            pop: scenario.pops[pop_global].id.as_str(),
                            request_id: self.request_seq,
                            rand: rngs.triggers.random(),
                            viewer_id: viewer.id,
                            controls: &controls,
                            viewer_country: code,
                            migration_arm: None,
                        },
                        viewer_side_us: 0,
                        variant: None,
                        origin_change: None,
                    },
                ))
            }
            _ => None,
        };
        self.pops[pop_local].counters.requests += 1;

        // 1. viewer-request. Lambda@Edge runs in the region of the PoP's
        // regional edge cache: viewer functions pay the round trip there
        // and back, hits too (a CloudFront Function runs at the PoP). Its
        // answers skip the rest, viewer-response included.
        let early = match &mut event {
            None => None,
            Some((_, e)) => self.viewer_request(e, pop_local, now_us, rngs),
        };
        let generated_at_viewer = early.is_some();
        let answer = match early {
            Some(answer) => answer,
            None => {
                // 2. CloudFront's headers and the cache key.
                let key = match &mut event {
                    None => object.key,
                    Some((cf_viewer, e)) => self.cache_key_of(e, cf_viewer),
                };
                // 3. to 7.
                self.lookup_or_fetch(
                    event.as_mut().map(|(_, e)| e),
                    pop_local,
                    key,
                    class_origin,
                    &object,
                    now_us,
                    rngs,
                )
            }
        };

        // 8. viewer-response.
        let (mut status, mut source, mut bytes) = (answer.status, answer.source, answer.bytes);
        let mut variant = None;
        let mut viewer_side_us = 0;
        if let Some((_, mut e)) = event {
            if !generated_at_viewer
                && Stage::ViewerResponse.runs_for_status(status)
                && self.has_function(e.behavior, Stage::ViewerResponse)
                && let Some(failed) =
                    self.viewer_response(&mut e, &answer, class_origin, pop_local, rngs)
            {
                (status, source, bytes) = failed;
            }
            viewer_side_us = e.viewer_side_us;
            variant = e.variant;
        }
        if with_code.is_some() {
            self.controls = controls;
        }

        // The viewer's connection: open, or opened for this request.
        let (connect_us, tls_us) =
            self.viewer_handshake(viewer.id, pop_local, now_us, viewer_rtt_us);

        // 9. The answer and its latency.
        self.count_answer(
            pop_local,
            viewer.id,
            status,
            bytes,
            (source, answer.origin),
            answer.edge_hit,
        );
        let latency_us =
            connect_us + tls_us + base_us + viewer_side_us + (answer.ready_us - now_us);
        let mut ttfb = answer.ttfb;
        ttfb.us[TtfbParts::CONNECT] += connect_us;
        ttfb.us[TtfbParts::TLS] += tls_us;
        ttfb.us[TtfbParts::EDGE] += base_us;
        ttfb.us[TtfbParts::FUNCTION] += viewer_side_us;
        debug_assert_eq!(ttfb.total_us(), latency_us, "the parts add up");
        self.ttfb.add(&ttfb);
        if let Some(name) = variant {
            let v = self.variants.entry(name).or_default();
            v.requests += 1;
            v.edge_hits += u64::from(answer.edge_hit);
            v.origin_fetches += u64::from(answer.went_to_origin);
            v.latency
                .get_or_insert_with(EpochLatency::default)
                .record(latency_us);
        }
        self.record_latency(route_index, viewer.device as usize, latency_us);
    }

    /// Step 1: the viewer-request function, if any. Its answer (generated
    /// or failed) when it does not let the request go on.
    fn viewer_request(
        &mut self,
        e: &mut Event,
        pop_local: usize,
        now_us: u64,
        rngs: &mut EpochRngs,
    ) -> Option<Answer> {
        let inv = self.invoke_in_region(
            e.behavior,
            Stage::ViewerRequest,
            &mut e.request,
            None,
            &e.ctx,
            (pop_local, true),
            rngs,
        )?;
        e.viewer_side_us += inv.duration_us;
        e.variant = inv.variant.as_ref().map(|v| v.name.to_string());
        e.origin_change = inv.origin_change.clone();
        let (status, source, bytes) = match step_of(inv.outcome) {
            Step::Continue => return None,
            Step::Respond(resp) => (
                resp.status,
                AnswerSource::Function,
                generated_body_bytes(&resp),
            ),
            Step::Fail(status, source) => (status, source, ERROR_BODY_BYTES),
        };
        self.pops[pop_local].counters.function_answers += 1;
        Some(Answer {
            status,
            source,
            origin: None,
            bytes,
            ready_us: now_us,
            edge_hit: false,
            went_to_origin: false,
            ttfb: TtfbParts::default(),
        })
    }

    /// The viewer's connection for a request at `now_us`: the round trips
    /// of a new one's handshakes (transport, TLS), µs, and counts it.
    fn viewer_handshake(
        &mut self,
        viewer_id: u64,
        pop_local: usize,
        now_us: u64,
        rtt_us: f64,
    ) -> (u64, u64) {
        let config = self.scenario.network.connections;
        if !config.enabled {
            return (0, 0);
        }
        // Whether it follows an earlier request of its page: a property
        // of the request, not a draw from the region's streams.
        let page_draw = edgesim_model::rng::unit_f64(mix64(
            viewer_id ^ now_us.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        ));
        let leg =
            self.viewer_connections
                .request(&config, (viewer_id, pop_local), now_us, page_draw);
        let c = &mut self.connection_counts;
        let resumed = match leg {
            ViewerLeg::Reused => {
                c.viewer_reused += 1;
                return (0, 0);
            }
            ViewerLeg::New { resumed } => resumed,
        };
        if resumed {
            c.viewer_resumed += 1;
        } else {
            c.viewer_new += 1;
        }
        let (transport, tls) =
            ViewerProtocol::of_viewer(viewer_id, &config.protocols).handshake_rtts(resumed);
        let rtt = |n: u32| (f64::from(n) * rtt_us).round() as u64;
        (rtt(transport), rtt(tls))
    }

    /// Step 2: CloudFront's viewer headers (added after viewer-request;
    /// the origin side sees only those the behaviour forwards) and the
    /// cache key, with the migration arm when
    /// it is part of the key.
    fn cache_key_of(&self, e: &mut Event, cf_viewer: &edgesim_triggers::Viewer) -> u64 {
        let b = &self.scenario.behaviors[e.behavior];
        let req = &mut e.request;
        cf_viewer.add_cloudfront_headers_where(&mut req.headers, |name| b.forwards_header(name));
        // A CloudFront-* header a viewer-request function set itself goes
        // no further than CloudFront's own would.
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
        let mut key = cache_key(b, req);
        // A migration whose arm is part of the cache key picks the arm
        // now; its origin-request split follows it.
        if let Some(m) = self
            .scenario
            .migration
            .as_ref()
            .filter(|m| b.migration_split && m.spec.split.keyed())
        {
            let (arm, keyed) = keyed_arm(&m.spec, self.migration, e.ctx.viewer_id, e.ctx.rand);
            if arm && keyed {
                key = mix64(key ^ NEW_ARM_KEY_SALT);
            }
            e.ctx.migration_arm = Some(arm);
        }
        key
    }

    /// Steps 3 to 7: the cache tiers, then the origin with its functions,
    /// and the answer stored on its way back.
    #[allow(clippy::too_many_arguments)]
    fn lookup_or_fetch(
        &mut self,
        mut event: Option<&mut Event>,
        pop_local: usize,
        key: u64,
        default_origin: usize,
        object: &Object,
        now_us: u64,
        rngs: &mut EpochRngs,
    ) -> Answer {
        // 3. The PoP's cache, a fetch already in flight there, then the
        // regional cache and the Origin Shield.
        let pop = &mut self.pops[pop_local];
        // An answer from a tier: `part` is where the wait for it went.
        let cached = |tag: u32, bytes: u64, ready_us: u64, edge_hit: bool, part: usize| {
            let mut ttfb = TtfbParts::default();
            ttfb.us[part] = ready_us - now_us;
            Answer {
                status: tag_status(tag),
                source: tag_source(tag),
                origin: Some(tag_origin(tag)),
                bytes,
                ready_us,
                edge_hit,
                went_to_origin: false,
                ttfb,
            }
        };
        let stale = match lookup(&mut pop.cache, &pop.in_flight, key, now_us) {
            Lookup::Fresh { tag, size } => {
                pop.counters.edge_hits += 1;
                return cached(tag, size, now_us, true, TtfbParts::EDGE);
            }
            Lookup::InFlight(p) => {
                pop.counters.edge_collapsed += 1;
                return cached(p.tag, p.size, p.ready_us, false, TtfbParts::WAITING);
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
                return cached(tag, size, ready_at_pop_us, false, TtfbParts::REGIONAL);
            }
            Upstream::Origin(trip) => trip,
        };
        // Origin functions run where the fetch leaves: at the regional
        // cache or the Origin Shield at no extra cost, and from a PoP that
        // fetches directly only after a round trip to its region.
        let remote = (pop_local, !trip.via_regional && trip.shield.is_none());
        let mut clock = OriginClock {
            at_us: trip.at_us,
            function_us: 0,
            connect_us: 0,
        };

        // 4. origin-request. An answer that does not reach the origin is
        // the function's.
        let mut group = None;
        if let Some(e) = event.as_deref_mut() {
            e.request.origin = Some(match &e.origin_change {
                None => cf_origin(&self.scenario.origins[default_origin]),
                Some(change) => {
                    let (origin, failover) = self.origin_of_change(change, default_origin);
                    group = failover;
                    origin
                }
            });
            if let Some(inv) = self.origin_request(e, remote, rngs, &mut clock) {
                self.pops[pop_local].counters.function_answers += 1;
                return self.store_answer(
                    object,
                    &trip,
                    pop_local,
                    key,
                    default_origin,
                    inv,
                    &clock,
                    now_us,
                );
            }
        }
        // Which origin the event now names, and the object it asks for:
        // faults and size are those of that object, whatever the cache key.
        let target = |sim: &RegionSim, e: Option<&Event>, origin: usize| match e {
            None => Some((origin, *object)),
            Some(e) => {
                let chosen = e
                    .request
                    .origin
                    .as_ref()
                    .and_then(|o| sim.origin_index(o.domain_name()))?;
                Some((chosen, sim.objects.object_at(&e.request.uri)))
            }
        };
        let Some((mut origin, mut fetched_object)) = target(self, event.as_deref(), default_origin)
        else {
            // The origin domain does not resolve: 502, and the
            // origin-request function already ran (we cannot know earlier
            // which origin it will pick). Neither the function's answer
            // nor an origin's.
            self.pops[pop_local].counters.unresolved += 1;
            return self.store_answer(
                object,
                &trip,
                pop_local,
                key,
                default_origin,
                UNRESOLVED,
                &clock,
                now_us,
            );
        };

        // 5. The fetch. An origin group fails over once: CloudFront sends
        // the same request to the secondary, and the origin-request
        // function runs again for it.
        let (fetch, mut fetched, mut fetched_source) = self.classified_fetch(
            pop_local,
            &trip,
            clock.at_us,
            origin,
            fetched_object.key,
            self.objects.size_of(&fetched_object),
            true,
            rngs,
        );
        clock.fetch(fetch);
        // The group a CloudFront Function made, else the origin's own.
        let fail_to = match &group {
            Some((backup, on)) => on.contains(&fetched).then_some(*backup),
            None => self.scenario.origins[origin]
                .failover
                .as_ref()
                .filter(|(_, on)| on.contains(&fetched))
                .map(|&(backup, _)| backup),
        };
        if let Some(backup) = fail_to {
            if let Some(e) = event.as_deref_mut() {
                e.request.origin = Some(cf_origin(&self.scenario.origins[backup]));
                // The request already counts as an origin fetch: what the
                // function does now changes the answer, not how the
                // request ended.
                if let Some(answer) = self.origin_request(e, remote, rngs, &mut clock) {
                    return self.store_answer(
                        object, &trip, pop_local, key, backup, answer, &clock, now_us,
                    );
                }
            }
            let Some((chosen, object_asked)) = target(self, event.as_deref(), backup) else {
                // Sent to a domain that does not resolve.
                return self.store_answer(
                    object, &trip, pop_local, key, backup, UNRESOLVED, &clock, now_us,
                );
            };
            (origin, fetched_object) = (chosen, object_asked);
            let (more, status, source) = self.classified_fetch(
                pop_local,
                &trip,
                clock.at_us,
                origin,
                fetched_object.key,
                self.objects.size_of(&fetched_object),
                false,
                rngs,
            );
            clock.fetch(more);
            (fetched, fetched_source) = (status, source);
        }

        // 6. origin-response, on every origin answer.
        let size = self.objects.size_of(&fetched_object);
        let mut answer = (
            fetched,
            body_bytes(fetched, size),
            Storage::ObjectTtl,
            fetched_source,
        );
        if let Some(e) = event
            && self.has_function(e.behavior, Stage::OriginResponse)
        {
            answer = self.origin_response(
                e,
                (origin, &fetched_object, size),
                answer,
                remote,
                rngs,
                &mut clock,
            );
        }
        // 7. Stored for as long as the fetched object's freshness says,
        // not the viewer's URI's.
        if matches!(answer.2, Storage::ObjectTtl) {
            answer.2 = Storage::Ttl(self.ttl_us(&fetched_object, answer.0));
        }
        self.store_answer(
            object, &trip, pop_local, key, origin, answer, &clock, now_us,
        )
    }

    /// The origin a CloudFront Function's origin helper names, as the
    /// event's origin, and the failover group it made: by id
    /// (`selectRequestOriginById`, `createRequestOriginGroup`) or by domain
    /// (`updateRequestOrigin`); a name that is no origin of the scenario
    /// stays as given and does not resolve (502).
    fn origin_of_change(
        &self,
        change: &edgesim_triggers::OriginChange,
        default_origin: usize,
    ) -> (edgesim_triggers::Origin, Option<(usize, Vec<u16>)>) {
        use edgesim_triggers::OriginChange;
        let by_name = |name: &str| match self.origin_index(name) {
            Some(i) => cf_origin(&self.scenario.origins[i]),
            None => edgesim_triggers::Origin::custom(name),
        };
        match change {
            OriginChange::Update {
                domain_name: Some(domain),
                ..
            } => (by_name(domain), None),
            OriginChange::Update { .. } => {
                (cf_origin(&self.scenario.origins[default_origin]), None)
            }
            OriginChange::Select { origin_id } => (by_name(origin_id), None),
            OriginChange::Group {
                primary,
                secondary,
                failover_status_codes,
            } => (
                by_name(primary),
                self.origin_index(secondary)
                    .map(|b| (b, failover_status_codes.clone())),
            ),
        }
    }

    /// Step 4: the origin-request function, if any, where the fetch
    /// leaves; adds its time to the clock. Its answer when it did not let
    /// the request go on.
    fn origin_request(
        &mut self,
        e: &mut Event,
        remote: (usize, bool),
        rngs: &mut EpochRngs,
        clock: &mut OriginClock,
    ) -> Option<OriginSideAnswer> {
        let inv = self.invoke_in_region(
            e.behavior,
            Stage::OriginRequest,
            &mut e.request,
            None,
            &e.ctx,
            remote,
            rngs,
        )?;
        clock.function(inv.duration_us);
        self.answer_of(inv.outcome)
    }

    /// Step 6: origin-response on the origin's answer (`fetched`: status,
    /// bytes, storage, source), with the headers the origin sends (a
    /// changed Cache-Control decides the TTL); adds its time to the clock.
    fn origin_response(
        &mut self,
        e: &mut Event,
        (origin, fetched_object, size): (usize, &Object, u64),
        fetched: OriginSideAnswer,
        remote: (usize, bool),
        rngs: &mut EpochRngs,
        clock: &mut OriginClock,
    ) -> OriginSideAnswer {
        let (fetched_status, fetched_bytes, _, _) = fetched;
        let mut resp = Response::new(fetched_status);
        let origin_cc = self
            .objects
            .cache_control_of(fetched_object)
            .map(str::to_owned);
        resp.headers = self.origin_headers(
            origin,
            &e.request.uri,
            fetched_object,
            fetched_bytes,
            clock.at_us,
            e.ctx.request_id,
        );
        let Some(inv) = self.invoke_in_region(
            e.behavior,
            Stage::OriginResponse,
            &mut e.request,
            Some(&mut resp),
            &e.ctx,
            remote,
            rngs,
        ) else {
            return fetched;
        };
        clock.function(inv.duration_us);
        match inv.outcome {
            StageOutcome::Failed(f) => (
                f.viewer_status,
                ERROR_BODY_BYTES,
                Storage::Never,
                AnswerSource::of_failure(&f.kind),
            ),
            // A Cache-Control the function set decides the TTL (a classic
            // use).
            _ => {
                let (_, mut bytes, _, mut source) = fetched;
                let status = resp.status;
                if status != fetched_status {
                    // The function's answer now.
                    source = AnswerSource::Function;
                    bytes = body_bytes(status, size);
                }
                if resp.body.is_some() {
                    // The function replaced the body: what the viewer gets
                    // is the function's.
                    source = AnswerSource::Function;
                    bytes = generated_body_bytes(&resp);
                }
                (
                    status,
                    bytes,
                    self.storage_of(&resp, origin_cc.as_deref()),
                    source,
                )
            }
        }
    }

    /// Step 7: stores an answer that came back to the sending tier when
    /// the clock says per its TTL at the tiers it passes, and describes it
    /// (for a request that reached the PoP at `now_us`).
    #[allow(clippy::too_many_arguments)]
    fn store_answer(
        &mut self,
        object: &Object,
        trip: &OriginTrip,
        pop_local: usize,
        key: u64,
        origin: usize,
        (status, bytes, storage, source): OriginSideAnswer,
        clock: &OriginClock,
        now_us: u64,
    ) -> Answer {
        let at_us = clock.at_us;
        let mut ttfb = TtfbParts::default();
        ttfb.us[TtfbParts::REGIONAL] = (trip.at_us - now_us) + trip.back_us;
        ttfb.us[TtfbParts::FUNCTION] = clock.function_us;
        ttfb.us[TtfbParts::ORIGIN_CONNECT] = clock.connect_us;
        ttfb.us[TtfbParts::ORIGIN] = (at_us - trip.at_us) - clock.function_us - clock.connect_us;
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
            ttfb,
        }
    }

    /// Step 8: the viewer-response function on the answer (the cached or
    /// fetched answer's headers, regenerated, and CloudFront's own). The
    /// viewer's status, source and bytes when it failed.
    fn viewer_response(
        &mut self,
        e: &mut Event,
        answer: &Answer,
        class_origin: usize,
        pop_local: usize,
        rngs: &mut EpochRngs,
    ) -> Option<(u16, AnswerSource, u64)> {
        use edgesim_triggers::response_headers::{CacheResult, add_cloudfront_response_headers};
        let mut resp = Response::new(answer.status);
        let served = self.objects.object_at(&e.request.uri);
        resp.headers = self.origin_headers(
            answer.origin.unwrap_or(class_origin),
            &e.request.uri,
            &served,
            answer.bytes,
            answer.ready_us,
            e.ctx.request_id,
        );
        add_cloudfront_response_headers(
            &mut resp.headers,
            if answer.edge_hit {
                CacheResult::Hit
            } else if answer.source == AnswerSource::Function {
                CacheResult::Generated
            } else {
                CacheResult::Miss
            },
            e.ctx.pop,
            e.ctx.request_id,
        );
        e.request.origin = None;
        let inv = self.invoke_in_region(
            e.behavior,
            Stage::ViewerResponse,
            &mut e.request,
            Some(&mut resp),
            &e.ctx,
            (pop_local, true),
            rngs,
        )?;
        e.viewer_side_us += inv.duration_us;
        match inv.outcome {
            StageOutcome::Failed(f) => Some((
                f.viewer_status,
                AnswerSource::of_failure(&f.kind),
                ERROR_BODY_BYTES,
            )),
            _ => None,
        }
    }

    /// [`RegionSim::origin_fetch_once`], with where its answer came from:
    /// the origin's own (object or error), a 503 Slow Down, CloudFront's
    /// 504 after the origin response timeout, or an origin that is out.
    #[allow(clippy::too_many_arguments)]
    fn classified_fetch(
        &mut self,
        pop_local: usize,
        trip: &OriginTrip,
        sent_us: u64,
        origin: usize,
        key: u64,
        size: u64,
        first: bool,
        rngs: &mut EpochRngs,
    ) -> ((u64, u64), u16, AnswerSource) {
        let throttled_before = self.origins[origin].throttled;
        let (fetch_us, status) =
            self.origin_fetch_once(pop_local, trip, sent_us, origin, key, size, first, rngs);
        let source = if self.origin_now[origin].down != 0 {
            AnswerSource::OriginUnreachable
        } else if self.origins[origin].throttled > throttled_before {
            AnswerSource::OriginSlowDown
        } else if status == 504 {
            AnswerSource::OriginTimeout
        } else {
            AnswerSource::Origin
        };
        (fetch_us, status, source)
    }

    /// One fetch from one origin (no failover), sent at `sent_us` from the
    /// trip's tier: returns the time it takes (connection set-up when no
    /// kept-alive connection is idle, round trip, queue wait and service;
    /// and the set-up alone) and the answer's status, and counts it. The origin's
    /// condition picks the status: down (every answer the outage's status,
    /// at once), objects it fails or lacks, 503 Slow Down for the share of
    /// fetches above its request rate (at once), 504 when the answer would
    /// come after CloudFront's origin response timeout. Service time is
    /// multiplied by a slowdown and, with limited concurrency, a fetch
    /// waits for a server in the region's queue for the origin. `first`:
    /// the request's first fetch, counted in the PoP's counters (a
    /// failover retry counts only at the origin, so every request still
    /// ends one way).
    #[allow(clippy::too_many_arguments)]
    fn origin_fetch_once(
        &mut self,
        pop_local: usize,
        trip: &OriginTrip,
        sent_us: u64,
        origin: usize,
        key: u64,
        size: u64,
        first: bool,
        rngs: &mut EpochRngs,
    ) -> ((u64, u64), u16) {
        let net = self.scenario.network;
        let pop = &mut self.pops[pop_local];
        let path = match (
            &self.regional,
            trip.via_regional,
            &trip.shield,
            &self.shield,
        ) {
            (_, _, Some(hop), Some(s)) => &s.to_origin[hop.origin][origin],
            (Some(r), true, _, _) => &r.origin_paths[origin],
            _ => &pop.origin_paths[origin],
        };
        let o = &self.scenario.origins[origin];
        let now = self.origin_now[origin];
        let rtt_us = sample_rtt_us(&net, path, None, &mut rngs.network) + now.extra_rtt_us;
        let throttled = now.down == 0
            && self.throttle[origin] > 0.0
            && rngs.origin.random::<f64>() < self.throttle[origin];
        // A connection from the tier's pool, or a new one (an origin that
        // is out takes none: its answer is the failed attempt).
        let tier = super::origin_pool_tier(
            (!trip.via_regional).then_some(pop_local),
            trip.shield.is_some(),
        );
        let pool = (net.connections.enabled && now.down == 0).then(|| {
            let pool = self.origin_pools.entry((tier, origin as u32)).or_default();
            let reused = pool.acquire(sent_us, o.keepalive_us);
            (pool, reused)
        });
        let connect_us = match &pool {
            None => 0.0,
            Some((_, true)) => {
                self.connection_counts.origin_reused += 1;
                0.0
            }
            Some((_, false)) => {
                self.connection_counts.origin_new += 1;
                let (transport, tls) = origin_handshake_rtts(o.tls);
                f64::from(transport + tls) * rtt_us
            }
        };
        let sent_us = sent_us + connect_us.round() as u64;
        let (mut status, mut fetch_us) = if now.down != 0 {
            (now.down, rtt_us)
        } else if throttled {
            (503, rtt_us)
        } else {
            let status = o.faults.status_for(self.origin_salts[origin], key);
            let service_us = o.service_ms.sample(&mut rngs.origin) * 1000.0 * now.slowdown;
            let wait_us = match &mut self.origin_queues[origin] {
                None => 0.0,
                Some((queue, (queued, waits))) => {
                    // It reaches the origin half a round trip after it left.
                    let arrival_us = sent_us + (rtt_us / 2.0) as u64;
                    *queued += 1;
                    match queue.admit(arrival_us, service_us.round() as u64, o.timeout_us) {
                        Admission::Served { wait_us } => {
                            waits.record(wait_us);
                            wait_us as f64
                        }
                        Admission::GaveUp => {
                            // It waited until CloudFront gave up (a 504 below).
                            waits.record(o.timeout_us);
                            o.timeout_us as f64 + 1.0
                        }
                    }
                }
            };
            (status, rtt_us + wait_us + service_us)
        };
        if fetch_us > o.timeout_us as f64 + rtt_us {
            // CloudFront gives up after its origin response timeout.
            status = 504;
            fetch_us = o.timeout_us as f64 + rtt_us;
        }
        let connect_us = connect_us.round() as u64;
        let fetch_us = fetch_us.round() as u64;
        if let Some((pool, _)) = pool
            && status != 504
        {
            // Kept alive once its answer is in (CloudFront closes one it
            // gave up on).
            pool.release(sent_us + fetch_us);
        }
        let stats = &mut self.origins[origin];
        stats.throttled += u64::from(throttled);
        stats.errors += u64::from(status >= 500);
        let mut scratch = Counters::default();
        count_origin_fetch(
            if first {
                &mut pop.counters
            } else {
                &mut scratch
            },
            stats,
            body_bytes(status, size),
            trip.revalidate && status == 200,
        );
        ((connect_us + fetch_us, connect_us), status)
    }
}
