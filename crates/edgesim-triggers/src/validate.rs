//! CloudFront's checks on what a Lambda@Edge handler returns, per stage (EDGE-SEMANTICS.md,
//! "Failures and what the viewer gets"). Every violation is a 502 `LambdaValidationError`.

use serde::Serialize;
use serde_json::Value;

use crate::event::{BodyEncoding, Origin, Request, RequestBody, Response};
use crate::headers::{Headers, Str, title_case};
use crate::stage::Stage;
use crate::util::base64_decode;

/// The rule a handler result broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationRule {
    /// Not an object of the expected shape (missing/mistyped fields, null result, request
    /// returned at a response stage).
    BadShape,
    /// A header name that is not lowercase, a `key` that does not match it, or a value with
    /// control characters.
    InvalidHeader,
    /// Added or changed a header CloudFront never lets functions touch.
    ForbiddenHeader,
    /// Added, changed or removed a header that is read-only at this stage.
    ReadOnlyHeader,
    /// Changed `clientIp` or `method`.
    ReadOnlyField,
    /// Changed the query string outside the two request stages.
    QueryStringReadOnly,
    /// Status outside 200–599.
    StatusOutOfRange,
    /// A 204 response with a body.
    NoContentWithBody,
    /// Generated response (headers + body) over 40 KB (viewer stages) or 1 MB (origin stages).
    ResponseTooLarge,
    /// `bodyEncoding: base64` with a body that is not base64 (or a replaced request body whose
    /// `encoding` is base64 and whose data is not).
    BadBase64,
    /// A replaced request body over 40 KB (viewer stages) or 1 MB (origin stages).
    BodyTooLarge,
    /// Added `CloudFront-Viewer-Country` at viewer-request.
    ViewerCountryAtViewerRequest,
    /// Changed the status at viewer-response.
    StatusChangedAtViewerResponse,
    /// `uri` does not start with `/`.
    UriNotAbsolute,
    /// `uri` + query string of 8,192 characters or more.
    UriTooLong,
}

/// A broken rule with detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Violation {
    /// The rule.
    pub rule: ValidationRule,
    /// What exactly was wrong.
    pub message: String,
}

impl Violation {
    /// A violation of `rule`.
    pub fn new(rule: ValidationRule, message: impl Into<String>) -> Self {
        Violation {
            rule,
            message: message.into(),
        }
    }
}

fn violation<T>(rule: ValidationRule, message: impl Into<String>) -> Result<T, Violation> {
    Err(Violation::new(rule, message))
}

/// Changes a handler made to the request; `None` fields are unchanged.
///
/// Runtimes that read results field by field fill this directly so an unchanged header map is
/// never copied; [`RequestUpdate::diff`] builds one from a whole request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestUpdate {
    /// New `clientIp` (a violation: read-only).
    pub client_ip: Option<Str>,
    /// New `method` (a violation: read-only).
    pub method: Option<Str>,
    /// New `uri`.
    pub uri: Option<Str>,
    /// New query string.
    pub querystring: Option<Str>,
    /// New header map.
    pub headers: Option<Headers>,
    /// New origin (`Some(None)`: removed).
    pub origin: Option<Option<Origin>>,
    /// New body (`Some(None)`: removed).
    pub body: Option<Option<RequestBody>>,
}

fn changed<T: PartialEq + Clone>(before: &T, after: &T) -> Option<T> {
    if before == after {
        None
    } else {
        Some(after.clone())
    }
}

impl RequestUpdate {
    /// The changes that turn `before` into `after`.
    pub fn diff(before: &Request, after: &Request) -> Self {
        RequestUpdate {
            client_ip: changed(&before.client_ip, &after.client_ip),
            method: changed(&before.method, &after.method),
            uri: changed(&before.uri, &after.uri),
            querystring: changed(&before.querystring, &after.querystring),
            headers: changed(&before.headers, &after.headers),
            origin: changed(&before.origin, &after.origin),
            body: changed(&before.body, &after.body),
        }
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == RequestUpdate::default()
    }

    /// Apply the changes.
    pub fn apply(self, request: &mut Request) {
        if let Some(v) = self.client_ip {
            request.client_ip = v;
        }
        if let Some(v) = self.method {
            request.method = v;
        }
        if let Some(v) = self.uri {
            request.uri = v;
        }
        if let Some(v) = self.querystring {
            request.querystring = v;
        }
        if let Some(v) = self.headers {
            request.headers = v;
        }
        if let Some(v) = self.origin {
            request.origin = v;
        }
        if let Some(v) = self.body {
            request.body = v;
        }
    }
}

