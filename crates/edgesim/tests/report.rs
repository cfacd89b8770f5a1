//! The report as a user gets it: `edgesim run` writes the full report set
//! (data, every plot, index.html), and `edgesim report DIR` redraws the
//! plots from the saved data without touching it, or fails cleanly.

use std::path::Path;

mod common;

use common::{edgesim, stderr};

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

const PLOTS: [&str; 13] = [
    "viewer_outcomes",
    "latency_offload",
    "latency_by_country",
    "latency_by_pop",
    "latency_by_device",
    "latency_by_origin",
    "latency_cdf_countries",
    "latency_cdf_pops",
    "latency_cdf_devices",
    "offload_tiers",
    "pop_hit_ratio",
    "pop_map",
    "origin_load",
];

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

#[test]
fn a_quickstart_run_is_priced_and_its_cost_overridable() {
    // The quickstart, shortened to 20 simulated seconds.
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quickstart.toml");
    let quickstart = quickstart.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "run",
            quickstart,
            "--agents",
            "1",
            "--quiet",
            "--out",
            out,
            "--set",
            "simulation.duration_secs=20",
        ];
        args.extend_from_slice(extra);
        let o = edgesim(tmp.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&std::fs::read(tmp.path().join(out).join("summary.json")).unwrap())
            .unwrap()
    };
    let summary = run("priced", &[]);
    let cost = &summary["cost"];
    assert_eq!(cost["prices"]["version"], "aws-2026-11");
    assert_eq!(cost["prices"]["as_of"], "2026-11-01");
    assert_eq!(cost["monthly_hours"], 730.0);
    assert_eq!(cost["run_secs"], 20.0);
    let items = [
        "data_transfer",
        "https_requests",
        "lambda_requests",
        "lambda_duration",
        "origin_requests",
        "origin_egress",
        "origin_shield",
    ];
    for (period, scale) in [("run_usd", 1.0), ("monthly_usd", 730.0 * 3600.0 / 20.0)] {
        let c = &cost[period];
        let sum: f64 = items.iter().map(|k| c[k].as_f64().unwrap()).sum();
        assert!(
            (c["total"].as_f64().unwrap() - sum).abs() < 1e-5,
            "{period}: {c}"
        );
        // HTTPS: every viewer request, priced by its PoP's region group.
        let https = c["https_requests"].as_f64().unwrap();
        let requests = summary["totals"]["requests"].as_f64().unwrap();
        assert!(https > requests * 0.010 / 1e4 * scale * 0.999, "{period}");
        assert!(https < requests * 0.022 / 1e4 * scale * 1.001, "{period}");
    }
    // No triggers, one S3 origin: no Lambda@Edge, no egress, S3 GETs only.
    assert_eq!(cost["run_usd"]["lambda_requests"], 0.0);
    assert_eq!(cost["run_usd"]["origin_egress"], 0.0);
    assert_eq!(cost["run_usd"]["origin_shield"], 0.0);
    assert_eq!(
        cost["usage"]["s3_get_requests"],
        summary["totals"]["origin_fetches"]
    );
    let regions: Vec<&str> = cost["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(
        regions,
        [
            "north_america",
            "europe",
            "south_america",
            "japan",
            "australia",
            "asia_pacific"
        ]
    );
    let html = std::fs::read_to_string(tmp.path().join("priced/index.html")).unwrap();
    assert!(html.contains("<tr><td>Cost per month (USD)</td>"));
    assert!(html.contains("<h2 id=\"cost\">Cost</h2>"));

    // Free requests and a two-hour month: HTTPS drops out, and the
    // month is 360 runs.
    let cheap = run(
        "cheap",
        &[
            "--set",
            "cost.https_per_10k=0",
            "--set",
            "cost.monthly_hours=2",
        ],
    );
    let c = &cheap["cost"];
    assert_eq!(c["run_usd"]["https_requests"], 0.0);
    assert_eq!(
        c["overrides"],
        serde_json::json!([
            "https_per_10k.north_america = 0",
            "https_per_10k.europe = 0",
            "https_per_10k.middle_east_africa = 0",
            "https_per_10k.south_america = 0",
            "https_per_10k.japan = 0",
            "https_per_10k.australia = 0",
            "https_per_10k.asia_pacific = 0",
            "https_per_10k.india = 0",
            "monthly_hours = 2"
        ])
    );
    let ratio = c["monthly_usd"]["origin_requests"].as_f64().unwrap()
        / c["run_usd"]["origin_requests"].as_f64().unwrap();
    assert!((ratio - 360.0).abs() < 0.01, "{ratio}");
}

