//! Tests of CloudFront Functions: event and answer shapes, runtimes, KeyValueStore, limits.

use super::*;
use crate::handler::Controls;

fn publish(
    source: &str,
    runtime: CffRuntime,
    kvs: Option<&str>,
    stage: Stage,
) -> CloudFrontFunction {
    CloudFrontFunction::publish(
        "fn.js",
        source,
        runtime,
        kvs.map(|t| ("store.json", t)),
        stage,
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
}

fn request() -> Request {
    let mut r = Request::new("GET", "/index.html", "198.51.100.11");
    r.headers.append("host", "Host", "www.example.com");
    r
}

fn run(
    f: &mut CloudFrontFunction,
    stage: Stage,
    request: &mut Request,
    response: Option<&mut Response>,
) -> Invocation {
    let controls = Controls::new();
    f.invoke(
        stage,
        request,
        response,
        &InvokeContext::simple(&controls, 7),
    )
}

#[test]
fn a_viewer_request_function_rewrites_the_uri() {
    let mut f = publish(
        "function handler(event) { var r = event.request; r.uri = '/b' + r.uri; return r; }",
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let mut r = request();
    let inv = run(&mut f, Stage::ViewerRequest, &mut r, None);
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
    assert_eq!(r.uri, "/b/index.html");
    assert!(f.runs_at_pop());
}

#[test]
fn the_function_sees_the_cloudfront_functions_event() {
    let mut f = publish(
        r#"function handler(event) {
    console.log(JSON.stringify({v: event.version, t: event.context.eventType, ip: event.viewer.ip,
        host: event.request.headers.host.value, id: event.request.cookies.id.value,
        q: event.request.querystring.a.multiValue.length, recs: typeof event.Records}));
    return event.request;
}"#,
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let mut r = request();
    r.querystring = "a=1&a=2".into();
    r.headers.append("cookie", "Cookie", "id=42; other=x");
    let before = r.clone();
    let inv = run(&mut f, Stage::ViewerRequest, &mut r, None);
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
    assert_eq!(
        r, before,
        "an unchanged request stays byte for byte the same"
    );
    let seen: Value = serde_json::from_str(&inv.logs[0]).unwrap();
    assert_eq!(
        seen,
        serde_json::json!({"v": "1.0", "t": "viewer-request", "ip": "198.51.100.11",
            "host": "www.example.com", "id": "42", "q": 2, "recs": "undefined"})
    );
    assert_eq!(inv.compute_utilization, Some(0));
    assert!(
        inv.duration_us < 1_000,
        "sub-millisecond: {}",
        inv.duration_us
    );
}

#[test]
fn a_generated_redirect_goes_to_the_viewer() {
    let mut f = publish(
        r#"function handler(event) {
    return { statusCode: 301, statusDescription: 'Moved Permanently',
             headers: { location: { value: 'https://example.com' + event.request.uri } } };
}"#,
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let mut r = request();
    let inv = run(&mut f, Stage::ViewerRequest, &mut r, None);
    let StageOutcome::Respond(generated) = inv.outcome else {
        panic!("{inv:?}")
    };
    assert_eq!(generated.status, 301);
    assert_eq!(
        generated.headers.get("location"),
        Some("https://example.com/index.html")
    );
}

#[test]
fn viewer_response_may_change_status_and_headers_but_not_forbidden_ones() {
    let source = r#"function handler(event) {
    var response = event.response;
    response.headers['x-frame-options'] = { value: 'DENY' };
    if (event.request.uri === '/gone') { response.statusCode = 410; }
    if (event.request.uri === '/bad') { response.headers['x-cache'] = { value: 'fake' }; }
    if (event.request.uri === '/upper') { response.headers['X-Upper'] = { value: '1' }; }
    return response;
}"#;
    let mut f = publish(source, CffRuntime::Js1, None, Stage::ViewerResponse);
    let mut origin = Response::new(200);
    origin
        .headers
        .append("content-type", "Content-Type", "text/html");
    let mut r = request();
    let mut resp = origin.clone();
    let inv = run(&mut f, Stage::ViewerResponse, &mut r, Some(&mut resp));
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
    assert_eq!(resp.headers.get("x-frame-options"), Some("DENY"));
    assert_eq!(resp.headers.get("content-type"), Some("text/html"));
    let mut r = Request::new("GET", "/gone", "198.51.100.11");
    let mut resp = origin.clone();
    let inv = run(&mut f, Stage::ViewerResponse, &mut r, Some(&mut resp));
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
    assert_eq!(
        resp.status, 410,
        "CloudFront Functions may change the status"
    );
    for uri in ["/bad", "/upper"] {
        let mut r = Request::new("GET", uri, "198.51.100.11");
        let mut resp = origin.clone();
        let inv = run(&mut f, Stage::ViewerResponse, &mut r, Some(&mut resp));
        let StageOutcome::Failed(failure) = &inv.outcome else {
            panic!("{uri}: {inv:?}")
        };
        assert_eq!(failure.viewer_status, 502, "{uri}: {failure:?}");
        assert!(
            failure.message.starts_with("FunctionValidationError"),
            "{failure:?}"
        );
        assert_eq!(resp, origin, "{uri}: a rejected answer changes nothing");
    }
}

#[test]
fn read_only_fields_and_headers_are_refused_at_viewer_request() {
    for body in [
        "r.method = 'POST'; return r;",
        "r.headers.host = { value: 'evil.example' }; return r;",
        "r.uri = 'no-slash'; return r;",
        "return undefined;",
        "return 'text';",
    ] {
        let source = format!("function handler(event) {{ var r = event.request; {body} }}");
        let mut f = publish(&source, CffRuntime::Js1, None, Stage::ViewerRequest);
        let mut r = request();
        let inv = run(&mut f, Stage::ViewerRequest, &mut r, None);
        assert!(
            matches!(&inv.outcome, StageOutcome::Failed(f) if f.viewer_status == 502),
            "{body}: {inv:?}"
        );
        assert_eq!(r, request(), "{body}");
    }
}

#[test]
fn runtime_levels_differ_at_publish_and_run() {
    let modern = "async function handler(event) { const r = event.request; let u = await Promise.resolve(r.uri); r.uri = u + 'x'; return r; }";
    let errors =
        CloudFrontFunction::publish("m.js", modern, CffRuntime::Js1, None, Stage::ViewerRequest)
            .err()
            .unwrap();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|e| e.contains("m.js: line 1: `async` is not supported by cloudfront-js-1.0")),
        "{text:?}"
    );
    assert!(text.iter().any(|e| e.contains("`const`")), "{text:?}");
    let mut f = publish(modern, CffRuntime::Js2, None, Stage::ViewerRequest);
    let mut r = request();
    let inv = run(&mut f, Stage::ViewerRequest, &mut r, None);
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
    assert_eq!(r.uri, "/index.htmlx");
    // Buffer is 2.0's; the njs byte strings are 1.0's.
    let probe = "function handler(event) { console.log(typeof Buffer, typeof String.bytesFrom); return event.request; }";
    for (runtime, want) in [
        (CffRuntime::Js1, "undefined function"),
        (CffRuntime::Js2, "function undefined"),
    ] {
        let mut f = publish(probe, runtime, None, Stage::ViewerRequest);
        let inv = run(&mut f, Stage::ViewerRequest, &mut request(), None);
        assert_eq!(inv.logs, [want], "{runtime}");
    }
    // A 1.0 handler must answer synchronously.
    let mut f = publish(
        "function handler(event) { return Promise.resolve(event.request); }",
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let inv = run(&mut f, Stage::ViewerRequest, &mut request(), None);
    assert!(
        matches!(&inv.outcome, StageOutcome::Failed(f) if f.viewer_status == 502),
        "{inv:?}"
    );
}