/// Changes a handler made to the response at a response stage; `None` fields are unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseUpdate {
    /// New status.
    pub status: Option<u16>,
    /// New reason phrase.
    pub status_description: Option<Str>,
    /// New header map.
    pub headers: Option<Headers>,
    /// Replacement body (`Some(None)`: removed).
    pub body: Option<Option<String>>,
    /// Encoding of the replacement body.
    pub body_encoding: Option<Option<BodyEncoding>>,
}

impl ResponseUpdate {
    /// The changes that turn `before` into `after`.
    pub fn diff(before: &Response, after: &Response) -> Self {
        ResponseUpdate {
            status: changed(&before.status, &after.status),
            status_description: changed(&before.status_description, &after.status_description),
            headers: changed(&before.headers, &after.headers),
            body: changed(&before.body, &after.body),
            body_encoding: changed(&before.body_encoding, &after.body_encoding),
        }
    }

    /// Apply the changes.
    pub fn apply(self, response: &mut Response) {
        if let Some(v) = self.status {
            response.status = v;
        }
        if let Some(v) = self.status_description {
            response.status_description = v;
        }
        if let Some(v) = self.headers {
            response.headers = v;
        }
        if let Some(v) = self.body {
            response.body = v;
        }
        if let Some(v) = self.body_encoding {
            response.body_encoding = v;
        }
    }
}

/// What a handler handed back, already read into CloudFront's types.
// Built once per invocation and consumed right away: boxing the large variant would add an
// allocation on the hot path for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerResult {
    /// The (possibly modified) request, at a request stage.
    Request(RequestUpdate),
    /// A whole response: generated at a request stage, or the returned response at a response
    /// stage (compared with the one the handler received).
    Response(Response),
    /// The (possibly modified) response at a response stage.
    ResponseUpdate(ResponseUpdate),
}

/// What CloudFront does with an accepted result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// The request/response was updated in place.
    Continue,
    /// Answer with this generated response.
    Respond(Response),
}

const NEVER_EXACT: &[&str] = &[
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "trailer",
    "upgrade",
    "x-amzn-auth",
    "x-amzn-cf-billing",
    "x-amzn-cf-id",
    "x-amzn-cf-xff",
    "x-amzn-errortype",
    "x-amzn-fle-profile",
    "x-amzn-header-count",
    "x-amzn-header-order",
    "x-amzn-lambda-integration-tag",
    "x-amzn-requestid",
    "x-cache",
    "x-forwarded-proto",
    "x-real-ip",
];
const NEVER_PREFIX: &[&str] = &["x-accel-", "x-amz-cf-", "x-edge-"];

/// True for headers no function may add or change, at any stage.
pub fn is_forbidden_header(name: &str) -> bool {
    NEVER_EXACT.contains(&name) || NEVER_PREFIX.iter().any(|p| name.starts_with(p))
}

/// True for headers that are read-only at `stage` (may be read, not added, changed or removed).
pub fn is_read_only_header(stage: Stage, name: &str) -> bool {
    let list: &[&str] = match stage {
        Stage::ViewerRequest => &["content-length", "host", "transfer-encoding", "via"],
        Stage::OriginRequest => &[
            "accept-encoding",
            "content-length",
            "if-modified-since",
            "if-none-match",
            "if-range",
            "if-unmodified-since",
            "transfer-encoding",
            "via",
        ],
        Stage::OriginResponse => &["transfer-encoding", "via"],
        Stage::ViewerResponse => &["warning", "via"],
    };
    list.contains(&name)
}

/// Headers a generated response may not carry: the never-list plus the ones read-only at both
/// response stages (`Transfer-Encoding`, `Via`).
fn is_forbidden_in_generated_response(name: &str) -> bool {
    is_forbidden_header(name) || name == "transfer-encoding" || name == "via"
}

/// Can a function at `stage` set header `name` (lowercase) on the object it returns?
pub fn may_set_header(stage: Stage, name: &str) -> bool {
    let country_at_viewer_request =
        stage == Stage::ViewerRequest && name == "cloudfront-viewer-country";
    !(is_forbidden_header(name) || is_read_only_header(stage, name) || country_at_viewer_request)
}

