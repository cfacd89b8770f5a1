//! Unit and property tests.

use hdrhistogram::Histogram;
use proptest::prelude::*;

use crate::*;

const S: u64 = 1_000_000;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[track_caller]
fn assert_close(a: f64, b: f64) {
    assert!(close(a, b), "{a} != {b}");
}

fn mig(body: &str) -> Migration {
    let text = format!("[migration]\nfrom = \"old\"\nto = \"new\"\n{body}");
    match Migration::from_toml_str(&text) {
        Ok(m) => m,
        Err(e) => panic!("unexpected errors: {e:?}"),
    }
}

fn errs(body: &str) -> Vec<FieldError> {
    let text = format!("[migration]\n{body}");
    match Migration::from_toml_str(&text) {
        Ok(m) => panic!("expected errors, got {m:?}"),
        Err(e) => e,
    }
}

fn fields(e: &[FieldError]) -> Vec<&str> {
    e.iter().map(|e| e.field.as_str()).collect()
}

/// Weight timeline check: `(schedule clock secs, expected weight)`.
#[track_caller]
fn timeline(s: &Schedule, expect: &[(f64, f64)]) {
    for &(t, w) in expect {
        let us = (t * 1e6).round() as u64;
        assert_close(s.weight_at(us), w);
    }
}

// ---------------------------------------------------------------- config

#[test]
fn parses_the_documented_example() {
    let m = Migration::from_toml_str(
        r#"
[scenario]
name = "ignored"

[migration]
from = "old-bucket"
to = "new-bucket"
split = "object_hash"
start_secs = 60
schedule = { kind = "linear", step_percent = 10, every_secs = 60 }
rollback = { kind = "gradual", step_percent = 10, every_secs = 30 }
[[migration.gates]]
metric = "error_rate"
max = 0.01
interval_secs = 60
min_samples = 500
budget = 2
[[migration.gates]]
metric = "new_origin_503_rate"
max = 0.001
"#,
    )
    .unwrap();
    assert_eq!(m.from, "old-bucket");
    assert_eq!(m.to, "new-bucket");
    assert_eq!(m.split, SplitKey::ObjectHash);
    assert!(!m.sticky);
    assert_eq!(m.start_us, 60 * S);
    assert_eq!(m.promote_at_us, None);
    assert_eq!(m.schedule.description, "linear 10% every 60 s");
    assert_eq!(
        m.rollback,
        Rollback::Gradual {
            step_weight: 0.1,
            every_us: 30 * S
        }
    );
    assert_eq!(
        m.gates[0],
        Gate {
            metric: GateMetric::ErrorRate,
            max: 0.01,
            interval_us: 60 * S,
            min_samples: 500,
            budget: 2
        }
    );
    // defaults
    assert_eq!(
        m.gates[1],
        Gate {
            metric: GateMetric::NewOrigin503Rate,
            max: 0.001,
            interval_us: 60 * S,
            min_samples: 100,
            budget: 0
        }
    );
}

#[test]
fn defaults_and_table_body_only() {
    let m =
        Migration::from_toml_str("from = \"a\"\nto = \"b\"\nschedule = \"all_at_once\"\n").unwrap();
    assert_eq!(m.split, SplitKey::ObjectHash);
    assert_eq!(m.rollback, Rollback::Instant);
    assert_eq!(m.start_us, 0);
    assert!(m.gates.is_empty());
    assert_eq!(m.schedule.points, vec![(0, 1.0)]);
    assert_eq!(m.schedule.full_at_us(), Some(0));
}

#[test]
fn rollback_gradual_string_means_10_percent_every_60_s() {
    let m = mig("schedule = \"all_at_once\"\nrollback = \"gradual\"");
    assert_eq!(
        m.rollback,
        Rollback::Gradual {
            step_weight: 0.1,
            every_us: 60 * S
        }
    );
    let m = mig("schedule = \"all_at_once\"\nrollback = { kind = \"instant\" }");
    assert_eq!(m.rollback, Rollback::Instant);
}

#[test]
fn split_key_names_and_keyed() {
    let all = [
        (SplitKey::Random, "random", false),
        (SplitKey::ObjectHash, "object_hash", false),
        (SplitKey::ViewerSticky, "viewer_sticky", false),
        (SplitKey::ViewerCohortKeyed, "viewer_cohort_keyed", true),
        (SplitKey::Country, "country", false),
        (
            SplitKey::ContinuousDeployment,
            "continuous_deployment",
            true,
        ),
    ];
    for (k, name, keyed) in all {
        assert_eq!(k.name(), name);
        assert_eq!(k.keyed(), keyed);
        let m = mig(&format!(
            "split = \"{name}\"\nschedule = {{ kind = \"steps\", steps = [ {{ percent = 5 }} ] }}"
        ));
        assert_eq!(m.split, k);
    }
}

#[test]
fn all_at_once_table() {
    let m = mig("schedule = { kind = \"all_at_once\" }");
    timeline(&m.schedule, &[(0.0, 1.0), (1000.0, 1.0)]);
    assert_eq!(m.schedule.description, "all at once");
}