const REDIRECTS: &str = r#"import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
    const request = event.request;
    if (await kvs.exists(request.uri)) {
        const to = await kvs.get(request.uri);
        return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: to } } };
    }
    try {
        await kvs.get('missing');
    } catch (e) {
        console.log('missing:', e.message);
    }
    const meta = await kvs.meta();
    request.headers['x-keys'] = { value: String(meta.keyCount) };
    const cfg = await kvs.get('config', { format: 'json' });
    request.headers['x-mode'] = { value: cfg.mode };
    return request;
}
"#;

#[test]
fn key_value_store_get_exists_and_reads() {
    let store = r#"{"data": [{"key": "/old", "value": "/new"}, {"key": "config", "value": "{\"mode\": \"fast\"}"}]}"#;
    let mut f = publish(
        REDIRECTS,
        CffRuntime::Js2,
        Some(store),
        Stage::ViewerRequest,
    );
    let mut r = Request::new("GET", "/old", "198.51.100.11");
    let inv = run(&mut f, Stage::ViewerRequest, &mut r, None);
    let StageOutcome::Respond(generated) = &inv.outcome else {
        panic!("{inv:?}")
    };
    assert_eq!(generated.headers.get("location"), Some("/new"));
    assert_eq!(inv.kvs_reads, 2, "exists + get");
    let mut r = request();
    let inv = run(&mut f, Stage::ViewerRequest, &mut r, None);
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
    assert_eq!(
        inv.logs,
        ["missing: Key missing not found in the key value store"]
    );
    assert_eq!(r.headers.get("x-keys"), Some("2"));
    assert_eq!(r.headers.get("x-mode"), Some("fast"));
    assert_eq!(inv.kvs_reads, 4, "exists, get (missing), meta, get");
    assert_eq!(f.kvs_reads(), 6);
    // A store needs runtime 2.0; a function without one cannot ask for it.
    let errors = CloudFrontFunction::publish(
        "k.js",
        "function handler(e) { return e.request; }",
        CffRuntime::Js1,
        Some(("s.json", "{}")),
        Stage::ViewerRequest,
    )
    .err()
    .unwrap();
    assert!(
        errors[0]
            .message
            .contains("needs runtime cloudfront-js-2.0"),
        "{errors:?}"
    );
    let errors = CloudFrontFunction::publish(
        "r.js",
        REDIRECTS,
        CffRuntime::Js2,
        None,
        Stage::ViewerRequest,
    )
    .err()
    .unwrap();
    assert!(
        errors[0]
            .message
            .contains("no key value store is associated"),
        "{errors:?}"
    );
}

