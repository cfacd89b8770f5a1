//! Scenario validation: exact diagnostics for broken inline scenarios, and
//! every shipped scenario parses.

use edgesim_model::Scenario;

/// A small valid scenario; tests break one part of it at a time.
const VALID: &str = r#"
[simulation]
duration_secs = 60
epoch_ms = 500
seed = 7

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"

[[pops]]
id = "edge-x"
lat = 48.1
lon = 11.6
region = "eu-central-1"
cache_bytes = 1000000

[[origins]]
id = "bucket"
kind = "s3"
location = "us-east-1"

[catalog]
objects = 1000
zipf_alpha = 0.8
size = "10KiB"
ttl_secs = 60

[viewers]
requests_per_sec = 100
countries = { DE = 2, FR = 1 }
"#;

fn errors(text: &str) -> Vec<String> {
    match Scenario::from_toml("s.toml", text) {
        Ok(_) => vec![],
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_valid_scenario_is_valid_and_normalised() {
    let s = Scenario::from_toml("dir/s.toml", VALID).expect("valid");
    assert_eq!(s.name, "s");
    assert_eq!(s.simulation.duration_us, 60_000_000);
    assert_eq!(s.simulation.epochs(), 120);
    assert_eq!(s.regions.len(), 1);
    assert_eq!(s.regions[0].id, "eu-central-1");
    assert_eq!(s.regions[0].pops, vec![0, 1]);
    assert_eq!(s.pops[0].cache_bytes, 1 << 30);
    let class = &s.catalog.classes[0];
    assert_eq!(class.size_bytes, edgesim_model::Dist::Fixed(10240.0));
    assert_eq!(
        (
            class.name.as_str(),
            class.path_prefix.as_str(),
            class.ttl_secs
        ),
        ("default", "/", Some(60))
    );
    assert_eq!(class.cache_control.as_deref(), Some("max-age=60"));
    assert!(s.regions[0].cache.is_none());
    let codes: Vec<_> = s
        .viewers
        .countries
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(codes, ["DE", "FR"]);
    assert!((s.viewers.countries[0].weight - 2.0 / 3.0).abs() < 1e-12);
}

#[test]
fn every_semantic_problem_is_reported_at_once_with_location_and_entity() {
    let text = r#"
[simulation]
duration_secs = 0
epoch_ms = -5

[[pops]]
id = "fra1"
city = "XXX"
cache_bytes = -1

[[pops]]
id = "fra1"
lat = 95.0
lon = 8.0
cache_bytes = "12XB"
policy = "mru"

[[origins]]
id = "o"
kind = "ftp"
location = "mars-1"

[catalog]
objects = 0
zipf_alpha = -1
size = { dist = "lognormal", p50 = "40KiB", p99 = "1KiB" }
ttl_secs = -3
origin = "nope"

[viewers]
requests_per_sec = 0
countries = { XX = 1.0, DE = 0 }
"#;
    assert_eq!(
        errors(text),
        [
            r#"s.toml:3:17: simulation: duration_secs must be > 0, got 0"#,
            r#"s.toml:4:12: simulation: epoch_ms must be > 0, got -5"#,
            r#"s.toml:8:8: pop "fra1": unknown city "XXX" (use an airport code from the built-in PoP table, or lat/lon)"#,
            r#"s.toml:9:15: pop "fra1": cache_bytes: must not be negative, got -1"#,
            r#"s.toml:11:1: pop "fra1": region is required when the PoP is placed by lat/lon"#,
            r#"s.toml:12:6: pop "fra1": id is used twice"#,
            r#"s.toml:13:7: pop "fra1": lat must be within [-90, 90], got 95"#,
            r#"s.toml:15:15: pop "fra1": cache_bytes: invalid size "12XB": unknown unit "XB"; valid units are B, KB, MB, GB, TB (1000-based) and KiB, MiB, GiB, TiB (1024-based)"#,
            r#"s.toml:16:10: pop "fra1": unknown cache policy "mru"; valid policies: lru, fifo, clock, sieve, s3fifo (or s3-fifo), arc"#,
            r#"s.toml:20:8: origin "o": kind must be "s3" or "custom", got "ftp""#,
            r#"s.toml:21:12: origin "o": unknown location "mars-1" (use an AWS region code like "us-east-1", a PoP airport code, or lat/lon)"#,
            r#"s.toml:24:11: catalog: objects must be between 1 and 1099511627775, got 0"#,
            r#"s.toml:25:14: catalog: zipf_alpha must be >= 0, got -1"#,
            r#"s.toml:26:8: catalog: size: p99 (1024) must be >= p50 (40960)"#,
            r#"s.toml:27:12: catalog: ttl_secs must be >= 0, got -3"#,
            r#"s.toml:28:10: catalog: origin "nope" is not defined in [[origins]]"#,
            r#"s.toml:31:20: viewers: requests_per_sec must be > 0, got 0"#,
            r#"s.toml:32:15: country "XX": unknown country code (use ISO 3166-1 alpha-2, e.g. "DE")"#,
            r#"s.toml:32:30: country "DE": weight must be > 0, got 0"#,
        ]
    );
}

#[test]
fn unknown_keys_name_the_table_and_the_allowed_keys() {
    let text = VALID.replace("seed = 7", "seed = 7\nbogus = 1");
    assert_eq!(
        errors(&text),
        [
            "s.toml:6:1: simulation: unknown field `bogus`, expected one of `duration_secs`, `epoch_ms`, `seed`, `on_agent_failure`"
        ]
    );
    let text = VALID.replace(
        "cache_bytes = 1000000",
        "cache_bytes = 1000000\ncache_size = 5",
    );
    assert_eq!(
        errors(&text),
        [
            "s.toml:18:1: pops #2: unknown field `cache_size`, expected one of `id`, `city`, `lat`, `lon`, `region`, `cache_bytes`, `policy`"
        ]
    );
}

#[test]
fn wrong_types_point_at_the_value() {
    let text = VALID.replace("duration_secs = 60", "duration_secs = \"ten\"");
    assert_eq!(
        errors(&text),
        ["s.toml:3:17: simulation: invalid type: string \"ten\", expected f64"]
    );
    let text = VALID.replace("cache_bytes = \"1GiB\"", "cache_bytes = true");
    assert_eq!(
        errors(&text),
        [
            "s.toml:10:15: pops #1: invalid type: boolean `true`, expected a byte size: an integer or a string like \"40KiB\""
        ]
    );
}

#[test]
fn missing_tables_and_empty_lists_are_reported() {
    let text = VALID.replace("[catalog]", "[catalogue]");
    let e = errors(&text);
    // Both problems at once: the unknown table, and the missing one.
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("missing field `catalog`"), "{e:?}");
    assert!(e[1].contains("unknown field `catalogue`"), "{e:?}");
    let no_pops: String = VALID
        .split("[[origins]]")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.split("[[pops]]").next().unwrap().to_owned()
            } else {
                format!("[[origins]]{part}")
            }
        })
        .collect();
    assert_eq!(
        errors(&no_pops),
        ["s.toml:1:1: at least one [[pops]] entry is required"]
    );
}

