//! CloudFront's Lambda@Edge model for edgesim: the event objects, the rules CloudFront applies to
//! handler results, built-in declarative triggers, and deterministic JavaScript (QuickJS) and Python (CPython worker)
//! runtimes, and CloudFront Functions (QuickJS, `cloudfront-js-1.0`/`2.0`, KeyValueStore).
//!
//! The simulator calls [`compile`] once per behaviour and stage to get a [`Handler`], then
//! [`Handler::invoke`] for each request reaching that stage, with the request (and response)
//! as [`Request`] / [`Response`] values it keeps per request. Every invocation returns an
//! [`Invocation`]: how the stage ended ([`StageOutcome`]), its simulated duration (a function
//! of the handler and the event only, never of the wall clock), console output and whether it
//! was a cold start. Failures carry the status the viewer gets (502 for invalid results, 503
//! for execution errors) as EDGE-SEMANTICS.md specifies.

pub mod body;
pub mod builtin;
pub mod cff;
pub mod check;
pub mod config;
mod digest;
pub mod event;
pub mod handler;
pub mod headers;
mod js;
pub mod pool;
pub mod python;
pub mod response_headers;
pub mod script;
pub mod stage;
pub mod testing;
pub mod util;
pub mod validate;
pub mod viewer;

pub use builtin::BuiltinConfig;
pub use config::{ConfigError, ExecutionConfig, TriggerConfig, TriggerKind, compile};
pub use event::{
    BodyEncoding, CfEvent, CustomOrigin, EventConfig, Origin, Request, Response, S3Origin,
};
pub use handler::{
    Controls, Failure, FailureKind, Handler, Invocation, InvokeContext, OriginChange, StageOutcome,
    VariantChoice,
};
pub use headers::{HeaderEntry, Headers, Str};
pub use pool::{ExecutionModel, PoolStats};
pub use stage::Stage;
pub use validate::{ValidationRule, Violation};
pub use viewer::{CLOUDFRONT_VIEWER_HEADERS, Device, Os, Viewer, ViewerLocation};
