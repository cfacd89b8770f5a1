//! CloudFront's request, response and event objects as Lambda@Edge handlers see them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::headers::{Headers, Str};
use crate::stage::Stage;

/// The viewer's request as it travels through the pipeline (`event.Records[0].cf.request`).
///
/// The simulator uses this as its per-request representation when a behaviour has triggers,
/// so every field is a [`Str`] (inline up to 24 bytes) and headers live in one vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// Viewer IP address (read-only for handlers).
    pub client_ip: Str,
    /// HTTP method (read-only for handlers).
    pub method: Str,
    /// Path, starting with `/`.
    pub uri: Str,
    /// Raw query string without `?`; empty when absent.
    #[serde(default)]
    pub querystring: Str,
    /// Request headers.
    #[serde(default)]
    pub headers: Headers,
    /// The origin this request goes to; present at the origin stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The request body, when the behaviour exposes it to the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RequestBody>,
}

impl Request {
    /// A request with no headers and no origin.
    pub fn new(method: &str, uri: &str, client_ip: &str) -> Self {
        Request {
            client_ip: Str::from(client_ip),
            method: Str::from(method),
            uri: Str::from(uri),
            querystring: Str::default(),
            headers: Headers::with_capacity(16),
            origin: None,
            body: None,
        }
    }

    /// Length CloudFront checks against its 8,192 character limit (`uri` + `?` + query).
    pub fn uri_and_query_len(&self) -> usize {
        self.uri.len()
            + if self.querystring.is_empty() {
                0
            } else {
                1 + self.querystring.len()
            }
    }
}

/// `request.body` when body access is enabled for the trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestBody {
    /// True when the body was cut at the stage's size limit.
    #[serde(default)]
    pub input_truncated: bool,
    /// `read-only` or `replace`.
    #[serde(default)]
    pub action: Str,
    /// `base64` or `text`.
    #[serde(default)]
    pub encoding: Str,
    /// The body.
    #[serde(default)]
    pub data: String,
}

/// Where an origin fetch goes: exactly one of an S3 bucket or a custom (HTTP) origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// An S3 bucket origin.
    S3(S3Origin),
    /// Any HTTP server.
    Custom(CustomOrigin),
}

impl Origin {
    /// An S3 origin with CloudFront's defaults.
    pub fn s3(domain_name: &str, region: &str) -> Self {
        Origin::S3(S3Origin {
            auth_method: Str::const_new("none"),
            custom_headers: Headers::new(),
            domain_name: Str::from(domain_name),
            path: Str::default(),
            region: Str::from(region),
        })
    }

    /// A custom origin with CloudFront's defaults (HTTPS on 443, 30 s read, 5 s keep-alive).
    pub fn custom(domain_name: &str) -> Self {
        Origin::Custom(CustomOrigin {
            custom_headers: Headers::new(),
            domain_name: Str::from(domain_name),
            keepalive_timeout: 5,
            path: Str::default(),
            port: 443,
            protocol: Str::const_new("https"),
            read_timeout: 30,
            ssl_protocols: vec![Str::const_new("TLSv1.2")],
        })
    }

    /// The host CloudFront connects to.
    pub fn domain_name(&self) -> &str {
        match self {
            Origin::S3(o) => &o.domain_name,
            Origin::Custom(o) => &o.domain_name,
        }
    }

    /// Point this origin at another host, keeping its kind and settings.
    pub fn set_domain_name(&mut self, domain_name: &str) {
        match self {
            Origin::S3(o) => o.domain_name = Str::from(domain_name),
            Origin::Custom(o) => o.domain_name = Str::from(domain_name),
        }
    }

    /// `s3` or `custom`.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::S3(_) => "s3",
            Origin::Custom(_) => "custom",
        }
    }
}

/// `request.origin.s3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Origin {
    /// `origin-access-identity` or `none`.
    #[serde(default)]
    pub auth_method: Str,
    /// Headers CloudFront adds to every fetch from this origin.
    #[serde(default)]
    pub custom_headers: Headers,
    /// Bucket host name, e.g. `bucket.s3.amazonaws.com`.
    pub domain_name: Str,
    /// Origin path prefix (no trailing `/`).
    #[serde(default)]
    pub path: Str,
    /// Bucket region.
    #[serde(default)]
    pub region: Str,
}

/// `request.origin.custom`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomOrigin {
    /// Headers CloudFront adds to every fetch from this origin.
    #[serde(default)]
    pub custom_headers: Headers,
    /// Origin host name.
    pub domain_name: Str,
    /// Keep-alive timeout, seconds.
    #[serde(default)]
    pub keepalive_timeout: u32,
    /// Origin path prefix.
    #[serde(default)]
    pub path: Str,
    /// TCP port.
    #[serde(default)]
    pub port: u16,
    /// `http` or `https`.
    #[serde(default)]
    pub protocol: Str,
    /// Response (read) timeout, seconds.
    #[serde(default)]
    pub read_timeout: u32,
    /// Allowed TLS versions.
    #[serde(default)]
    pub ssl_protocols: Vec<Str>,
}

