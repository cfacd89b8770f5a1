//! `edgesim trigger test`: run one handler on one event with its stage's limits, validate the
//! result as CloudFront would, and report. The CLI module is a thin wrapper around this.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::{ConfigError, ExecutionConfig, TriggerConfig};
use crate::event::{CfEvent, EventConfig, Origin, Request, Response};
use crate::handler::{Controls, InvokeContext, StageOutcome};
use crate::headers::Str;
use crate::response_headers::{
    CacheResult, OriginAnswer, OriginServer, add_cloudfront_response_headers,
    origin_response_headers,
};
use crate::stage::Stage;
use crate::viewer::{Device, Os, Viewer, ViewerLocation};

/// A request (and response) described on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    /// HTTP method.
    pub method: String,
    /// URI (with an optional `?query`).
    pub uri: String,
    /// Extra request headers as `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// Viewer country (CloudFront-Viewer-Country), from origin-request on.
    pub country: Option<String>,
    /// Where in the country (the CloudFront-Viewer-City, -Latitude, ... headers), from
    /// origin-request on; the CLI fills it from the country table.
    pub location: Option<ViewerLocation>,
    /// Viewer device (User-Agent; CloudFront-Is-*-Viewer from origin-request on).
    pub device: Option<Device>,
    /// Viewer OS.
    pub os: Option<Os>,
    /// Viewer IP.
    pub client_ip: String,
    /// Origin domain at the origin stages (an S3 bucket unless it has a port or `http`).
    pub origin: Option<String>,
    /// Response status at the response stages.
    pub status: u16,
    /// Extra response headers.
    pub response_headers: Vec<(String, String)>,
    /// The request body (the function sees it only with "include body").
    pub body: Option<Vec<u8>>,
}

impl Default for EventSpec {
    fn default() -> Self {
        EventSpec {
            method: "GET".into(),
            uri: "/".into(),
            headers: Vec::new(),
            country: None,
            location: None,
            device: None,
            os: None,
            client_ip: "203.0.113.178".into(),
            origin: None,
            status: 200,
            response_headers: Vec::new(),
            body: None,
        }
    }
}

/// Parse `Name: value`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("header `{text}` is not `Name: value`"))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("header `{text}` has an invalid name"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// The event CloudFront would send at `stage` for `spec`.
///
/// CloudFront adds its viewer headers after viewer-request, so `country` and `device` show up
/// as headers only from origin-request on (the device always shapes the User-Agent).
pub fn build_event(stage: Stage, spec: &EventSpec) -> CfEvent {
    let viewer = Viewer {
        country: Str::from(spec.country.as_deref().unwrap_or("US")),
        device: spec.device.unwrap_or(Device::Desktop),
        os: spec.os.unwrap_or(match spec.device {
            Some(Device::Mobile | Device::Tablet) => Os::Ios,
            _ => Os::Other,
        }),
        viewer_id: 1,
        client_ip: Str::from(spec.client_ip.as_str()),
        location: spec.location,
    };
    let (path, query) = spec.uri.split_once('?').unwrap_or((&spec.uri, ""));
    let mut request: Request = viewer.request(&spec.method, path, "d111111abcdef8.cloudfront.net");
    request.querystring = Str::from(query);
    request.body = spec.body.as_deref().map(crate::body::request_body);
    // A header given twice is two lines, as a browser sending two Cookie
    // headers sends them.
    for (name, value) in &spec.headers {
        request.headers.append(
            Str::from(name.as_str()).to_ascii_lowercase(),
            name.as_str(),
            value.as_str(),
        );
    }
    if stage != Stage::ViewerRequest
        && (spec.country.is_some() || spec.device.is_some() || spec.location.is_some())
    {
        viewer.add_cloudfront_headers(&mut request.headers);
    }
    if stage.is_origin() {
        request.origin = Some(test_origin(spec.origin.as_deref()));
    }
    let response = (!stage.is_request()).then(|| {
        let mut response = Response::new(spec.status);
        let server = match test_origin(spec.origin.as_deref()) {
            Origin::Custom(_) => OriginServer::Custom,
            Origin::S3(_) => OriginServer::S3,
        };
        response.headers = origin_response_headers(&OriginAnswer {
            server,
            uri: path,
            object_key: crate::util::hash_bytes(path.as_bytes()),
            size: TEST_OBJECT_BYTES,
            cache_control: None,
            now_us: 0,
            request_id: 1,
        });
        if stage == Stage::ViewerResponse {
            add_cloudfront_response_headers(&mut response.headers, CacheResult::Miss, "iad", 1);
        }
        for (name, value) in &spec.response_headers {
            response.headers.set(name, value.as_str());
        }
        response
    });
    CfEvent {
        config: EventConfig::example(stage),
        request,
        response,
    }
}

