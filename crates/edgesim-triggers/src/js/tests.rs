//! Tests of the JavaScript runtime through the public handler interface.

use crate::config::{ExecutionConfig, TriggerConfig, compile};
use crate::event::{Origin, Request, Response};
use crate::handler::{Controls, FailureKind, Handler, Invocation, InvokeContext, StageOutcome};
use crate::stage::Stage;
use crate::validate::ValidationRule;

fn load(stage: Stage, source: &str, execution: ExecutionConfig) -> Box<dyn Handler + Send> {
    let config = TriggerConfig {
        execution,
        ..TriggerConfig::js("handler.js")
    };
    let source = source.to_string();
    match compile(&config, stage, &move |_| Ok(source.clone())) {
        Ok(h) => h,
        Err(errors) => panic!("compile failed: {errors:?}"),
    }
}

fn viewer_request() -> Request {
    let mut r = Request::new("GET", "/index.html", "203.0.113.9");
    r.headers.set("Host", "d111111abcdef8.cloudfront.net");
    r.headers.set("User-Agent", "Mozilla/5.0 test");
    r.headers.set("Cookie", "session=1; X-Experiment-Name=B");
    r
}

fn invoke_at(
    h: &mut Box<dyn Handler + Send>,
    stage: Stage,
    req: &mut Request,
    resp: Option<&mut Response>,
    now_us: u64,
    rand: u64,
) -> Invocation {
    let controls = Controls::new();
    let ctx = InvokeContext {
        now_us,
        rand,
        ..InvokeContext::simple(&controls, rand)
    };
    h.invoke(stage, req, resp, &ctx)
}

fn invoke(
    h: &mut Box<dyn Handler + Send>,
    stage: Stage,
    req: &mut Request,
    resp: Option<&mut Response>,
) -> Invocation {
    invoke_at(h, stage, req, resp, 1_700_000_000_000_000, 42)
}

fn failure_kind(inv: &Invocation) -> FailureKind {
    match &inv.outcome {
        StageOutcome::Failed(f) => f.kind,
        other => panic!("expected a failure, got {}", other.name()),
    }
}

const CALLBACK_STYLE: &str = r#"'use strict';
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const headers = request.headers;
    let variant = 'A';
    if (headers.cookie) {
        for (let i = 0; i < headers.cookie.length; i++) {
            if (headers.cookie[i].value.indexOf('X-Experiment-Name=B') >= 0) { variant = 'B'; break; }
        }
    }
    if (variant === 'B') request.uri = '/experiment-b' + request.uri;
    callback(null, request);
};
"#;

#[test]
fn callback_handler_rewrites_the_uri() {
    let mut h = load(
        Stage::ViewerRequest,
        CALLBACK_STYLE,
        ExecutionConfig::default(),
    );
    let mut req = viewer_request();
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut req, None);
    assert_eq!(inv.outcome, StageOutcome::Continue);
    assert_eq!(req.uri, "/experiment-b/index.html");
    assert!(inv.cold_start);
    // Later, the environment is free again: warm.
    let inv = invoke_at(
        &mut h,
        Stage::ViewerRequest,
        &mut viewer_request(),
        None,
        1_700_000_001_000_000,
        1,
    );
    assert!(!inv.cold_start);
}

#[test]
fn async_handler_and_promises() {
    let source = r#"
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    await new Promise((resolve) => setTimeout(resolve, 20));
    request.headers['x-async'] = [{ key: 'X-Async', value: 'yes' }];
    return request;
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let mut req = viewer_request();
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut req, None);
    assert_eq!(inv.outcome, StageOutcome::Continue);
    assert_eq!(req.headers.get("x-async"), Some("yes"));
    // The 20 ms timer is simulated time, charged to the duration.
    assert!(inv.duration_us >= 20_000 + 1_000, "{}", inv.duration_us);
}

#[test]
fn es_module_handlers_load() {
    let source = "export const handler = async (event) => ({ status: '200', body: 'hi' });\n";
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    assert!(matches!(inv.outcome, StageOutcome::Respond(ref r) if r.body.as_deref() == Some("hi")));
}