#[test]
fn zero_duration_and_oversized_epochs_are_rejected() {
    let text = VALID.replace("duration_secs = 60", "duration_secs = 0.2");
    assert_eq!(
        errors(&text),
        ["s.toml:4:12: simulation: epoch_ms must not exceed duration_secs"]
    );
}

#[test]
fn every_shipped_scenario_is_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn behaviors_and_their_functions_are_checked_with_file_and_stage() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.js"),
        "exports.handler = (event) => {\n  return event.Records[0.cf.request;\n};\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ok.js"),
        "'use strict';\nexports.handler = async (event) => event.Records[0].cf.request;\n",
    )
    .unwrap();
    let text = format!(
        "{VALID}\n{}",
        r#"
[[behaviors]]
path = "images/*"
origin = "nowhere"
origin_request = { builtin = "ab_test", variants = [{ name = "A", weight = 1.0 }] }

[[behaviors]]
path = "/api/*"
viewer_request = { js = "bad.js" }
viewer_response = { js = "missing.js" }

[[behaviors]]
path = "/ok/*"
viewer_request = { js = "ok.js" }
"#
    );
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let errors: Vec<String> = match Scenario::load(&path) {
        Ok(_) => panic!("accepted"),
        Err(edgesim_model::scenario::LoadError::Invalid(d)) => {
            d.0.iter()
                .map(|d| format!("{}:{}: {}: {}", d.line, d.col, d.entity, d.message))
                .collect()
        }
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        errors,
        [
            r#"36:8: behavior "images/*": path must start with '/' (or be "*")"#,
            r#"37:10: behavior "images/*": origin "nowhere" is not defined in [[origins]]"#,
            r#"38:18: behavior "images/*" origin-request: builtin: `ab_test` cannot run at origin-request; it runs at viewer-request"#,
            r#"42:18: behavior "/api/*" viewer-request: js: bad.js:2: cannot load: SyntaxError: invalid number literal"#,
            r#"43:19: behavior "/api/*" viewer-response: js: cannot read `missing.js`: No such file or directory (os error 2)"#,
        ]
    );
    // The good handler's source is kept for the agents.
    let ok = text.split("[[behaviors]]").take(1).collect::<String>()
        + "[[behaviors]]\npath = \"/ok/*\"\nviewer_request = { js = \"ok.js\" }\n";
    std::fs::write(&path, &ok).unwrap();
    let s = Scenario::load(&path).unwrap();
    assert_eq!(s.trigger_sources.keys().collect::<Vec<_>>(), ["ok.js"]);
    assert!(s.behaviors[0].matches("/ok/x") && !s.behaviors[0].matches("/other"));
}