fn check_header_syntax(headers: &Headers, what: &str) -> Result<(), Violation> {
    for e in headers {
        let name_ok = !e.name.is_empty()
            && e.name
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b':' && !b.is_ascii_uppercase());
        if !name_ok {
            return violation(
                ValidationRule::InvalidHeader,
                format!("{what} header name `{}` is not a lowercase token", e.name),
            );
        }
        if !e.key.eq_ignore_ascii_case(&e.name) {
            return violation(
                ValidationRule::InvalidHeader,
                format!(
                    "{what} header `{}` has key `{}`: the key must be the same name in any case",
                    e.name, e.key
                ),
            );
        }
        if e.value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return violation(
                ValidationRule::InvalidHeader,
                format!(
                    "{what} header `{}` has a control character in its value",
                    e.name
                ),
            );
        }
    }
    Ok(())
}

/// Compare the header sets before and after: forbidden and read-only headers must be untouched.
fn check_header_changes(
    stage: Stage,
    before: &Headers,
    after: &Headers,
    what: &str,
) -> Result<(), Violation> {
    check_header_syntax(after, what)?;
    for name in after.names().chain(before.names()) {
        if before.same_values(after, name) {
            continue;
        }
        if stage == Stage::ViewerRequest && name == "cloudfront-viewer-country" {
            return violation(
                ValidationRule::ViewerCountryAtViewerRequest,
                "CloudFront-Viewer-Country cannot be added or changed at viewer-request",
            );
        }
        if is_forbidden_header(name) {
            return violation(
                ValidationRule::ForbiddenHeader,
                format!("{what} header `{name}` may not be added or changed by a function"),
            );
        }
        if is_read_only_header(stage, name) {
            return violation(
                ValidationRule::ReadOnlyHeader,
                format!("{what} header `{name}` is read-only at {stage}"),
            );
        }
    }
    Ok(())
}

/// Checks on a request returned at a request stage, against the request the handler received.
pub fn check_request(stage: Stage, before: &Request, after: &Request) -> Result<(), Violation> {
    check_request_update(stage, before, &RequestUpdate::diff(before, after))
}

/// Checks on the changes a handler made to the request at `stage`.
pub fn check_request_update(
    stage: Stage,
    before: &Request,
    update: &RequestUpdate,
) -> Result<(), Violation> {
    if update.client_ip.is_some() {
        return violation(
            ValidationRule::ReadOnlyField,
            "request.clientIp is read-only",
        );
    }
    if update.method.is_some() {
        return violation(ValidationRule::ReadOnlyField, "request.method is read-only");
    }
    if !stage.is_request() && update.querystring.is_some() {
        return violation(
            ValidationRule::QueryStringReadOnly,
            format!("the query string is read-only at {stage}"),
        );
    }
    let uri = update.uri.as_ref().unwrap_or(&before.uri);
    if !uri.starts_with('/') {
        return violation(
            ValidationRule::UriNotAbsolute,
            format!("request.uri `{uri}` must start with `/`"),
        );
    }
    let querystring = update.querystring.as_ref().unwrap_or(&before.querystring);
    let length = uri.len()
        + if querystring.is_empty() {
            0
        } else {
            1 + querystring.len()
        };
    if length >= 8192 {
        return violation(
            ValidationRule::UriTooLong,
            format!("uri + query string is {length} characters; CloudFront's limit is under 8,192"),
        );
    }
    if let Some(origin) = &update.origin {
        if stage != Stage::OriginRequest {
            return violation(
                ValidationRule::BadShape,
                format!("request.origin can only be changed at origin-request, not {stage}"),
            );
        }
        match origin {
            None => return violation(ValidationRule::BadShape, "request.origin was removed"),
            Some(origin) => check_origin(origin)?,
        }
    }
    if let Some(Some(body)) = &update.body
        && body.action == crate::body::REPLACE
    {
        crate::body::check_replacement(stage, body)?;
    }
    match &update.headers {
        Some(after) => check_header_changes(stage, &before.headers, after, "request"),
        None => Ok(()),
    }
}

fn check_origin(origin: &Origin) -> Result<(), Violation> {
    let (domain, headers) = match origin {
        Origin::S3(o) => (&o.domain_name, &o.custom_headers),
        Origin::Custom(o) => (&o.domain_name, &o.custom_headers),
    };
    if domain.is_empty() {
        return violation(
            ValidationRule::BadShape,
            "request.origin domainName is empty",
        );
    }
    check_header_syntax(headers, "origin custom")
}