#[test]
fn linear_schedule() {
    let m = mig("schedule = { kind = \"linear\", step_percent = 30, every_secs = 60 }");
    timeline(
        &m.schedule,
        &[
            (0.0, 0.3),
            (59.999999, 0.3),
            (60.0, 0.6),
            (120.0, 0.9),
            (179.0, 0.9),
            (180.0, 1.0),
            (1e6, 1.0),
        ],
    );
    assert_eq!(m.schedule.full_at_us(), Some(180 * S));
    assert_eq!(m.schedule.description, "linear 30% every 60 s");
}

#[test]
fn canary_schedule() {
    let m = mig("schedule = { kind = \"canary\", percent = 10, hold_secs = 300 }");
    timeline(&m.schedule, &[(0.0, 0.1), (299.9, 0.1), (300.0, 1.0)]);
    assert_eq!(m.schedule.full_at_us(), Some(300 * S));
    assert_eq!(m.schedule.description, "canary 10% for 300 s");
}

#[test]
fn exponential_schedule() {
    let m = mig(
        "schedule = { kind = \"exponential\", start_percent = 1, factor = 2, every_secs = 60 }",
    );
    timeline(
        &m.schedule,
        &[
            (0.0, 0.01),
            (60.0, 0.02),
            (120.0, 0.04),
            (180.0, 0.08),
            (240.0, 0.16),
            (300.0, 0.32),
            (360.0, 0.64),
            (419.0, 0.64),
            (420.0, 1.0),
        ],
    );
    assert_eq!(m.schedule.full_at_us(), Some(420 * S));
}

#[test]
fn steps_schedule() {
    let m = mig(
        "schedule = { kind = \"steps\", steps = [ { percent = 5, hold_secs = 120 }, \
         { percent = 25, hold_secs = 300 }, { percent = 100 } ] }",
    );
    timeline(
        &m.schedule,
        &[
            (0.0, 0.05),
            (119.0, 0.05),
            (120.0, 0.25),
            (419.0, 0.25),
            (420.0, 1.0),
        ],
    );
    assert_eq!(m.schedule.full_at_us(), Some(420 * S));
    assert_eq!(
        m.schedule.description,
        "steps 5% (120 s) -> 25% (300 s) -> 100%"
    );
    // A steps schedule that never reaches 100%.
    let m = mig(
        "schedule = { kind = \"steps\", steps = [ { percent = 0, hold_secs = 10 }, { percent = 50 } ] }",
    );
    timeline(&m.schedule, &[(0.0, 0.0), (10.0, 0.5), (1e5, 0.5)]);
    assert_eq!(m.schedule.full_at_us(), None);
}

/// Preset timelines per the AWS CodeDeploy documentation: canary = percent at
/// start then 100% after the interval; linear = +10% at the start of every
/// increment, so 100% after 9 intervals.
#[test]
fn codedeploy_presets() {
    // (name, first weight, full at secs); the weight just before full is
    // the first weight for canaries and 90% for linear presets.
    let table: &[(&str, f64, u64)] = &[
        ("LambdaAllAtOnce", 1.0, 0),
        ("LambdaCanary10Percent5Minutes", 0.1, 300),
        ("LambdaCanary10Percent10Minutes", 0.1, 600),
        ("LambdaCanary10Percent15Minutes", 0.1, 900),
        ("LambdaCanary10Percent30Minutes", 0.1, 1800),
        ("LambdaLinear10PercentEvery1Minute", 0.1, 540),
        ("LambdaLinear10PercentEvery2Minutes", 0.1, 1080),
        ("LambdaLinear10PercentEvery3Minutes", 0.1, 1620),
        ("LambdaLinear10PercentEvery10Minutes", 0.1, 5400),
        ("ECSAllAtOnce", 1.0, 0),
        ("ECSCanary10Percent5Minutes", 0.1, 300),
        ("ECSCanary10Percent15Minutes", 0.1, 900),
        ("ECSLinear10PercentEvery1Minutes", 0.1, 540),
        ("ECSLinear10PercentEvery3Minutes", 0.1, 1620),
        ("Canary10Percent5Minutes", 0.1, 300),
        ("Linear10PercentEvery1Minute", 0.1, 540),
        ("AllAtOnce", 1.0, 0),
    ];
    assert_eq!(preset_names().len(), 14);
    for &(name, first, full) in table {
        for spelled in [name.to_owned(), format!("CodeDeployDefault.{name}")] {
            let m = mig(&format!("schedule = \"{spelled}\""));
            assert_close(m.schedule.weight_at(0), first);
            assert_eq!(m.schedule.full_at_us(), Some(full * S), "{spelled}");
            if full > 0 {
                let before = if name.contains("Canary") { first } else { 0.9 };
                assert_close(m.schedule.weight_at(full * S - 1), before);
            }
            assert!(
                m.schedule.description.starts_with(name),
                "{}",
                m.schedule.description
            );
        }
    }
    // Full linear timeline of LambdaLinear10PercentEvery1Minute.
    let m = mig("schedule = \"CodeDeployDefault.LambdaLinear10PercentEvery1Minute\"");
    for k in 0..=12u64 {
        let expected = ((k + 1).min(10)) as f64 / 10.0;
        assert_close(m.schedule.weight_at(k * 60 * S), expected);
        assert_close(m.schedule.weight_at(k * 60 * S + 59 * S), expected);
    }
    assert_eq!(
        m.schedule.description,
        "LambdaLinear10PercentEvery1Minute (linear 10% every 60 s)"
    );
    let m = mig("schedule = \"LambdaCanary10Percent5Minutes\"");
    assert_eq!(
        m.schedule.description,
        "LambdaCanary10Percent5Minutes (canary 10% for 300 s)"
    );
}