/// The body size the origin's answer of a test event declares
/// (`Content-Length`; `--response-header` changes it).
pub const TEST_OBJECT_BYTES: u64 = 10_240;

/// The origin of a test event: `domain` (an S3 bucket when it names one),
/// by default an S3 bucket in us-east-1.
fn test_origin(domain: Option<&str>) -> Origin {
    let domain = domain.unwrap_or("my-bucket.s3.amazonaws.com");
    if domain.contains(".s3") {
        Origin::s3(domain, "us-east-1")
    } else {
        Origin::custom(domain)
    }
}

/// Limits and inputs of a test run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestOptions {
    /// Memory override (origin stages).
    pub memory_mb: Option<u32>,
    /// Timeout override.
    pub timeout_ms: Option<u64>,
    /// Simulated wall time, ms since the epoch (`Date.now()`).
    pub now_ms: u64,
    /// Seed for `Math.random`.
    pub seed: u64,
    /// Controls visible to built-ins.
    pub controls: Controls,
    /// CloudFront's "include body" option; by default on when the event has a body.
    pub include_body: Option<bool>,
}

/// What `edgesim trigger test --json` prints: these five fields, plus for a CloudFront Function
/// `cloudfront_function`, `compute_utilization` and (when the function chose one) `origin_change`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestReport {
    /// `continue`, `respond`, `invalid`, `error`, `timeout`, `out_of_memory` or `throttled`;
    /// `skipped` for a viewer-response event of status >= 400 (CloudFront does not run it).
    pub outcome: String,
    /// Status the viewer gets; `null` when the request continues to the cache/origin.
    pub viewer_status: Option<u16>,
    /// The resulting request or response, or `{errorType, errorMessage}` on failure.
    pub result: Value,
    /// Console output.
    pub logs: Vec<String>,
    /// Simulated run time of a warm invocation.
    pub duration_ms: f64,
    /// True for a CloudFront Function (the result is in CloudFront Functions' event shape).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cloudfront_function: bool,
    /// CloudFront Functions' compute utilization, 0-100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_utilization: Option<u8>,
    /// The origin a CloudFront Function selected at viewer-request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_change: Option<crate::handler::OriginChange>,
}

impl TestReport {
    /// True when CloudFront accepts the result (`continue` or `respond`).
    pub fn accepted(&self) -> bool {
        matches!(self.outcome.as_str(), "continue" | "respond" | "skipped")
    }

    /// The human-readable form.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "outcome:       {}", self.outcome);
        let prefix = if self.cloudfront_function {
            "Function"
        } else {
            "Lambda"
        };
        let viewer = match (self.viewer_status, self.outcome.as_str()) {
            (None, _) => "decided by the cache/origin (request continues)".to_string(),
            (Some(502), "invalid") => {
                format!("502 (X-Cache: {prefix}ValidationError from cloudfront)")
            }
            (Some(503), "invalid" | "error" | "timeout" | "out_of_memory" | "throttled") => {
                format!("503 (X-Cache: {prefix}ExecutionError from cloudfront)")
            }
            (Some(status), _) => status.to_string(),
        };
        let _ = writeln!(out, "viewer status: {viewer}");
        let _ = writeln!(
            out,
            "duration:      {:.3} ms (simulated, warm)",
            self.duration_ms
        );
        if let Some(used) = self.compute_utilization {
            let _ = writeln!(out, "compute:       {used} (utilization, 0-100)");
        }
        if let Some(change) = &self.origin_change {
            let _ = writeln!(
                out,
                "origin:        {}",
                serde_json::to_string(change).unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "result:\n{}",
            serde_json::to_string_pretty(&self.result).unwrap_or_default()
        );
        if self.logs.is_empty() {
            let _ = writeln!(out, "logs:          (none)");
        } else {
            let _ = writeln!(out, "logs:");
            for line in &self.logs {
                let _ = writeln!(out, "  {}", escape_for_terminal(line));
            }
        }
        out
    }
}

