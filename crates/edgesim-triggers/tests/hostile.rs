//! Runs every handler of the hostile corpus (`tests/hostile/*.js` and `*.py`) once and checks
//! the exact outcome its header comments promise (see `tests/hostile/README.md`). Each must end
//! by itself, within its budget of counted work: a handler that escaped it would hang this test.

use std::path::{Path, PathBuf};

use edgesim_triggers::Stage;
use edgesim_triggers::testing::{EventSpec, TestOptions, build_event, run_script};

/// What a corpus file's header asks for.
#[derive(Debug, Default)]
struct Expect {
    stage: Option<String>,
    timeout_ms: Option<u64>,
    outcome: String,
    status: Option<u16>,
    logs: Option<usize>,
    log_contains: Vec<String>,
    message_contains: Vec<String>,
    duration_at_least_ms: Option<f64>,
    duration_at_most_ms: Option<f64>,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

fn parse_header(path: &Path, source: &str) -> Expect {
    let mut e = Expect::default();
    for line in source.lines() {
        let Some(comment) = line.strip_prefix("// ").or_else(|| line.strip_prefix("# ")) else {
            break;
        };
        let Some((key, value)) = comment.split_once(": ") else {
            continue;
        };
        let value = value.trim().to_string();
        let number = |v: &str| -> f64 {
            v.parse()
                .unwrap_or_else(|_| panic!("{}: `{key}` is not a number", path.display()))
        };
        match key {
            "stage" => e.stage = Some(value),
            "timeout-ms" => e.timeout_ms = Some(number(&value) as u64),
            "expect" => e.outcome = value,
            "status" => e.status = Some(number(&value) as u16),
            "logs" => e.logs = Some(number(&value) as usize),
            "log-contains" => e.log_contains.push(value),
            "message-contains" => e.message_contains.push(value),
            "duration-at-least-ms" => e.duration_at_least_ms = Some(number(&value)),
            "duration-at-most-ms" => e.duration_at_most_ms = Some(number(&value)),
            _ => {}
        }
    }
    assert!(
        !e.outcome.is_empty(),
        "{}: no `// expect:` line",
        path.display()
    );
    e
}

fn check(path: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let expect = parse_header(path, &source);
    let stage = match expect.stage.as_deref() {
        None => Stage::ViewerRequest,
        Some(name) => name
            .parse::<Stage>()
            .map_err(|_| format!("unknown stage {name}"))?,
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let event = build_event(stage, &EventSpec::default());
    let options = TestOptions {
        timeout_ms: expect.timeout_ms,
        now_ms: 1_700_000_000_000,
        seed: 1,
        ..Default::default()
    };
    let report = match run_script(name, &source, None, None, stage, &event, &options) {
        Ok(report) => report,
        Err(errors) => {
            let text = errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            if expect.outcome != "load-error" {
                return Err(format!("refused at load: {text}"));
            }
            for want in &expect.message_contains {
                if !text.contains(want.as_str()) {
                    return Err(format!("load error `{text}` lacks `{want}`"));
                }
            }
            return Ok(());
        }
    };
    let mut problems = Vec::new();
    let result = report.result.to_string();
    for want in &expect.message_contains {
        if !result.contains(want.as_str()) {
            problems.push(format!("result `{result}` lacks `{want}`"));
        }
    }
    if report.outcome != expect.outcome {
        problems.push(format!(
            "outcome {} (expected {}): {}",
            report.outcome, expect.outcome, report.result
        ));
    }
    if let Some(status) = expect.status
        && report.viewer_status != Some(status)
    {
        problems.push(format!(
            "viewer status {:?} (expected {status})",
            report.viewer_status
        ));
    }
    if let Some(n) = expect.logs
        && report.logs.len() != n
    {
        problems.push(format!(
            "{} console lines (expected {n})",
            report.logs.len()
        ));
    }
    for want in &expect.log_contains {
        if !report.logs.iter().any(|l| l.contains(want.as_str())) {
            let last = report
                .logs
                .last()
                .map(|l| l.chars().take(200).collect::<String>());
            problems.push(format!(
                "no console line contains `{want}` (last: {last:?})"
            ));
        }
    }
    let kept: usize = report.logs.iter().map(|l| l.len()).sum();
    if kept > 256 * 1024 + 1024 {
        problems.push(format!("{kept} bytes of console output kept"));
    }
    if let Some(min) = expect.duration_at_least_ms
        && report.duration_ms < min
    {
        problems.push(format!("ran {} ms (expected >= {min})", report.duration_ms));
    }
    if let Some(max) = expect.duration_at_most_ms
        && report.duration_ms > max
    {
        problems.push(format!("ran {} ms (expected <= {max})", report.duration_ms));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn every_hostile_handler_ends_as_promised() {
    run_corpus("js");
}

/// The Python corpus (needs python3 or EDGESIM_PYTHON, as CI has).
#[test]
fn every_hostile_python_handler_ends_as_promised() {
    run_corpus("py");
}

/// The same hostile Python handlers give the same report every time, in a fresh worker or a
/// warm one.
#[test]
fn hostile_python_outcomes_are_deterministic() {
    for name in [
        "busy-loop.py",
        "print-flood.py",
        "memory-bomb.py",
        "sleep-short.py",
        "catastrophic-regex.py",
        "regex-scan-loop.py",
        "sum-range.py",
        "sorted-huge.py",
        "endless-iterator.py",
    ] {
        let path = corpus_dir().join(name);
        let source = std::fs::read_to_string(&path).unwrap();
        let expect = parse_header(&path, &source);
        let event = build_event(Stage::ViewerRequest, &EventSpec::default());
        let options = TestOptions {
            timeout_ms: expect.timeout_ms,
            ..Default::default()
        };
        let first = run_script(
            name,
            &source,
            None,
            None,
            Stage::ViewerRequest,
            &event,
            &options,
        )
        .unwrap();
        let second = run_script(
            name,
            &source,
            None,
            None,
            Stage::ViewerRequest,
            &event,
            &options,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&first).unwrap(),
            serde_json::to_string(&second).unwrap(),
            "{name}"
        );
    }
}

fn run_corpus(extension: &str) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus has {} handlers", files.len());
    // `EDGESIM_HOSTILE_ONLY=busy-loop cargo test --test hostile` runs the files whose name
    // contains the text.
    if let Ok(only) = std::env::var("EDGESIM_HOSTILE_ONLY") {
        files.retain(|p| p.to_string_lossy().contains(only.as_str()));
    }
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| {
            check(p)
                .err()
                .map(|e| format!("{}: {e}", p.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