#[test]
fn cloudfront_functions_and_lambda_at_edge_do_not_share_the_viewer_events() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.js"),
        "function handler(event) { return event.request; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("r.js"),
        "function handler(event) { return event.response; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("l.js"),
        "exports.handler = async (event) => event.Records[0].cf.request;\n",
    )
    .unwrap();
    let text = format!(
        "{VALID}\n{}",
        r#"
[[behaviors]]
path = "/mixed/*"
viewer_request = { cff = "f.js", runtime = "cloudfront-js-1.0" }
viewer_response = { js = "l.js" }

[[behaviors]]
path = "/origin/*"
origin_request = { cff = "f.js" }

[[behaviors]]
path = "/fine/*"
viewer_request = { cff = "f.js" }
viewer_response = { cff = "r.js" }
origin_request = { js = "l.js" }
"#
    );
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let errors: Vec<String> = match Scenario::load(&path) {
        Ok(_) => panic!("accepted"),
        Err(edgesim_model::scenario::LoadError::Invalid(d)) => {
            d.0.iter()
                .map(|d| format!("{}: {}", d.entity, d.message))
                .collect()
        }
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        errors,
        [
            r#"behavior "/mixed/*": viewer-request has a CloudFront Function and viewer-response a Lambda@Edge function: CloudFront cannot combine CloudFront Functions and Lambda@Edge on the viewer events of one behaviour"#,
            r#"behavior "/origin/*" origin-request: cff: CloudFront Functions run at viewer-request and viewer-response only, not origin-request (use Lambda@Edge there)"#,
        ]
    );
}

#[test]
fn path_patterns_match_like_cloudfront() {
    use edgesim_model::scenario::path_matches;
    let m = |p: &str, s: &str| path_matches(p.as_bytes(), s.as_bytes());
    assert!(m("*", "/anything"));
    assert!(m("/images/*", "/images/a/b.jpg"));
    assert!(!m("/images/*", "/img/a.jpg"));
    assert!(m("*.jpg", "/a/b.jpg") && !m("*.jpg", "/a/b.png"));
    assert!(m("/v?/*", "/v1/x") && !m("/v?/*", "/v10/x"));
    assert!(m("/a*b*c", "/axxbyyc") && !m("/a*b*c", "/axxbyy"));
}