#[test]
fn unknown_preset_lists_known_names() {
    let e = errs("from = \"a\"\nto = \"b\"\nschedule = \"LambdaLinear50PercentEvery1Minute\"");
    assert_eq!(fields(&e), vec!["schedule"]);
    assert!(e[0].message.contains("LambdaCanary10Percent5Minutes"));
    assert!(e[0].message.contains("ECSLinear10PercentEvery3Minutes"));
    assert!(e[0].message.contains("all_at_once"));
}

#[test]
fn validation_collects_every_error() {
    let e = errs(
        r#"
from = "same"
to = "same"
sticky = true
promote_at_secs = 10
start_secs = -1
schedule = { kind = "linear", step_percent = 0, every_secs = -5 }
rollback = { kind = "gradual", step_percent = 150, every_secs = 0 }
[[migration.gates]]
metric = "error_rate"
max = 0.01
interval_secs = 0
[[migration.gates]]
metric = "error_rate"
max = nan
[[migration.gates]]
metric = "p99_ms"
max = 0
[[migration.gates]]
metric = "hit_ratio_dip"
max = -0.1
"#,
    );
    assert_eq!(
        fields(&e),
        vec![
            "to",
            "sticky",
            "start_secs",
            "promote_at_secs",
            "schedule.step_percent",
            "schedule.every_secs",
            "rollback.step_percent",
            "rollback.every_secs",
            "gates[0].interval_secs",
            "gates[1].max",
            "gates[2].max",
            "gates[3].max",
        ]
    );
    let shown = e[4].to_string();
    assert!(shown.starts_with("schedule.step_percent: "), "{shown}");
}

#[test]
fn validation_of_other_schedule_kinds() {
    let e = errs(
        "from = \"a\"\nto = \"b\"\nschedule = { kind = \"exponential\", start_percent = 101, factor = 1, every_secs = inf }",
    );
    assert_eq!(
        fields(&e),
        vec![
            "schedule.start_percent",
            "schedule.every_secs",
            "schedule.factor"
        ]
    );
    let e = errs(
        "from = \"a\"\nto = \"b\"\nschedule = { kind = \"canary\", percent = 0, hold_secs = 0 }",
    );
    assert_eq!(fields(&e), vec!["schedule.percent", "schedule.hold_secs"]);
    let e = errs(
        "from = \"a\"\nto = \"b\"\nschedule = { kind = \"steps\", steps = [ { percent = 50, hold_secs = 10 }, \
         { percent = 20 }, { percent = 120, hold_secs = -1 }, { percent = 100 } ] }",
    );
    assert_eq!(
        fields(&e),
        vec![
            "schedule.steps[1].percent",
            "schedule.steps[1].hold_secs",
            "schedule.steps[2].percent",
            "schedule.steps[2].hold_secs",
        ]
    );
    let e = errs("from = \"a\"\nto = \"b\"\nschedule = { kind = \"steps\", steps = [] }");
    assert_eq!(fields(&e), vec!["schedule.steps"]);
    let e = errs(
        "from = \"a\"\nto = \"b\"\nschedule = { kind = \"linear\", step_percent = 0.001, every_secs = 1 }",
    );
    assert_eq!(fields(&e), vec!["schedule.step_percent"]);
}

#[test]
fn parse_errors_are_field_errors() {
    let e = errs("from = \"a\"\nto = \"b\"\nschedule = \"all_at_once\"\ncolour = 1");
    assert_eq!(fields(&e), vec!["migration"]);
    assert!(e[0].message.contains("colour"), "{}", e[0].message);
    assert!(e[0].message.starts_with("line 5"), "{}", e[0].message);
    let e = errs(
        "from = \"a\"\nto = \"b\"\nschedule = \"all_at_once\"\n[[migration.gates]]\nmetric = \"latency\"\nmax = 1",
    );
    assert!(
        e[0].message.contains("new_origin_503_rate"),
        "{}",
        e[0].message
    );
    let e = errs("from = \"a\"\nto = \"b\"\nschedule = { kind = \"linear\", step = 10 }");
    assert_eq!(fields(&e), vec!["migration"]);
    assert!(Migration::from_toml_str("this is not toml").is_err());
}