#[test]
fn publish_limits_code_size_store_sizes_stage_and_handler() {
    let big = format!(
        "function handler(e) {{ return e.request; }} // {}",
        "x".repeat(10 * 1024)
    );
    let errors =
        CloudFrontFunction::publish("big.js", &big, CffRuntime::Js2, None, Stage::ViewerRequest)
            .err()
            .unwrap();
    assert!(
        errors[0]
            .message
            .contains("a CloudFront Function may be at most 10240 bytes"),
        "{errors:?}"
    );
    let store = serde_json::json!({ "k".repeat(600): "v", "x": "y".repeat(2000) }).to_string();
    let errors = CloudFrontFunction::publish(
        "f.js",
        "function handler(e) { return e.request; }",
        CffRuntime::Js2,
        Some(("s.json", &store)),
        Stage::ViewerRequest,
    )
    .err()
    .unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(|e| e.field == "kvs"));
    let errors = CloudFrontFunction::publish(
        "f.js",
        "function handler(e) { return e.request; }",
        CffRuntime::Js2,
        None,
        Stage::OriginRequest,
    )
    .err()
    .unwrap();
    assert!(
        errors[0]
            .message
            .contains("viewer-request and viewer-response only"),
        "{errors:?}"
    );
    let errors = CloudFrontFunction::publish(
        "n.js",
        "function other(e) { return e.request; }",
        CffRuntime::Js2,
        None,
        Stage::ViewerRequest,
    )
    .err()
    .unwrap();
    assert!(
        errors[0]
            .message
            .contains("does not define `function handler(event)`"),
        "{errors:?}"
    );
    let errors = CloudFrontFunction::publish(
        "s.js",
        "function handler(e) {\n  return e.request\n}}",
        CffRuntime::Js2,
        None,
        Stage::ViewerRequest,
    )
    .err()
    .unwrap();
    assert!(errors[0].message.starts_with("s.js:"), "{errors:?}");
}

