//! Golden summaries: every shipped scenario, run as a user runs it (the
//! `edgesim run` command, one local agent), at a reduced request rate so
//! the whole set takes seconds, must write exactly the `summary.json`
//! committed under `tests/golden/`. Any change to what a run reports shows
//! up here as a named field with both values; a change made on purpose is
//! re-baselined with
//!
//! ```text
//! EDGESIM_BLESS=1 cargo test -p edgesim --test golden
//! ```
//!
//! and the diff of the golden files is reviewed with the change.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where the golden files live.
fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The repository's `scenarios/` directory.
fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

/// Runs one case and compares (or, with `EDGESIM_BLESS=1`, writes) its
/// golden summary.
fn check(stem: &str) {
    let (_, sets) = CASES
        .iter()
        .find(|(s, _)| *s == stem)
        .unwrap_or_else(|| panic!("{stem} is not in CASES"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let scenario = scenarios_dir().join(format!("{stem}.toml"));
    let mut args = vec![
        "run".to_owned(),
        scenario.display().to_string(),
        "--agents".into(),
        "1".into(),
        "--quiet".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    for s in *sets {
        args.push("--set".into());
        args.push((*s).into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::edgesim(tmp.path(), &args);
    assert!(
        run.status.success(),
        "edgesim {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&run.stderr)
    );
    let got = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let path = golden_dir().join(format!("{}.json", stem.replace('/', "--")));
    if std::env::var_os("EDGESIM_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no golden summary {} ({e}); write it with EDGESIM_BLESS=1 cargo test -p edgesim --test golden",
            path.display()
        )
    });
    if got == want {
        return;
    }
    let (g, w): (Value, Value) = (
        serde_json::from_str(&got).unwrap(),
        serde_json::from_str(&want).unwrap(),
    );
    let mut diffs = Vec::new();
    differences("", &w, &g, &mut diffs);
    let shown: Vec<&String> = diffs.iter().take(20).collect();
    panic!(
        "{stem}: summary.json differs from {} in {} place(s){}:\n{}\n\
         (if the change is on purpose: EDGESIM_BLESS=1 cargo test -p edgesim --test golden)",
        path.display(),
        diffs.len(),
        if diffs.len() > shown.len() {
            ", the first 20"
        } else {
            ""
        },
        shown
            .iter()
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Collects, as `path: golden -> now` lines, where two JSON values differ
/// (the text differs but the values are equal: a formatting change).
fn differences(at: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let here = format!("{at}.{k}");
                match g.get(k) {
                    Some(gv) => differences(&here, wv, gv, out),
                    None => out.push(format!("{here}: {} -> (absent)", short(wv))),
                }
            }
            for (k, gv) in g {
                if !w.contains_key(k) {
                    out.push(format!("{at}.{k}: (absent) -> {}", short(gv)));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                differences(&format!("{at}[{i}]"), wv, gv, out);
            }
        }
        _ if want != got => out.push(format!("{at}: {} -> {}", short(want), short(got))),
        _ => {}
    }
    if at.is_empty() && out.is_empty() {
        out.push("(same values, different text: formatting)".into());
    }
}

/// A value cut to one short line.
fn short(v: &Value) -> String {
    let s = match v {
        Value::Array(a) => format!("[{} items]", a.len()),
        Value::Object(o) => format!("{{{} keys}}", o.len()),
        _ => v.to_string(),
    };
    if s.len() > 80 {
        let cut = (0..=77).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

#[test]
fn every_shipped_scenario_has_a_golden_case() {
    let mut missing = Vec::new();
    for sub in ["", "from-logs/"] {
        for entry in std::fs::read_dir(scenarios_dir().join(sub)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = name.strip_suffix(".toml") {
                let stem = format!("{sub}{stem}");
                if !CASES.iter().any(|(s, _)| *s == stem) {
                    missing.push(stem);
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "scenarios without a golden case in tests/golden.rs: {missing:?}"
    );
    for (stem, _) in CASES {
        assert!(
            scenarios_dir().join(format!("{stem}.toml")).is_file(),
            "{stem} is in CASES but not in scenarios/"
        );
    }
}

/// Declares the cases: `test_name => "scenario stem", [--set values]`,
/// one test each, and `CASES` listing them all.
macro_rules! golden {
    ($($name:ident => $stem:literal, [$($set:literal),*],)*) => {
        /// Every shipped scenario with the settings that make its run
        /// short: the full simulated duration (so scheduled events,
        /// migrations and outages all happen) at a rate of a few tens of
        /// thousands of requests in all.
        const CASES: &[(&str, &[&str])] = &[$(($stem, &[$($set),*])),*];
        $(
            #[test]
            fn $name() {
                check($stem);
            }
        )*
    };
}

golden! {
    ab_test => "ab-test", ["viewers.requests_per_sec=250"],
    ab_test_js => "ab-test-js", ["viewers.requests_per_sec=250"],
    ab_test_py => "ab-test-py", ["viewers.requests_per_sec=250"],
    cache_sizes => "cache-sizes", ["viewers.requests_per_sec=100"],
    cff_redirect => "cff-redirect", ["viewers.requests_per_sec=250"],
    cloudfront_scale => "cloudfront-scale", ["simulation.duration_secs=20", "viewers.requests_per_sec=2000"],
    continuous_deployment => "continuous-deployment", ["viewers.requests_per_sec=20"],
    device_content => "device-content", ["viewers.requests_per_sec=250"],
    device_content_js => "device-content-js", ["viewers.requests_per_sec=250"],
    flash_crowd => "flash-crowd", ["viewers.requests_per_sec=50"],
    geo_content => "geo-content", ["viewers.requests_per_sec=250"],
    geo_content_js => "geo-content-js", ["viewers.requests_per_sec=250"],
    geo_redirect_py => "geo-redirect-py", ["viewers.requests_per_sec=250"],
    migration => "migration", ["viewers.requests_per_sec=20"],
    migration_bad_origin => "migration-bad-origin", ["viewers.requests_per_sec=20"],
    origin_failover => "origin-failover", ["viewers.requests_per_sec=50"],
    origin_shield => "origin-shield", ["viewers.requests_per_sec=250"],
    pop_outage => "pop-outage", ["viewers.requests_per_sec=50"],
    quickstart => "quickstart", ["viewers.requests_per_sec=50"],
    s3_migration => "s3-migration", ["viewers.requests_per_sec=250"],
    s3_migration_js => "s3-migration-js", ["viewers.requests_per_sec=250"],
    tiers => "tiers", ["viewers.requests_per_sec=50"],
    from_logs => "from-logs/from-logs", [],
    replay => "from-logs/replay", [],
}