#[test]
fn raw_round_trips_through_toml() {
    let text = r#"from = "a"
to = "b"
split = "continuous_deployment"
sticky = true
promote_at_secs = 100
schedule = { kind = "steps", steps = [ { percent = 5, hold_secs = 10 }, { percent = 15 } ] }
rollback = "gradual"
[[gates]]
metric = "p99_ms"
max = 250
"#;
    let raw: RawMigration = toml::from_str(text).unwrap();
    let back: RawMigration = toml::from_str(&toml::to_string(&raw).unwrap()).unwrap();
    assert_eq!(raw, back);
    let m = Migration::from_raw(&raw).unwrap();
    assert!(m.sticky);
    assert_eq!(m.promote_at_us, Some(100 * S));
}

#[test]
fn continuous_deployment_is_capped_at_15_percent() {
    let e = errs(
        "from = \"a\"\nto = \"b\"\nsplit = \"continuous_deployment\"\n\
         schedule = { kind = \"linear\", step_percent = 10, every_secs = 60 }",
    );
    assert_eq!(fields(&e), vec!["schedule"]);
    assert_eq!(
        e[0].message,
        "continuous deployment sends at most 15% of traffic to staging; schedule reaches 100%"
    );
    let e = errs(
        "from = \"a\"\nto = \"b\"\nsplit = \"continuous_deployment\"\n\
         schedule = { kind = \"steps\", steps = [ { percent = 5, hold_secs = 60 }, { percent = 20 } ] }",
    );
    assert!(
        e[0].message.ends_with("schedule reaches 20%"),
        "{}",
        e[0].message
    );
    let m = mig(
        "split = \"continuous_deployment\"\nsticky = true\npromote_at_secs = 10\n\
         schedule = { kind = \"steps\", steps = [ { percent = 5, hold_secs = 5 }, { percent = 15 } ] }",
    );
    assert!(m.split.keyed());
    // Promotion is the way to 100%.
    let mut c = Controller::new(&m, S);
    let mut seen = Vec::new();
    for k in 0..12 {
        let p = c.plan(k);
        seen.push((p.weight, p.promoted, p.phase));
        c.observe(k, &Observation::default());
    }
    assert_eq!(seen[0], (0.05, false, Phase::Advancing));
    assert_eq!(seen[5], (0.15, false, Phase::Advancing));
    assert_eq!(seen[9], (0.15, false, Phase::Advancing));
    assert_eq!(seen[10], (1.0, true, Phase::Complete));
    assert_eq!(c.kpis().outcome, "completed");
    assert_eq!(c.kpis().time_to_full_secs, Some(10.0));
}

// ------------------------------------------------------------ controller

fn ok_obs(requests: u64) -> Observation {
    Observation {
        requests,
        edge_hits: requests / 2,
        new_fetches: requests / 4,
        old_fetches: requests / 4,
        ..Observation::default()
    }
}

fn bad_obs(requests: u64) -> Observation {
    Observation {
        status_5xx: requests / 10,
        new_errors: requests / 10,
        ..ok_obs(requests)
    }
}

/// Runs epochs `range`, feeding `obs(k)`; returns the plans.
fn drive(
    c: &mut Controller,
    range: std::ops::Range<u64>,
    obs: impl Fn(u64) -> Observation,
) -> Vec<Plan> {
    range
        .map(|k| {
            let p = c.plan(k);
            c.observe(k, &obs(k));
            p
        })
        .collect()
}

#[test]
fn pending_before_start_even_when_unaligned() {
    let m = mig(
        "start_secs = 2.5\nschedule = { kind = \"linear\", step_percent = 50, every_secs = 2 }",
    );
    let mut c = Controller::new(&m, S);
    let plans = drive(&mut c, 0..8, |_| Observation::default());
    let w: Vec<f64> = plans.iter().map(|p| p.weight).collect();
    // Epoch 3 starts at 3 s (clock 0.5 s): first boundary at or after start.
    assert_eq!(w, vec![0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0, 1.0]);
    assert_eq!(plans[2].phase, Phase::Pending);
    assert_eq!(plans[3].phase, Phase::Advancing);
    assert_eq!(plans[5].phase, Phase::Complete);
    assert_eq!(c.phase(), Phase::Complete);
    assert_eq!(c.records()[0].decision, Decision::Wait);
}

