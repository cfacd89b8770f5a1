//! Runs every example handler in `scenarios/triggers/` through the stage it is written for and
//! checks what it does.

use std::path::PathBuf;

use edgesim_triggers::testing::{EventSpec, build_event};
use edgesim_triggers::util::mix64;
use edgesim_triggers::{
    Controls, Device, Handler, InvokeContext, Origin, Request, Stage, StageOutcome, TriggerConfig,
    compile,
};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/triggers")
}

/// Every example and the stage it runs at.
const EXAMPLES: &[(&str, Stage)] = &[
    ("ab-test.js", Stage::ViewerRequest),
    ("origin-migration.js", Stage::OriginRequest),
    ("device-content.js", Stage::OriginRequest),
    ("country-content.js", Stage::OriginRequest),
    ("ab_test.py", Stage::ViewerRequest),
    ("country_redirect.py", Stage::OriginRequest),
    ("cff-redirect.js", Stage::ViewerRequest),
];

fn load(name: &str) -> Box<dyn Handler + Send> {
    let (_, stage) = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("listed example");
    let dir = examples_dir();
    let config = if name.starts_with("cff-") {
        // A CloudFront Function with its KeyValueStore.
        serde_json::from_value(serde_json::json!({
            "cff": name,
            "runtime": "cloudfront-js-2.0",
            "kvs": "cff-redirects.json",
        }))
        .expect("a cff trigger")
    } else if name.ends_with(".py") {
        TriggerConfig::py(name)
    } else {
        TriggerConfig::js(name)
    };
    match compile(&config, *stage, &move |path| {
        std::fs::read_to_string(dir.join(path))
    }) {
        Ok(handler) => handler,
        Err(errors) => panic!("{name}: {errors:?}"),
    }
}

fn run(
    handler: &mut Box<dyn Handler + Send>,
    stage: Stage,
    request: &mut Request,
    rand: u64,
) -> StageOutcome {
    let controls = Controls::new();
    let ctx = InvokeContext {
        now_us: rand * 10_000_000,
        ..InvokeContext::simple(&controls, mix64(rand))
    };
    handler.invoke(stage, request, None, &ctx).outcome
}

#[test]
fn every_example_is_listed_and_loads() {
    let mut found: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".js") || n.ends_with(".py"))
        .collect();
    found.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "add new examples to EXAMPLES with their stage"
    );
    for (name, _) in EXAMPLES {
        load(name);
    }
}

#[test]
fn the_cloudfront_function_redirects_old_blog_urls_from_its_store() {
    let mut handler = load("cff-redirect.js");
    assert!(handler.runs_at_pop());
    for (uri, location) in [
        ("/blog/3", Some("/articles/edge-functions")),
        ("/blog/500", Some("/articles/500")),
        ("/articles/7", None),
    ] {
        let mut request = Request::new("GET", uri, "203.0.113.9");
        let outcome = run(&mut handler, Stage::ViewerRequest, &mut request, 1);
        match (outcome, location) {
            (StageOutcome::Respond(r), Some(want)) => {
                assert_eq!(r.status, 301, "{uri}");
                assert_eq!(r.headers.get("location"), Some(want), "{uri}");
            }
            (StageOutcome::Continue, None) => assert_eq!(request.uri, uri),
            (other, _) => panic!("{uri}: {other:?}"),
        }
    }
}

#[test]
fn ab_test_keeps_cookie_groups_and_splits_new_viewers() {
    assert_ab_test("ab-test.js");
}

#[test]
fn python_ab_test_keeps_cookie_groups_and_splits_new_viewers() {
    assert_ab_test("ab_test.py");
}

fn assert_ab_test(name: &str) {
    let mut handler = load(name);
    let spec = EventSpec {
        uri: "/experiment/pixel.jpg".into(),
        headers: vec![("Cookie".into(), "X-Experiment-Name=B".into())],
        ..Default::default()
    };
    let mut request = build_event(Stage::ViewerRequest, &spec).request;
    assert_eq!(
        run(&mut handler, Stage::ViewerRequest, &mut request, 1),
        StageOutcome::Continue
    );
    assert_eq!(request.uri, "/experiment/treatment/pixel.jpg");

    let mut treatment = 0;
    for i in 0..2_000 {
        let spec = EventSpec {
            uri: "/experiment/pixel.jpg".into(),
            ..Default::default()
        };
        let mut request = build_event(Stage::ViewerRequest, &spec).request;
        assert_eq!(
            run(&mut handler, Stage::ViewerRequest, &mut request, i),
            StageOutcome::Continue
        );
        let cookie = request.headers.get("cookie").unwrap().to_string();
        let is_b = request.uri == "/experiment/treatment/pixel.jpg";
        assert_eq!(
            cookie,
            if is_b {
                "X-Experiment-Name=B"
            } else {
                "X-Experiment-Name=A"
            }
        );
        treatment += usize::from(is_b);
    }
    assert!(
        (400..600).contains(&treatment),
        "{treatment} of 2000 in treatment"
    );

    let mut other = build_event(
        Stage::ViewerRequest,
        &EventSpec {
            uri: "/index.html".into(),
            ..Default::default()
        },
    )
    .request;
    run(&mut handler, Stage::ViewerRequest, &mut other, 3);
    assert_eq!(other.uri, "/index.html");
}

