//! `edgesim compare` and `edgesim sweep` as a user types them, on tiny
//! scenarios with one local agent.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{edgesim, stderr};

/// Two PoPs, 40 MB of objects; the variants give the PoPs a cache that
/// holds almost nothing or all of it.
const CACHES: &str = r#"
name = "caches"
[simulation]
duration_secs = 4
epoch_ms = 500
seed = 9
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "2MiB"
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = "2MiB"
[[origins]]
id = "o"
kind = "custom"
location = "eu-west-1"
[catalog]
objects = 5000
zipf_alpha = 0.8
size = "8KiB"
ttl_secs = 600
[viewers]
requests_per_sec = 600
countries = { DE = 1, US = 1 }

[[variants]]
name = "small"
description = "a cache that holds 32 objects"
set = { "pops.cache_bytes" = "256KiB" }

[[variants]]
name = "large"
description = "a cache that holds every object"
set = { "pops.cache_bytes" = "64MiB" }
"#;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Names in a directory, sorted (hidden staging directories included).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn metric(v: &serde_json::Value, variant: &str, key: &str) -> f64 {
    v["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == variant)
        .unwrap_or_else(|| panic!("no variant {variant}"))["metrics"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("{variant}: no {key}"))
}

#[test]
fn compare_runs_baseline_and_variants_ranks_them_and_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "caches.toml", CACHES);
    let args = |out: &str| {
        vec![
            "compare",
            "caches.toml",
            "--agents",
            "1",
            "--rank-by",
            "hit_ratio",
            "--out",
            out,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let run = |out: &str| {
        let a = args(out);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = edgesim(dir.path(), &a);
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    let first = run("cmp1");
    assert!(
        stdout(&first).contains("comparison: cmp1"),
        "{}",
        stdout(&first)
    );
    // Not a terminal: one progress line per variant.
    assert_eq!(
        stderr(&first)
            .lines()
            .filter(|l| l.starts_with('['))
            .count(),
        3,
        "{}",
        stderr(&first)
    );
    let out = dir.path().join("cmp1");
    for name in ["baseline", "small", "large"] {
        for file in ["summary.json", "index.html", "timeseries.csv"] {
            assert!(out.join(name).join(file).exists(), "{name}/{file}");
        }
    }
    for file in [
        "compare.json",
        "compare.csv",
        "index.html",
        "latency.svg",
        "latency.png",
        "offload.svg",
        "origin_rps.png",
        "hit_ratio.svg",
        "hit_ratio.png",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
    let cmp = json(&out.join("compare.json"));
    assert_eq!(cmp["schema_version"], 1);
    assert_eq!(cmp["rank_by"], "hit_ratio");
    assert_eq!(cmp["ranking"][0]["name"], "large");
    assert_eq!(cmp["ranking"][2]["name"], "small");
    let (small, large) = (
        metric(&cmp, "small", "hit_ratio"),
        metric(&cmp, "large", "hit_ratio"),
    );
    assert!(large > small + 0.2, "large {large} vs small {small}");
    assert!(metric(&cmp, "large", "origin_fetches") < metric(&cmp, "small", "origin_fetches"));
    assert_eq!(cmp["variants"][1]["report"], "small");

    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(
        csv.starts_with("name,report,rank,requests,hit_ratio,"),
        "{csv}"
    );

    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for name in ["baseline", "small", "large"] {
        assert!(
            html.contains(&format!("href=\"{name}/index.html\"")),
            "no link to {name}"
        );
    }
    assert_eq!(html.matches("<svg").count(), 4, "four overlay plots inline");
    assert!(html.contains("class=\"n best\""));

    run("cmp2");
    for file in ["compare.json", "compare.csv"] {
        let a = std::fs::read(out.join(file)).unwrap();
        let b = std::fs::read(dir.path().join("cmp2").join(file)).unwrap();
        assert!(a == b, "{file} differs between two runs");
    }

    // The saved reports compare the same way without running anything.
    let o = edgesim(
        dir.path(),
        &[
            "compare",
            "--reports",
            "cmp1/small",
            "cmp1/large",
            "--rank-by",
            "hit_ratio",
            "--out",
            "saved",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let saved = json(&dir.path().join("saved/compare.json"));
    assert_eq!(saved["ranking"][0]["name"], "large");
    assert_eq!(saved["variants"][0]["report"], "../cmp1/small");
    assert_eq!(
        saved["variants"][1]["metrics"],
        cmp["variants"][2]["metrics"]
    );
    assert!(
        listing(dir.path()).iter().all(|n| !n.starts_with('.')),
        "no staging left: {:?}",
        listing(dir.path())
    );
}

#[test]
fn compare_reports_with_a_missing_or_broken_dir_fails_naming_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "caches.toml", CACHES);
    let o = edgesim(
        dir.path(),
        &["run", "caches.toml", "--agents", "1", "--out", "good"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::create_dir(dir.path().join("broken")).unwrap();
    std::fs::write(dir.path().join("broken/summary.json"), "{ not json").unwrap();
    let before = listing(dir.path());
    for bad in ["missing", "broken"] {
        let o = edgesim(
            dir.path(),
            &["compare", "--reports", "good", bad, "--out", "cmp"],
        );
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.contains(&format!("report directory {bad}")), "{e}");
        assert_eq!(listing(dir.path()), before, "nothing written");
    }
}

#[test]
fn unknown_only_names_and_rank_by_keys_are_refused_with_the_known_ones_listed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "caches.toml", CACHES);
    let o = edgesim(
        dir.path(),
        &[
            "compare",
            "caches.toml",
            "--agents",
            "1",
            "--only",
            "small,huge",
        ],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("no variant named \"huge\"") && e.contains("small, large"),
        "{e}"
    );

    let o = edgesim(
        dir.path(),
        &[
            "compare",
            "caches.toml",
            "--agents",
            "1",
            "--rank-by",
            "p98_ms",
        ],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("unknown metric \"p98_ms\"")
            && e.contains("hit_ratio")
            && e.contains("p99_ms")
            && e.contains("peak_origin_rps"),
        "{e}"
    );

    let plain = CACHES.split("[[variants]]").next().unwrap();
    write(dir.path(), "plain.toml", plain);
    let o = edgesim(
        dir.path(),
        &["compare", "plain.toml", "--agents", "1", "--no-baseline"],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("plain.toml has no [[variants]]"), "{e}");
    assert_eq!(listing(dir.path()), vec!["caches.toml", "plain.toml"]);
}

/// Runs a sweep; returns its sweep.json and stdout.
fn sweep(dir: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let mut args = vec!["sweep", "caches.toml", "--agents", "1", "--out", "sw"];
    args.extend_from_slice(extra);
    let o = edgesim(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    (json(&dir.join("sw/sweep.json")), stdout(&o))
}

#[test]
fn a_sweep_over_cache_size_is_monotone_in_hit_ratio() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "caches.toml", CACHES);
    let (s, out) = sweep(
        dir.path(),
        &[
            "--param",
            "pops.cache_bytes",
            "--values",
            "256KiB,1MiB,4MiB,64MiB",
        ],
    );
    assert_eq!(s["axis"], "bytes");
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    let hits: Vec<f64> = points
        .iter()
        .map(|p| p["metrics"]["hit_ratio"].as_f64().unwrap())
        .collect();
    // More cache never loses hits; here each step adds some, until the
    // cache holds everything the run asks for.
    assert!(hits.windows(2).all(|w| w[0] <= w[1]), "{hits:?}");
    assert!(hits[0] < hits[1] && hits[1] < hits[2], "{hits:?}");
    assert_eq!(points[2]["report"], "pops.cache_bytes=4MiB");
    assert_eq!(points[2]["x"], 4 * 1024 * 1024);
    for p in points {
        let report = p["report"].as_str().unwrap();
        assert!(
            dir.path()
                .join("sw")
                .join(report)
                .join("summary.json")
                .exists()
        );
    }
    for f in [
        "sweep.csv",
        "index.html",
        "sweep_p99_ms.svg",
        "sweep_peak_origin_rps.png",
    ] {
        assert!(dir.path().join("sw").join(f).exists(), "{f}");
    }
    assert!(s["first_limit_hit"].is_null());
    assert!(out.contains("no limits given"), "{out}");
}

#[test]
fn a_sweep_reports_the_first_limit_hit_at_the_value_that_crosses_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "caches.toml", CACHES);
    // With a 32-object cache most requests go to the origin: its peak rate
    // follows the request rate, far below 800/s at 100 and 400 req/s and
    // far above it at 1600.
    let (s, out) = sweep(
        dir.path(),
        &[
            "--set",
            "pops.cache_bytes=256KiB",
            "--param",
            "viewers.requests_per_sec",
            "--values",
            "100,400,1600",
            "--limit",
            "p99_ms=100000",
            "--limit",
            "peak_origin_rps=800",
        ],
    );
    assert_eq!(s["axis"], "numeric");
    let hit = &s["first_limit_hit"];
    assert_eq!(hit["metric"], "peak_origin_rps", "{s}");
    assert_eq!(hit["at"], "1600");
    assert_eq!(hit["bound"], 800);
    assert!(hit["value"].as_f64().unwrap() > 800.0);
    assert_eq!(s["points"][2]["limits_hit"][0], "peak_origin_rps");
    assert!(
        s["points"][1]["limits_hit"].as_array().unwrap().is_empty(),
        "{s}"
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("first limit hit: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.starts_with("first limit hit: peak_origin_rps = "),
        "{line}"
    );
    assert!(
        line.ends_with(" > 800 at viewers.requests_per_sec = 1600"),
        "{line}"
    );
    assert_eq!(s["verdict"], line);
    let html = std::fs::read_to_string(dir.path().join("sw/index.html")).unwrap();
    assert!(
        html.contains(&line.replace('>', "&gt;")),
        "index.html states the verdict"
    );
    assert!(html.contains("href=\"viewers.requests_per_sec=1600/index.html\""));
}

