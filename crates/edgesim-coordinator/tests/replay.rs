//! `[replay]`: CloudFront standard logs replayed request by request
//! through in-process agents.

use std::path::Path;
use std::sync::Arc;

use edgesim_coordinator::{AgentSource, CoordinatorError, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_model::cflog::{STANDARD_FIELDS, standard_header, url_encode_user_agent};
use edgesim_model::from_logs::{SampleOptions, sample_log, write_log};

const SCENARIO: &str = r#"
name = "replay"
[simulation]
duration_secs = 90
epoch_ms = 1000
seed = 3
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "64MiB"
[[pops]]
id = "lhr"
city = "LHR"
cache_bytes = "64MiB"
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = "64MiB"
[[pops]]
id = "nrt"
city = "NRT"
cache_bytes = "64MiB"
[[pops]]
id = "cdg"
city = "CDG"
cache_bytes = "64MiB"
[[origins]]
id = "o"
kind = "custom"
location = "us-east-1"
[catalog]
objects = 10
zipf_alpha = 1.0
size = "1KiB"
ttl_secs = 600
[viewers]
requests_per_sec = 1
countries = { DE = 1, GB = 1, US = 1, JP = 1, FR = 1 }
[[behaviors]]
path = "/special/*"
viewer_request = { js = "answer.js" }
[replay]
logs = ["logs/*.log"]
"#;

/// Answers `/special/hello.html` itself: only the real URI matches.
const JS: &str = r#"
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    if (request.uri === '/special/hello.html') {
        return { status: '200', statusDescription: 'OK', body: 'hello' };
    }
    return request;
};
"#;

/// A scratch directory removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("edgesim-replay-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn line(secs: u32, edge: &str, uri: &str, bytes: u64) -> String {
    let mut f = vec!["-".to_owned(); STANDARD_FIELDS.len()];
    f[0] = "2024-03-01".into();
    f[1] = format!("10:00:{secs:02}");
    f[2] = edge.into();
    f[3] = bytes.to_string();
    f[4] = "192.0.2.7".into();
    f[5] = "GET".into();
    f[7] = uri.into();
    f[8] = "200".into();
    f[10] = url_encode_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile");
    f.join("\t") + "\n"
}

/// A directory with the scenario, its handler and logs; returns the
/// scenario path.
fn setup(dir: &Path, logs: &[(&str, String)]) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    for (name, text) in logs {
        write_log(&dir.join("logs").join(name), text).unwrap();
    }
    std::fs::write(dir.join("answer.js"), JS).unwrap();
    let path = dir.join("replay.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    path
}

async fn run_with(path: &Path, agents: usize) -> Result<edgesim_report::Summary, CoordinatorError> {
    let text = std::fs::read_to_string(path).unwrap();
    let scenario = Arc::new(Scenario::from_toml(&path.display().to_string(), &text).unwrap());
    let config = RunConfig::new(AgentSource::InProcess { count: agents });
    run(scenario, &text, &config, |_| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_is_one_request_at_its_pop_and_agents_do_not_matter() {
    let dir = TempDir::new("lines");
    // Two files: the sample generator's (30 s at 40 req/s) and a
    // hand-written one interleaved in time.
    let sample = sample_log(&SampleOptions {
        lines: 1200,
        requests_per_sec: 40.0,
        start_unix_secs: 1_709_287_200, // 2024-03-01T10:00:00Z
        seed: 9,
        unknown_location: true,
        objects_scale: 1,
    });
    let mut hand = standard_header();
    hand.push_str(&line(1, "FRA56-C1", "/special/hello.html", 500));
    hand.push_str(&line(2, "FRA56-C1", "/special/other.html", 500));
    hand.push_str(&line(3, "LHR61-P2", "/special/hello.html", 500));
    hand.push_str(&line(5, "NRT57-C2", "/repeat/x.bin", 70_000));
    hand.push_str(&line(7, "NRT57-C2", "/repeat/x.bin", 70_000));
    let path = setup(dir.path(), &[("a.log", sample.clone()), ("b.log", hand)]);

    let one = run_with(&path, 1).await.expect("replay runs");
    let three = run_with(&path, 3).await.expect("replay runs");
    assert_eq!(
        serde_json::to_string_pretty(&one).unwrap(),
        serde_json::to_string_pretty(&three).unwrap(),
        "summary differs between 1 and 3 agents"
    );

    // Expected requests per PoP: the log lines of its edge location.
    let mut expected = std::collections::BTreeMap::<String, u64>::new();
    let all = format!("{sample}{}", {
        let mut h = String::new();
        for (e, n) in [("fra", 2), ("lhr", 1), ("nrt", 2)] {
            for _ in 0..n {
                h.push_str(&format!("x\tx\t{}1\n", e.to_ascii_uppercase()));
            }
        }
        h
    });
    for l in all.lines().filter(|l| !l.starts_with('#')) {
        let code = l.split('\t').nth(2).unwrap()[..3].to_ascii_lowercase();
        if code != "xyz" {
            *expected.entry(code).or_default() += 1;
        }
    }
    let total: u64 = expected.values().sum();
    assert_eq!(one.totals.requests, total);
    for p in &one.pops {
        assert_eq!(
            p.requests,
            expected.get(&p.id).copied().unwrap_or(0),
            "{}",
            p.id
        );
    }
    // The same URI twice at NRT within the TTL: the second is a hit. The
    // sample's popular objects hit too.
    assert!(one.totals.edge_hits > 0);
    let nrt = one.pops.iter().find(|p| p.id == "nrt").unwrap();
    assert!(nrt.edge_hits >= 1);
    // The handler saw the real URIs: two of the three /special/ lines
    // ask for hello.html, which it answers.
    let t = one
        .triggers
        .iter()
        .find(|t| t.stage == "viewer-request" || t.stage == "viewer_request")
        .expect("viewer-request trigger summary");
    assert_eq!(t.invocations, 3);
    assert_eq!(t.responded, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_log_is_an_error_naming_file_and_line() {
    let dir = TempDir::new("bad");
    let mut bad = standard_header();
    bad.push_str(&line(1, "FRA56-C1", "/a", 5));
    bad.push_str("2024-03-01\t10:00:02\tFRA56-C1\tlots\n");
    let path = setup(dir.path(), &[("bad.log", bad)]);
    let e = run_with(&path, 1)
        .await
        .expect_err("a bad log fails the run");
    let text = e.to_string();
    assert!(text.contains("bad.log:4:"), "{text}");
}
