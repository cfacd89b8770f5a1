//! What the coordinator owns because no region can: routing and demand
//! (traffic shapes, PoP outages), the events in force, the migration
//! controller and the origins' global load (throttling, and how an
//! origin's servers are split among the regions that queue for it). Load
//! turns one epoch's reports into the controls of the next (a one-epoch
//! lag, see DESIGN.md).

use edgesim_migration::{Controller, GateMetric, Observation};
use edgesim_model::Scenario;
use edgesim_model::cities;
use edgesim_model::events::EventKind;
use edgesim_report::MigrationSummary;
use edgesim_sim::controls::{
    EpochControls, ExtraRtt, FlashControl, MigrationControl, OriginControl,
};
use edgesim_sim::{Demand, RegionEpochReport, Routing};

/// The coordinator's global state across epochs.
pub struct Globals {
    /// Drives `[migration]`, when the scenario has one.
    controller: Option<Controller>,
    /// Origins traffic moves from and to.
    migration_origins: Option<(usize, usize)>,
    /// Whether a gate needs viewer latency (decoding histograms costs).
    needs_latency: bool,
    /// Per origin: fetches per second offered in the last epoch.
    offered_rps: Vec<f64>,
    /// Per origin with `throttle_rps`: the Slow Down limit now (it grows
    /// under pressure with `throttle_doubling_secs`) and the limit each
    /// epoch was given.
    slow_down: Vec<Option<(f64, Vec<f64>)>>,
    /// Per origin with limited concurrency, per region: its share of the
    /// fetches the origin's queues got in the last epoch that had any (at
    /// first, its share of the viewers), which sets its share of the servers.
    fetch_shares: Vec<Option<Vec<f64>>>,
    /// Per origin: the service-time multiplier of the epoch being run.
    slowdown: Vec<f64>,
    /// PoPs that were down in the previous epoch.
    down_before: Vec<bool>,
    /// Routing for the current set of PoPs that are up.
    routing: Option<(Vec<bool>, Routing)>,
    /// Per origin with limited concurrency: its utilisation in each epoch.
    utilisation: Vec<Vec<f64>>,
}

impl Globals {
    /// The state before the first epoch.
    pub fn new(scenario: &Scenario) -> Globals {
        let controller = scenario
            .migration
            .as_ref()
            .map(|m| Controller::new(&m.spec, scenario.simulation.epoch_us));
        // Every PoP up: the routing of epoch 0 unless an outage starts then
        // (kept, since routing every city costs cities x PoPs round trips).
        let routing = Routing::nearest(scenario);
        Globals {
            needs_latency: scenario
                .migration
                .as_ref()
                .is_some_and(|m| m.spec.gates.iter().any(|g| g.metric == GateMetric::P99Ms)),
            migration_origins: scenario.migration.as_ref().map(|m| (m.from, m.to)),
            controller,
            offered_rps: vec![0.0; scenario.origins.len()],
            slow_down: scenario
                .origins
                .iter()
                .map(|o| o.faults.throttle_rps.map(|l| (l, Vec::new())))
                .collect(),
            fetch_shares: {
                let viewers: Vec<f64> = routing
                    .demand(scenario, scenario.viewers.requests_per_sec)
                    .iter()
                    .map(|region| region.iter().map(|d| d.requests_per_sec).sum())
                    .collect();
                scenario
                    .origins
                    .iter()
                    .map(|o| o.concurrency.map(|_| viewers.clone()))
                    .collect()
            },
            slowdown: vec![1.0; scenario.origins.len()],
            down_before: vec![false; scenario.pops.len()],
            routing: Some((vec![false; scenario.pops.len()], routing)),
            utilisation: vec![Vec::new(); scenario.origins.len()],
        }
    }

    /// PoPs down at `t_us` (a `pop_outage` in force).
    fn down_at(scenario: &Scenario, t_us: u64) -> Vec<bool> {
        let mut down = vec![false; scenario.pops.len()];
        for e in &scenario.events {
            if let EventKind::PopOutage { pop } = e.kind
                && e.active_at(t_us)
            {
                down[pop] = true;
            }
        }
        down
    }