#[test]
fn gate_pass_fail_inconclusive() {
    let m = mig(
        "schedule = { kind = \"linear\", step_percent = 10, every_secs = 100 }\n\
         [[migration.gates]]\nmetric = \"error_rate\"\nmax = 0.05\ninterval_secs = 10\nbudget = 100\n\
         [[migration.gates]]\nmetric = \"new_origin_error_rate\"\nmax = 0.2\ninterval_secs = 5\nmin_samples = 20\nbudget = 100",
    );
    let mut c = Controller::new(&m, S);
    // 0..10 healthy (20 req and 5 new fetches per epoch), 10..20 bad,
    // 20..30 too little traffic.
    drive(&mut c, 0..30, |k| match k {
        0..10 => ok_obs(20),
        10..20 => bad_obs(20),
        _ => ok_obs(2),
    });
    let evals: Vec<(u64, usize, GateOutcome, Option<f64>, u64)> = c
        .records()
        .iter()
        .flat_map(|r| {
            r.evaluations
                .iter()
                .map(move |e| (r.epoch, e.gate, e.outcome, e.value, e.samples))
        })
        .collect();
    use GateOutcome::*;
    assert_eq!(
        evals,
        vec![
            (4, 1, Pass, Some(0.0), 25),
            (9, 0, Pass, Some(0.0), 200),
            (9, 1, Pass, Some(0.0), 25),
            (14, 1, Fail, Some(0.4), 25),
            (19, 0, Fail, Some(0.1), 200),
            (19, 1, Fail, Some(0.4), 25),
            (24, 1, Inconclusive, None, 0),
            (29, 0, Inconclusive, None, 20),
            (29, 1, Inconclusive, None, 0),
        ]
    );
    let d: Vec<Decision> = c.records().iter().map(|r| r.decision).collect();
    assert_eq!(d[4], Decision::Advance);
    assert_eq!(d[13], Decision::Advance);
    assert_eq!(d[14], Decision::Hold);
    assert_eq!(
        d[15],
        Decision::Hold,
        "gate 1 holds until its next evaluation"
    );
    assert_eq!(d[19], Decision::Hold);
    assert_eq!(d[24], Decision::Hold, "first inconclusive still holds");
}

#[test]
fn hold_stops_the_schedule_clock() {
    let m = mig(
        "schedule = { kind = \"linear\", step_percent = 10, every_secs = 10 }\n\
         [[migration.gates]]\nmetric = \"error_rate\"\nmax = 0.05\ninterval_secs = 10\nbudget = 5",
    );
    let mut c = Controller::new(&m, S);
    let plans = drive(&mut c, 0..50, |k| match k {
        10..20 => bad_obs(20),
        _ => ok_obs(20),
    });
    let w: Vec<f64> = plans.iter().map(|p| p.weight).collect();
    assert!(w[..10].iter().all(|&x| close(x, 0.1)));
    assert!(w[10..20].iter().all(|&x| close(x, 0.2)));
    // Gate failed at the end of epoch 19: epochs 20..30 hold at 20%, the
    // step due at 20 s waits.
    assert!(w[20..30].iter().all(|&x| close(x, 0.2)), "{w:?}");
    assert!(plans[20..30].iter().all(|p| p.phase == Phase::Holding));
    // Passed at the end of epoch 29: the clock resumes at 20 s.
    assert!(w[30..40].iter().all(|&x| close(x, 0.3)), "{w:?}");
    assert!(w[40..50].iter().all(|&x| close(x, 0.4)), "{w:?}");
    assert_eq!(plans[30].phase, Phase::Advancing);
    assert!(c.abort_info().is_none());
}

#[test]
fn inconclusive_three_times_counts_as_pass() {
    let m = mig(
        "schedule = { kind = \"linear\", step_percent = 10, every_secs = 1 }\n\
         [[migration.gates]]\nmetric = \"error_rate\"\nmax = 0.05\ninterval_secs = 2\nmin_samples = 1000",
    );
    let mut c = Controller::new(&m, S);
    let plans = drive(&mut c, 0..10, |_| ok_obs(10));
    let w: Vec<f64> = plans.iter().map(|p| p.weight).collect();
    // Inconclusive at the end of epochs 1 and 3 hold; the third (end of
    // epoch 5) counts as a pass, and so do later ones.
    let expect = [0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6];
    for (a, b) in w.iter().zip(expect) {
        assert_close(*a, b);
    }
    let holds: Vec<bool> = c
        .records()
        .iter()
        .flat_map(|r| r.evaluations.iter().map(|e| e.holds))
        .collect();
    // evaluations at the end of epochs 1, 3, 5, 7, 9
    assert_eq!(holds, vec![true, true, false, false, false]);
}

#[test]
fn abort_after_budget_plus_one_failures_then_instant_rollback() {
    let m = mig(
        "schedule = { kind = \"linear\", step_percent = 10, every_secs = 5 }\n\
         [[migration.gates]]\nmetric = \"error_rate\"\nmax = 0.05\ninterval_secs = 10\nbudget = 2",
    );
    let mut c = Controller::new(&m, S);
    let plans = drive(&mut c, 0..40, bad_obs_100);
    let aborts: Vec<u64> = c
        .records()
        .iter()
        .filter(|r| matches!(r.decision, Decision::Abort { .. }))
        .map(|r| r.epoch)
        .collect();
    assert_eq!(aborts, vec![29], "third failure (budget 2) aborts");
    let a = *c.abort_info().unwrap();
    assert_eq!(a.at_us, 30 * S);
    assert_eq!(a.gate, 0);
    assert_eq!(a.metric, GateMetric::ErrorRate);
    assert_close(a.value, 0.1);
    assert_close(a.max, 0.05);
    assert_close(a.weight, 0.2); // first step is 10%, held ever since epoch 9
    assert!(
        plans[30..]
            .iter()
            .all(|p| p.weight == 0.0 && p.phase == Phase::RolledBack)
    );
    assert_eq!(c.phase(), Phase::RolledBack);
    // No evaluations after the abort.
    assert!(c.records()[30..].iter().all(|r| r.evaluations.is_empty()));
    assert_eq!(c.records()[35].decision, Decision::RollBack);
}

