//! `edgesim trigger test` as a user runs it: request bodies (include body, truncation,
//! replacement), the CloudFront geolocation headers, and Python handlers (with and without python3).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

/// Logs the body as the function sees it and returns the request unchanged.
const ECHO_BODY: &str = r#"'use strict';
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const body = request.body;
    console.log(body === undefined ? 'no body' : `${body.inputTruncated} ${body.action} ${body.encoding} ${Buffer.from(body.data, 'base64').length}`);
    callback(null, request);
};
"#;

/// Logs every CloudFront-Viewer-* and CloudFront-Forwarded-Proto header as `name=value`.
const ECHO_GEO: &str = r#"'use strict';
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    for (const name of Object.keys(request.headers).sort()) {
        if (name.startsWith('cloudfront-viewer-') || name === 'cloudfront-forwarded-proto') {
            console.log(name + '=' + request.headers[name][0].value);
        }
    }
    callback(null, request);
};
"#;

fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("trigger")
        .arg("test")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("edgesim runs")
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn logs(report: &serde_json::Value) -> Vec<String> {
    report["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().trim_start_matches("INFO\t").to_string())
        .collect()
}

#[test]
fn a_body_file_is_truncated_at_40_kb_at_viewer_request() {
    let dir = tempfile::tempdir().unwrap();
    let handler = write(dir.path(), "echo.js", ECHO_BODY.as_bytes());
    let body = write(dir.path(), "body.bin", &vec![7u8; 50 * 1024]);
    let h = handler.to_str().unwrap();
    let b = body.to_str().unwrap();

    let out = run(
        dir.path(),
        &[
            "--stage",
            "viewer-request",
            "--method",
            "POST",
            "--body",
            b,
            "--json",
            h,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(logs(&report), ["true read-only base64 40960"]);
    assert_eq!(report["result"]["body"]["inputTruncated"], true);

    // Origin stages see up to 1 MB: all of it.
    let out = run(
        dir.path(),
        &["--stage", "origin-request", "--body", b, "--json", h],
    );
    assert_eq!(logs(&json(&out)), ["false read-only base64 51200"]);

    // Without include-body the event has no body.
    let out = run(
        dir.path(),
        &[
            "--stage",
            "origin-request",
            "--body",
            b,
            "--no-include-body",
            "--json",
            h,
        ],
    );
    assert_eq!(logs(&json(&out)), ["no body"]);

    // The text output says what was cut.
    let out = run(dir.path(), &["--stage", "viewer-request", "--body", b, h]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("51200 bytes") && stderr.contains("first 40960 (inputTruncated: true)"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"inputTruncated\": true"), "{stdout}");
}

#[test]
fn a_body_in_the_event_file_is_exposed_and_bad_replacements_are_502() {
    let dir = tempfile::tempdir().unwrap();
    let event = r#"{"Records":[{"cf":{
        "config":{"distributionDomainName":"d111111abcdef8.cloudfront.net","distributionId":"EDFDVBD6EXAMPLE","eventType":"viewer-request","requestId":"x"},
        "request":{"clientIp":"203.0.113.178","method":"POST","uri":"/form","querystring":"",
          "headers":{"host":[{"key":"Host","value":"d111111abcdef8.cloudfront.net"}]},
          "body":{"inputTruncated":false,"action":"read-only","encoding":"base64","data":"YT0xJmI9Mg=="}}}}]}"#;
    let event = write(dir.path(), "event.json", event.as_bytes());
    let e = event.to_str().unwrap();
    let echo = write(dir.path(), "echo.js", ECHO_BODY.as_bytes());
    let out = run(
        dir.path(),
        &["--event", e, "--json", echo.to_str().unwrap()],
    );
    assert_eq!(logs(&json(&out)), ["false read-only base64 7"]);

    let replace = |data: &str| {
        format!(
            "exports.handler = (e, c, cb) => {{ const r = e.Records[0].cf.request; \
             r.body = {{ action: 'replace', encoding: 'base64', data: {data} }}; cb(null, r); }};"
        )
    };
    let good = write(dir.path(), "good.js", replace("'Yj0z'").as_bytes());
    let out = run(
        dir.path(),
        &["--event", e, "--json", good.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["result"]["body"]["data"], "Yj0z");

    let bad = write(dir.path(), "bad.js", replace("'%%%'").as_bytes());
    let out = run(dir.path(), &["--event", e, "--json", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["viewer_status"], 502);
    assert_eq!(report["outcome"], "invalid");

    let big = write(
        dir.path(),
        "big.js",
        replace("Buffer.alloc(40 * 1024 + 1, 1).toString('base64')").as_bytes(),
    );
    let out = run(dir.path(), &["--event", e, "--json", big.to_str().unwrap()]);
    assert_eq!(json(&out)["viewer_status"], 502);
}

#[test]
fn country_fills_the_geolocation_headers_from_origin_request_on() {
    let dir = tempfile::tempdir().unwrap();
    let handler = write(dir.path(), "geo.js", ECHO_GEO.as_bytes());
    let h = handler.to_str().unwrap();
    let out = run(
        dir.path(),
        &[
            "--stage",
            "origin-request",
            "--country",
            "de",
            "--client-ip",
            "198.51.100.10",
            "--json",
            h,
        ],
    );
    let lines = logs(&json(&out));
    for expected in [
        "cloudfront-forwarded-proto=https",
        "cloudfront-viewer-asn=3320",
        "cloudfront-viewer-city=Berlin",
        "cloudfront-viewer-country=DE",
        "cloudfront-viewer-country-name=Germany",
        "cloudfront-viewer-http-version=2.0",
        "cloudfront-viewer-latitude=52.52440",
        "cloudfront-viewer-longitude=13.41050",
        "cloudfront-viewer-time-zone=Europe/Berlin",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} not in {lines:?}"
        );
    }
    let address = lines
        .iter()
        .find_map(|l| l.strip_prefix("cloudfront-viewer-address="))
        .expect("address header");
    assert!(address.starts_with("198.51.100.10:"), "{address}");
    // GeoNames' German admin1 codes are not ISO 3166-2 and no package ships German postal
    // codes: those headers are left out rather than made up.
    for absent in [
        "cloudfront-viewer-metro-code",
        "cloudfront-viewer-country-region",
        "cloudfront-viewer-postal-code",
    ] {
        assert!(!lines.iter().any(|l| l.starts_with(absent)), "{absent}");
    }

    let out = run(
        dir.path(),
        &[
            "--stage",
            "origin-request",
            "--country",
            "US",
            "--city",
            "seattle",
            "--json",
            h,
        ],
    );
    let lines = logs(&json(&out));
    for expected in [
        "cloudfront-viewer-city=Seattle",
        "cloudfront-viewer-country-region=WA",
        "cloudfront-viewer-country-region-name=Washington",
        "cloudfront-viewer-time-zone=America/Los_Angeles",
        "cloudfront-viewer-latitude=47.60620",
        "cloudfront-viewer-postal-code=98131",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} not in {lines:?}"
        );
    }
    // US DMA metro codes are proprietary: never sent.
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("cloudfront-viewer-metro-code"))
    );

    // A city the table does not have is a usage error that names the country's largest.
    let out = run(
        dir.path(),
        &[
            "--stage",
            "origin-request",
            "--country",
            "US",
            "--city",
            "Ann Arbor",
            h,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("New York City"));

    // Added after viewer-request: that stage sees none of them.
    let out = run(
        dir.path(),
        &["--stage", "viewer-request", "--country", "DE", "--json", h],
    );
    assert!(logs(&json(&out)).is_empty());

    // --city without a country is a usage error.
    let out = run(
        dir.path(),
        &["--stage", "origin-request", "--city", "Paris", h],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Logs every header of the request (and of the response, at response
/// stages) as `where name=value`, one line each, in order.
const ECHO_HEADERS: &str = r#"'use strict';
exports.handler = async (event) => {
    const cf = event.Records[0].cf;
    for (const [where, h] of [['request', cf.request.headers], ['response', cf.response ? cf.response.headers : {}]]) {
        for (const name of Object.keys(h)) {
            for (const line of h[name]) console.log(where + ' ' + name + '=' + line.value);
        }
    }
    if (cf.request.origin) console.log('origin ' + Object.keys(cf.request.origin)[0]);
    return cf.response || cf.request;
};
"#;

#[test]
fn a_header_given_twice_is_two_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "echo.js", ECHO_HEADERS.as_bytes());
    let out = run(
        dir.path(),
        &[
            "echo.js",
            "--stage",
            "viewer-request",
            "--json",
            "--header",
            "Cookie: a=1",
            "--header",
            "Cookie: b=2",
        ],
    );
    let cookies: Vec<String> = logs(&json(&out))
        .into_iter()
        .filter(|l| l.starts_with("request cookie="))
        .collect();
    assert_eq!(cookies, ["request cookie=a=1", "request cookie=b=2"]);
}

#[test]
fn response_stages_see_the_origins_headers_and_cloudfronts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "echo.js", ECHO_HEADERS.as_bytes());
    let at = |stage: &str| {
        logs(&json(&run(
            dir.path(),
            &["echo.js", "--stage", stage, "--uri", "/img/a.png", "--json"],
        )))
    };
    let origin = at("origin-response");
    for want in [
        "response server=AmazonS3",
        "response content-type=image/png",
        "response content-length=10240",
        "response last-modified=Thu, 01 Jan 1970 00:00:00 GMT",
    ] {
        assert!(origin.iter().any(|l| l == want), "{want} in {origin:?}");
    }
    assert!(origin.iter().any(|l| l.starts_with("response etag=\"")));
    assert!(
        origin
            .iter()
            .any(|l| l.starts_with("response x-amz-request-id="))
    );
    let viewer = at("viewer-response");
    assert!(
        viewer
            .iter()
            .any(|l| l == "response x-cache=Miss from cloudfront"),
        "{viewer:?}"
    );
    assert!(
        viewer
            .iter()
            .any(|l| l.starts_with("response x-amz-cf-pop=IAD"))
    );
    assert!(viewer.iter().any(|l| l.starts_with("response via=1.1 ")));
}