    /// The demand of every region (index = region) in `epoch`: viewers go
    /// to the nearest PoP that is up, at the rate the traffic shape and
    /// any flash crowd give their country at the epoch's start.
    pub fn demand(&mut self, scenario: &Scenario, epoch: u64) -> Vec<Vec<Demand>> {
        let t_us = scenario.simulation.epoch_span(epoch).start;
        let down = Self::down_at(scenario, t_us);
        let stale = self.routing.as_ref().is_none_or(|(d, _)| *d != down);
        if stale {
            let up: Vec<bool> = down.iter().map(|d| !d).collect();
            self.routing = Some((down.clone(), Routing::nearest_up(scenario, &up)));
        }
        let routing = &self.routing.as_ref().expect("just set").1;
        let mut demand = routing.demand(scenario, scenario.viewers.requests_per_sec);
        let flash = flash_at(scenario, t_us);
        for region in &mut demand {
            for d in region.iter_mut() {
                let c = &scenario.viewers.countries[d.country];
                let mut m = match c.cities.get(d.city).and_then(|x| cities::city(x.city)) {
                    Some(city) => scenario.traffic.city_multiplier(t_us, city),
                    None => scenario.traffic.multiplier(t_us, 0.0),
                };
                if let Some((factor, _, countries)) = &flash
                    && (countries.is_empty() || countries.contains(&d.country))
                {
                    m *= factor;
                }
                d.requests_per_sec *= m;
            }
        }
        demand
    }

