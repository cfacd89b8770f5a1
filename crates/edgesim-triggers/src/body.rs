//! Request bodies and Lambda@Edge's "include body" option.
//!
//! With the option on, the event's `request.body` is
//! `{inputTruncated, action: "read-only", encoding: "base64", data}`: the body cut at 40 KB at
//! the viewer stages and 1 MB at the origin stages, `inputTruncated` telling whether it was. A
//! function replaces the body by returning `action: "replace"` with `encoding` `text` or
//! `base64`; CloudFront rejects (502) a replacement that is not valid base64 or is over the
//! stage's limit. Without the option the event has no `body` and the body cannot be changed.

use std::borrow::Cow;

use crate::event::RequestBody;
use crate::headers::Str;
use crate::stage::Stage;
use crate::util::{base64_decode, base64_encode};
use crate::validate::{ValidationRule, Violation};

/// `read-only`: the function sees the body; changes to it are ignored.
pub const READ_ONLY: &str = "read-only";
/// `replace`: the function's `data` becomes the body.
pub const REPLACE: &str = "replace";

/// Largest body a function sees (and may set) at `stage`: 40 KB at the viewer stages, 1 MB at
/// the origin stages.
pub fn max_body_bytes(stage: Stage) -> usize {
    if stage.is_viewer() {
        40 * 1024
    } else {
        1024 * 1024
    }
}

/// A body as CloudFront holds it before any function runs: the bytes, base64-encoded.
pub fn request_body(bytes: &[u8]) -> RequestBody {
    RequestBody {
        input_truncated: false,
        action: Str::const_new(READ_ONLY),
        encoding: Str::const_new("base64"),
        data: base64_encode(bytes),
    }
}

/// The bytes of `body` (`text` is UTF-8; base64 that does not decode counts as text).
pub fn body_bytes(body: &RequestBody) -> Cow<'_, [u8]> {
    if body.encoding == "base64"
        && let Some(bytes) = base64_decode(&body.data)
    {
        return Cow::Owned(bytes);
    }
    Cow::Borrowed(body.data.as_bytes())
}

/// The body as the function at `stage` sees it: read-only base64, cut at the stage's limit
/// with `inputTruncated` set. Borrowed when the stored body already is exactly that.
pub fn exposed_body(stage: Stage, body: &RequestBody) -> Cow<'_, RequestBody> {
    let limit = max_body_bytes(stage);
    let plain = body.encoding == "base64" && body.action == READ_ONLY;
    // Base64 of at most `limit` bytes is at most this long; shorter data needs no decoding.
    if plain && body.data.len() <= limit / 3 * 4 {
        return Cow::Borrowed(body);
    }
    let bytes = body_bytes(body);
    let cut = bytes.len() > limit;
    Cow::Owned(RequestBody {
        input_truncated: body.input_truncated || cut,
        action: Str::const_new(READ_ONLY),
        encoding: Str::const_new("base64"),
        data: base64_encode(&bytes[..bytes.len().min(limit)]),
    })
}

/// Checks on a body a function returned with `action: "replace"` at `stage`.
pub fn check_replacement(stage: Stage, body: &RequestBody) -> Result<(), Violation> {
    let size = match body.encoding.as_str() {
        "text" => body.data.len(),
        "base64" => match base64_decode(&body.data) {
            Some(bytes) => bytes.len(),
            None => {
                return Err(Violation::new(
                    ValidationRule::BadBase64,
                    "request.body.encoding is base64 but request.body.data is not valid base64",
                ));
            }
        },
        other => {
            return Err(Violation::new(
                ValidationRule::BadShape,
                format!("request.body.encoding must be `text` or `base64`, got `{other}`"),
            ));
        }
    };
    let limit = max_body_bytes(stage);
    if size > limit {
        return Err(Violation::new(
            ValidationRule::BodyTooLarge,
            format!(
                "the replaced request body is {size} bytes; the limit at {stage} is {limit} bytes"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bodies_are_exposed_as_they_are() {
        let body = request_body(b"name=value");
        let seen = exposed_body(Stage::ViewerRequest, &body);
        assert!(matches!(seen, Cow::Borrowed(_)));
        assert!(!seen.input_truncated);
        assert_eq!(body_bytes(&seen).as_ref(), b"name=value");
    }

    #[test]
    fn bodies_are_cut_at_40_kb_at_viewer_stages_and_1_mb_at_origin_stages() {
        let big = vec![b'x'; 50 * 1024];
        let body = request_body(&big);
        let viewer = exposed_body(Stage::ViewerRequest, &body);
        assert!(viewer.input_truncated);
        assert_eq!(viewer.action, READ_ONLY);
        assert_eq!(viewer.encoding, "base64");
        assert_eq!(body_bytes(&viewer).len(), 40 * 1024);
        let origin = exposed_body(Stage::OriginRequest, &body);
        assert!(!origin.input_truncated);
        assert_eq!(body_bytes(&origin).len(), 50 * 1024);
        let huge = request_body(&vec![0u8; 1024 * 1024 + 1]);
        let origin = exposed_body(Stage::OriginRequest, &huge);
        assert!(origin.input_truncated);
        assert_eq!(body_bytes(&origin).len(), 1024 * 1024);
    }

    #[test]
    fn text_bodies_are_exposed_as_base64() {
        let body = RequestBody {
            input_truncated: false,
            action: Str::from(REPLACE),
            encoding: Str::from("text"),
            data: "hello".into(),
        };
        let seen = exposed_body(Stage::OriginRequest, &body);
        assert_eq!(seen.data, "aGVsbG8=");
        assert_eq!(seen.action, READ_ONLY);
    }

    #[test]
    fn replacements_are_checked() {
        let replace = |encoding: &str, data: String| RequestBody {
            input_truncated: false,
            action: Str::from(REPLACE),
            encoding: Str::from(encoding),
            data,
        };
        assert!(check_replacement(Stage::ViewerRequest, &replace("text", "ok".into())).is_ok());
        assert!(check_replacement(Stage::ViewerRequest, &replace("base64", "b2s=".into())).is_ok());
        let rule = |r: Result<(), Violation>| r.unwrap_err().rule;
        assert_eq!(
            rule(check_replacement(
                Stage::ViewerRequest,
                &replace("base64", "not base64!".into())
            )),
            ValidationRule::BadBase64
        );
        assert_eq!(
            rule(check_replacement(
                Stage::ViewerRequest,
                &replace("gzip", String::new())
            )),
            ValidationRule::BadShape
        );
        let over = "x".repeat(40 * 1024 + 1);
        assert_eq!(
            rule(check_replacement(
                Stage::ViewerRequest,
                &replace("text", over.clone())
            )),
            ValidationRule::BodyTooLarge
        );
        assert!(check_replacement(Stage::OriginRequest, &replace("text", over)).is_ok());
        let encoded = base64_encode(&vec![1u8; 1024 * 1024 + 1]);
        assert_eq!(
            rule(check_replacement(
                Stage::OriginRequest,
                &replace("base64", encoded)
            )),
            ValidationRule::BodyTooLarge
        );
    }
}