#[test]
fn viewer_response_is_not_run_for_an_error_status() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "echo.js", ECHO_HEADERS.as_bytes());
    let out = run(
        dir.path(),
        &[
            "echo.js",
            "--stage",
            "viewer-response",
            "--status",
            "404",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(report["outcome"], "skipped");
    assert_eq!(report["viewer_status"], 404);
    assert!(
        logs(&json(&out))
            .iter()
            .all(|l| !l.starts_with("response ")),
        "the handler did not run"
    );
}

#[test]
fn a_viewer_request_event_run_at_origin_request_has_an_origin() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "echo.js", ECHO_HEADERS.as_bytes());
    let event = r#"{"Records":[{"cf":{"config":{"distributionDomainName":"d1.cloudfront.net","distributionId":"E1","eventType":"viewer-request","requestId":"r1"},"request":{"clientIp":"203.0.113.1","method":"GET","uri":"/a","querystring":"","headers":{"host":[{"key":"Host","value":"d1.cloudfront.net"}]}}}}]}"#;
    write(dir.path(), "event.json", event.as_bytes());
    let out = run(
        dir.path(),
        &[
            "echo.js",
            "--event",
            "event.json",
            "--stage",
            "origin-request",
            "--json",
        ],
    );
    assert!(
        logs(&json(&out)).iter().any(|l| l == "origin s3"),
        "{:?}",
        logs(&json(&out))
    );
}