#[test]
fn origin_migration_moves_about_a_fifth_of_misses() {
    let mut handler = load("origin-migration.js");
    let mut moved = 0;
    for i in 0..2_000 {
        let spec = EventSpec {
            origin: Some("old-bucket.s3.amazonaws.com".into()),
            ..Default::default()
        };
        let mut request = build_event(Stage::OriginRequest, &spec).request;
        assert_eq!(
            run(&mut handler, Stage::OriginRequest, &mut request, i),
            StageOutcome::Continue
        );
        let Some(Origin::S3(origin)) = &request.origin else {
            panic!("S3 origin expected")
        };
        if origin.domain_name == "new-bucket.s3.eu-central-1.amazonaws.com" {
            moved += 1;
            assert_eq!(origin.region, "eu-central-1");
            assert_eq!(
                request.headers.get("host"),
                Some("new-bucket.s3.eu-central-1.amazonaws.com")
            );
        }
    }
    assert!((320..480).contains(&moved), "{moved} of 2000 moved");
}

#[test]
fn device_content_prefixes_per_device() {
    let mut handler = load("device-content.js");
    for (device, prefix) in [
        (Device::Mobile, "/mobile"),
        (Device::Tablet, "/tablet"),
        (Device::Desktop, "/desktop"),
        (Device::SmartTv, "/smarttv"),
    ] {
        let spec = EventSpec {
            uri: "/index.html".into(),
            device: Some(device),
            ..Default::default()
        };
        let mut request = build_event(Stage::OriginRequest, &spec).request;
        assert_eq!(
            run(&mut handler, Stage::OriginRequest, &mut request, 1),
            StageOutcome::Continue
        );
        assert_eq!(request.uri, format!("{prefix}/index.html"));
    }
    // Without the CloudFront-Is-* headers (not in the policy), nothing changes.
    let mut request = build_event(
        Stage::OriginRequest,
        &EventSpec {
            uri: "/index.html".into(),
            ..Default::default()
        },
    )
    .request;
    run(&mut handler, Stage::OriginRequest, &mut request, 1);
    assert_eq!(request.uri, "/index.html");
}

#[test]
fn country_content_picks_origin_or_redirects() {
    let mut handler = load("country-content.js");
    let event = |country: &str| {
        let spec = EventSpec {
            uri: "/news".into(),
            country: Some(country.into()),
            origin: Some("content-us.s3.amazonaws.com".into()),
            ..Default::default()
        };
        build_event(Stage::OriginRequest, &spec).request
    };
    let mut de = event("DE");
    assert_eq!(
        run(&mut handler, Stage::OriginRequest, &mut de, 1),
        StageOutcome::Continue
    );
    assert_eq!(
        de.origin.as_ref().unwrap().domain_name(),
        "content-eu.s3.eu-central-1.amazonaws.com"
    );

    let mut cn = event("CN");
    let StageOutcome::Respond(redirect) = run(&mut handler, Stage::OriginRequest, &mut cn, 1)
    else {
        panic!("expected a redirect")
    };
    assert_eq!(redirect.status, 302);
    assert_eq!(
        redirect.headers.get("location"),
        Some("https://example.cn/news")
    );

    let mut us = event("US");
    assert_eq!(
        run(&mut handler, Stage::OriginRequest, &mut us, 1),
        StageOutcome::Continue
    );
    assert_eq!(
        us.origin.as_ref().unwrap().domain_name(),
        "content-us.s3.amazonaws.com"
    );
}

#[test]
fn python_country_redirect_answers_listed_countries_and_passes_the_rest() {
    let mut handler = load("country_redirect.py");
    let controls = Controls::new();
    let ctx = InvokeContext::simple(&controls, 7);
    let event = |country: &str, uri: &str| {
        let spec = EventSpec {
            uri: uri.into(),
            country: Some(country.into()),
            origin: Some("content-us.s3.us-east-1.amazonaws.com".into()),
            ..Default::default()
        };
        build_event(Stage::OriginRequest, &spec).request
    };
    let mut jp = event("JP", "/a b.html?x=1");
    let outcome = handler.invoke(Stage::OriginRequest, &mut jp, None, &ctx);
    let StageOutcome::Respond(answer) = outcome.outcome else {
        panic!("JP is redirected: {:?}", outcome.outcome);
    };
    assert_eq!(answer.status, 302);
    assert_eq!(
        answer.headers.get("location"),
        Some("https://example.jp/a%20b.html?x=1")
    );
    assert_eq!(answer.headers.get("cache-control"), Some("max-age=3600"));
    assert_eq!(
        outcome.logs,
        vec![r#"{"redirect": "JP", "uri": "/a b.html"}"#]
    );

    let mut blog = event("DE", "/blog/post-1");
    let StageOutcome::Respond(moved) = handler
        .invoke(Stage::OriginRequest, &mut blog, None, &ctx)
        .outcome
    else {
        panic!("old blog links move");
    };
    assert_eq!(moved.status, 301);
    assert_eq!(moved.headers.get("location"), Some("/articles/post-1"));

    let mut de = event("DE", "/index.html");
    let before = de.clone();
    assert_eq!(
        handler
            .invoke(Stage::OriginRequest, &mut de, None, &ctx)
            .outcome,
        StageOutcome::Continue
    );
    assert_eq!(de, before, "other countries reach the origin unchanged");
}