#[test]
fn generated_response_with_numeric_status() {
    let source = r#"exports.handler = (event, context, callback) => {
    callback(null, { status: 302, statusDescription: 'Found',
        headers: { location: [{ key: 'Location', value: 'https://example.com/' }] } });
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    let StageOutcome::Respond(resp) = inv.outcome else {
        panic!("expected a generated response")
    };
    assert_eq!(resp.status, 302);
    assert_eq!(resp.headers.get("location"), Some("https://example.com/"));
}

#[test]
fn thrown_error_and_callback_error_are_exceptions_and_the_runtime_recovers() {
    let source = r#"let n = 0;
exports.handler = (event, context, callback) => {
    n++;
    if (n === 1) throw new TypeError('boom');
    if (n === 2) { callback(new Error('handled failure')); return; }
    if (n === 3) return Promise.reject(new Error('rejected'));
    callback(null, event.Records[0].cf.request);
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    for expected in [
        "TypeError: boom",
        "Error: handled failure",
        "Error: rejected",
    ] {
        let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
        let StageOutcome::Failed(f) = &inv.outcome else {
            panic!("expected a failure")
        };
        assert_eq!((f.kind, f.viewer_status), (FailureKind::Exception, 503));
        assert_eq!(f.message, expected);
    }
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    assert_eq!(inv.outcome, StageOutcome::Continue);
}

#[test]
fn infinite_loop_times_out_at_the_limit_and_the_next_call_succeeds() {
    let source = r#"let calls = 0;
exports.handler = (event, context, callback) => {
    calls++;
    if (event.Records[0].cf.request.uri === '/loop') { try { while (true) {} } catch (e) { callback(null, event.Records[0].cf.request); } }
    callback(null, event.Records[0].cf.request);
};"#;
    let execution = ExecutionConfig {
        timeout_ms: Some(200),
        cold_start_ms: Some(0),
        ..Default::default()
    };
    let mut h = load(Stage::ViewerRequest, source, execution);
    let mut req = viewer_request();
    req.uri = "/loop".into();
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut req, None);
    assert_eq!(failure_kind(&inv), FailureKind::Timeout);
    assert_eq!(inv.duration_us, 200_000);
    assert_eq!(
        req.uri, "/loop",
        "a failed invocation leaves the request untouched"
    );
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    assert_eq!(inv.outcome, StageOutcome::Continue);
    assert!(
        inv.cold_start,
        "Lambda replaces the environment after a timeout"
    );
}

#[test]
fn infinite_loop_at_the_default_viewer_timeout_costs_five_seconds() {
    let source = "exports.handler = () => { for (;;) {} };";
    let mut h = load(
        Stage::ViewerRequest,
        source,
        ExecutionConfig {
            cold_start_ms: Some(0),
            ..Default::default()
        },
    );
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    assert_eq!(failure_kind(&inv), FailureKind::Timeout);
    assert_eq!(inv.duration_us, 5_000_000);
}

#[test]
fn memory_bomb_is_out_of_memory_and_the_runtime_recovers() {
    let source = r#"const hoard = [];
exports.handler = (event, context, callback) => {
    if (event.Records[0].cf.request.uri === '/bomb') { for (;;) hoard.push('x'.repeat(1 << 20) + hoard.length); }
    callback(null, event.Records[0].cf.request);
};"#;
    let execution = ExecutionConfig {
        memory_mb: Some(128),
        ..Default::default()
    };
    let mut h = load(Stage::OriginRequest, source, execution);
    let mut req = viewer_request();
    req.origin = Some(Origin::s3("b.s3.amazonaws.com", "us-east-1"));
    req.uri = "/bomb".into();
    let inv = invoke(&mut h, Stage::OriginRequest, &mut req.clone(), None);
    assert_eq!(failure_kind(&inv), FailureKind::OutOfMemory);
    req.uri = "/ok".into();
    let inv = invoke(&mut h, Stage::OriginRequest, &mut req, None);
    assert_eq!(inv.outcome, StageOutcome::Continue);
}

