//! The command line as a user types it: runs with local agent processes,
//! determinism across agent counts, and every kind of bad input.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use common::{BIN, edgesim, start_agent, start_agent_with, stderr};

const SMALL: &str = r#"
name = "small"
[simulation]
duration_secs = 6
epoch_ms = 500
seed = 5
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "16MiB"
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = "16MiB"
[[pops]]
id = "sin"
city = "SIN"
cache_bytes = "16MiB"
[[origins]]
id = "o"
kind = "custom"
location = "eu-west-1"
[catalog]
objects = 5000
zipf_alpha = 1.0
size = "8KiB"
ttl_secs = 600
[viewers]
requests_per_sec = 800
countries = { DE = 1, US = 1, SG = 1 }
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn run_writes_a_complete_report_identical_for_1_and_3_agents() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let one = edgesim(
        dir.path(),
        &["run", "small.toml", "--agents", "1", "--out", "out1"],
    );
    assert!(one.status.success(), "{}", stderr(&one));
    let three = edgesim(
        dir.path(),
        &["run", "small.toml", "--agents", "3", "--out", "out3"],
    );
    assert!(three.status.success(), "{}", stderr(&three));
    let a = std::fs::read(dir.path().join("out1/summary.json")).unwrap();
    let b = std::fs::read(dir.path().join("out3/summary.json")).unwrap();
    assert!(a == b, "summary.json differs between 1 and 3 agents");
    for f in [
        "latency_offload.png",
        "latency_offload.svg",
        "timeseries.csv",
    ] {
        let len = std::fs::metadata(dir.path().join("out1").join(f))
            .unwrap()
            .len();
        assert!(len > 1000, "{f} is only {len} bytes");
    }
    let csv = std::fs::read_to_string(dir.path().join("out1/timeseries.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 12, "header + one row per epoch");
    let summary: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["epochs"], 12);
    assert!(summary["totals"]["requests"].as_u64().unwrap() > 3000);
    // Stdout names the report.
    assert!(String::from_utf8_lossy(&one.stdout).contains("out1"));
    // Nothing but the two reports (no staging directories) is left behind.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["out1", "out3", "small.toml"]);
}

#[test]
fn default_report_directory_is_reports_slash_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let o = edgesim(
        dir.path(),
        &["run", "small.toml", "--agents", "1", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("reports/small/summary.json").exists());
    assert!(stderr(&o).is_empty(), "--quiet printed: {}", stderr(&o));
}

#[test]
fn run_prints_a_scenarios_warning_once_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "fast.toml",
        &format!("{SMALL}[network]\nfibre_km_per_ms = 250\n"),
    );
    let o = edgesim(
        dir.path(),
        &[
            "run",
            "fast.toml",
            "--agents",
            "1",
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let warning = "fast.toml:32:19: warning: network: fibre_km_per_ms = 250 is faster than light in silica fibre";
    assert_eq!(err.matches(warning).count(), 1, "{err}");
    assert!(dir.path().join("out/summary.json").exists());
}

/// Runs `run` on a broken scenario: it must fail with `expect` in stderr
/// and leave no report directory.
fn assert_rejected(name: &str, text: Option<&str>, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = text {
        write(dir.path(), name, text);
    }
    let o = edgesim(dir.path(), &["run", name, "--agents", "1"]);
    assert!(!o.status.success(), "{name} was accepted");
    let err = stderr(&o);
    assert!(
        err.contains(expect),
        "{name}: expected {expect:?} in:\n{err}"
    );
    assert!(
        !dir.path().join("reports").exists(),
        "{name}: a report directory was left"
    );
}

#[test]
fn bad_input_is_one_clear_message_and_no_report() {
    assert_rejected("missing.toml", None, "cannot read scenario missing.toml");
    assert_rejected(
        "unknown.toml",
        Some(&SMALL.replace("seed = 5", "seed = 5\nspeed = 2")),
        "unknown.toml:7:1: simulation: unknown field `speed`",
    );
    assert_rejected(
        "types.toml",
        Some(&SMALL.replace("objects = 5000", "objects = \"many\"")),
        "catalog: invalid type: string \"many\"",
    );
    assert_rejected(
        "negative.toml",
        Some(&SMALL.replace("cache_bytes = \"16MiB\"", "cache_bytes = -16")),
        "pop \"fra\": cache_bytes: must not be negative, got -16",
    );
    assert_rejected(
        "country.toml",
        Some(&SMALL.replace("SG = 1", "ZZ = 1")),
        "country \"ZZ\": unknown country code",
    );
    assert_rejected(
        "city.toml",
        Some(&SMALL.replace("city = \"SIN\"", "city = \"QQQ\"")),
        "pop \"sin\": unknown city \"QQQ\"",
    );
    assert_rejected(
        "zero.toml",
        Some(&SMALL.replace("duration_secs = 6", "duration_secs = 0")),
        "zero.toml:4:17: simulation: duration_secs must be > 0",
    );
    assert_rejected("syntax.toml", Some("[simulation\n"), "syntax.toml:1:");
}

#[test]
fn validate_lists_every_problem_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.toml", SMALL);
    let bad = SMALL
        .replace("zipf_alpha = 1.0", "zipf_alpha = -1.0")
        .replace("requests_per_sec = 800", "requests_per_sec = -1");
    write(dir.path(), "bad.toml", &bad);
    let o = edgesim(dir.path(), &["validate", "ok.toml", "bad.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains(
        "ok.toml: ok (3 PoPs in 3 regions, 1 origins, 3 countries, 0 behaviors, 12 epochs)"
    ));
    assert_eq!(
        stderr(&o).lines().collect::<Vec<_>>(),
        [
            "bad.toml:25:14: catalog: zipf_alpha must be >= 0, got -1",
            "bad.toml:29:20: viewers: requests_per_sec must be > 0, got -1",
        ]
    );
    let o = edgesim(dir.path(), &["validate", "ok.toml"]);
    assert!(o.status.success());
    let o = edgesim(dir.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(2), "usage error");
}

