//! Names of the per-epoch controls the coordinator sets for every region
//! (`Advance.controls`): the one place both sides take them from.

/// Share of traffic the migration sends to its target, in [0, 1]; what a
/// built-in `origin_split` with `weight = "migration"` reads.
pub const MIGRATION_WEIGHT: &str = "migration";

/// 1 once a continuous deployment's staging side has been promoted.
pub const MIGRATION_PROMOTED: &str = "migration.promoted";

/// Share of an origin's fetches answered 503 Slow Down in the epoch.
pub fn origin_throttle(origin_id: &str) -> String {
    format!("origin.{origin_id}.throttle")
}

/// Status an origin answers every fetch with while it is out (0: up).
pub fn origin_down(origin_id: &str) -> String {
    format!("origin.{origin_id}.down")
}

/// Multiplier of an origin's service time (1: normal).
pub fn origin_slowdown(origin_id: &str) -> String {
    format!("origin.{origin_id}.slowdown")
}

/// Servers of an origin with limited `concurrency` that a region's queue
/// has this epoch (its share of them; without it, all of them).
pub fn origin_servers(region_id: &str, origin_id: &str) -> String {
    format!("origin.{origin_id}.{region_id}.servers")
}

/// 1 while a region's regional edge cache is down.
pub fn regional_down(region_id: &str) -> String {
    format!("region.{region_id}.regional_down")
}

/// Round trip added between a region and an origin, ms.
pub fn extra_rtt_ms(region_id: &str, origin_id: &str) -> String {
    format!("network.{region_id}.{origin_id}.extra_ms")
}

/// 1 in the epoch a PoP comes back from an outage: its cache starts empty.
pub fn pop_flush(pop_id: &str) -> String {
    format!("pop.{pop_id}.flush")
}

/// Number of flash-crowd objects (the least popular of the first class).
pub const FLASH_OBJECTS: &str = "flash.objects";

/// Share of a country's requests that ask for flash-crowd objects.
pub fn flash_share(country_code: &str) -> String {
    format!("flash.{country_code}.share")
}