/// How a generated body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    /// Plain text (the default).
    #[default]
    Text,
    /// Base64 of the bytes.
    Base64,
}

/// A response (`event.Records[0].cf.response`, or a generated one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// HTTP status; a string (`"200"`) in events, numbers are accepted from handlers.
    #[serde(serialize_with = "status_out", deserialize_with = "status_in")]
    pub status: u16,
    /// Reason phrase.
    #[serde(default)]
    pub status_description: Str,
    /// Response headers.
    #[serde(default)]
    pub headers: Headers,
    /// Body of a generated (or replaced) response; origin bodies are never exposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Encoding of `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_encoding: Option<BodyEncoding>,
}

impl Response {
    /// A response with the standard reason phrase and no headers.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            status_description: Str::const_new(reason_phrase(status)),
            headers: Headers::new(),
            body: None,
            body_encoding: None,
        }
    }

    /// Size CloudFront checks against the generated-response limit: headers plus body.
    pub fn generated_size_bytes(&self) -> usize {
        self.headers.wire_bytes() + self.body.as_ref().map_or(0, String::len)
    }
}

fn status_out<S: Serializer>(status: &u16, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(status)
}

fn status_in<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StringOrNumber {
        Text(String),
        Number(u64),
    }
    match StringOrNumber::deserialize(deserializer)? {
        StringOrNumber::Text(s) => s
            .trim()
            .parse::<u16>()
            .map_err(|_| serde::de::Error::custom(format!("status `{s}` is not a number"))),
        StringOrNumber::Number(n) => u16::try_from(n)
            .map_err(|_| serde::de::Error::custom(format!("status {n} is out of range"))),
    }
}

/// The standard reason phrase for common statuses (empty when unknown).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// `event.Records[0].cf.config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventConfig {
    /// `d111111abcdef8.cloudfront.net`.
    pub distribution_domain_name: Str,
    /// `EDFDVBD6EXAMPLE`.
    pub distribution_id: Str,
    /// The stage.
    pub event_type: Stage,
    /// Opaque per-request id.
    pub request_id: Str,
}

impl EventConfig {
    /// The config CloudFront's documentation examples use.
    pub fn example(stage: Stage) -> Self {
        EventConfig {
            distribution_domain_name: Str::const_new("d111111abcdef8.cloudfront.net"),
            distribution_id: Str::const_new("EDFDVBD6EXAMPLE"),
            event_type: stage,
            request_id: Str::const_new("4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="),
        }
    }
}

/// What a handler receives, without the `Records` wrapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfEvent {
    /// Distribution and stage.
    pub config: EventConfig,
    /// The request.
    pub request: Request,
    /// The response, at the two response stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Records {
    records: Vec<Record>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    cf: CfEvent,
}

impl CfEvent {
    /// `{"Records":[{"cf":{...}}]}` as Lambda passes it.
    pub fn to_records_json(&self) -> serde_json::Value {
        serde_json::to_value(Records {
            records: vec![Record { cf: self.clone() }],
        })
        .expect("a CloudFront event always serializes")
    }

    /// Read a test event as the AWS console shows it (`{"Records":[{"cf":{...}}]}`), or a bare
    /// `cf` object.
    pub fn from_json(text: &str) -> Result<CfEvent, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        if value.get("Records").is_some() {
            let mut records: Records = serde_json::from_value(value)?;
            if records.records.is_empty() {
                return Err(serde::de::Error::custom("`Records` is empty"));
            }
            Ok(records.records.swap_remove(0).cf)
        } else {
            serde_json::from_value(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE_EVENT: &str = r#"{
      "Records": [{"cf": {
        "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                   "eventType": "origin-request", "requestId": "abc"},
        "request": {"clientIp": "203.0.113.178", "method": "GET", "uri": "/index.html", "querystring": "a=1",
          "headers": {"host": [{"key": "Host", "value": "example.org"}]},
          "origin": {"s3": {"authMethod": "none", "customHeaders": {}, "domainName": "bucket.s3.amazonaws.com",
                            "path": "", "region": "us-east-1"}}}
      }}]}"#;

    #[test]
    fn reads_console_test_event_and_round_trips() {
        let event = CfEvent::from_json(CONSOLE_EVENT).unwrap();
        assert_eq!(event.config.event_type, Stage::OriginRequest);
        assert_eq!(
            event.request.origin.as_ref().unwrap().domain_name(),
            "bucket.s3.amazonaws.com"
        );
        let back = CfEvent::from_json(&event.to_records_json().to_string()).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn status_is_a_string_in_events_and_numbers_are_accepted() {
        let r = Response::new(404);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["status"], "404");
        let from_number: Response = serde_json::from_str(r#"{"status": 301}"#).unwrap();
        assert_eq!(from_number.status, 301);
        assert!(serde_json::from_str::<Response>(r#"{"status": "abc"}"#).is_err());
    }

    #[test]
    fn uri_and_query_length_counts_the_question_mark() {
        let mut r = Request::new("GET", "/a", "1.2.3.4");
        assert_eq!(r.uri_and_query_len(), 2);
        r.querystring = Str::from("x=1");
        assert_eq!(r.uri_and_query_len(), 6);
    }
}
