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