fn check_body(stage: Stage, response: &Response) -> Result<(), Violation> {
    if !(200..=599).contains(&response.status) {
        return violation(
            ValidationRule::StatusOutOfRange,
            format!("status {} is outside 200-599", response.status),
        );
    }
    let body = response.body.as_deref().unwrap_or("");
    if response.status == 204 && !body.is_empty() {
        return violation(
            ValidationRule::NoContentWithBody,
            "a 204 (No Content) response cannot have a body",
        );
    }
    if response.body_encoding == Some(BodyEncoding::Base64) && base64_decode(body).is_none() {
        return violation(
            ValidationRule::BadBase64,
            "bodyEncoding is base64 but the body is not valid base64",
        );
    }
    let size = response.generated_size_bytes();
    let limit = stage.max_generated_response_bytes();
    if size > limit {
        return violation(
            ValidationRule::ResponseTooLarge,
            format!("generated response is {size} bytes; the limit at {stage} is {limit} bytes"),
        );
    }
    Ok(())
}

/// Checks on a response generated at a request stage.
pub fn check_generated_response(stage: Stage, response: &Response) -> Result<(), Violation> {
    check_header_syntax(&response.headers, "response")?;
    for name in response.headers.names() {
        if is_forbidden_in_generated_response(name) {
            return violation(
                ValidationRule::ForbiddenHeader,
                format!("a generated response may not carry `{name}`"),
            );
        }
    }
    check_body(stage, response)
}

/// Checks on a response returned at a response stage, against the one the handler received.
pub fn check_updated_response(
    stage: Stage,
    before: &Response,
    after: &Response,
) -> Result<(), Violation> {
    check_response_update(stage, before, &ResponseUpdate::diff(before, after))
}

/// Checks on the changes a handler made to the response at `stage`.
pub fn check_response_update(
    stage: Stage,
    before: &Response,
    update: &ResponseUpdate,
) -> Result<(), Violation> {
    if let Some(status) = update.status
        && stage == Stage::ViewerResponse
    {
        return violation(
            ValidationRule::StatusChangedAtViewerResponse,
            format!(
                "viewer-response cannot change the status ({} -> {status})",
                before.status
            ),
        );
    }
    if let Some(after) = &update.headers {
        check_header_changes(stage, &before.headers, after, "response")?;
    }
    if update.status.is_some() || update.body.is_some() || update.body_encoding.is_some() {
        let mut effective = before.clone();
        update.clone().apply(&mut effective);
        check_body(stage, &effective)?;
    }
    Ok(())
}

/// Checks on the changes a CloudFront Function made at viewer-response: those of Lambda@Edge
/// (headers, body), except that a CloudFront Function may change the status.
pub fn check_function_response_update(
    before: &Response,
    update: &ResponseUpdate,
) -> Result<(), Violation> {
    let without_status = ResponseUpdate {
        status: None,
        ..update.clone()
    };
    check_response_update(Stage::ViewerResponse, before, &without_status)?;
    if update.status.is_some() {
        let mut effective = before.clone();
        update.clone().apply(&mut effective);
        check_body(Stage::ViewerResponse, &effective)?;
    }
    Ok(())
}

/// Validate `result` at `stage` and, when CloudFront would accept it, apply it.
///
/// `querystring_after` is the event's query string as the handler left it at a response stage
/// (where the request is read-only); pass `None` when the runtime cannot observe it.
pub fn accept(
    stage: Stage,
    result: HandlerResult,
    request: &mut Request,
    response: Option<&mut Response>,
    querystring_after: Option<&str>,
) -> Result<Accepted, Violation> {
    if stage.is_request() {
        match result {
            HandlerResult::Request(update) => {
                check_request_update(stage, request, &update)?;
                update.apply(request);
                Ok(Accepted::Continue)
            }
            HandlerResult::Response(generated) => {
                check_generated_response(stage, &generated)?;
                Ok(Accepted::Respond(generated))
            }
            HandlerResult::ResponseUpdate(_) => violation(
                ValidationRule::BadShape,
                format!("no response to update at {stage}"),
            ),
        }
    } else {
        if let Some(after) = querystring_after
            && after != request.querystring
        {
            return violation(
                ValidationRule::QueryStringReadOnly,
                format!("the query string is read-only at {stage}"),
            );
        }
        let Some(response) = response else {
            return violation(
                ValidationRule::BadShape,
                format!("no response to update at {stage}"),
            );
        };
        let update = match result {
            HandlerResult::Request(_) => {
                return violation(
                    ValidationRule::BadShape,
                    format!("a {stage} function must return the response, not a request"),
                );
            }
            HandlerResult::Response(whole) => ResponseUpdate::diff(response, &whole),
            HandlerResult::ResponseUpdate(update) => update,
        };
        check_response_update(stage, response, &update)?;
        update.apply(response);
        Ok(Accepted::Continue)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a JSON result (the seam for runtimes that hand back JSON, and for tests).

fn shape<T>(message: impl Into<String>) -> Result<T, Violation> {
    violation(ValidationRule::BadShape, message)
}

fn string_field(
    obj: &serde_json::Map<String, Value>,
    field: &str,
    what: &str,
) -> Result<Option<Str>, Violation> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(Str::from(s.as_str()))),
        Some(other) => shape(format!("{what}.{field} must be a string, got {other}")),
    }
}