#[test]
fn same_handler_and_event_give_the_same_duration_twice() {
    let execution = || ExecutionConfig {
        cold_start_ms: Some(0),
        ..Default::default()
    };
    let mut h = load(Stage::ViewerRequest, CALLBACK_STYLE, execution());
    let a = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    for _ in 0..200 {
        let b = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
        assert_eq!(a.duration_us, b.duration_us);
    }
    let mut fresh = load(Stage::ViewerRequest, CALLBACK_STYLE, execution());
    assert_eq!(
        invoke(
            &mut fresh,
            Stage::ViewerRequest,
            &mut viewer_request(),
            None
        )
        .duration_us,
        a.duration_us
    );
}

#[test]
fn cpu_heavy_handlers_cost_more_simulated_time() {
    let source = r#"exports.handler = (event, context, callback) => {
    let x = 0; for (let i = 0; i < 2000000; i++) x += i % 7;
    callback(null, event.Records[0].cf.request);
};"#;
    let mut h = load(
        Stage::ViewerRequest,
        source,
        ExecutionConfig {
            cold_start_ms: Some(0),
            ..Default::default()
        },
    );
    let heavy = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    assert_eq!(heavy.outcome, StageOutcome::Continue);
    assert!(heavy.duration_us > 5_000, "{}", heavy.duration_us);
}

#[test]
fn math_random_and_date_are_deterministic() {
    let source = r#"exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    request.headers['x-r'] = [{ key: 'X-R', value: String(Math.random()) }];
    request.headers['x-t'] = [{ key: 'X-T', value: String(Date.now()) + ' ' + new Date().toISOString() }];
    callback(null, request);
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let run = |h: &mut Box<dyn Handler + Send>, rand: u64| {
        let mut r = viewer_request();
        invoke_at(
            h,
            Stage::ViewerRequest,
            &mut r,
            None,
            1_700_000_000_123_000,
            rand,
        );
        (
            r.headers.get("x-r").unwrap().to_string(),
            r.headers.get("x-t").unwrap().to_string(),
        )
    };
    let (r1, t1) = run(&mut h, 7);
    let (r2, _) = run(&mut h, 7);
    let (r3, _) = run(&mut h, 8);
    assert_eq!(r1, r2);
    assert_ne!(r1, r3);
    assert_eq!(t1, "1700000000123 2023-11-14T22:13:20.123Z");
}

#[test]
fn console_output_is_captured() {
    let source = r#"exports.handler = (event, context, callback) => {
    console.log('hello %s', 'world', { a: 1 });
    console.error(new Error('bad'));
    console.warn('n=%d', 42);
    callback(null, event.Records[0].cf.request);
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    assert_eq!(inv.logs[0], "INFO\thello world {\"a\":1}");
    assert!(
        inv.logs[1].starts_with("ERROR\tError: bad"),
        "{:?}",
        inv.logs
    );
    assert_eq!(inv.logs[2], "WARN\tn=42");
}

#[test]
fn node_modules_querystring_url_crypto_buffer() {
    let source = r#"'use strict';
const querystring = require('querystring');
const { URL } = require('url');
const crypto = require('crypto');
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const params = querystring.parse(request.querystring);
    params.added = 'a b';
    request.querystring = querystring.stringify(params);
    const u = new URL('https://example.com/a/b?x=1&y=2');
    const h = crypto.createHash('sha256').update('abc').digest('hex');
    const b = Buffer.from('user:pass').toString('base64');
    request.headers['x-info'] = [{ key: 'X-Info', value: [u.hostname, u.searchParams.get('y'), h.slice(0, 8), b, typeof process].join(' ') }];
    callback(null, request);
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let mut req = viewer_request();
    req.querystring = "size=LARGE&tag=a&tag=b".into();
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut req, None);
    assert_eq!(inv.outcome, StageOutcome::Continue, "{:?}", inv.logs);
    assert_eq!(req.querystring, "size=LARGE&tag=a&tag=b&added=a%20b");
    assert_eq!(
        req.headers.get("x-info"),
        Some("example.com 2 ba7816bf dXNlcjpwYXNz undefined")
    );
}