#[test]
fn bad_limits_and_values_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "caches.toml", CACHES);
    let cases: [(&[&str], &str); 6] = [
        (&["--limit", "p98_ms=5"], "unknown metric \"p98_ms\""),
        (&["--limit", "p99_ms"], "expected METRIC=VALUE"),
        (&["--limit", "p99_ms=fast"], "\"fast\" is not a number"),
        (&["--values", "1000,,2000"], "value #2 is empty"),
        (&["--values", "1000,1000"], "\"1000\" is given twice"),
        (&["--values", "1000,-5"], "viewers"),
    ];
    for (extra, expect) in cases {
        let mut args = vec![
            "sweep",
            "caches.toml",
            "--agents",
            "1",
            "--param",
            "viewers.requests_per_sec",
        ];
        if !extra.contains(&"--values") {
            args.extend_from_slice(&["--values", "100,200"]);
        }
        args.extend_from_slice(extra);
        let o = edgesim(dir.path(), &args);
        assert!(!o.status.success(), "{extra:?} accepted");
        let e = stderr(&o);
        assert!(e.contains(expect), "{extra:?}: {e}");
        assert!(e.contains("error:"), "{e}");
        assert_eq!(listing(dir.path()), vec!["caches.toml"], "{extra:?}");
    }
}