    /// The controls every region gets for `epoch`.
    pub fn controls(&mut self, scenario: &Scenario, epoch: u64) -> EpochControls {
        let mut out = EpochControls {
            origins: vec![OriginControl::default(); scenario.origins.len()],
            ..EpochControls::default()
        };
        if let Some(c) = &mut self.controller {
            let plan = c.plan(epoch);
            out.migration = Some(MigrationControl {
                weight: plan.weight,
                promoted: plan.promoted,
            });
        }
        for (i, (offered, slow_down)) in
            self.offered_rps.iter().zip(&mut self.slow_down).enumerate()
        {
            if let Some((limit, series)) = slow_down {
                series.push(*limit);
                if *offered > *limit {
                    out.origins[i].throttle_share = 1.0 - *limit / offered;
                }
            }
        }
        let t_us = scenario.simulation.epoch_span(epoch).start;
        let mut slowdown = vec![1.0; scenario.origins.len()];
        for e in scenario.events.iter().filter(|e| e.active_at(t_us)) {
            match &e.kind {
                EventKind::OriginOutage { origin, status } => {
                    out.origins[*origin].down_status = Some(*status);
                }
                EventKind::OriginSlowdown { origin, factor } => slowdown[*origin] *= factor,
                EventKind::RegionalOutage { region } => {
                    if !out.regional_down.contains(region) {
                        out.regional_down.push(*region);
                    }
                }
                EventKind::NetworkDegradation {
                    region,
                    origin,
                    extra_ms,
                } => {
                    for i in 0..scenario.origins.len() {
                        if origin.is_none_or(|x| x == i) {
                            out.extra_rtt.push(ExtraRtt {
                                region: *region,
                                origin: i,
                                ms: *extra_ms,
                            });
                        }
                    }
                }
                EventKind::PopOutage { .. } | EventKind::FlashCrowd { .. } => {}
            }
        }
        for (i, o) in scenario.origins.iter().enumerate() {
            out.origins[i].slowdown = slowdown[i];
            // Limited concurrency: each region queues for its share of the
            // servers (see README, "Capacity and failures").
            if let (Some(servers), Some(shares)) = (o.concurrency, &self.fetch_shares[i]) {
                out.origins[i].servers_by_region = split_servers(servers, shares);
            }
        }
        self.slowdown = slowdown;
        // PoPs back from an outage start with an empty cache.
        let down = Self::down_at(scenario, t_us);
        out.pops_flushed = (0..scenario.pops.len())
            .filter(|&i| self.down_before[i] && !down[i])
            .collect();
        self.down_before = down;
        if let Some((factor, objects, countries)) = flash_at(scenario, t_us) {
            out.flash = Some(FlashControl {
                objects,
                share_by_country: (0..scenario.viewers.countries.len())
                    .map(|i| {
                        if countries.is_empty() || countries.contains(&i) {
                            (factor - 1.0) / factor
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            });
        }
        out
    }

    /// Folds in the reports of `epoch` (all regions, in region order).
    pub fn observe(&mut self, scenario: &Scenario, epoch: u64, reports: &[RegionEpochReport]) {
        let span = scenario.simulation.epoch_span(epoch);
        let secs = ((span.end - span.start) as f64 / 1e6).max(1e-9);
        let mut fetches = vec![0u64; scenario.origins.len()];
        for r in reports {
            for o in &r.origins {
                fetches[o.origin] += o.fetches;
            }
        }
        for (rps, f) in self.offered_rps.iter_mut().zip(&fetches) {
            *rps = *f as f64 / secs;
        }
        // Limited concurrency: the load on the servers, and each region's
        // share of it for the next epoch's split.
        for (i, o) in scenario.origins.iter().enumerate() {
            let (Some(servers), Some(shares)) = (o.concurrency, &mut self.fetch_shares[i]) else {
                continue;
            };
            let mut queued = vec![0u64; scenario.regions.len()];
            for r in reports {
                if let Some(g) = r.queue_waits.iter().find(|g| g.index == i)
                    && let Some(q) = queued.get_mut(r.region)
                {
                    *q += g.requests;
                }
            }
            let total: u64 = queued.iter().sum();
            let busy_secs = total as f64 * o.service_ms.mean() * self.slowdown[i] / 1000.0;
            self.utilisation[i].push(busy_secs / (f64::from(servers) * secs));
            if total > 0 {
                for (share, q) in shares.iter_mut().zip(&queued) {
                    *share = *q as f64 / total as f64;
                }
            }
        }
        // S3 scales a prefix under sustained pressure: the limit doubles
        // every `throttle_doubling_secs` while the offered rate exceeds it,
        // and stays where it got to when the pressure ends.
        for ((o, offered), slow_down) in scenario
            .origins
            .iter()
            .zip(&self.offered_rps)
            .zip(&mut self.slow_down)
        {
            if let (Some((limit, _)), Some(doubling)) = (slow_down, o.faults.throttle_doubling_secs)
                && *offered > *limit
            {
                *limit = (*limit * (secs / doubling).exp2()).min(*offered);
            }
        }
        let (Some(controller), Some((from, to))) = (&mut self.controller, self.migration_origins)
        else {
            return;
        };
        let mut obs = Observation::default();
        let mut latency: Option<hdrhistogram::Histogram<u64>> = None;
        for r in reports {
            for p in &r.pops {
                let c = &p.counters;
                obs.requests += c.requests;
                obs.status_5xx += c.status_5xx;
                obs.edge_hits += c.edge_hits;
                obs.origin_bytes += c.origin_bytes;
                obs.viewers_exposed_to_errors += c.viewers_exposed;
                obs.served_bytes_total += c.viewer_bytes;
                if self.needs_latency
                    && let Ok(h) = edgesim_sim::metrics::decode_histogram(&p.latency_v2)
                {
                    match &mut latency {
                        Some(all) => {
                            // Same bounds: adding cannot fail.
                            let _ = all.add(&h);
                        }
                        None => latency = Some(h),
                    }
                }
            }
            for o in &r.origins {
                if o.origin == from {
                    obs.old_fetches += o.fetches;
                    obs.old_errors += o.errors;
                    obs.served_from_old += o.served;
                    obs.hits_old_arm += o.served_hits;
                } else if o.origin == to {
                    obs.new_fetches += o.fetches;
                    obs.new_errors += o.errors;
                    obs.new_503 += o.throttled;
                    obs.served_from_new += o.served;
                    obs.served_bytes_from_new += o.served_bytes;
                    obs.hits_new_arm += o.served_hits;
                }
            }
        }
        obs.latency = latency;
        controller.observe(epoch, &obs);
    }

    /// Utilisation per epoch of the origins with limited concurrency, and
    /// the Slow Down limits, into the summary's origins.
    pub fn fill_origin_queues(&self, summary: &mut edgesim_report::Summary) {
        for (o, series) in summary.origins.iter_mut().zip(&self.utilisation) {
            let n = o.fetches_per_epoch.len().min(series.len());
            o.utilisation_per_epoch = series[..n].to_vec();
        }
        for (o, slow_down) in summary.origins.iter_mut().zip(&self.slow_down) {
            if let Some((_, series)) = slow_down {
                let n = o.fetches_per_epoch.len().min(series.len());
                o.slow_down_limit_per_epoch = series[..n].to_vec();
            }
        }
    }

    /// The migration's part of the summary.
    pub fn migration_summary(&self, scenario: &Scenario) -> Option<MigrationSummary> {
        let (c, (from, to)) = (self.controller.as_ref()?, self.migration_origins?);
        let summary = MigrationSummary::of(c, &scenario.origins[from].id, &scenario.origins[to].id);
        Some(
            match scenario
                .migration
                .as_ref()
                .and_then(|m| m.countries.as_ref())
            {
                Some(order) => summary.with_countries(order),
                None => summary,
            },
        )
    }
}

/// How an origin's `servers` are split among the regions, by their
/// `shares` of its fetches (summing to 1, or all 0): largest remainders,
/// ties to the lower region index, and at least one server per region (so a
/// region that starts fetching has a queue; with more regions fetching than
/// servers, the regions together get more than `servers`). A region with
/// every fetch gets every server.
fn split_servers(servers: u32, shares: &[f64]) -> Vec<u32> {
    let quotas: Vec<f64> = shares.iter().map(|s| s * f64::from(servers)).collect();
    let mut out: Vec<u32> = quotas.iter().map(|q| (q.floor() as u32).max(1)).collect();
    let given: u32 = out.iter().sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let rem = |i: usize| quotas[i] - quotas[i].floor();
        rem(b).total_cmp(&rem(a)).then(a.cmp(&b))
    });
    for &r in order
        .iter()
        .cycle()
        .take(servers.saturating_sub(given) as usize)
    {
        out[r] += 1;
    }
    out
}

/// The flash crowd in force at `t_us`: (traffic factor, objects, countries).
fn flash_at(scenario: &Scenario, t_us: u64) -> Option<(f64, u64, Vec<usize>)> {
    scenario.events.iter().find_map(|e| match &e.kind {
        EventKind::FlashCrowd {
            factor,
            objects,
            countries,
        } if e.active_at(t_us) => Some((*factor, *objects, countries.clone())),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::split_servers;

    #[test]
    fn servers_follow_the_fetch_shares_by_largest_remainder() {
        assert_eq!(split_servers(10, &[1.0]), vec![10]);
        assert_eq!(split_servers(10, &[0.0, 1.0, 0.0]), vec![1, 10, 1]);
        assert_eq!(split_servers(64, &[0.35, 0.4, 0.25]), vec![22, 26, 16]);
        // 3.33 each: the lowest index takes the remainder's tie.
        assert_eq!(split_servers(10, &[1.0 / 3.0; 3]), vec![4, 3, 3]);
        assert_eq!(split_servers(10, &[0.72, 0.28]), vec![7, 3]);
        assert_eq!(split_servers(10, &[0.76, 0.24]), vec![8, 2]);
        // No fetches anywhere: one each, the rest in region order.
        assert_eq!(split_servers(5, &[0.0, 0.0]), vec![3, 2]);
        // More regions than servers: one each all the same.
        assert_eq!(split_servers(2, &[0.5, 0.3, 0.2]), vec![1, 1, 1]);
    }
}

#[cfg(test)]
mod time_zone_tests {
    use super::Globals;
    use edgesim_model::{Scenario, cities};

    /// US viewers, a day long in one-hour epochs, starting at `start`.
    fn scenario(start: &str) -> Scenario {
        let text = format!(
            r#"
[simulation]
duration_secs = 86400
epoch_ms = 3600000
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = 1000
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
[catalog]
objects = 100
zipf_alpha = 0.8
size = "1KiB"
ttl_secs = 60
[viewers]
requests_per_sec = 1000
countries = {{ US = 1 }}
[traffic]
diurnal_amplitude = 0.5
peak_local_hour = 20
start = "{start}"
"#
        );
        Scenario::from_toml("tz.toml", &text).expect("valid")
    }

    /// The UTC hour (epoch) at which the demand of `city` peaks.
    fn peak_hour(s: &Scenario, city: &str) -> u64 {
        let us = &s.viewers.countries[0];
        let want = cities::find("US", city).expect("in the table");
        let local = us
            .cities
            .iter()
            .position(|c| c.city == want)
            .expect("a US city");
        let mut g = Globals::new(s);
        let rate = |epoch| -> f64 {
            g.demand(s, epoch)
                .iter()
                .flatten()
                .filter(|d| d.city == local)
                .map(|d| d.requests_per_sec)
                .sum()
        };
        let rates: Vec<f64> = (0..24).map(rate).collect();
        (0..24)
            .max_by(|&a, &b| rates[a].total_cmp(&rates[b]))
            .expect("24 epochs") as u64
    }

    #[test]
    fn west_coast_peaks_three_hours_after_east_coast_and_dst_moves_both() {
        let winter = scenario("2026-01-15T00:00:00Z");
        // 20:00 EST = 01:00 UTC; 20:00 PST = 04:00 UTC.
        assert_eq!(peak_hour(&winter, "New York City"), 1);
        assert_eq!(peak_hour(&winter, "Los Angeles"), 4);
        // Summer time: 20:00 EDT = 00:00 UTC, 20:00 PDT = 03:00 UTC.
        let summer = scenario("2026-07-15T00:00:00Z");
        assert_eq!(peak_hour(&summer, "New York City"), 0);
        assert_eq!(peak_hour(&summer, "Los Angeles"), 3);
        // Arizona keeps standard time all year.
        assert_eq!(peak_hour(&winter, "Phoenix"), 3);
        assert_eq!(peak_hour(&summer, "Phoenix"), 3);
    }
}