#[test]
fn invalid_results_are_502() {
    let source = r#"exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    request.headers['host'] = [{ key: 'Host', value: 'evil.example' }];
    callback(null, request);
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    let StageOutcome::Failed(f) = &inv.outcome else {
        panic!("expected a failure")
    };
    assert_eq!(
        (f.kind, f.viewer_status),
        (
            FailureKind::Invalid {
                rule: ValidationRule::ReadOnlyHeader
            },
            502
        )
    );
    let null_result = "exports.handler = (e, c, cb) => cb(null, null);";
    let mut h = load(
        Stage::ViewerRequest,
        null_result,
        ExecutionConfig::default(),
    );
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut viewer_request(), None);
    assert_eq!(
        failure_kind(&inv),
        FailureKind::Invalid {
            rule: ValidationRule::BadShape
        }
    );
}

#[test]
fn response_stages_update_headers_and_status() {
    let source = r#"exports.handler = (event, context, callback) => {
    const response = event.Records[0].cf.response;
    response.headers['strict-transport-security'] = [{ key: 'Strict-Transport-Security', value: 'max-age=63072000' }];
    if (response.status === '404') { response.status = 200; response.statusDescription = 'OK'; }
    callback(null, response);
};"#;
    let mut h = load(Stage::OriginResponse, source, ExecutionConfig::default());
    let mut req = viewer_request();
    let mut resp = Response::new(404);
    resp.headers.set("Via", "1.1 x.cloudfront.net (CloudFront)");
    let inv = invoke(&mut h, Stage::OriginResponse, &mut req, Some(&mut resp));
    assert_eq!(inv.outcome, StageOutcome::Continue);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.headers.get("strict-transport-security"),
        Some("max-age=63072000")
    );
    assert_eq!(
        resp.headers.get("via"),
        Some("1.1 x.cloudfront.net (CloudFront)")
    );
    // The same function at viewer-response may not change the status.
    let mut h = load(Stage::ViewerResponse, source, ExecutionConfig::default());
    let mut resp = Response::new(404);
    let inv = invoke(
        &mut h,
        Stage::ViewerResponse,
        &mut viewer_request(),
        Some(&mut resp),
    );
    assert_eq!(
        failure_kind(&inv),
        FailureKind::Invalid {
            rule: ValidationRule::StatusChangedAtViewerResponse
        }
    );
    assert_eq!(resp.status, 404);
}

#[test]
fn origin_request_can_change_the_origin() {
    let source = r#"exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    request.origin.s3.domainName = 'new-bucket.s3.eu-central-1.amazonaws.com';
    request.origin.s3.region = 'eu-central-1';
    request.headers['host'] = [{ key: 'host', value: 'new-bucket.s3.eu-central-1.amazonaws.com' }];
    callback(null, request);
};"#;
    let mut h = load(Stage::OriginRequest, source, ExecutionConfig::default());
    let mut req = viewer_request();
    req.origin = Some(Origin::s3("old-bucket.s3.amazonaws.com", "us-east-1"));
    let inv = invoke(&mut h, Stage::OriginRequest, &mut req, None);
    assert_eq!(inv.outcome, StageOutcome::Continue);
    let Some(Origin::S3(o)) = &req.origin else {
        panic!("expected an S3 origin")
    };
    assert_eq!(
        (o.domain_name.as_str(), o.region.as_str()),
        ("new-bucket.s3.eu-central-1.amazonaws.com", "eu-central-1")
    );
}

#[test]
fn load_errors_name_the_problem() {
    let config = TriggerConfig::js("h.js");
    let compile_src = |src: &'static str| {
        compile(&config, Stage::ViewerRequest, &move |_| Ok(src.to_string()))
            .err()
            .unwrap()[0]
            .message
            .clone()
    };
    assert!(
        compile_src("exports.other = () => {};").contains("does not export a function `handler`")
    );
    let init = compile_src("\nthrow new Error('init failed');\nexports.handler = () => {};");
    assert!(
        init.starts_with("h.js:2:") && init.contains("init failed"),
        "{init}"
    );
    assert!(
        compile_src("const x = require('fs');\nexports.handler = () => {};")
            .contains("Cannot find module 'fs'")
    );
}

