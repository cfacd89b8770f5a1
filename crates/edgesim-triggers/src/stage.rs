//! The four Lambda@Edge trigger stages and the limits CloudFront applies to each.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where in CloudFront's request path a trigger runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Every viewer request, before the cache lookup.
    ViewerRequest,
    /// Only when the edge goes to the origin (miss or revalidation).
    OriginRequest,
    /// On every origin response, including status >= 400.
    OriginResponse,
    /// Before answering the viewer (hits included); cannot change the status.
    ViewerResponse,
}

/// A stage name that is not one of the four CloudFront event types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown stage `{given}`: expected one of viewer-request, origin-request, origin-response, viewer-response"
)]
pub struct UnknownStage {
    /// What was given.
    pub given: String,
}

impl Stage {
    /// All stages in pipeline order.
    pub const ALL: [Stage; 4] = [
        Stage::ViewerRequest,
        Stage::OriginRequest,
        Stage::OriginResponse,
        Stage::ViewerResponse,
    ];

    /// CloudFront's `eventType` spelling: `viewer-request`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::ViewerRequest => "viewer-request",
            Stage::OriginRequest => "origin-request",
            Stage::OriginResponse => "origin-response",
            Stage::ViewerResponse => "viewer-response",
        }
    }

    /// True for viewer-request and viewer-response (the 128 MB / 5 s / 40 KB limits).
    pub fn is_viewer(self) -> bool {
        matches!(self, Stage::ViewerRequest | Stage::ViewerResponse)
    }

    /// True for the two request stages (which may return a request or a generated response).
    pub fn is_request(self) -> bool {
        matches!(self, Stage::ViewerRequest | Stage::OriginRequest)
    }

    /// True for origin-request and origin-response (the event carries `request.origin`).
    pub fn is_origin(self) -> bool {
        !self.is_viewer()
    }

    /// Largest generated response (headers + body) CloudFront accepts from this stage.
    pub fn max_generated_response_bytes(self) -> usize {
        if self.is_viewer() {
            40 * 1024
        } else {
            1024 * 1024
        }
    }

    /// Largest function package CloudFront lets this stage use (the
    /// handler's source stands for the package): 1 MB for viewer triggers,
    /// 50 MB for origin triggers.
    pub fn max_package_bytes(self) -> usize {
        if self.is_viewer() {
            1024 * 1024
        } else {
            50 * 1024 * 1024
        }
    }

    /// Longest a function may run at this stage.
    pub fn max_timeout_ms(self) -> u64 {
        if self.is_viewer() { 5_000 } else { 30_000 }
    }

    /// Memory a function gets at this stage unless configured (viewer stages are fixed at 128 MB).
    pub fn default_memory_mb(self) -> u32 {
        128
    }

    /// Does this stage run for a response with `status`? viewer-response is skipped for
    /// statuses >= 400 (CloudFront's own redirects and custom error pages are the caller's to
    /// skip too); the other stages always run when reached.
    pub fn runs_for_status(self, status: u16) -> bool {
        self != Stage::ViewerResponse || status < 400
    }

    /// Largest memory that may be configured for this stage.
    ///
    /// AWS's pages disagree for origin triggers (3,008 vs 10,240 MB); the larger is accepted.
    pub fn max_memory_mb(self) -> u32 {
        if self.is_viewer() { 128 } else { 10_240 }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = UnknownStage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized = s.trim().to_ascii_lowercase().replace('_', "-");
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == normalized)
            .ok_or_else(|| UnknownStage {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cloudfront_names_and_snake_case() {
        assert_eq!(
            "viewer-request".parse::<Stage>().unwrap(),
            Stage::ViewerRequest
        );
        assert_eq!(
            "origin_response".parse::<Stage>().unwrap(),
            Stage::OriginResponse
        );
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().parse::<Stage>().unwrap(), stage);
        }
    }

    #[test]
    fn unknown_stage_lists_valid_names() {
        let err = "viewer".parse::<Stage>().unwrap_err().to_string();
        assert!(
            err.contains("viewer-request, origin-request, origin-response, viewer-response"),
            "{err}"
        );
    }

    #[test]
    fn viewer_response_is_skipped_for_errors() {
        assert!(Stage::ViewerResponse.runs_for_status(304));
        assert!(!Stage::ViewerResponse.runs_for_status(404));
        assert!(Stage::OriginResponse.runs_for_status(503));
    }

    #[test]
    fn limits_per_stage() {
        assert_eq!(
            Stage::ViewerRequest.max_generated_response_bytes(),
            40 * 1024
        );
        assert_eq!(
            Stage::OriginRequest.max_generated_response_bytes(),
            1024 * 1024
        );
        assert_eq!(Stage::ViewerResponse.max_timeout_ms(), 5_000);
        assert_eq!(Stage::OriginResponse.max_timeout_ms(), 30_000);
    }
}
