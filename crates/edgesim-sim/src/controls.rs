//! The per-epoch controls the coordinator sets for every region
//! (`Advance.controls`), typed: what the global state of the run (the
//! migration's plan, origins' load and events) makes each region do in the
//! coming epoch. Indices are the scenario's (origins, regions, PoPs,
//! countries), so a control cannot name something that does not exist.

/// The knob a built-in `origin_split` with `weight = "migration"` reads:
/// the migration's weight, as functions see it.
pub const MIGRATION_WEIGHT: &str = "migration";

/// Everything a region is told for one epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EpochControls {
    /// The migration's plan, when the scenario has one.
    pub migration: Option<MigrationControl>,
    /// Per origin, in scenario order (empty: every origin as configured).
    pub origins: Vec<OriginControl>,
    /// Regions (scenario indices) whose regional edge cache is down.
    pub regional_down: Vec<usize>,
    /// Round trips added between a region and an origin.
    pub extra_rtt: Vec<ExtraRtt>,
    /// PoPs (scenario indices) back from an outage this epoch: their caches
    /// start empty and their connections are gone.
    pub pops_flushed: Vec<usize>,
    /// A flash crowd under way.
    pub flash: Option<FlashControl>,
}

/// The migration's plan for the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MigrationControl {
    /// Share of traffic sent to the target, in [0, 1].
    pub weight: f64,
    /// A continuous deployment's staging side has been promoted.
    pub promoted: bool,
}

/// One origin's condition for the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginControl {
    /// Share of its fetches answered 503 Slow Down (from its global load
    /// over its request-rate limit), in [0, 1].
    pub throttle_share: f64,
    /// The status of every answer while it is out; None when up.
    pub down_status: Option<u16>,
    /// Service-time multiplier (1: normal).
    pub slowdown: f64,
    /// With limited concurrency: each region's share of its servers, in
    /// scenario region order (empty: every region queues for all of them).
    pub servers_by_region: Vec<u32>,
}

impl Default for OriginControl {
    fn default() -> Self {
        OriginControl {
            throttle_share: 0.0,
            down_status: None,
            slowdown: 1.0,
            servers_by_region: Vec::new(),
        }
    }
}

/// A round trip added between a region and an origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtraRtt {
    /// Scenario region index.
    pub region: usize,
    /// Scenario origin index.
    pub origin: usize,
    /// Added round trip, ms.
    pub ms: f64,
}

/// A flash crowd: requests for the least popular objects of the first
/// class, which nobody had cached.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlashControl {
    /// Number of flash-crowd objects.
    pub objects: u64,
    /// Per country (scenario order): the share of its requests that ask
    /// for them.
    pub share_by_country: Vec<f64>,
}

impl EpochControls {
    /// The named knobs edge functions read: the migration's weight as
    /// [`MIGRATION_WEIGHT`].
    pub fn function_knobs(&self) -> edgesim_triggers::Controls {
        let mut knobs = edgesim_triggers::Controls::new();
        if let Some(m) = &self.migration {
            knobs.set(MIGRATION_WEIGHT, m.weight);
        }
        knobs
    }

    /// The total round trip added between `region` and `origin`, ms.
    pub fn extra_rtt_ms(&self, region: usize, origin: usize) -> f64 {
        self.extra_rtt
            .iter()
            .filter(|e| e.region == region && e.origin == origin)
            .map(|e| e.ms)
            .sum()
    }
}