/// `line` with what a terminal would act on escaped: control characters other than the tab
/// between level and text (`\x1b`), and the bidirectional overrides (`\u{202e}`), so a
/// handler's console output cannot move the cursor, recolour or reorder what is shown.
fn escape_for_terminal(line: &str) -> std::borrow::Cow<'_, str> {
    let risky = |c: char| {
        (c.is_control() && c != '\t')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !line.chars().any(risky) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if risky(c) {
            if (c as u32) < 0x100 {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Compile `config` for `stage` (its file read by `load_source`) and run it once on `event`.
///
/// Configuration problems (missing file, syntax error with file:line, missing export, bad
/// limits) come back as errors: the CLI maps them to exit status 2.
pub fn run_trigger(
    config: &TriggerConfig,
    stage: Stage,
    event: &CfEvent,
    options: &TestOptions,
    load_source: &dyn Fn(&str) -> std::io::Result<String>,
) -> Result<TestReport, Vec<ConfigError>> {
    let mut config = config.clone();
    let include_body = options
        .include_body
        .unwrap_or(config.execution.include_body || event.request.body.is_some());
    config.execution = ExecutionConfig {
        memory_mb: options.memory_mb.or(config.execution.memory_mb),
        timeout_ms: options.timeout_ms.or(config.execution.timeout_ms),
        cold_start_ms: Some(0),
        include_body,
        ..config.execution
    };
    let mut handler = crate::config::compile(&config, stage, load_source)?;
    let mut request = event.request.clone();
    let mut response = event.response.clone();
    if !stage.is_request() && response.is_none() {
        response = Some(Response::new(200));
    }
    // A viewer-request event run at an origin stage: CloudFront has picked
    // the origin by then.
    if stage.is_origin() && request.origin.is_none() {
        request.origin = Some(test_origin(None));
    }
    // CloudFront does not run viewer-response for an error from the origin.
    if let Some(r) = response.as_ref().filter(|r| {
        stage == Stage::ViewerResponse && !Stage::ViewerResponse.runs_for_status(r.status)
    }) {
        return Ok(TestReport {
            outcome: "skipped".to_string(),
            viewer_status: Some(r.status),
            result: serde_json::to_value(r).unwrap_or(Value::Null),
            logs: vec![format!(
                "EDGESIM\tnot run: CloudFront does not run viewer-response functions for status {} (>= 400)",
                r.status
            )],
            duration_ms: 0.0,
            cloudfront_function: config.is_cloudfront_function(),
            compute_utilization: None,
            origin_change: None,
        });
    }
    let ctx = InvokeContext {
        now_us: options.now_ms * 1_000,
        region: "us-east-1",
        pop: "IAD89-C1",
        request_id: 1,
        rand: options.seed,
        viewer_id: 1,
        controls: &options.controls,
        viewer_country: "US",
        migration_arm: None,
    };
    let invocation = handler.invoke(stage, &mut request, response.as_mut(), &ctx);
    // The request as the function left it: a body it did not replace shows as the function saw
    // it (cut at the stage's limit, `inputTruncated`), and none without "include body".
    if request.body == event.request.body {
        request.body = match &request.body {
            Some(body) if include_body => Some(crate::body::exposed_body(stage, body).into_owned()),
            _ => None,
        };
    }
    let cff = config.is_cloudfront_function();
    let (viewer_status, result) = match &invocation.outcome {
        StageOutcome::Continue if cff && stage.is_request() => {
            (None, crate::cff::event::request_json(&request))
        }
        StageOutcome::Continue if cff => {
            let response = response.expect("response stages always have a response");
            (
                Some(response.status),
                crate::cff::event::response_json(&response),
            )
        }
        StageOutcome::Respond(generated) if cff => (
            Some(generated.status),
            crate::cff::event::response_json(generated),
        ),
        StageOutcome::Continue if stage.is_request() => {
            (None, serde_json::to_value(&request).unwrap_or(Value::Null))
        }
        StageOutcome::Continue => {
            let response = response.expect("response stages always have a response");
            (
                Some(response.status),
                serde_json::to_value(&response).unwrap_or(Value::Null),
            )
        }
        StageOutcome::Respond(generated) => (
            Some(generated.status),
            serde_json::to_value(generated).unwrap_or(Value::Null),
        ),
        StageOutcome::Failed(failure) => {
            let error_type = match (failure.kind, cff) {
                (crate::handler::FailureKind::Invalid { .. }, false) => "LambdaValidationError",
                (_, false) => "LambdaExecutionError",
                (crate::handler::FailureKind::Invalid { .. }, true) => "FunctionValidationError",
                (_, true) => "FunctionExecutionError",
            };
            (
                Some(failure.viewer_status),
                json!({"errorType": error_type, "errorMessage": failure.message}),
            )
        }
    };
    Ok(TestReport {
        outcome: invocation.outcome.name().to_string(),
        viewer_status,
        result,
        logs: invocation.logs,
        duration_ms: invocation.duration_us as f64 / 1_000.0,
        cloudfront_function: cff,
        compute_utilization: invocation.compute_utilization,
        origin_change: invocation.origin_change,
    })
}

/// Run the CloudFront Function `source` (named `path`, published for `runtime`, with the
/// KeyValueStore `kvs`: file name and text) once on `event`, with CloudFront Functions' limits.
pub fn run_cff(
    path: &str,
    source: &str,
    runtime: crate::cff::CffRuntime,
    kvs: Option<(&str, &str)>,
    stage: Stage,
    event: &CfEvent,
    options: &TestOptions,
) -> Result<TestReport, Vec<ConfigError>> {
    let config = TriggerConfig {
        kind: crate::config::TriggerKind::CloudFrontFunction(crate::cff::CffConfig {
            path: path.to_string(),
            runtime,
            kvs: kvs.map(|(name, _)| name.to_string()),
        }),
        execution: ExecutionConfig::default(),
    };
    let (path, source) = (path.to_string(), source.to_string());
    let store = kvs.map(|(name, text)| (name.to_string(), text.to_string()));
    let options = TestOptions {
        memory_mb: None,
        timeout_ms: None,
        include_body: Some(false),
        ..options.clone()
    };
    run_trigger(&config, stage, event, &options, &move |name| {
        if name == path {
            return Ok(source.clone());
        }
        match &store {
            Some((store_name, text)) if store_name == name => Ok(text.clone()),
            _ => Err(std::io::Error::other(format!("no file `{name}`"))),
        }
    })
}

/// Run the handler `source` (named `path`) once on `event`: Python when `path` ends in `.py`
/// (`handler` then names `module.function`, `runtime` the Python version), JavaScript otherwise.
pub fn run_script(
    path: &str,
    source: &str,
    handler: Option<&str>,
    runtime: Option<&str>,
    stage: Stage,
    event: &CfEvent,
    options: &TestOptions,
) -> Result<TestReport, Vec<ConfigError>> {
    let mut config = if path.ends_with(".py") {
        TriggerConfig::py(path)
    } else {
        TriggerConfig::js(path)
    };
    if let crate::config::TriggerKind::Script { script, .. } = &mut config.kind {
        script.runtime = runtime.map(str::to_string);
        match handler {
            Some(handler) if path.ends_with(".py") => script.handler = Some(handler.to_string()),
            Some(export) => script.export = export.to_string(),
            None => {}
        }
    }
    run_source(&config, source, stage, event, options)
}

/// [`run_trigger`] with the handler's source given, not read from a file.
fn run_source(
    config: &TriggerConfig,
    source: &str,
    stage: Stage,
    event: &CfEvent,
    options: &TestOptions,
) -> Result<TestReport, Vec<ConfigError>> {
    let source = source.to_string();
    run_trigger(config, stage, event, options, &move |_| Ok(source.clone()))
}

/// Run the Python handler `source` (named `path`, `lambda_function.lambda_handler`) once.
pub fn run_py(
    path: &str,
    source: &str,
    stage: Stage,
    event: &CfEvent,
    options: &TestOptions,
) -> Result<TestReport, Vec<ConfigError>> {
    run_source(&TriggerConfig::py(path), source, stage, event, options)
}

/// Run the JavaScript handler `source` (named `path`) once on `event`.
pub fn run_js(
    path: &str,
    source: &str,
    stage: Stage,
    event: &CfEvent,
    options: &TestOptions,
) -> Result<TestReport, Vec<ConfigError>> {
    run_source(&TriggerConfig::js(path), source, stage, event, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REWRITE: &str = r#"'use strict';
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    console.log('uri was', request.uri);
    request.uri = '/b' + request.uri;
    callback(null, request);
};
"#;

    #[test]
    fn console_output_is_escaped_for_the_terminal() {
        assert_eq!(escape_for_terminal("INFO\tplain"), "INFO\tplain");
        assert_eq!(
            escape_for_terminal("INFO\t\u{1b}[2J\u{202e}x\ny"),
            "INFO\t\\x1b[2J\\u{202e}x\\x0ay"
        );
    }

    #[test]
    fn report_has_exactly_the_five_fields() {
        let event = build_event(
            Stage::ViewerRequest,
            &EventSpec {
                uri: "/x?a=1".into(),
                ..Default::default()
            },
        );
        let report = run_js(
            "rewrite.js",
            REWRITE,
            Stage::ViewerRequest,
            &event,
            &TestOptions::default(),
        )
        .unwrap();
        let text = serde_json::to_string(&report).unwrap();
        let positions: Vec<usize> = [
            "\"outcome\"",
            "\"viewer_status\"",
            "\"result\"",
            "\"logs\"",
            "\"duration_ms\"",
        ]
        .iter()
        .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} missing")))
        .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 5);
        assert_eq!(report.outcome, "continue");
        assert_eq!(report.result["uri"], "/b/x");
        assert_eq!(report.result["querystring"], "a=1");
        assert_eq!(report.logs, ["INFO\turi was /x"]);
        assert!(report.accepted());
        assert!(report.render_text().contains("outcome:       continue"));
    }

    #[test]
    fn viewer_headers_appear_only_after_viewer_request() {
        let spec = EventSpec {
            country: Some("DE".into()),
            device: Some(Device::Mobile),
            ..Default::default()
        };
        let at_viewer = build_event(Stage::ViewerRequest, &spec);
        assert!(
            at_viewer
                .request
                .headers
                .get("cloudfront-viewer-country")
                .is_none()
        );
        assert!(
            at_viewer
                .request
                .headers
                .get("user-agent")
                .unwrap()
                .contains("iPhone")
        );
        let at_origin = build_event(Stage::OriginRequest, &spec);
        assert_eq!(
            at_origin.request.headers.get("cloudfront-viewer-country"),
            Some("DE")
        );
        assert!(at_origin.request.origin.is_some());
    }

    #[test]
    fn syntax_errors_are_config_errors_with_a_line() {
        let event = build_event(Stage::ViewerRequest, &EventSpec::default());
        let errors = run_js(
            "broken.js",
            "'use strict';\nexports.handler = (e, c, cb) => {\n  cb(null, e;\n};\n",
            Stage::ViewerRequest,
            &event,
            &TestOptions::default(),
        )
        .unwrap_err();
        assert!(
            errors[0].message.starts_with("broken.js:3:"),
            "{}",
            errors[0]
        );
    }

    const ECHO_BODY: &str = r#"'use strict';
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    console.log(request.body === undefined ? 'no body' : request.body.inputTruncated + ' ' + request.body.data.length);
    callback(null, request);
};
"#;

    #[test]
    fn bodies_are_exposed_truncated_only_with_include_body() {
        let spec = EventSpec {
            method: "POST".into(),
            body: Some(vec![b'a'; 50 * 1024]),
            ..Default::default()
        };
        let event = build_event(Stage::ViewerRequest, &spec);
        let report = run_js(
            "echo.js",
            ECHO_BODY,
            Stage::ViewerRequest,
            &event,
            &TestOptions::default(),
        )
        .unwrap();
        assert_eq!(report.outcome, "continue");
        // 40 KB of base64: 54,616 characters.
        assert_eq!(report.logs, ["INFO\ttrue 54616"]);
        assert_eq!(report.result["body"]["inputTruncated"], true);
        assert_eq!(report.result["body"]["action"], "read-only");
        assert_eq!(report.result["body"]["encoding"], "base64");
        // The origin stages see up to 1 MB: the whole body.
        let event = build_event(Stage::OriginRequest, &spec);
        let report = run_js(
            "echo.js",
            ECHO_BODY,
            Stage::OriginRequest,
            &event,
            &TestOptions::default(),
        )
        .unwrap();
        assert_eq!(report.logs, ["INFO\tfalse 68268"]);
        // Without include-body the event has no body.
        let options = TestOptions {
            include_body: Some(false),
            ..TestOptions::default()
        };
        let report = run_js("echo.js", ECHO_BODY, Stage::OriginRequest, &event, &options).unwrap();
        assert_eq!(report.logs, ["INFO\tno body"]);
        assert!(report.result.get("body").is_none());
    }

    #[test]
    fn replaced_bodies_are_validated() {
        let spec = EventSpec {
            method: "POST".into(),
            body: Some(b"a=1".to_vec()),
            ..Default::default()
        };
        let event = build_event(Stage::ViewerRequest, &spec);
        let replace = |encoding: &str, data: &str| {
            format!(
                "exports.handler = (e, c, cb) => {{ const r = e.Records[0].cf.request; \
                 r.body.action = 'replace'; r.body.encoding = '{encoding}'; r.body.data = {data}; cb(null, r); }};"
            )
        };
        let run = |source: String| {
            run_js(
                "replace.js",
                &source,
                Stage::ViewerRequest,
                &event,
                &TestOptions::default(),
            )
            .unwrap()
        };
        let ok = run(replace("text", "'b=2'"));
        assert_eq!(ok.outcome, "continue");
        assert_eq!(ok.result["body"]["data"], "b=2");
        assert_eq!(ok.result["body"]["action"], "replace");
        let bad = run(replace("base64", "'not base64!'"));
        assert_eq!(
            (bad.outcome.as_str(), bad.viewer_status),
            ("invalid", Some(502))
        );
        let big = run(replace("text", "'x'.repeat(40 * 1024 + 1)"));
        assert_eq!(
            (big.outcome.as_str(), big.viewer_status),
            ("invalid", Some(502))
        );
        assert!(
            big.result["errorMessage"]
                .as_str()
                .unwrap()
                .contains("limit at viewer-request"),
            "{}",
            big.result
        );
        // Changing the data without `replace` changes nothing.
        let ignored = run(
            "exports.handler = (e, c, cb) => { const r = e.Records[0].cf.request; r.body.data = 'eA=='; cb(null, r); };"
                .to_string(),
        );
        assert_eq!(ignored.outcome, "continue");
        assert_eq!(ignored.result["body"]["data"], "YT0x");
    }

    #[test]
    fn python_response_stages_and_bodies_follow_the_javascript_rules() {
        let spec = EventSpec {
            status: 200,
            response_headers: vec![("Content-Type".into(), "text/html".into())],
            ..Default::default()
        };
        let event = build_event(Stage::ViewerResponse, &spec);
        let run = |stage: Stage, event: &CfEvent, source: &str| {
            run_py("h.py", source, stage, event, &TestOptions::default()).unwrap()
        };
        let add_header = "def lambda_handler(event, context):\n    response = event['Records'][0]['cf']['response']\n    response['headers']['strict-transport-security'] = [{'key': 'Strict-Transport-Security', 'value': 'max-age=63072000'}]\n    return response\n";
        let ok = run(Stage::ViewerResponse, &event, add_header);
        assert_eq!(ok.outcome, "continue", "{}", ok.result);
        assert_eq!(
            ok.result["headers"]["strict-transport-security"][0]["value"],
            "max-age=63072000"
        );
        assert_eq!(
            ok.result["headers"]["content-type"][0]["value"],
            "text/html"
        );
        // viewer-response may not change the status.
        let status = "def lambda_handler(event, context):\n    response = event['Records'][0]['cf']['response']\n    response['status'] = '404'\n    return response\n";
        let bad = run(Stage::ViewerResponse, &event, status);
        assert_eq!(
            (bad.outcome.as_str(), bad.viewer_status),
            ("invalid", Some(502))
        );
        // origin-response may.
        let origin = build_event(Stage::OriginResponse, &spec);
        let changed = run(Stage::OriginResponse, &origin, status);
        assert_eq!(
            (changed.outcome.as_str(), changed.viewer_status),
            ("continue", Some(404))
        );

        let body_spec = EventSpec {
            method: "POST".into(),
            body: Some(b"a=1".to_vec()),
            ..Default::default()
        };
        let post = build_event(Stage::ViewerRequest, &body_spec);
        let replace = |encoding: &str, data: &str| {
            format!(
                "def lambda_handler(event, context):\n    r = event['Records'][0]['cf']['request']\n    r['body']['action'] = 'replace'\n    r['body']['encoding'] = '{encoding}'\n    r['body']['data'] = {data}\n    return r\n"
            )
        };
        let replaced = run(Stage::ViewerRequest, &post, &replace("text", "'b=2'"));
        assert_eq!(replaced.outcome, "continue", "{}", replaced.result);
        assert_eq!(replaced.result["body"]["data"], "b=2");
        let bad = run(
            Stage::ViewerRequest,
            &post,
            &replace("base64", "'not base64!'"),
        );
        assert_eq!(
            (bad.outcome.as_str(), bad.viewer_status),
            ("invalid", Some(502))
        );
        let ignored = run(
            Stage::ViewerRequest,
            &post,
            "def lambda_handler(event, context):\n    r = event['Records'][0]['cf']['request']\n    r['body']['data'] = 'eA=='\n    return r\n",
        );
        assert_eq!(ignored.outcome, "continue");
        assert_eq!(ignored.result["body"]["data"], "YT0x");
    }

    #[test]
    fn python_clock_random_and_uuid_follow_the_invocation() {
        let source = "import random, time, uuid, datetime, os\ndef lambda_handler(event, context):\n    print(random.random(), uuid.uuid4(), os.urandom(4).hex(), time.time(), datetime.datetime.now().isoformat(), hash('edge'))\n    return event['Records'][0]['cf']['request']\n";
        let event = build_event(Stage::ViewerRequest, &EventSpec::default());
        let run = |seed: u64, now_ms: u64| {
            let options = TestOptions {
                seed,
                now_ms,
                ..TestOptions::default()
            };
            run_py("h.py", source, Stage::ViewerRequest, &event, &options)
                .unwrap()
                .logs
        };
        let first = run(7, 1_700_000_000_000);
        assert_eq!(
            first,
            run(7, 1_700_000_000_000),
            "same seed and clock, same output"
        );
        let line = &first[0];
        assert!(line.contains("1700000000.0 2023-11-14T22:13:20"), "{line}");
        let other = run(8, 1_700_000_001_000);
        assert_ne!(first, other);
        assert!(other[0].contains("1700000001.0"), "{other:?}");
        // The string hash is fixed (PYTHONHASHSEED=0) whatever the seed.
        let hash = |l: &str| l.rsplit(' ').next().unwrap().to_string();
        assert_eq!(hash(line), hash(&other[0]));
    }

    #[test]
    fn parse_header_splits_on_the_first_colon() {
        assert_eq!(
            parse_header("Cookie: a=b; c=d").unwrap(),
            ("Cookie".into(), "a=b; c=d".into())
        );
        assert!(parse_header("nocolon").is_err());
    }
}