#[test]
fn a_sweep_with_two_vary_runs_every_combination_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "caches.toml", CACHES);
    let (s, out) = sweep(
        dir.path(),
        &[
            "--set",
            "simulation.duration_secs=2",
            "--vary",
            "pops.cache_bytes=256KiB,64MiB",
            "--vary",
            "viewers.requests_per_sec=100,200,400",
        ],
    );
    assert_eq!(s["param"], "pops.cache_bytes × viewers.requests_per_sec");
    assert_eq!(s["axis"], "bytes");
    assert_eq!(s["vary"][1]["path"], "viewers.requests_per_sec");
    assert_eq!(s["vary"][1]["axis"], "numeric");
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 2 * 3, "one point per combination");
    let mut combos: Vec<(String, String)> = points
        .iter()
        .map(|p| {
            let v = &p["values"];
            (
                v["pops.cache_bytes"].as_str().unwrap().to_owned(),
                v["viewers.requests_per_sec"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        combos[0],
        ("256KiB".into(), "100".into()),
        "last varies fastest"
    );
    assert_eq!(combos[1], ("256KiB".into(), "200".into()));
    combos.sort();
    combos.dedup();
    assert_eq!(combos.len(), 6, "every combination once");
    for p in points {
        let report = p["report"].as_str().unwrap();
        let summary = json(&dir.path().join("sw").join(report).join("summary.json"));
        let rate = p["values"]["viewers.requests_per_sec"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap();
        // Each run got its own values: ~rate requests per simulated second.
        let requests = summary["totals"]["requests"].as_f64().unwrap();
        assert!(
            (requests / 2.0 - rate).abs() < rate * 0.25,
            "{report}: {requests}"
        );
    }
    assert_eq!(
        points[4]["report"],
        "pops.cache_bytes=64MiB+viewers.requests_per_sec=200"
    );
    let csv = std::fs::read_to_string(dir.path().join("sw/sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6);
    assert!(
        csv.starts_with("pops.cache_bytes,viewers.requests_per_sec,report,"),
        "{csv}"
    );
    assert!(out.contains("pops.cache_bytes = 64MiB, viewers.requests_per_sec = 400: "));
    assert!(dir.path().join("sw/sweep_p99_ms.png").exists());

    // --param/--values is one --vary, given first.
    let (s, _) = sweep(
        dir.path(),
        &[
            "--set",
            "simulation.duration_secs=1",
            "--param",
            "pops.cache_bytes",
            "--values",
            "256KiB,64MiB",
            "--vary",
            "viewers.requests_per_sec=100,200",
        ],
    );
    assert_eq!(s["points"].as_array().unwrap().len(), 4);
    assert_eq!(s["vary"][0]["path"], "pops.cache_bytes");
}

#[test]
fn compare_runs_several_scenario_files_each_named_after_its_stem() {
    let dir = tempfile::tempdir().unwrap();
    let plain = CACHES.split("[[variants]]").next().unwrap();
    write(
        dir.path(),
        "small.toml",
        &plain.replace("\"2MiB\"", "\"256KiB\""),
    );
    write(
        dir.path(),
        "large.toml",
        &plain.replace("\"2MiB\"", "\"64MiB\""),
    );
    let o = edgesim(
        dir.path(),
        &[
            "compare",
            "small.toml",
            "large.toml",
            "--agents",
            "1",
            "--rank-by",
            "hit_ratio",
            "--set",
            "simulation.duration_secs=2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("reports/small-vs-large");
    let cmp = json(&out.join("compare.json"));
    let names: Vec<&str> = cmp["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["small", "large"]);
    assert_eq!(cmp["ranking"][0]["name"], "large");
    assert!(out.join("small/summary.json").exists());
    assert!(out.join("large/index.html").exists());
    // Not a terminal: one plain progress line per run.
    let lines: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.starts_with('['))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("[1/2] small: "), "{lines:?}");

    // -q: nothing on stderr; --only makes no sense with several files.
    let o = edgesim(
        dir.path(),
        &[
            "compare",
            "small.toml",
            "large.toml",
            "--agents",
            "1",
            "-q",
            "--out",
            "quiet",
            "--set",
            "simulation.duration_secs=1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let o = edgesim(
        dir.path(),
        &["compare", "small.toml", "large.toml", "--only", "x"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--only"), "{}", stderr(&o));
}

/// The shipped cost comparison: bigger PoP caches send fewer requests to
/// S3, so the month costs less; what viewers download costs the same.
#[test]
fn the_shipped_cache_size_comparison_prices_fewer_origin_requests_for_bigger_caches() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/cache-sizes.toml");
    let o = edgesim(
        dir.path(),
        &[
            "compare",
            scenario.to_str().unwrap(),
            "--agents",
            "1",
            "--set",
            "simulation.duration_secs=60",
            "--rank-by",
            "cost_monthly_usd",
            "--out",
            "cmp",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let cmp = json(&dir.path().join("cmp/compare.json"));
    let monthly = |v: &str| metric(&cmp, v, "cost_monthly_usd");
    assert!(
        monthly("small") > monthly("baseline") && monthly("baseline") > monthly("large"),
        "small {} baseline {} large {}",
        monthly("small"),
        monthly("baseline"),
        monthly("large")
    );
    let cost = |v: &str| {
        let s = json(&dir.path().join("cmp").join(v).join("summary.json"));
        s["cost"]["monthly_usd"].clone()
    };
    let (small, large) = (cost("small"), cost("large"));
    let item = |c: &serde_json::Value, k: &str| c[k].as_f64().unwrap();
    // The difference is the origin's requests (S3 GETs), which scale with
    // the misses; viewers are billed for the same transfer either way.
    // (A minute from cold caches: compulsory misses dominate, yet the
    // small caches already miss a fifth more.)
    assert!(
        item(&small, "origin_requests") > 1.15 * item(&large, "origin_requests"),
        "{small} {large}"
    );
    let transfer = (item(&small, "data_transfer"), item(&large, "data_transfer"));
    assert!((transfer.0 / transfer.1 - 1.0).abs() < 0.02, "{transfer:?}");
    let saving = item(&small, "total") - item(&large, "total");
    let origin_saving = item(&small, "origin_requests") - item(&large, "origin_requests")
        + item(&small, "origin_egress")
        - item(&large, "origin_egress");
    assert!(
        (saving - origin_saving).abs() < 0.02 * saving.abs() + 1.0,
        "the saving is the origin's: {saving} vs {origin_saving}"
    );
    // The ranking puts the cheapest first.
    assert_eq!(cmp["ranking"][0]["name"], "large");
    assert_eq!(cmp["ranking"][2]["name"], "small");
}
