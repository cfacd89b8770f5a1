//! The scenario model: the TOML schema, its validation into a [`Scenario`],
//! geography, distributions and the deterministic workload generators.
//!
//! Parsing happens in two stages. [`raw`] mirrors the file with serde
//! (`deny_unknown_fields`, spans kept), and [`Scenario::from_toml`] turns
//! it into validated, index-based types, collecting every problem it finds
//! as a [`Diagnostic`] that names the file, line, column and entity.

pub mod cflog;
pub mod cities;
pub mod cost;
pub mod dist;
pub mod events;
pub mod from_logs;
pub mod geo;
pub mod geo_tables;
pub mod input;
pub mod lambda;
pub mod limits;
pub mod names;
pub mod overrides;
pub mod raw;
pub mod replay;
pub mod rng;
pub mod scenario;
mod schema;
pub mod source;
pub mod workload;

pub use dist::Dist;
pub use scenario::{
    AgentFailurePolicy, Catalog, CityShare, CountryDemand, Device, Network, ObjectClass, Origin,
    OriginFaults, OriginKind, OriginShield, Pop, Region, RegionalCache, Scenario, Simulation,
    Variant, Viewers,
};
pub use source::{Diagnostic, Diagnostics, Warning};