/// Read a `headers` object strictly: lowercase names, arrays of `{key?, value}`.
pub fn headers_from_json(value: &Value, what: &str) -> Result<Headers, Violation> {
    let Value::Object(map) = value else {
        return shape(format!("{what} must be an object"));
    };
    let mut headers = Headers::with_capacity(map.len());
    for (name, lines) in map {
        let Value::Array(lines) = lines else {
            return shape(format!("{what}.{name} must be an array of {{key, value}}"));
        };
        for line in lines {
            let Value::Object(line) = line else {
                return shape(format!("{what}.{name} entries must be objects"));
            };
            let value = match line.get("value") {
                Some(Value::String(s)) => Str::from(s.as_str()),
                _ => return shape(format!("{what}.{name}[].value must be a string")),
            };
            let key = string_field(line, "key", what)?.unwrap_or_else(|| title_case(name));
            headers.append(Str::from(name.as_str()), key, value);
        }
    }
    Ok(headers)
}

fn origin_from_json(value: &Value) -> Result<Origin, Violation> {
    let Value::Object(map) = value else {
        return shape("request.origin must be an object");
    };
    if map.len() != 1 {
        return shape("request.origin must have exactly one of `s3` or `custom`");
    }
    let parsed: Result<Origin, _> = serde_json::from_value(value.clone());
    parsed.map_err(|e| Violation::new(ValidationRule::BadShape, format!("request.origin: {e}")))
}

/// Read what a handler returned at `stage` from JSON, strictly (the shape rules only; call
/// [`accept`] for the stage rules). A returned request is compared with `before`.
pub fn result_from_json(
    stage: Stage,
    before: &Request,
    value: &Value,
) -> Result<HandlerResult, Violation> {
    let Value::Object(obj) = value else {
        return shape(format!(
            "the {stage} function returned {value}, not an object"
        ));
    };
    if obj.contains_key("status") || !stage.is_request() {
        let status = match obj.get("status") {
            Some(Value::String(s)) => s.trim().parse::<u16>().map_err(|_| {
                Violation::new(
                    ValidationRule::StatusOutOfRange,
                    format!("status `{s}` is not a number"),
                )
            })?,
            Some(Value::Number(n)) => {
                n.as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(|| {
                        Violation::new(
                            ValidationRule::StatusOutOfRange,
                            format!("status {n} is not a valid HTTP status"),
                        )
                    })?
            }
            Some(other) => {
                return shape(format!(
                    "response.status must be a string or number, got {other}"
                ));
            }
            None => return shape("response.status is required"),
        };
        let body_encoding = match string_field(obj, "bodyEncoding", "response")?.as_deref() {
            None => None,
            Some("text") => Some(BodyEncoding::Text),
            Some("base64") => Some(BodyEncoding::Base64),
            Some(other) => {
                return shape(format!(
                    "response.bodyEncoding must be `text` or `base64`, got `{other}`"
                ));
            }
        };
        let headers = match obj.get("headers") {
            None | Some(Value::Null) => Headers::new(),
            Some(h) => headers_from_json(h, "response.headers")?,
        };
        return Ok(HandlerResult::Response(Response {
            status,
            status_description: string_field(obj, "statusDescription", "response")?
                .unwrap_or_default(),
            headers,
            body: string_field(obj, "body", "response")?.map(String::from),
            body_encoding,
        }));
    }
    let uri = string_field(obj, "uri", "request")?
        .ok_or_else(|| Violation::new(ValidationRule::BadShape, "request.uri is required"))?;
    let headers = match obj.get("headers") {
        Some(h) => headers_from_json(h, "request.headers")?,
        None => return shape("request.headers is required"),
    };
    let origin = match obj.get("origin") {
        None | Some(Value::Null) => None,
        Some(o) => Some(origin_from_json(o)?),
    };
    let body =
        match obj.get("body") {
            None | Some(Value::Null) => None,
            Some(b) => Some(serde_json::from_value(b.clone()).map_err(|e| {
                Violation::new(ValidationRule::BadShape, format!("request.body: {e}"))
            })?),
        };
    let after = Request {
        client_ip: string_field(obj, "clientIp", "request")?
            .unwrap_or_else(|| before.client_ip.clone()),
        method: string_field(obj, "method", "request")?.unwrap_or_else(|| before.method.clone()),
        uri,
        querystring: string_field(obj, "querystring", "request")?.unwrap_or_default(),
        headers,
        origin,
        body,
    };
    Ok(HandlerResult::Request(RequestUpdate::diff(before, &after)))
}

