//! `edgesim workload`: a sample log, a scenario inferred from it that
//! validates and runs, and the same log replayed line by line.

mod common;

use common::{edgesim, stderr};

#[test]
fn from_logs_writes_a_scenario_that_validates_runs_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let o = edgesim(
        dir.path(),
        &[
            "workload",
            "sample-log",
            "-o",
            "logs/a.log.gz",
            "--lines",
            "1500",
            "--rate",
            "50",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = edgesim(
        dir.path(),
        &[
            "workload",
            "from-logs",
            "logs/a.log.gz",
            "-o",
            "inferred.toml",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stderr(&o);
    // Unknown edge locations are dropped, counted and named.
    assert!(
        summary.contains("edge location code XYZ is not in the PoP table"),
        "{summary}"
    );
    assert!(summary.contains("images"), "{summary}");
    let text = std::fs::read_to_string(dir.path().join("inferred.toml")).unwrap();
    for needle in [
        "name = \"inferred\"",
        "city = \"FRA\"",
        "city = \"NRT\"",
        "hourly_profile = [",
        "country of the edge location",
        "path_prefix = \"/images/\"",
        "# logs = [\"logs/a.log.gz\"]",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    let o = edgesim(dir.path(), &["validate", "inferred.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = edgesim(
        dir.path(),
        &[
            "run",
            "inferred.toml",
            "--agents",
            "1",
            "--out",
            "synth",
            "-q",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let synth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("synth/summary.json")).unwrap())
            .unwrap();
    let kept = 1500 - (0..1500).filter(|i| i % 97 == 13).count() as u64;
    let requests = synth["totals"]["requests"].as_u64().unwrap();
    // Poisson around the log's count (sd ~ 38).
    assert!(requests.abs_diff(kept) < 250, "{requests} vs {kept}");

    // Replay: uncomment the [replay] table the generator left.
    let replay = text.replace("# [replay]\n# logs", "[replay]\nlogs");
    std::fs::write(dir.path().join("replay.toml"), replay).unwrap();
    let mut sums = Vec::new();
    for agents in ["1", "3"] {
        let out = format!("replay{agents}");
        let o = edgesim(
            dir.path(),
            &[
                "run",
                "replay.toml",
                "--agents",
                agents,
                "--out",
                &out,
                "-q",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("lines of edge location XYZ dropped"));
        sums.push(std::fs::read(dir.path().join(&out).join("summary.json")).unwrap());
    }
    assert!(
        sums[0] == sums[1],
        "replay summary differs between 1 and 3 agents"
    );
    let s: serde_json::Value = serde_json::from_slice(&sums[0]).unwrap();
    assert_eq!(s["totals"]["requests"].as_u64().unwrap(), kept);
}

#[test]
fn a_corrupt_log_is_one_message_naming_file_and_line_and_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let o = edgesim(
        dir.path(),
        &["workload", "sample-log", "-o", "a.log", "--lines", "50"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut text = std::fs::read_to_string(dir.path().join("a.log")).unwrap();
    text.push_str("2024-03-01\t00:10:00\tFRA56-C1\n");
    std::fs::write(dir.path().join("a.log"), &text).unwrap();
    let o = edgesim(dir.path(), &["workload", "from-logs", "a.log"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("a.log:53:"), "{}", stderr(&o));

    // Truncated gzip.
    let o = edgesim(
        dir.path(),
        &[
            "workload",
            "sample-log",
            "-o",
            "b.log.gz",
            "--lines",
            "3000",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(dir.path().join("b.log.gz")).unwrap();
    std::fs::write(dir.path().join("b.log.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let o = edgesim(dir.path(), &["workload", "from-logs", "b.log.gz"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("b.log.gz:"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    // The same truncated log under [replay]: an error, no report.
    std::fs::write(
        dir.path().join("r.toml"),
        r#"
[simulation]
duration_secs = 10
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
[catalog]
objects = 10
zipf_alpha = 1.0
size = 100
[viewers]
requests_per_sec = 1
countries = { DE = 1 }
[replay]
logs = ["b.log.gz"]
"#,
    )
    .unwrap();
    let o = edgesim(
        dir.path(),
        &["run", "r.toml", "--agents", "1", "--out", "rep", "-q"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("b.log.gz:"), "{}", stderr(&o));
    assert!(!dir.path().join("rep").exists());
}