fn failed(inv: &Invocation) -> &Failure {
    match &inv.outcome {
        StageOutcome::Failed(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn compute_budget_and_memory_are_enforced_at_run_with_503() {
    let mut spin = publish(
        "function handler(event) { var n = 0; for (;;) { n++; } }",
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let inv = run(&mut spin, Stage::ViewerRequest, &mut request(), None);
    let f = failed(&inv);
    assert_eq!(
        (f.kind, f.viewer_status),
        (FailureKind::Timeout, 503),
        "{f:?}"
    );
    assert!(f.message.contains("compute utilization"), "{f:?}");
    assert_eq!(inv.compute_utilization, Some(100));
    // Work just under the budget passes and reports its utilization.
    let mut busy = publish(
        "function handler(event) { var n = 0; for (var i = 0; i < 20000; i++) { n += i; } return event.request; }",
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let inv = run(&mut busy, Stage::ViewerRequest, &mut request(), None);
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
    let used = inv.compute_utilization.unwrap();
    assert!(used > 0 && used < 100, "{used}");
    let mut hog = publish(
        "function handler(event) { var a = []; for (var i = 0; i < 1e6; i++) { a.push('x' + i); } return event.request; }",
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let inv = run(&mut hog, Stage::ViewerRequest, &mut request(), None);
    let f = failed(&inv);
    assert_eq!(f.viewer_status, 503, "{f:?}");
    assert!(
        matches!(f.kind, FailureKind::OutOfMemory | FailureKind::Timeout),
        "{f:?}"
    );
    // The engine is usable after either.
    let inv = run(&mut busy, Stage::ViewerRequest, &mut request(), None);
    assert_eq!(inv.outcome, StageOutcome::Continue, "{inv:?}");
}

#[test]
fn a_memory_bomb_fails_on_memory_not_time() {
    let mut hog = publish(
        "function handler(event) { var a = []; while (true) { a.push([1, 2, 3, 4]); } }",
        CffRuntime::Js1,
        None,
        Stage::ViewerRequest,
    );
    let inv = run(&mut hog, Stage::ViewerRequest, &mut request(), None);
    let f = failed(&inv);
    assert_eq!(
        (f.kind, f.viewer_status),
        (FailureKind::OutOfMemory, 503),
        "{f:?}"
    );
    assert!(f.message.contains("2 MB"), "{f:?}");
}

#[test]
fn no_timers_network_files_or_dynamic_code() {
    for (code, want) in [
        ("setTimeout(function () {}, 1);", "setTimeout"),
        ("require('fs');", "Cannot find module 'fs'"),
        ("require('http');", "Cannot find module 'http'"),
        ("eval('1');", "dynamic code evaluation"),
        ("new Function('return 1')();", "dynamic code evaluation"),
        (
            "(function(){}).constructor('return 1')();",
            "dynamic code evaluation",
        ),
        ("fetch('https://example.com');", "fetch"),
    ] {
        let source = format!("function handler(event) {{ {code} return event.request; }}");
        let mut f = publish(&source, CffRuntime::Js2, None, Stage::ViewerRequest);
        let inv = run(&mut f, Stage::ViewerRequest, &mut request(), None);
        let failure = failed(&inv);
        assert_eq!(failure.viewer_status, 503, "{code}");
        assert!(failure.message.contains(want), "{code}: {failure:?}");
    }
}

#[test]
fn runs_are_deterministic_and_share_no_state() {
    let source = r#"var calls = 0;
function handler(event) {
    calls++;
    console.log(calls, Date.now(), Math.random());
    return event.request;
}"#;
    let mut f = publish(source, CffRuntime::Js1, None, Stage::ViewerRequest);
    let controls = Controls::new();
    let mut ctx = InvokeContext::simple(&controls, 99);
    ctx.now_us = 1_700_000_000_123_000;
    let a = f.invoke(Stage::ViewerRequest, &mut request(), None, &ctx);
    let b = f.invoke(Stage::ViewerRequest, &mut request(), None, &ctx);
    assert_eq!(a.logs, b.logs);
    assert!(a.logs[0].starts_with("1 1700000000123 0."), "{:?}", a.logs);
    let mut g = publish(source, CffRuntime::Js1, None, Stage::ViewerRequest);
    assert_eq!(
        g.invoke(Stage::ViewerRequest, &mut request(), None, &ctx)
            .logs,
        a.logs
    );
    ctx.rand = 100;
    assert_ne!(
        f.invoke(Stage::ViewerRequest, &mut request(), None, &ctx)
            .logs,
        a.logs
    );
}

#[test]
fn origin_helpers_record_the_choice_at_viewer_request_only() {
    let source = r#"import cf from 'cloudfront';
function handler(event) {
    var uri = event.request.uri;
    if (uri === '/api') cf.selectRequestOriginById('api-origin');
    if (uri === '/eu') cf.updateRequestOrigin({ domainName: 'eu.example.com', originPath: '/v2', timeouts: { readTimeout: 10 } });
    if (uri === '/group') cf.createRequestOriginGroup({ originIds: ['a', 'b'], failoverCriteria: { statusCodes: [500, 503] } });
    if (uri === '/badpath') cf.updateRequestOrigin({ originPath: 'v2' });
    return event.request || event.response;
}"#;
    let mut f = publish(source, CffRuntime::Js2, None, Stage::ViewerRequest);
    let mut go = |uri: &str| {
        run(
            &mut f,
            Stage::ViewerRequest,
            &mut Request::new("GET", uri, "198.51.100.11"),
            None,
        )
    };
    assert_eq!(go("/").origin_change, None);
    assert_eq!(
        go("/api").origin_change,
        Some(OriginChange::Select {
            origin_id: "api-origin".into()
        })
    );
    let Some(OriginChange::Update {
        domain_name,
        origin_path,
        ..
    }) = go("/eu").origin_change
    else {
        panic!("an update")
    };
    assert_eq!(
        (domain_name.as_deref(), origin_path.as_deref()),
        (Some("eu.example.com"), Some("/v2"))
    );
    assert_eq!(
        go("/group").origin_change,
        Some(OriginChange::Group {
            primary: "a".into(),
            secondary: "b".into(),
            failover_status_codes: vec![500, 503]
        })
    );
    assert_eq!(failed(&go("/badpath")).viewer_status, 502);
    let source = r#"import cf from 'cloudfront';
function handler(event) { cf.selectRequestOriginById('x'); return event.response; }"#;
    let mut f = publish(source, CffRuntime::Js2, None, Stage::ViewerResponse);
    let mut resp = Response::new(200);
    let inv = run(
        &mut f,
        Stage::ViewerResponse,
        &mut request(),
        Some(&mut resp),
    );
    assert!(
        failed(&inv)
            .message
            .contains("can only be called in a viewer-request function"),
        "{inv:?}"
    );
}

#[test]
fn crypto_querystring_and_byte_strings_behave_as_documented() {
    let source = r#"var crypto = require('crypto');
var qs = require('querystring');
function handler(event) {
    console.log(crypto.createHash('sha256').update('abc').digest('hex'));
    console.log(crypto.createHmac('sha1', 'key').update('The quick brown fox jumps over the lazy dog').digest('base64'));
    console.log(String.bytesFrom('dXNlcjpwYXNz', 'base64').split(':')[1]);
    console.log(JSON.stringify(qs.parse('a=1&b=2&a=3')), qs.stringify({x: ['1', '2'], y: 'z z'}));
    return event.request;
}"#;
    let mut f = publish(source, CffRuntime::Js1, None, Stage::ViewerRequest);
    let inv = run(&mut f, Stage::ViewerRequest, &mut request(), None);
    assert_eq!(
        inv.logs,
        [
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "3nybhbi3iqa8ino29wqQcBydtNk=",
            "pass",
            r#"{"a":["1","3"],"b":"2"} x=1&x=2&y=z%20z"#,
        ]
    );
    let mut g = publish(
        "import crypto from 'crypto';\nfunction handler(event) { console.log(Buffer.from('aGk=', 'base64').toString(), crypto.createHash('md5').update('').digest().length); return event.request; }",
        CffRuntime::Js2,
        None,
        Stage::ViewerRequest,
    );
    assert_eq!(
        run(&mut g, Stage::ViewerRequest, &mut request(), None).logs,
        ["hi 16"]
    );
}
