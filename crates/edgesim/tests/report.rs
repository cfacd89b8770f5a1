//! The report as a user gets it: `edgesim run` writes the full report set
//! (data, every plot, index.html), and `edgesim report DIR` redraws the
//! plots from the saved data without touching it, or fails cleanly.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

const TINY: &str = r#"
name = "tiny"
description = "Two regions, <one> with a regional cache & two origins."
[simulation]
duration_secs = 4
epoch_ms = 500
seed = 11
[[regions]]
id = "eu-central-1"
cache_bytes = "256MiB"
[[pops]]
id = "fra"
city = "FRA"
region = "eu-central-1"
cache_bytes = "16MiB"
[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "16MiB"
[[origins]]
id = "media"
kind = "s3"
location = "us-east-1"
[[origins]]
id = "api"
kind = "custom"
location = "eu-west-1"
[[catalog.classes]]
name = "media"
share = 0.8
objects = 3000
zipf_alpha = 1.0
size = "8KiB"
ttl_secs = 600
origin = "media"
[[catalog.classes]]
name = "api"
share = 0.2
objects = 200
zipf_alpha = 0.8
size = "1KiB"
ttl_secs = 5
origin = "api"
[viewers]
requests_per_sec = 600
countries = { DE = 1, US = 1, BR = 0.5 }
"#;

const PLOTS: [&str; 7] = [
    "latency_offload",
    "latency_cdf_countries",
    "latency_cdf_pops",
    "offload_tiers",
    "pop_hit_ratio",
    "pop_map",
    "origin_load",
];

fn edgesim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("edgesim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len()
}

#[test]
fn run_writes_the_report_set_and_report_redraws_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("tiny.toml"), TINY).unwrap();
    let o = edgesim(
        tmp.path(),
        &[
            "run",
            "tiny.toml",
            "--agents",
            "1",
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = tmp.path().join("out");
    for f in ["summary.json", "histograms.json", "index.html"] {
        assert!(size(&out.join(f)) > 1000, "{f}");
    }
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 8, "header + one row per epoch");
    for p in PLOTS {
        assert!(size(&out.join(format!("{p}.svg"))) > 5000, "{p}.svg");
        assert!(size(&out.join(format!("{p}.png"))) > 10_000, "{p}.png");
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), PLOTS.len());
    assert!(html.contains("Two regions, &lt;one&gt; with a regional cache &amp; two origins."));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["countries"].as_array().unwrap().len(), 3);
    assert!(summary["pops"][0]["lat"].as_f64().unwrap() > 45.0);
    assert_eq!(
        summary["origins"][1]["fetches_per_epoch"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    let saved = std::fs::read(out.join("summary.json")).unwrap();
    let saved_histograms = std::fs::read(out.join("histograms.json")).unwrap();

    // Delete the plots and the page; `report` brings them back.
    for p in PLOTS {
        std::fs::remove_file(out.join(format!("{p}.svg"))).unwrap();
        std::fs::remove_file(out.join(format!("{p}.png"))).unwrap();
    }
    std::fs::remove_file(out.join("index.html")).unwrap();
    let o = edgesim(tmp.path(), &["report", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("index.html"));
    for p in PLOTS {
        assert!(size(&out.join(format!("{p}.svg"))) > 5000, "{p}.svg");
        assert!(size(&out.join(format!("{p}.png"))) > 10_000, "{p}.png");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("index.html")).unwrap(),
        html,
        "the page is a function of the saved data"
    );
    assert!(std::fs::read(out.join("summary.json")).unwrap() == saved);
    assert!(std::fs::read(out.join("histograms.json")).unwrap() == saved_histograms);
    let mut names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["out", "tiny.toml"], "no staging directory left");
}

#[test]
fn report_on_a_bad_directory_names_the_file_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let o = edgesim(tmp.path(), &["report", "nowhere"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("nowhere/summary.json"), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");

    let dir = tmp.path().join("broken");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("summary.json"), "{\"schema_version\": 1,").unwrap();
    std::fs::write(dir.join("latency_offload.svg"), "old").unwrap();
    let o = edgesim(tmp.path(), &["report", "broken"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("broken/summary.json"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("latency_offload.svg")).unwrap(),
        "old"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}