fn bad_obs_100(_: u64) -> Observation {
    bad_obs(100)
}

#[test]
fn gradual_rollback_steps_down() {
    let m = mig(
        "schedule = { kind = \"linear\", step_percent = 30, every_secs = 2 }\n\
         rollback = { kind = \"gradual\", step_percent = 10, every_secs = 3 }\n\
         [[migration.gates]]\nmetric = \"new_origin_error_rate\"\nmax = 0.05\ninterval_secs = 4\nmin_samples = 1",
    );
    let mut c = Controller::new(&m, S);
    let plans = drive(
        &mut c,
        0..20,
        |k| if k < 4 { ok_obs(40) } else { bad_obs(40) },
    );
    let w: Vec<f64> = plans.iter().map(|p| p.weight).collect();
    // 0.3 (0-1), 0.6 (2-3), 0.9 (4-5), 1 (6-7); fails at the end of epoch 7.
    let expect = [
        0.3, 0.3, 0.6, 0.6, 0.9, 0.9, 1.0, 1.0, // abort at 8 s
        0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.6, 0.6, 0.6,
    ];
    for (k, (a, b)) in w.iter().zip(expect).enumerate() {
        assert!(close(*a, b), "epoch {k}: {a} != {b}");
    }
    assert_eq!(plans[8].phase, Phase::RollingBack);
    let mut c2 = c.clone();
    let plans = drive(&mut c2, 20..40, |_| Observation::default());
    assert_close(plans[0].weight, 0.5);
    assert_eq!(plans[15].phase, Phase::RolledBack); // epoch 35: 1 - 10*0.1
    assert_eq!(plans[14].phase, Phase::RollingBack);
    assert_close(plans[14].weight, 0.1);
    assert!(plans[15..].iter().all(|p| p.weight == 0.0));
    assert_eq!(c2.kpis().outcome, "rolled_back");
    assert_eq!(c.kpis().outcome, "aborted");
}

fn latency_hist(values_us: &[(u64, u64)]) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).unwrap();
    for &(v, n) in values_us {
        h.record_n(v, n).unwrap();
    }
    h
}

#[test]
fn p99_gate_merges_histograms() {
    let m = mig("schedule = \"all_at_once\"\n\
         [[migration.gates]]\nmetric = \"p99_ms\"\nmax = 100\ninterval_secs = 2\nmin_samples = 10");
    let mut c = Controller::new(&m, S);
    // Epochs 0,1: 99 fast + 1 slow each => p99 is fast (20 ms).
    // Epochs 2,3: 95 fast + 5 slow (250 ms) => p99 250 ms -> fail.
    // Epochs 4,5: no histogram => inconclusive.
    drive(&mut c, 0..6, |k| {
        let latency = match k {
            0 | 1 => Some(latency_hist(&[(20_000, 99), (250_000, 1)])),
            2 | 3 => Some(latency_hist(&[(20_000, 95), (250_000, 5)])),
            _ => None,
        };
        Observation {
            requests: 100,
            latency,
            ..Observation::default()
        }
    });
    let e: Vec<&GateEvaluation> = c.records().iter().flat_map(|r| &r.evaluations).collect();
    assert_eq!(e.len(), 2, "no evaluations after the abort");
    assert_eq!(e[0].outcome, GateOutcome::Pass);
    assert!((e[0].value.unwrap() - 20.0).abs() < 0.1, "{:?}", e[0].value);
    assert_eq!(e[1].outcome, GateOutcome::Fail);
    assert!(
        (e[1].value.unwrap() - 250.0).abs() < 0.5,
        "{:?}",
        e[1].value
    );
    assert_eq!(e[1].samples, 200);
    assert_eq!(c.records()[3].decision, Decision::Abort { gate: 0 });
}

#[test]
fn hit_ratio_dip_against_pre_start_baseline() {
    let m = mig("start_secs = 2\nschedule = \"all_at_once\"\n\
         [[migration.gates]]\nmetric = \"hit_ratio_dip\"\nmax = 0.1\ninterval_secs = 1\nmin_samples = 1\nbudget = 10");
    let mut c = Controller::new(&m, S);
    let hits = [90, 90, 85, 70, 90];
    drive(&mut c, 0..5, |k| Observation {
        requests: 100,
        edge_hits: hits[k as usize],
        ..Observation::default()
    });
    let e: Vec<(GateOutcome, f64)> = c
        .records()
        .iter()
        .flat_map(|r| &r.evaluations)
        .map(|e| (e.outcome, e.value.unwrap()))
        .collect();
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].0, GateOutcome::Pass);
    assert_close(e[0].1, 0.05);
    assert_eq!(e[1].0, GateOutcome::Fail);
    assert_close(e[1].1, 0.2);
    assert_eq!(e[2].0, GateOutcome::Pass);
    assert_close(e[2].1, 0.0);
    let k = c.kpis();
    assert_close(k.baseline_hit_ratio.unwrap(), 0.9);
    assert_close(k.hit_ratio_dip_depth.unwrap(), 0.2);
    assert_close(k.hit_ratio_dip_area.unwrap(), 0.25);
}