#[cfg(test)]
mod tests {
    //! One test per rule, named after it.
    use serde_json::json;

    use super::*;

    fn request() -> Request {
        let mut r = Request::new("GET", "/index.html", "203.0.113.1");
        r.headers.set("Host", "d111111abcdef8.cloudfront.net");
        r.headers.set("User-Agent", "test");
        r
    }

    fn request_json(r: &Request) -> Value {
        serde_json::to_value(r).unwrap()
    }

    fn run(stage: Stage, result: Value, response: Option<Response>) -> Result<Accepted, Violation> {
        let mut req = request();
        if stage.is_origin() {
            req.origin = Some(Origin::s3("old.s3.amazonaws.com", "us-east-1"));
        }
        let mut resp = response;
        let parsed = result_from_json(stage, &req, &result)?;
        accept(stage, parsed, &mut req, resp.as_mut(), None)
    }

    fn rule_of(r: Result<Accepted, Violation>) -> ValidationRule {
        match r {
            Ok(accepted) => panic!(
                "expected a violation, got {}",
                format!("{accepted:?}")
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
            Err(v) => v.rule,
        }
    }

    fn with_header(mut v: Value, name: &str, key: &str, value: &str) -> Value {
        v["headers"][name] = json!([{"key": key, "value": value}]);
        v
    }

    #[test]
    fn accepts_unchanged_and_rewritten_requests() {
        let mut v = request_json(&request());
        assert_eq!(
            run(Stage::ViewerRequest, v.clone(), None).unwrap(),
            Accepted::Continue
        );
        v["uri"] = json!("/b/index.html");
        v = with_header(v, "x-experiment", "X-Experiment", "b");
        assert_eq!(
            run(Stage::ViewerRequest, v, None).unwrap(),
            Accepted::Continue
        );
    }

    #[test]
    fn bad_shape() {
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, json!(null), None)),
            ValidationRule::BadShape
        );
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, json!({"uri": "/x"}), None)),
            ValidationRule::BadShape
        );
        let mut v = request_json(&request());
        v["headers"]["host"] = json!("not-a-list");
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v, None)),
            ValidationRule::BadShape
        );
        // A request where a response is expected.
        let at_response = run(
            Stage::OriginResponse,
            request_json(&request()),
            Some(Response::new(200)),
        );
        assert_eq!(rule_of(at_response), ValidationRule::BadShape);
        assert_eq!(
            rule_of(run(
                Stage::ViewerRequest,
                json!({"status": "200", "bodyEncoding": "gzip"}),
                None
            )),
            ValidationRule::BadShape
        );
    }

    #[test]
    fn invalid_header() {
        let mut v = request_json(&request());
        v["headers"]["X-Upper"] = json!([{"key": "X-Upper", "value": "1"}]);
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v, None)),
            ValidationRule::InvalidHeader
        );
        let v = with_header(request_json(&request()), "x-a", "X-B", "1");
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v, None)),
            ValidationRule::InvalidHeader
        );
        let v = with_header(request_json(&request()), "x-a", "X-A", "1\r\nInjected: yes");
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v, None)),
            ValidationRule::InvalidHeader
        );
    }

    #[test]
    fn forbidden_header() {
        for (name, key) in [
            ("connection", "Connection"),
            ("x-amz-cf-pop", "X-Amz-Cf-Pop"),
            ("x-edge-location", "X-Edge-Location"),
            ("x-forwarded-proto", "X-Forwarded-Proto"),
        ] {
            let v = with_header(request_json(&request()), name, key, "1");
            assert_eq!(
                rule_of(run(Stage::ViewerRequest, v, None)),
                ValidationRule::ForbiddenHeader,
                "{name}"
            );
        }
        let generated =
            json!({"status": "200", "headers": {"x-cache": [{"key": "X-Cache", "value": "Hit"}]}});
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, generated, None)),
            ValidationRule::ForbiddenHeader
        );
        let updated =
            json!({"status": "200", "headers": {"upgrade": [{"key": "Upgrade", "value": "h2c"}]}});
        assert_eq!(
            rule_of(run(
                Stage::OriginResponse,
                updated,
                Some(Response::new(200))
            )),
            ValidationRule::ForbiddenHeader
        );
    }

    #[test]
    fn read_only_header() {
        let v = with_header(request_json(&request()), "host", "Host", "other.example");
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v.clone(), None)),
            ValidationRule::ReadOnlyHeader
        );
        // Host is writable at origin-request.
        let mut v = v;
        v["origin"] = json!({"s3": {"domainName": "old.s3.amazonaws.com", "region": "us-east-1", "authMethod": "none", "path": "", "customHeaders": {}}});
        assert!(run(Stage::OriginRequest, v, None).is_ok());
        let mut v = with_header(
            request_json(&request()),
            "if-none-match",
            "If-None-Match",
            "\"x\"",
        );
        v["origin"] = json!({"s3": {"domainName": "old.s3.amazonaws.com", "region": "us-east-1", "authMethod": "none", "path": "", "customHeaders": {}}});
        assert_eq!(
            rule_of(run(Stage::OriginRequest, v, None)),
            ValidationRule::ReadOnlyHeader
        );
        let mut before = Response::new(200);
        before
            .headers
            .set("Via", "1.1 abc.cloudfront.net (CloudFront)");
        let after = json!({"status": "200", "headers": {}});
        assert_eq!(
            rule_of(run(Stage::OriginResponse, after, Some(before))),
            ValidationRule::ReadOnlyHeader
        );
        let warning = json!({"status": "200", "headers": {"warning": [{"key": "Warning", "value": "199 x"}]}});
        assert_eq!(
            rule_of(run(
                Stage::ViewerResponse,
                warning,
                Some(Response::new(200))
            )),
            ValidationRule::ReadOnlyHeader
        );
    }

    #[test]
    fn read_only_field() {
        let mut v = request_json(&request());
        v["method"] = json!("POST");
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v, None)),
            ValidationRule::ReadOnlyField
        );
        let mut v = request_json(&request());
        v["clientIp"] = json!("10.0.0.1");
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v, None)),
            ValidationRule::ReadOnlyField
        );
    }

    #[test]
    fn query_string_read_only() {
        let mut req = request();
        let mut after = req.clone();
        after.querystring = Str::from("changed=1");
        let mut resp = Response::new(200);
        let result = HandlerResult::Response(resp.clone());
        let err = accept(
            Stage::ViewerResponse,
            result,
            &mut req,
            Some(&mut resp),
            Some(&after.querystring),
        )
        .unwrap_err();
        assert_eq!(err.rule, ValidationRule::QueryStringReadOnly);
        // Writable at the request stages.
        let mut v = request_json(&request());
        v["querystring"] = json!("a=1");
        assert!(run(Stage::ViewerRequest, v, None).is_ok());
    }

    #[test]
    fn status_out_of_range() {
        for status in [json!("199"), json!(600), json!("abc")] {
            let generated = json!({"status": status});
            assert_eq!(
                rule_of(run(Stage::ViewerRequest, generated, None)),
                ValidationRule::StatusOutOfRange
            );
        }
        let updated = json!({"status": "100"});
        assert_eq!(
            rule_of(run(
                Stage::OriginResponse,
                updated,
                Some(Response::new(200))
            )),
            ValidationRule::StatusOutOfRange
        );
    }

    #[test]
    fn no_content_with_body() {
        let generated = json!({"status": "204", "body": "hello"});
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, generated, None)),
            ValidationRule::NoContentWithBody
        );
        assert!(run(Stage::ViewerRequest, json!({"status": 204}), None).is_ok());
    }

    #[test]
    fn response_too_large() {
        let body = "x".repeat(40 * 1024 + 1);
        let generated = json!({"status": "200", "body": body});
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, generated.clone(), None)),
            ValidationRule::ResponseTooLarge
        );
        // The same response fits the 1 MB origin limit.
        assert!(matches!(
            run(Stage::OriginRequest, generated, None),
            Ok(Accepted::Respond(_))
        ));
        let huge = json!({"status": "200", "body": "y".repeat(1024 * 1024 + 1)});
        assert_eq!(
            rule_of(run(Stage::OriginRequest, huge, None)),
            ValidationRule::ResponseTooLarge
        );
    }

    #[test]
    fn bad_base64() {
        let generated = json!({"status": "200", "body": "%%%not base64", "bodyEncoding": "base64"});
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, generated, None)),
            ValidationRule::BadBase64
        );
        let ok = json!({"status": "200", "body": "aGVsbG8=", "bodyEncoding": "base64"});
        assert!(run(Stage::ViewerRequest, ok, None).is_ok());
    }

    #[test]
    fn viewer_country_at_viewer_request() {
        let v = with_header(
            request_json(&request()),
            "cloudfront-viewer-country",
            "CloudFront-Viewer-Country",
            "DE",
        );
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v.clone(), None)),
            ValidationRule::ViewerCountryAtViewerRequest
        );
    }

    #[test]
    fn status_changed_at_viewer_response() {
        let updated =
            json!({"status": "302", "headers": {"location": [{"key": "Location", "value": "/x"}]}});
        assert_eq!(
            rule_of(run(
                Stage::ViewerResponse,
                updated.clone(),
                Some(Response::new(200))
            )),
            ValidationRule::StatusChangedAtViewerResponse
        );
        // Origin-response may change it.
        assert!(run(Stage::OriginResponse, updated, Some(Response::new(200))).is_ok());
    }

    #[test]
    fn uri_not_absolute() {
        let mut v = request_json(&request());
        v["uri"] = json!("index.html");
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v, None)),
            ValidationRule::UriNotAbsolute
        );
    }

    #[test]
    fn uri_too_long() {
        let mut v = request_json(&request());
        v["uri"] = json!(format!("/{}", "a".repeat(8000)));
        v["querystring"] = json!("q=".to_string() + &"b".repeat(200));
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v.clone(), None)),
            ValidationRule::UriTooLong
        );
        v["querystring"] = json!("");
        assert!(run(Stage::ViewerRequest, v, None).is_ok());
    }

    #[test]
    fn origin_only_changes_at_origin_request() {
        let mut v = request_json(&request());
        v["origin"] = json!({"custom": {"domainName": "x.example", "port": 443, "protocol": "https", "path": "", "sslProtocols": ["TLSv1.2"], "readTimeout": 30, "keepaliveTimeout": 5, "customHeaders": {}}});
        assert_eq!(
            rule_of(run(Stage::ViewerRequest, v.clone(), None)),
            ValidationRule::BadShape
        );
        assert!(run(Stage::OriginRequest, v, None).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn diff_then_apply_gives_back_the_result(
            uri in "/[a-z/]{0,12}",
            querystring in "[a-z=&]{0,10}",
            added in proptest::collection::vec(("x-[a-z]{1,6}", "[ -~]{0,30}"), 0..4),
            drop_user_agent in proptest::bool::ANY,
        ) {
            let before = request();
            let mut after = before.clone();
            after.uri = uri.as_str().into();
            after.querystring = querystring.as_str().into();
            for (name, value) in &added {
                after.headers.append(name.as_str(), title_case(name), value.as_str());
            }
            if drop_user_agent {
                after.headers.remove("user-agent");
            }
            let mut applied = before.clone();
            RequestUpdate::diff(&before, &after).apply(&mut applied);
            proptest::prop_assert_eq!(applied, after);
        }
    }

    #[test]
    fn may_set_header_matches_the_lists() {
        assert!(may_set_header(
            Stage::OriginResponse,
            "strict-transport-security"
        ));
        assert!(!may_set_header(Stage::OriginResponse, "via"));
        assert!(!may_set_header(Stage::ViewerRequest, "host"));
        assert!(may_set_header(Stage::OriginRequest, "host"));
        assert!(!may_set_header(
            Stage::ViewerRequest,
            "cloudfront-viewer-country"
        ));
        assert!(!may_set_header(Stage::ViewerResponse, "x-amzn-requestid"));
    }
}