#[test]
fn variants_are_checked_by_validating_the_scenario_each_describes() {
    let text = format!(
        "{VALID}\n[[variants]]\nname = \"big\"\nset = {{ \"pops.cache_bytes\" = \"8GiB\", \"simulation.seed\" = 9 }}\n\n\
         [[variants]]\nname = \"broken\"\nset = {{ \"pops.policy\" = \"nope\" }}\n\n\
         [[variants]]\nname = \"big\"\nset = {{}}\n"
    );
    let errs = errors(&text);
    assert_eq!(
        errs,
        vec![
            "s.toml:40:7: variants #2 (broken): pop \"fra\": unknown cache policy \"nope\"; valid policies: lru, fifo, clock, sieve, s3fifo (or s3-fifo), arc",
            "s.toml:40:7: variants #2 (broken): pop \"edge-x\": unknown cache policy \"nope\"; valid policies: lru, fifo, clock, sieve, s3fifo (or s3-fifo), arc",
            "s.toml:43:8: variants #3 (big): a variant named \"big\" is already defined",
        ]
    );

    let good = format!(
        "{VALID}\n[[variants]]\nname = \"big\"\ndescription = \"more cache\"\nset = {{ \"pops.cache_bytes\" = \"8GiB\", \"simulation.seed\" = 9 }}\n"
    );
    let s = Scenario::from_toml("s.toml", &good).expect("valid");
    assert_eq!(s.variants.len(), 1);
    let v = &s.variants[0];
    assert_eq!(v.name, "big");
    assert_eq!(v.description, "more cache");
    let text = v.scenario_text(&s.name, &good).expect("applies");
    let derived = Scenario::from_toml("s.toml", &text).expect("valid variant");
    assert_eq!(derived.name, "s-big");
    assert_eq!(derived.simulation.seed, 9);
    assert!(derived.pops.iter().all(|p| p.cache_bytes == 8 << 30));
    assert!(derived.variants.is_empty());
}

/// The valid scenario with a `[network]` table; its first key is on line
/// 34 of the text.
fn with_network(body: &str) -> String {
    format!("{VALID}[network]\n{body}\n")
}

#[test]
fn light_faster_than_in_vacuum_is_refused_at_the_key() {
    let text = with_network("fibre_km_per_ms = 300000");
    assert_eq!(
        errors(&text),
        [
            "s.toml:34:19: network: fibre_km_per_ms must be <= 299.792458 (the speed of light in vacuum), got 300000"
        ]
    );
    // Exactly c is physics' limit, not past it: allowed, with a warning.
    let s = Scenario::from_toml("s.toml", &with_network("fibre_km_per_ms = 299.792458"))
        .expect("c itself is allowed");
    assert_eq!(s.network.fibre_km_per_ms, 299.792458);
    assert_eq!(s.warnings.len(), 1);
}

#[test]
fn light_faster_than_in_fibre_is_a_warning_not_an_error() {
    let s = Scenario::from_toml("s.toml", &with_network("fibre_km_per_ms = 250"))
        .expect("allowed: microwave links are faster than fibre");
    assert_eq!(s.network.fibre_km_per_ms, 250.0);
    let shown: Vec<String> = s
        .warnings
        .iter()
        .map(|w| edgesim_model::Warning(w).to_string())
        .collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with(
            "s.toml:34:19: warning: network: fibre_km_per_ms = 250 is faster than light in silica fibre (204.2 km/ms"
        ),
        "{shown:?}"
    );
    // The default and values up to light in fibre say nothing.
    for ok in ["", "fibre_km_per_ms = 204", "fibre_km_per_ms = 200"] {
        let s = Scenario::from_toml("s.toml", &with_network(ok)).expect("valid");
        assert!(s.warnings.is_empty(), "{ok}: {:?}", s.warnings);
    }
    assert!(
        Scenario::from_toml("s.toml", VALID)
            .expect("valid")
            .warnings
            .is_empty()
    );
}