#[test]
fn hit_ratio_dip_without_pre_start_uses_first_interval() {
    let m = mig("schedule = \"all_at_once\"\n\
         [[migration.gates]]\nmetric = \"hit_ratio_dip\"\nmax = 0.1\ninterval_secs = 1\nmin_samples = 1\nbudget = 10");
    let mut c = Controller::new(&m, S);
    let hits = [80, 60];
    drive(&mut c, 0..2, |k| Observation {
        requests: 100,
        edge_hits: hits[k as usize],
        ..Observation::default()
    });
    let e: Vec<f64> = c
        .records()
        .iter()
        .flat_map(|r| &r.evaluations)
        .map(|e| e.value.unwrap())
        .collect();
    assert_close(e[0], 0.0);
    assert_close(e[1], 0.2);
    assert_close(c.kpis().baseline_hit_ratio.unwrap(), 0.8);
}

// ------------------------------------------------------------------ KPIs

#[test]
fn kpis_on_a_hand_built_run() {
    let m = mig(
        "start_secs = 2\nschedule = { kind = \"linear\", step_percent = 50, every_secs = 2 }\n\
         [[migration.gates]]\nmetric = \"new_origin_error_rate\"\nmax = 0.05\ninterval_secs = 2\nmin_samples = 10",
    );
    let mut c = Controller::new(&m, S);
    let obs = [
        // e0, e1: before start
        Observation {
            requests: 100,
            edge_hits: 80,
            old_fetches: 20,
            served_from_old: 100,
            origin_bytes: 1000,
            ..Observation::default()
        },
        Observation {
            requests: 100,
            edge_hits: 80,
            old_fetches: 20,
            served_from_old: 100,
            origin_bytes: 1000,
            ..Observation::default()
        },
        // e2: 50%, first new-origin error
        Observation {
            requests: 100,
            edge_hits: 60,
            status_5xx: 1,
            old_fetches: 20,
            new_fetches: 20,
            new_errors: 1,
            served_from_new: 50,
            served_from_old: 50,
            origin_bytes: 2000,
            viewers_exposed_to_errors: 1,
            ..Observation::default()
        },
        // e3: more errors -> gate fails at 4 s (5/40 = 0.125 > 0.05)
        Observation {
            requests: 100,
            edge_hits: 70,
            status_5xx: 4,
            old_fetches: 10,
            new_fetches: 20,
            new_errors: 4,
            new_503: 4,
            served_from_new: 50,
            served_from_old: 50,
            origin_bytes: 1500,
            viewers_exposed_to_errors: 3,
            ..Observation::default()
        },
        // e4: rolled back, cached tail from new
        Observation {
            requests: 100,
            edge_hits: 75,
            old_fetches: 25,
            served_from_new: 10,
            served_from_old: 90,
            origin_bytes: 1200,
            ..Observation::default()
        },
        // e5
        Observation {
            requests: 100,
            edge_hits: 80,
            old_fetches: 20,
            served_from_old: 100,
            origin_bytes: 1000,
            ..Observation::default()
        },
    ];
    let plans = drive(&mut c, 0..6, |k| obs[k as usize].clone());
    let w: Vec<f64> = plans.iter().map(|p| p.weight).collect();
    assert_eq!(w, vec![0.0, 0.0, 0.5, 0.5, 0.0, 0.0]);
    let k = c.kpis();
    assert_eq!(k.strategy, "linear 50% every 2 s, split object_hash");
    assert_eq!(k.outcome, "rolled_back");
    assert_eq!(k.time_to_full_secs, None);
    assert_eq!(k.time_to_realised_full_secs, None);
    assert_close(k.peak_new_origin_rps, 20.0);
    assert_close(k.peak_old_origin_rps, 25.0);
    assert_eq!(k.total_origin_bytes, 7700);
    assert_close(k.baseline_hit_ratio.unwrap(), 0.8);
    assert_close(k.hit_ratio_dip_depth.unwrap(), 0.2);
    assert_close(k.hit_ratio_dip_area.unwrap(), 0.35);
    assert_eq!(k.error_responses, 5);
    assert_eq!(k.viewers_exposed_to_errors, 4);
    let a = k.abort.clone().unwrap();
    assert_close(a.at_secs, 4.0);
    assert_eq!(a.gate, 0);
    assert_eq!(a.metric, GateMetric::NewOriginErrorRate);
    assert_close(a.value, 0.125);
    assert_close(a.max, 0.05);
    assert_eq!(k.time_to_detect_secs, Some(1.0));
    assert_eq!(k.time_to_rollback_secs, Some(1.0));
    assert_eq!(k.final_planned_weight, 0.0);
    assert_eq!(k.final_realised_fetch_share, 0.0);
    assert_eq!(k.final_realised_served_share, 0.0);
    // per-epoch series
    let r = &c.records()[2];
    assert_eq!((r.start_us, r.end_us), (2 * S, 3 * S));
    assert_close(r.realised_fetch_share, 0.5);
    assert_close(r.realised_served_share, 0.5);
    assert_close(c.records()[4].realised_served_share, 0.1);
    // JSON shape: Options as null, outcome string.
    let j = serde_json::to_value(&k).unwrap();
    assert!(j["time_to_full_secs"].is_null());
    assert_eq!(j["abort"]["metric"], "new_origin_error_rate");
    assert_eq!(j["outcome"], "rolled_back");
}

