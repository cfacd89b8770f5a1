//! `edgesim trigger test --cf-function` as a user runs it: a CloudFront Function with a
//! KeyValueStore, the runtime's syntax refused at publish, and the compute budget at run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

const REDIRECT: &str = r#"import cf from 'cloudfront';
const kvs = cf.kvs();

async function handler(event) {
    const request = event.request;
    try {
        const to = await kvs.get(request.uri);
        return {
            statusCode: 301,
            statusDescription: 'Moved Permanently',
            headers: { location: { value: to } },
        };
    } catch (e) {
        console.log('no redirect for ' + request.uri);
        return request;
    }
}
"#;

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["trigger", "test", "--cf-function"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("edgesim runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn a_redirect_from_the_key_value_store() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "redirect.js", REDIRECT);
    write(
        dir.path(),
        "redirects.json",
        r#"{"/old": "https://example.com/new"}"#,
    );
    let args = [
        "redirect.js",
        "--kvs",
        "redirects.json",
        "--stage",
        "viewer-request",
        "--json",
    ];
    let out = run(dir.path(), &[&args[..], &["--uri", "/old"]].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["outcome"], "respond");
    assert_eq!(report["viewer_status"], 301);
    assert_eq!(report["cloudfront_function"], true);
    assert_eq!(
        report["result"]["headers"]["location"]["value"],
        "https://example.com/new"
    );
    assert!(report["compute_utilization"].as_u64().unwrap() <= 100);
    // No key: the request continues, in CloudFront Functions' shape.
    let out = run(dir.path(), &[&args[..], &["--uri", "/other?a=1"]].concat());
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(report["outcome"], "continue");
    assert_eq!(report["result"]["uri"], "/other");
    assert_eq!(report["result"]["querystring"]["a"]["value"], "1");
    assert_eq!(report["logs"][0], "no redirect for /other");
    // The human-readable form names CloudFront Functions' errors and shows the utilization.
    let out = run(
        dir.path(),
        &[
            "redirect.js",
            "--kvs",
            "redirects.json",
            "--stage",
            "viewer-request",
            "--uri",
            "/old",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("outcome:       respond") && text.contains("compute:"),
        "{text}"
    );
}

#[test]
fn publish_errors_exit_2_and_run_failures_exit_1_with_503() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "redirect.js", REDIRECT);
    write(dir.path(), "redirects.json", "{}");
    // Runtime 1.0 has no const, async, await or import.
    let out = run(
        dir.path(),
        &[
            "redirect.js",
            "--runtime",
            "cloudfront-js-1.0",
            "--stage",
            "viewer-request",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1: `import` is not supported by cloudfront-js-1.0"),
        "{stderr}"
    );
    // Origin stages do not take CloudFront Functions.
    let out = run(
        dir.path(),
        &[
            "redirect.js",
            "--kvs",
            "redirects.json",
            "--stage",
            "origin-request",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("viewer-request and viewer-response only")
    );
    // A Lambda@Edge setting is refused.
    let out = run(
        dir.path(),
        &[
            "redirect.js",
            "--memory-mb",
            "128",
            "--stage",
            "viewer-request",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    // Over the compute budget: 503, CloudFront's answer for an execution error.
    write(
        dir.path(),
        "spin.js",
        "function handler(event) { for (;;) {} }\n",
    );
    let out = run(
        dir.path(),
        &[
            "spin.js",
            "--runtime",
            "cloudfront-js-1.0",
            "--stage",
            "viewer-request",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["viewer_status"], 503);
    assert_eq!(report["result"]["errorType"], "FunctionExecutionError");
    assert_eq!(report["compute_utilization"], 100);
}

fn check(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["trigger", "check"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("edgesim runs")
}

#[test]
fn trigger_check_reports_every_finding_and_fails_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "h.js",
        "exports.handler = async (e) => e.Records[0].cf.request;\n",
    );
    let out = check(dir.path(), &["h.js", "--stage", "viewer-request"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = check(
        dir.path(),
        &[
            "h.js",
            "--stage",
            "viewer-request",
            "--memory-mb",
            "1024",
            "--env",
            "A=1",
            "--layer",
            "arn:aws:lambda:us-east-1:1:layer:x:1",
            "--function-version",
            "$LATEST",
            "--region",
            "eu-west-1",
            "--runtime",
            "nodejs24.x",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["ok"], false);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["environment", "layers", "version", "region", "memory"]
    );
    write(dir.path(), "redirect.js", REDIRECT);
    let out = check(
        dir.path(),
        &[
            "redirect.js",
            "--cf-function",
            "--runtime",
            "cloudfront-js-1.0",
            "--stage",
            "viewer-request",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("`import` is not supported by cloudfront-js-1.0"),
        "{text}"
    );
}
