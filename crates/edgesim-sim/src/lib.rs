//! The region engine: a pure, deterministic discrete-event simulation of
//! one region (its PoPs and their caches) in virtual time.
//!
//! A region is advanced one epoch at a time with the demand the
//! coordinator routed to it; each epoch yields a [`RegionEpochReport`].
//! Nothing here does I/O, reads a clock or depends on which thread or
//! agent runs it: the same plan, seed and demand give the same report.

pub mod connections;
pub mod controls;
pub mod metrics;
pub mod network;
pub mod queueing;
pub mod region;
pub mod routing;
pub mod shield;

pub use metrics::{
    AnswerSource, ConnectionCounts, Counters, EpochLatency, ErrorCause, GroupEpoch, LambdaEpoch,
    LatencyHistogram, OriginEpoch, PopEpoch, RegionEpochReport, RouteEpoch, TriggerEpoch,
    TtfbParts, VariantEpoch, ViewerOutcomes,
};
pub use region::{FUNCTION_LOG_CHARS_PER_REGION, RegionSim, SimError};
pub use routing::{Demand, Routing};