#[test]
fn throttles_beyond_max_concurrency() {
    let execution = ExecutionConfig {
        max_concurrency: Some(1),
        ..Default::default()
    };
    let mut h = load(Stage::ViewerRequest, CALLBACK_STYLE, execution);
    let first = invoke_at(
        &mut h,
        Stage::ViewerRequest,
        &mut viewer_request(),
        None,
        0,
        1,
    );
    assert_eq!(first.outcome, StageOutcome::Continue);
    // Still busy (cold start + run) 1 ms later.
    let second = invoke_at(
        &mut h,
        Stage::ViewerRequest,
        &mut viewer_request(),
        None,
        1_000,
        1,
    );
    assert_eq!(failure_kind(&second), FailureKind::Throttled);
}

/// Logs the event as JSON and the property order of its main objects.
const DUMP_EVENT: &str = r#"exports.handler = (event, context, callback) => {
    const cf = event.Records[0].cf;
    console.log(JSON.stringify(event));
    console.log(Object.keys(cf).join(','), Object.keys(cf.config).join(','), Object.keys(cf.request).join(','));
    callback(null, cf.response || cf.request);
};"#;

#[test]
fn the_event_is_cloudfronts_shape_in_cloudfronts_order() {
    for stage in Stage::ALL {
        let mut h = load(stage, DUMP_EVENT, ExecutionConfig::default());
        let mut req = viewer_request();
        // Two lines under one name, and CloudFront's own header added later.
        req.headers.append("cookie", "Cookie", "theme=dark");
        req.headers.set("CloudFront-Viewer-Country", "DE");
        if stage.is_origin() {
            req.origin = Some(Origin::custom("origin.example.com"));
        }
        let mut resp = (!stage.is_request()).then(|| {
            let mut r = Response::new(200);
            r.headers.set("Content-Type", "text/html");
            r
        });
        let before = (req.clone(), resp.clone());
        let inv = invoke(&mut h, stage, &mut req, resp.as_mut());
        assert_eq!(
            inv.outcome,
            StageOutcome::Continue,
            "{stage}: {:?}",
            inv.outcome
        );
        assert_eq!((req.clone(), resp.clone()), before, "{stage}: unchanged");
        let seen: serde_json::Value =
            serde_json::from_str(inv.logs[0].strip_prefix("INFO\t").unwrap()).unwrap();
        let expected = crate::event::CfEvent {
            config: crate::event::EventConfig {
                request_id: crate::script::request_id_string(1).as_str().into(),
                ..crate::event::EventConfig::example(stage)
            },
            request: Request {
                origin: if stage.is_origin() {
                    req.origin.clone()
                } else {
                    None
                },
                ..req.clone()
            },
            response: resp.clone(),
        }
        .to_records_json();
        assert_eq!(seen, expected, "{stage}");
        let order = inv.logs[1].strip_prefix("INFO\t").unwrap();
        let request_keys = if stage.is_origin() {
            "clientIp,headers,method,origin,querystring,uri"
        } else {
            "clientIp,headers,method,querystring,uri"
        };
        let cf_keys = if stage.is_request() {
            "config,request"
        } else {
            "config,request,response"
        };
        assert_eq!(
            order,
            format!(
                "{cf_keys} distributionDomainName,distributionId,eventType,requestId {request_keys}"
            ),
            "{stage}"
        );
    }
}

#[test]
fn changed_header_values_and_keys_are_read_back() {
    let source = r#"exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    request.headers.cookie[1].value = 'theme=light';
    request.headers['user-agent'][0].key = 'user-agent';
    callback(null, request);
};"#;
    let mut h = load(Stage::ViewerRequest, source, ExecutionConfig::default());
    let mut req = viewer_request();
    req.headers.append("cookie", "Cookie", "theme=dark");
    let inv = invoke(&mut h, Stage::ViewerRequest, &mut req, None);
    assert_eq!(inv.outcome, StageOutcome::Continue);
    let cookies: Vec<&str> = req
        .headers
        .get_all("cookie")
        .map(|e| e.value.as_str())
        .collect();
    assert_eq!(cookies, ["session=1; X-Experiment-Name=B", "theme=light"]);
    let ua = req.headers.iter().find(|e| e.name == "user-agent").unwrap();
    assert_eq!(ua.key, "user-agent");
}