fn scenario_trigger(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/triggers")
        .join(name)
}

fn run_with(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command
        .arg("trigger")
        .arg("test")
        .args(args)
        .current_dir(dir);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("edgesim runs")
}

#[test]
fn the_python_ab_handler_runs_with_trigger_test() {
    let dir = tempfile::tempdir().unwrap();
    let handler = scenario_trigger("ab_test.py");
    let handler = handler.to_str().unwrap();
    let kept = json(&run(
        dir.path(),
        &[
            handler,
            "--stage",
            "viewer-request",
            "--uri",
            "/experiment/pixel.jpg",
            "--header",
            "Cookie: X-Experiment-Name=B",
            "--json",
        ],
    ));
    assert_eq!(kept["outcome"], "continue", "{kept}");
    assert_eq!(kept["result"]["uri"], "/experiment/treatment/pixel.jpg");
    assert_eq!(logs(&kept), Vec::<String>::new());

    let new_viewer = [
        handler,
        "--stage",
        "viewer-request",
        "--uri",
        "/experiment/pixel.jpg",
        "--seed",
        "5",
        "--json",
    ];
    let first = run(dir.path(), &new_viewer);
    let report = json(&first);
    assert_eq!(report["outcome"], "continue", "{report}");
    let cookie = report["result"]["headers"]["cookie"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let group = cookie.strip_prefix("X-Experiment-Name=").unwrap();
    assert!(group == "A" || group == "B", "{cookie}");
    assert_eq!(
        logs(&report),
        [format!("assigned new viewer to group {group}")]
    );
    // Same seed, same answer, byte for byte.
    assert_eq!(run(dir.path(), &new_viewer).stdout, first.stdout);
}

#[test]
fn the_python_redirect_handler_runs_with_trigger_test() {
    let dir = tempfile::tempdir().unwrap();
    let handler = scenario_trigger("country_redirect.py");
    let report = json(&run(
        dir.path(),
        &[
            handler.to_str().unwrap(),
            "--stage",
            "origin-request",
            "--uri",
            "/news/today.html",
            "--country",
            "JP",
            "--handler",
            "lambda_function.lambda_handler",
            "--json",
        ],
    ));
    assert_eq!(report["outcome"], "respond", "{report}");
    assert_eq!(report["viewer_status"], 302);
    assert_eq!(
        report["result"]["headers"]["location"][0]["value"],
        "https://example.jp/news/today.html"
    );
    let text = run(
        dir.path(),
        &[
            handler.to_str().unwrap(),
            "--stage",
            "origin-request",
            "--uri",
            "/blog/first",
        ],
    );
    assert_eq!(text.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("301"), "{stdout}");
}

#[test]
fn python_handler_results_are_validated_like_javascript_ones() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.py",
        b"def lambda_handler(event, context):\n    return {'status': '700'}\n",
    );
    let output = run(
        dir.path(),
        &[bad.to_str().unwrap(), "--stage", "viewer-request", "--json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert_eq!(report["outcome"], "invalid");
    assert_eq!(report["viewer_status"], 502);
    assert_eq!(report["result"]["errorType"], "LambdaValidationError");

    let named = write(
        dir.path(),
        "app.py",
        b"def main(event, context):\n    return {'status': 204}\n",
    );
    let args = [
        named.to_str().unwrap(),
        "--stage",
        "viewer-request",
        "--json",
    ];
    let missing = run(dir.path(), &args);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("handler `lambda_function.lambda_handler` not found")
            && stderr.contains("set handler = \"lambda_function.main\""),
        "{stderr}"
    );
    let with_handler = [&args[..], &["--handler", "app.main"]].concat();
    let report = json(&run(dir.path(), &with_handler));
    assert_eq!(report["outcome"], "respond", "{report}");
    assert_eq!(report["viewer_status"], 204);
}