#[test]
fn paths_shorter_than_the_great_circle_are_refused() {
    assert_eq!(
        errors(&with_network("path_inflation = 0.9")),
        ["s.toml:34:18: network: path_inflation must be >= 1, got 0.9"]
    );
    assert!(errors(&with_network("path_inflation = 1")).is_empty());
}

#[test]
fn negative_or_absurd_delays_are_refused_with_the_bound() {
    let got = errors(&with_network(
        "jitter_ms = -1\nedge_processing_ms = 20000\nlast_mile_ms = { desktop = -2, mobile = 10001, tablet = 10000 }",
    ));
    assert_eq!(
        got,
        [
            "s.toml:34:13: network: jitter_ms must be >= 0, got -1",
            "s.toml:35:22: network: edge_processing_ms must be <= 10000 (10 s: a delay, not an outage), got 20000",
            "s.toml:36:28: network: last_mile_ms.desktop must be >= 0, got -2",
            "s.toml:36:41: network: last_mile_ms.mobile must be <= 10000 (10 s: a delay, not an outage), got 10001",
        ]
    );
    assert_eq!(
        errors(&with_network("jitter_ms = 1e9")),
        [
            "s.toml:34:13: network: jitter_ms must be <= 10000 (10 s: a delay, not an outage), got 1000000000"
        ]
    );
    let s = Scenario::from_toml(
        "s.toml",
        &with_network("jitter_ms = 0\nlast_mile_ms = { smarttv = 10000 }"),
    )
    .expect("the bounds themselves are allowed");
    assert_eq!(s.network.last_mile_ms[3], 10_000.0);
}

#[test]
fn traffic_start_is_a_utc_date_time_that_supersedes_start_utc_hour() {
    let with = |traffic: &str| format!("{VALID}\n[traffic]\n{traffic}\n");
    let s = Scenario::from_toml("s.toml", &with("start = \"2026-07-01T18:30:00Z\"")).unwrap();
    assert_eq!(s.traffic.start_utc_hour, 18.5);
    assert_eq!(s.traffic.start_unix_secs, 1_782_930_600);
    // An offset is converted to UTC.
    let s = Scenario::from_toml("s.toml", &with("start = \"2026-07-01T20:30:00+02:00\"")).unwrap();
    assert_eq!(s.traffic.start_unix_secs, 1_782_930_600);
    // Without start: start_utc_hour on 2026-01-01.
    let s = Scenario::from_toml("s.toml", &with("start_utc_hour = 6")).unwrap();
    assert_eq!(s.traffic.start_unix_secs, 1_767_225_600 + 6 * 3600);

    let e = errors(&with("start = \"2026-07-01 noon\""));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("start must be an RFC 3339 date-time with an offset"),
        "{e:?}"
    );
    assert!(e[0].contains("s.toml:"), "{e:?}");
    let e = errors(&with("start = \"2026-07-01T18:00:00\""));
    assert_eq!(e.len(), 1, "no offset: {e:?}");
    let e = errors(&with(
        "start = \"2026-07-01T18:00:00Z\"\nstart_utc_hour = 3",
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("either start or start_utc_hour"), "{e:?}");
}

#[test]
fn every_geonames_country_can_be_named() {
    let text = VALID.replace(
        "countries = { DE = 2, FR = 1 }",
        "countries = { DE = 2, TK = 1, GL = 1, XK = 1 }",
    );
    let s = Scenario::from_toml("s.toml", &text).expect("valid");
    for c in &s.viewers.countries {
        assert!(!c.cities.is_empty(), "{}", c.code);
        let total: f64 = c.cities.iter().map(|x| x.share).sum();
        assert!((total - 1.0).abs() < 1e-9, "{}", c.code);
    }
    let e = errors(&VALID.replace("DE = 2", "QQ = 2"));
    assert!(
        e.iter().any(|m| m.contains("unknown country code")),
        "{e:?}"
    );
}