#[test]
fn kpis_for_a_completed_run() {
    let m = mig("start_secs = 1\nschedule = { kind = \"canary\", percent = 10, hold_secs = 2 }");
    let mut c = Controller::new(&m, S);
    let served_new = [0, 10, 10, 95, 99, 100];
    drive(&mut c, 0..6, |k| Observation {
        requests: 100,
        edge_hits: 90,
        served_from_new: served_new[k as usize],
        served_from_old: 100 - served_new[k as usize],
        new_fetches: served_new[k as usize] / 10,
        old_fetches: (100 - served_new[k as usize]) / 10,
        ..Observation::default()
    });
    let k = c.kpis();
    assert_eq!(k.outcome, "completed");
    assert_eq!(k.time_to_full_secs, Some(3.0));
    assert_eq!(k.time_to_realised_full_secs, Some(5.0));
    assert_eq!(k.abort, None);
    assert_eq!(k.time_to_detect_secs, None);
    assert_eq!(k.time_to_rollback_secs, None);
    assert_eq!(k.hit_ratio_dip_depth, Some(0.0));
    assert_eq!(k.final_planned_weight, 1.0);
    assert_close(k.final_realised_fetch_share, 1.0);
    // Epoch 0 (10 old fetches/s) is before the start and not counted.
    assert_close(k.peak_old_origin_rps, 9.0);
    assert_eq!(k.strategy, "canary 10% for 2 s, split object_hash");
}

#[test]
fn zero_epoch_and_out_of_order_calls_do_not_panic() {
    let m = mig(
        "schedule = \"all_at_once\"\n[[migration.gates]]\nmetric = \"error_rate\"\nmax = 0\nmin_samples = 0\ninterval_secs = 0.0000001",
    );
    let mut c = Controller::new(&m, 0);
    c.observe(5, &Observation::default());
    c.plan(u64::MAX);
    c.observe(u64::MAX, &bad_obs(10));
    c.observe(3, &bad_obs(10));
    let _ = c.kpis();
}

// -------------------------------------------------------------- proptest

fn schedule_strategy() -> impl Strategy<Value = RawScheduleKind> {
    prop_oneof![
        (0.5f64..=100.0, 0.5f64..120.0).prop_map(|(step_percent, every_secs)| {
            RawScheduleKind::Linear {
                step_percent,
                every_secs,
            }
        }),
        (0.1f64..=100.0, 1.05f64..4.0, 0.5f64..120.0).prop_map(
            |(start_percent, factor, every_secs)| RawScheduleKind::Exponential {
                start_percent,
                factor,
                every_secs,
            }
        ),
        proptest::collection::vec((0.0f64..=100.0, 0.5f64..60.0), 1..8).prop_map(|mut v| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let n = v.len();
            RawScheduleKind::Steps {
                steps: v
                    .into_iter()
                    .enumerate()
                    .map(|(i, (percent, hold))| RawStep {
                        percent,
                        hold_secs: (i + 1 < n).then_some(hold),
                    })
                    .collect(),
            }
        }),
    ]
}

proptest! {
    #[test]
    fn weight_is_monotone_and_bounded_while_no_gate_fails(
        kind in schedule_strategy(),
        start_secs in 0.0f64..30.0,
        epoch_ms in 100u64..5_000,
        traffic in proptest::collection::vec(0u64..300, 1..400),
    ) {
        let raw = RawMigration {
            from: "a".into(),
            to: "b".into(),
            split: SplitKey::ObjectHash,
            sticky: None,
            start_secs,
            promote_at_secs: None,
            schedule: RawSchedule::Table(kind),
            rollback: RawRollback::default(),
            gates: vec![RawGate {
                metric: GateMetric::ErrorRate,
                max: 0.01,
                interval_secs: 7.0,
                min_samples: 100,
                budget: 0,
            }],
        };
        let m = Migration::from_raw(&raw).unwrap();
        let mut c = Controller::new(&m, epoch_ms * 1000);
        let mut prev = 0.0f64;
        for (k, &req) in traffic.iter().enumerate() {
            let k = k as u64;
            let p = c.plan(k);
            prop_assert!(p.weight >= prev, "epoch {}: {} < {}", k, p.weight, prev);
            prop_assert!((0.0..=1.0).contains(&p.weight));
            prev = p.weight;
            c.observe(k, &ok_obs(req));
        }
        prop_assert!(c.abort_info().is_none());
    }
}
