//! Migration controller for gradual origin migrations in edgesim.
//!
//! A migration moves viewer traffic from an old origin (`from`, e.g. an S3
//! bucket) to a new one (`to`). The simulator runs in epochs of simulated
//! time; at every epoch boundary the coordinator asks the [`Controller`] for
//! the [`Plan`] of the next epoch (the share of traffic, the *weight*, to
//! send to the new origin) and, once the epoch is simulated, feeds back an
//! [`Observation`]. The controller evaluates metric [`Gate`]s at their
//! intervals and advances, holds or aborts the schedule (then rolls back
//! instantly or gradually). At the end [`Controller::kpis`] summarises the
//! run.
//!
//! Everything here is pure and deterministic: no clocks, no randomness, no
//! I/O, no hash-map iteration.
//!
//! The `[migration]` table is described by [`RawMigration`] and validated by
//! [`Migration::from_raw`] (or [`Migration::from_toml_str`]). A country
//! split moves whole countries in the seeded order of a [`CountryOrder`].

mod config;
mod controller;
mod country;
mod kpi;
#[cfg(test)]
mod tests;

pub use config::{
    CD_MAX_PERCENT, FieldError, Gate, GateMetric, MAX_SCHEDULE_POINTS, Migration, RawGate,
    RawMigration, RawRollback, RawRollbackKind, RawSchedule, RawScheduleKind, RawStep, Rollback,
    Schedule, SplitKey, preset_names,
};
pub use controller::{
    AbortInfo, Controller, Decision, EpochCounters, EpochRecord, GateEvaluation, GateOutcome,
    INCONCLUSIVE_AS_PASS_AFTER, Observation, Phase, Plan,
};
pub use country::{CountryOrder, OrderedCountry, moves as country_moves};
pub use kpi::{AbortKpi, Kpis};