/// The local files index.html links to (href/src without a scheme or '#').
fn linked_files(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let target = part.split('"').next().unwrap_or_default();
            if !target.is_empty()
                && !target.starts_with('#')
                && !target.contains("://")
                && !out.iter().any(|t| t == target)
            {
                out.push(target.to_owned());
            }
        }
    }
    out
}

/// Runs scenarios/ab-test.toml (A/B variants, a viewer-request function)
/// for `secs` simulated seconds into `out`; returns its summary.
fn run_ab_test(dir: &Path, out: &str, secs: u32) -> serde_json::Value {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/ab-test.toml");
    let duration = format!("simulation.duration_secs={secs}");
    let o = edgesim(
        dir,
        &[
            "run",
            scenario.to_str().unwrap(),
            "--agents",
            "1",
            "--quiet",
            "--out",
            out,
            "--set",
            &duration,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&std::fs::read(dir.join(out).join("summary.json")).unwrap()).unwrap()
}

#[test]
fn every_plot_index_html_links_exists_and_the_breakdowns_appear_when_they_should() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_ab_test(tmp.path(), "ab", 20);
    let out = tmp.path().join("ab");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let files = linked_files(&html);
    let plots: Vec<&String> = files
        .iter()
        .filter(|f| f.ends_with(".png") || f.ends_with(".svg"))
        .collect();
    assert!(plots.len() >= 2 * 11, "{files:?}");
    for f in &files {
        let min = if f.ends_with(".png") {
            10_000
        } else if f.ends_with(".svg") {
            5_000
        } else {
            100
        };
        assert!(size(&out.join(f)) > min, "{f} is missing or trivial");
    }
    assert_eq!(html.matches("<svg").count(), plots.len() / 2);
    for figure in [
        "viewer_outcomes",
        "latency_by_country",
        "latency_by_pop",
        "latency_by_variant",
        "triggers",
        "origin_load",
    ] {
        assert!(
            html.contains(&format!("<figure id=\"{figure}\">")),
            "no {figure}"
        );
        assert!(files.contains(&format!("{figure}.png")), "{figure}.png");
    }

    // The per-dimension series: aligned with the time series, consistent
    // with the run's breakdowns, percentiles in order.
    let epochs = summary["epochs"].as_u64().unwrap() as usize;
    assert_eq!(epochs, 20);
    let by = &summary["timeseries_by"];
    let variants = by["variants"].as_array().unwrap();
    let names: Vec<&str> = variants.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(names, ["A", "B"], "busiest first");
    for (dimension, list) in [("countries", "countries"), ("pops", "pops")] {
        let series = by[dimension].as_array().unwrap();
        assert_eq!(series.len(), 4, "{dimension}: every one of the 4");
        let totals = summary[list].as_array().unwrap();
        for s in series {
            let i = s["index"].as_u64().unwrap() as usize;
            assert_eq!(
                s["requests"], totals[i]["requests"],
                "{dimension} {}",
                s["id"]
            );
        }
    }
    for s in by["countries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(by["pops"].as_array().unwrap())
        .chain(variants)
    {
        let per_epoch: Vec<u64> = s["requests_per_epoch"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(per_epoch.len(), epochs);
        assert_eq!(
            per_epoch.iter().sum::<u64>(),
            s["requests"].as_u64().unwrap()
        );
        let column = |k: &str| s[k].as_array().unwrap().clone();
        let (p50, p90, p99, p999) = (
            column("p50_ms"),
            column("p90_ms"),
            column("p99_ms"),
            column("p999_ms"),
        );
        for e in 0..epochs {
            if per_epoch[e] == 0 {
                assert!(p99[e].is_null(), "{}: epoch {e}", s["id"]);
                continue;
            }
            let v = |c: &[serde_json::Value]| c[e].as_f64().unwrap();
            assert!(
                0.0 < v(&p50) && v(&p50) <= v(&p90) && v(&p90) <= v(&p99) && v(&p99) <= v(&p999),
                "{}: epoch {e}",
                s["id"]
            );
        }
    }

    // Totals add up: every request answered by exactly one tier, every
    // breakdown sums to the totals, per-epoch lists to their counters.
    let t = &summary["totals"];
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(
        n(&t["edge_hits"])
            + n(&t["edge_collapsed"])
            + n(&t["regional_hits"])
            + n(&t["regional_collapsed"])
            + n(&t["origin_fetches"])
            + n(&t["function_answers"])
            + t["unresolved"].as_u64().unwrap_or(0),
        n(&t["requests"])
    );
    let sum = |list: &str, key: &str| -> u64 {
        summary[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| n(&x[key]))
            .sum()
    };
    assert_eq!(sum("pops", "requests"), n(&t["requests"]));
    assert_eq!(sum("countries", "requests"), n(&t["requests"]));
    assert_eq!(sum("timeseries", "requests"), n(&t["requests"]));
    assert_eq!(sum("timeseries", "origin_fetches"), n(&t["origin_fetches"]));
    assert_eq!(sum("origins", "fetches"), n(&t["origin_fetches"]));
    assert_eq!(
        variants.iter().map(|v| n(&v["requests"])).sum::<u64>(),
        sum("variants", "requests")
    );
    let triggers = summary["triggers"].as_array().unwrap();
    assert_eq!(triggers.len(), 1);
    for tr in triggers {
        for (list, total) in [
            ("invocations_per_epoch", n(&tr["invocations"])),
            (
                "failures_per_epoch",
                [
                    "invalid",
                    "errors",
                    "timeouts",
                    "out_of_memory",
                    "throttled",
                ]
                .iter()
                .map(|k| n(&tr[k]))
                .sum(),
            ),
        ] {
            let per_epoch = tr[list].as_array().unwrap();
            assert_eq!(per_epoch.len(), epochs, "{list}");
            assert_eq!(per_epoch.iter().map(n).sum::<u64>(), total, "{list}");
        }
    }
    for o in summary["origins"].as_array().unwrap() {
        let per_epoch = o["errors_per_epoch"].as_array().unwrap();
        assert_eq!(per_epoch.len(), epochs);
        assert_eq!(per_epoch.iter().map(n).sum::<u64>(), n(&o["errors"]));
    }

    // Per-epoch series are one line each in summary.json.
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(
        text.lines().count() < 1500,
        "{} lines",
        text.lines().count()
    );
}

#[test]
fn without_variants_or_functions_there_is_no_variant_or_trigger_figure() {
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
            "--set",
            "simulation.duration_secs=2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = tmp.path().join("out");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for present in ["latency_by_country", "latency_by_pop"] {
        assert!(
            html.contains(&format!("<figure id=\"{present}\">")),
            "{present}"
        );
    }
    for absent in ["latency_by_variant", "triggers"] {
        assert!(
            !html.contains(&format!("<figure id=\"{absent}\">")),
            "{absent}"
        );
        assert!(!out.join(format!("{absent}.png")).exists(), "{absent}.png");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["timeseries_by"]["variants"], serde_json::json!([]));
    assert_eq!(
        summary["timeseries_by"]["countries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