#[test]
fn set_and_seed_override_the_scenario_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let base = edgesim(
        dir.path(),
        &["run", "small.toml", "--agents", "1", "--out", "base", "-q"],
    );
    assert!(base.status.success(), "{}", stderr(&base));
    let o = edgesim(
        dir.path(),
        &[
            "run",
            "small.toml",
            "--agents",
            "2",
            "--out",
            "more",
            "-q",
            "--set",
            "viewers.requests_per_sec=1600",
            "--seed",
            "9",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(d).join("summary.json")).unwrap())
            .unwrap()
    };
    let (base, more) = (read("base"), read("more"));
    assert_eq!(more["seed"], 9);
    let ratio =
        more["totals"]["requests"].as_f64().unwrap() / base["totals"]["requests"].as_f64().unwrap();
    assert!((ratio - 2.0).abs() < 0.1, "{ratio}");
    // A bad override is one clear error and nothing runs.
    let o = edgesim(
        dir.path(),
        &[
            "run",
            "small.toml",
            "--set",
            "pops.9.cache_bytes=1",
            "--out",
            "bad",
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--set pops.9.cache_bytes=1: `pops` has 3 entries, no entry 9"),
        "{}",
        stderr(&o)
    );
    // Overridden values are validated like written ones.
    let o = edgesim(
        dir.path(),
        &["validate", "small.toml", "--set", "catalog.zipf_alpha=-2"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("small.toml (after --set):")
            && stderr(&o).contains("zipf_alpha must be >= 0, got -2"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn an_agent_that_cannot_be_reached_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let o = edgesim(dir.path(), &["run", "small.toml", "--connect", &addr]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("agent #0 ({addr})")),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("reports").exists());
}

#[test]
fn agents_with_a_token_refuse_coordinators_without_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let (mut agent, addr) = start_agent_with(&["--token", "correct horse"]);
    let run = |token: Option<&str>, out: &str| {
        let mut cmd = Command::new(BIN);
        cmd.args(["run", "small.toml", "--connect", &addr, "--out", out, "-q"])
            .current_dir(dir.path())
            .env_remove("EDGESIM_TOKEN");
        if let Some(t) = token {
            cmd.env("EDGESIM_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let none = run(None, "none");
    let wrong = run(Some("battery staple"), "wrong");
    let right = run(Some("correct horse"), "right");
    agent.kill().unwrap();
    agent.wait().unwrap();
    assert!(
        !none.status.success() && stderr(&none).contains("requires a token"),
        "{}",
        stderr(&none)
    );
    assert!(
        !wrong.status.success() && stderr(&wrong).contains("wrong token"),
        "{}",
        stderr(&wrong)
    );
    assert!(right.status.success(), "{}", stderr(&right));
    assert!(!dir.path().join("none").exists() && !dir.path().join("wrong").exists());
    assert!(dir.path().join("right/summary.json").exists());
}

#[test]
fn an_agent_beyond_loopback_needs_a_token() {
    let o = Command::new(BIN)
        .args(["agent", "--listen", "0.0.0.0:0"])
        .env_remove("EDGESIM_TOKEN")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("refusing to listen on 0.0.0.0:0 without a token"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_second_run_on_a_busy_agent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let long = SMALL
        .replace("duration_secs = 6", "duration_secs = 3000")
        .replace("epoch_ms = 500", "epoch_ms = 100");
    write(dir.path(), "long.toml", &long);
    write(dir.path(), "small.toml", SMALL);
    let (mut agent, addr) = start_agent();
    let mut first = Command::new(BIN)
        .args(["run", "long.toml", "--connect", &addr, "--out", "first"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(first.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let second = edgesim(
        dir.path(),
        &["run", "small.toml", "--connect", &addr, "--out", "second"],
    );
    first.kill().unwrap();
    first.wait().unwrap();
    agent.kill().unwrap();
    agent.wait().unwrap();
    assert!(!second.status.success());
    assert!(
        stderr(&second).contains("already serving run"),
        "{}",
        stderr(&second)
    );
}