#[test]
fn python_runtimes_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let handler = scenario_trigger("ab_test.py");
    let handler = handler.to_str().unwrap();
    let refused = run(
        dir.path(),
        &[
            handler,
            "--stage",
            "viewer-request",
            "--runtime",
            "python3.8",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("runtime `python3.8` is not a Lambda@Edge Python runtime"),
        "{stderr}"
    );
    // The local python3's own version is accepted; another supported one is not, by name.
    let version = Command::new("python3")
        .args(["-c", "import sys; print(f'python3.{sys.version_info[1]}')"])
        .output()
        .expect("python3 runs");
    let local = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let ok = run(
        dir.path(),
        &[handler, "--stage", "viewer-request", "--runtime", &local],
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn without_python_a_python_handler_fails_clearly_and_javascript_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let missing = [("EDGESIM_PYTHON", "/nonexistent/python3")];
    let handler = scenario_trigger("ab_test.py");
    let output = run_with(
        dir.path(),
        &missing,
        &[handler.to_str().unwrap(), "--stage", "viewer-request"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot start the Python interpreter `/nonexistent/python3`")
            && stderr.contains("EDGESIM_PYTHON"),
        "{stderr}"
    );
    let js = scenario_trigger("ab-test.js");
    let output = run_with(
        dir.path(),
        &missing,
        &[js.to_str().unwrap(), "--stage", "viewer-request"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
