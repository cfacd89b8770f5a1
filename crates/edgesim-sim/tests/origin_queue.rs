//! An origin with limited `concurrency` used by one region, run through the
//! region engine: the waits for a server that edgesim applied (the
//! region's `queue_waits`) against a reference first-come-first-served
//! c-server queue written here, independently of `edgesim_sim::queueing`,
//! fed with the same arrival rate and the scenario's service distribution.

use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_model::dist::Dist;
use edgesim_sim::metrics::{LatencyHistogram, decode_histogram, new_latency_histogram};
use edgesim_sim::{Demand, RegionSim, Routing};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const SERVERS: u32 = 10;

/// One PoP in Virginia behind its regional cache, one origin next to it
/// with `SERVERS` servers, and a catalog so large (uniform, TTL 0) that
/// every request is a fetch: the origin sees the viewers' Poisson arrivals.
fn scenario(service_ms: &str, requests_per_sec: f64, secs: u64, timeout_ms: u64) -> Arc<Scenario> {
    let text = format!(
        r#"
[simulation]
duration_secs = {secs}
epoch_ms = 5000
seed = 11

[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "64MiB"

[[origins]]
id = "app"
kind = "custom"
location = "us-east-1"
concurrency = {SERVERS}
timeout_ms = {timeout_ms}
service_ms = {service_ms}

[catalog]
objects = 1_000_000_000_000
zipf_alpha = 0.0
size = "1KiB"
ttl_secs = 0

[viewers]
requests_per_sec = {requests_per_sec}
countries = {{ US = 1.0 }}
"#
    );
    Arc::new(Scenario::from_toml("origin-queue.toml", &text).unwrap_or_else(|d| panic!("{d}")))
}

/// What the engine did: the waits it applied (µs), fetches, 5xx answers.
struct EngineRun {
    waits: LatencyHistogram,
    /// Per epoch: fetches offered to the queue and their mean wait, µs.
    per_epoch: Vec<(u64, f64)>,
    fetches: u64,
    status_5xx: u64,
}

/// Runs every epoch of `scenario`'s only region; `rate_and_slowdown`
/// gives each epoch's request rate multiplier and origin slowdown.
fn run_engine(
    scenario: &Arc<Scenario>,
    rate_and_slowdown: impl Fn(u64) -> (f64, f64),
) -> EngineRun {
    run_engine_with_servers(scenario, None, rate_and_slowdown)
}

/// [`run_engine`] with the region given `servers` of the origin's (as the
/// coordinator does when regions share it); None: no such control.
fn run_engine_with_servers(
    scenario: &Arc<Scenario>,
    servers: Option<u32>,
    rate_and_slowdown: impl Fn(u64) -> (f64, f64),
) -> EngineRun {
    let base: Vec<Demand> =
        Routing::nearest(scenario).demand(scenario, scenario.viewers.requests_per_sec)[0].clone();
    let mut sim = RegionSim::new(Arc::clone(scenario), 0).unwrap();
    let mut out = EngineRun {
        waits: new_latency_histogram(),
        per_epoch: Vec::new(),
        fetches: 0,
        status_5xx: 0,
    };
    for e in 0..scenario.simulation.epochs() {
        let (rate, slowdown) = rate_and_slowdown(e);
        // The only origin, "app": its slowdown and this region's servers.
        let controls = edgesim_sim::controls::EpochControls {
            origins: vec![edgesim_sim::controls::OriginControl {
                slowdown,
                servers_by_region: servers.map(|n| vec![n]).unwrap_or_default(),
                ..Default::default()
            }],
            ..Default::default()
        };
        sim.set_controls(&controls);
        let demand: Vec<Demand> = base
            .iter()
            .map(|d| Demand {
                requests_per_sec: d.requests_per_sec * rate,
                ..*d
            })
            .collect();
        let report = sim.advance(e, &demand).unwrap();
        let mut epoch = (0, 0.0);
        for g in &report.queue_waits {
            assert_eq!(g.index, 0);
            let h = decode_histogram(&g.latency_v2).unwrap();
            assert_eq!(h.len(), g.requests, "one wait per fetch offered");
            epoch = (g.requests, h.mean());
            out.waits.add(&h).unwrap();
        }
        out.per_epoch.push(epoch);
        out.fetches += report.origins.iter().map(|o| o.fetches).sum::<u64>();
        out.status_5xx += report
            .pops
            .iter()
            .map(|p| p.counters.status_5xx)
            .sum::<u64>();
    }
    out
}

/// What the reference queue did.
struct Reference {
    /// Waits, µs (one that left counted at its patience).
    waits: LatencyHistogram,
    /// Fetches answered after their patience: left unserved, or served
    /// too late (CloudFront's 504).
    late: u64,
    /// Per epoch: arrivals and their mean wait, µs.
    per_epoch: Vec<(u64, f64)>,
}

/// The reference queue: Poisson arrivals at the epoch's rate (per second,
/// piecewise constant per `epoch_secs`), `servers` servers, first come
/// first served, service times of `service_ms` times the epoch's slowdown;
/// a fetch whose wait would pass `patience_secs` leaves unserved.
fn reference_queue(
    servers: usize,
    service_ms: &Dist,
    epochs: u64,
    epoch_secs: f64,
    rate_and_slowdown: impl Fn(u64) -> (f64, f64),
    patience_secs: f64,
    seed: u64,
) -> Reference {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    // When each server is next free, seconds; the soonest found by a scan.
    let mut free_at = vec![0.0f64; servers];
    let mut out = Reference {
        waits: new_latency_histogram(),
        late: 0,
        per_epoch: Vec::new(),
    };
    for e in 0..epochs {
        let (rate, slowdown) = rate_and_slowdown(e);
        let (start, end) = (e as f64 * epoch_secs, (e + 1) as f64 * epoch_secs);
        let mut t = start;
        let (mut epoch_n, mut epoch_wait) = (0u64, 0.0);
        loop {
            t += -(1.0 - rng.random::<f64>()).ln() / rate;
            if t >= end {
                break;
            }
            let soonest = (0..servers)
                .min_by(|&a, &b| free_at[a].total_cmp(&free_at[b]))
                .unwrap();
            let wait = (free_at[soonest] - t).max(0.0);
            let counted = if wait > patience_secs {
                out.late += 1;
                patience_secs
            } else {
                let service = service_ms.sample(&mut rng) * slowdown / 1000.0;
                free_at[soonest] = t + wait + service;
                out.late += u64::from(wait + service > patience_secs);
                wait
            };
            out.waits
                .record((counted * 1e6).round().max(1.0) as u64)
                .unwrap();
            epoch_n += 1;
            epoch_wait += counted * 1e6;
        }
        out.per_epoch.push((
            epoch_n,
            if epoch_n == 0 {
                0.0
            } else {
                epoch_wait / epoch_n as f64
            },
        ));
    }
    out
}

/// Compares steady load at each utilisation `rho` for one service
/// distribution: mean within 10%, p99 within 25%; returns the table.
fn compare(service_toml: &str, cases: &[(f64, u64)]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    for &(rho, secs) in cases {
        let probe = scenario(service_toml, 1.0, 5, 30_000);
        let service = probe.origins[0].service_ms;
        let rate = rho * f64::from(SERVERS) / (service.mean() / 1000.0);
        let s = scenario(service_toml, rate, secs, 30_000);
        let engine = run_engine(&s, |_| (1.0, 1.0));
        assert_eq!(engine.waits.len(), engine.fetches, "every fetch queued");
        assert_eq!(engine.status_5xx, 0, "no timeouts below capacity");
        let epoch_secs = s.simulation.epoch_us as f64 / 1e6;
        // The reference runs ten times longer: its own noise is small.
        let reference = reference_queue(
            SERVERS as usize,
            &service,
            s.simulation.epochs() * 10,
            epoch_secs,
            |_| (rate, 1.0),
            f64::INFINITY,
            97,
        );
        // Both from their histograms (a wait of 0 counts as 1 µs on both sides).
        let (mean, ref_mean) = (engine.waits.mean(), reference.waits.mean());
        let (p99, ref_p99) = (
            engine.waits.value_at_quantile(0.99) as f64,
            reference.waits.value_at_quantile(0.99) as f64,
        );
        let (mean_err, p99_err) = (mean / ref_mean - 1.0, p99 / ref_p99 - 1.0);
        let line = format!(
            "{service_toml} rho={rho}: {} fetches, mean {:.3} ms vs {:.3} ms ({:+.1}%), p99 {:.2} ms vs {:.2} ms ({:+.1}%)",
            engine.fetches,
            mean / 1000.0,
            ref_mean / 1000.0,
            mean_err * 100.0,
            p99 / 1000.0,
            ref_p99 / 1000.0,
            p99_err * 100.0
        );
        println!("{line}");
        if mean_err.abs() > 0.10 || p99_err.abs() > 0.25 {
            failures.push(line.clone());
        }
        lines.push(line);
    }
    assert!(
        failures.is_empty(),
        "off the reference queue:\n{}",
        failures.join("\n")
    );
    lines
}

/// Utilisations from 0.5 to 0.95, each run long enough (in seconds at a
/// mean service of 20 ms) for the queue's own noise to stay well inside
/// the bounds: near saturation the queue forgets its past slowly.
const CASES: [(f64, u64); 4] = [(0.5, 1_000), (0.8, 1_000), (0.9, 2_000), (0.95, 4_000)];

#[test]
fn exponential_service_waits_match_a_reference_queue() {
    compare(r#"{ dist = "exponential", mean = 20 }"#, &CASES);
}

#[test]
fn fixed_service_waits_match_a_reference_queue() {
    compare("20", &CASES);
}

#[test]
fn lognormal_service_waits_match_a_reference_queue() {
    // The default service time: median 20 ms, p99 120 ms (mean 26.9 ms).
    compare(r#"{ dist = "lognormal", p50 = 20, p99 = 120 }"#, &CASES);
}

#[test]
fn a_slowdown_overloads_the_queue_the_backlog_drains_and_waits_past_the_timeout_are_504() {
    // 40 s at 0.5 of capacity, 60 s slowed down 3x (1.5 of capacity: the
    // backlog grows by half a second per second until waits reach the 10 s
    // timeout and fetches give up), then 100 s at 0.5 again: it drains.
    let service = r#"{ dist = "exponential", mean = 20 }"#;
    let rate = 0.5 * f64::from(SERVERS) / 0.020;
    let s = scenario(service, rate, 200, 10_000);
    let epoch_secs = s.simulation.epoch_us as f64 / 1e6;
    let phase = move |e: u64| {
        let t = e as f64 * epoch_secs;
        (1.0, if (40.0..100.0).contains(&t) { 3.0 } else { 1.0 })
    };
    let engine = run_engine(&s, phase);
    let reference = reference_queue(
        SERVERS as usize,
        &s.origins[0].service_ms,
        s.simulation.epochs(),
        epoch_secs,
        |e| (rate, phase(e).1),
        10.0,
        5,
    );
    let waits_ms = |p: &[(u64, f64)]| p.iter().map(|e| e.1 / 1000.0).collect::<Vec<_>>();
    let (ours, theirs) = (waits_ms(&engine.per_epoch), waits_ms(&reference.per_epoch));
    println!("mean wait per epoch, ms (edgesim / reference):");
    for (e, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        println!("  {:>4} s: {a:>9.1} {b:>9.1}", e as f64 * epoch_secs);
    }
    // Epochs by start time: 40-100 s overloaded, drained within 60 s after.
    let at = |secs: f64| (secs / epoch_secs) as usize;
    assert!(
        ours[at(20.0)] < 5.0,
        "light load, short waits: {}",
        ours[at(20.0)]
    );
    // Growing by about 0.5 s per second of overload until the timeout.
    for secs in [45.0, 50.0, 55.0, 60.0] {
        let fluid = (secs + epoch_secs / 2.0 - 40.0) * 0.5 * 1000.0;
        let (a, b) = (ours[at(secs)], theirs[at(secs)]);
        assert!(
            (a / b - 1.0).abs() < 0.15,
            "{secs} s: {a} ms, reference {b} ms"
        );
        assert!(
            (a / fluid - 1.0).abs() < 0.25,
            "{secs} s: {a} ms, fluid {fluid} ms"
        );
    }
    // Held at the timeout: nobody waits longer, the rest are 504.
    assert!(
        engine.waits.max() <= 10_000_000 + 10_000,
        "{}",
        engine.waits.max()
    );
    for secs in [75.0, 90.0] {
        assert!(ours[at(secs)] > 9_000.0, "{secs} s: {}", ours[at(secs)]);
    }
    assert!(
        (engine.status_5xx as f64 / reference.late as f64 - 1.0).abs() < 0.15,
        "504s: {} vs {} late answers in the reference",
        engine.status_5xx,
        reference.late
    );
    // Drains at 0.5 s per second: a 10 s backlog is gone in about 20 s.
    assert!(
        ours[at(105.0)] > 3_000.0,
        "still draining: {}",
        ours[at(105.0)]
    );
    assert!(ours[at(140.0)] < 5.0, "drained: {}", ours[at(140.0)]);
}

#[test]
fn a_region_given_a_share_of_the_servers_queues_as_that_many_servers() {
    // The coordinator gave this region 4 of the origin's 10 servers: its
    // queue is a 4-server queue at its own load (80% of those 4).
    let service = r#"{ dist = "exponential", mean = 20 }"#;
    let rate = 0.8 * 4.0 / 0.020;
    let s = scenario(service, rate, 1_500, 30_000);
    let engine = run_engine_with_servers(&s, Some(4), |_| (1.0, 1.0));
    let epoch_secs = s.simulation.epoch_us as f64 / 1e6;
    let reference = |servers| {
        reference_queue(
            servers,
            &s.origins[0].service_ms,
            s.simulation.epochs() * 10,
            epoch_secs,
            |_| (rate, 1.0),
            f64::INFINITY,
            41,
        )
    };
    let (four, ten) = (reference(4), reference(10));
    let (mean, p99) = (
        engine.waits.mean(),
        engine.waits.value_at_quantile(0.99) as f64,
    );
    let (ref_mean, ref_p99) = (four.waits.mean(), four.waits.value_at_quantile(0.99) as f64);
    println!(
        "4 of 10 servers at rho=0.8: {} fetches, mean {:.3} ms vs {:.3} ms, p99 {:.2} ms vs {:.2} ms; one queue of 10: mean {:.3} ms",
        engine.fetches,
        mean / 1000.0,
        ref_mean / 1000.0,
        p99 / 1000.0,
        ref_p99 / 1000.0,
        ten.waits.mean() / 1000.0
    );
    assert!(
        (mean / ref_mean - 1.0).abs() < 0.10,
        "mean {mean} vs {ref_mean}"
    );
    assert!((p99 / ref_p99 - 1.0).abs() < 0.25, "p99 {p99} vs {ref_p99}");
    // All 10 servers would have served this load with hardly any wait.
    assert!(ten.waits.mean() < ref_mean / 10.0);
}
