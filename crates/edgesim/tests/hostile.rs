//! Hostile input against the real binary: every scenario of the corpus in
//! `tests/hostile/scenarios/` has its expected exit status and messages
//! (`tests/hostile/expected.toml`); inputs too large to commit (400,000
//! PoPs, a 10 MB line, a gzip bomb, `/dev/zero`) are made at run time.
//! Each command runs under a virtual-memory cap (`ulimit -v`) and a time
//! budget, so a reader that tried to hold its whole input would fail here.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

/// Virtual memory a command may map, KiB (debug binary, threads included).
const MEMORY_CAP_KIB: u64 = 1 << 20;
/// Wall time a refusal may take.
const TIME_BUDGET: Duration = Duration::from_secs(20);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// Runs `edgesim ARGS` in `dir` under the memory cap, checking the time.
fn capped(dir: &Path, args: &[&str]) -> Output {
    let started = Instant::now();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_CAP_KIB} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    assert!(
        started.elapsed() < TIME_BUDGET,
        "edgesim {args:?} took {:?}",
        started.elapsed()
    );
    o
}

/// Stderr and stdout as text, after checking that they are fit for a
/// terminal: no panic, no raw control bytes, no endless lines.
fn outputs(o: &Output, what: &str) -> (String, String) {
    for stream in [&o.stdout, &o.stderr] {
        assert!(
            !stream.iter().any(|&b| b < 0x20 && b != b'\n' || b == 0x7f),
            "{what}: raw control bytes in the output: {:?}",
            String::from_utf8_lossy(stream)
        );
        for line in String::from_utf8_lossy(stream).lines() {
            assert!(
                line.chars().count() <= 1000,
                "{what}: a line of {} characters",
                line.len()
            );
        }
    }
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{what}: {err}");
    (err, String::from_utf8_lossy(&o.stdout).into_owned())
}

#[derive(serde::Deserialize)]
struct Manifest {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    exit: i32,
    #[serde(default)]
    stderr: Vec<String>,
    #[serde(default)]
    stdout: Vec<String>,
}

#[test]
fn every_hostile_scenario_has_its_expected_outcome() {
    let dir = corpus().join("scenarios");
    let manifest: Manifest =
        toml::from_str(&std::fs::read_to_string(corpus().join("expected.toml")).unwrap()).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = manifest.case.iter().map(|c| c.file.clone()).collect();
    listed.sort();
    assert_eq!(files, listed, "every corpus file needs exactly one entry");
    for case in &manifest.case {
        let o = capped(&dir, &["validate", &case.file]);
        let (err, out) = outputs(&o, &case.file);
        assert_eq!(
            o.status.code(),
            Some(case.exit),
            "{}: stderr:\n{err}\nstdout:\n{out}",
            case.file
        );
        for want in &case.stderr {
            assert!(
                err.contains(want),
                "{}: wanted {want:?} in:\n{err}",
                case.file
            );
        }
        for want in &case.stdout {
            assert!(
                out.contains(want),
                "{}: wanted {want:?} in:\n{out}",
                case.file
            );
        }
    }
}

/// The corpus's valid scenario with `pops` entries instead of its own.
fn with_pops(entries: &str) -> String {
    let base = std::fs::read_to_string(corpus().join("scenarios/valid.toml")).unwrap();
    let base = base.replace(
        "[[pops]]\nid = \"fra\"\ncity = \"FRA\"\ncache_bytes = \"1GiB\"\n",
        "",
    );
    format!("{entries}\n{base}")
}

#[test]
fn generated_hostile_scenarios_are_refused_quickly_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    let refused = |name: &str, want: &str| {
        let o = capped(dir.path(), &["validate", name]);
        let (err, _) = outputs(&o, name);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(want), "{name}: wanted {want:?} in:\n{err}");
        err
    };

    // 400,000 PoPs: 19 MB, refused by size before it is parsed.
    let pops: String = (0..400_000)
        .map(|i| format!("[[pops]]\nid = \"p{i}\"\ncity = \"FRA\"\ncache_bytes = 1\n"))
        .collect();
    write("400k-pops.toml", &with_pops(&pops));
    refused(
        "400k-pops.toml",
        "400k-pops.toml: is larger than 1048576 bytes, the limit for a scenario file",
    );

    // 20,000 PoPs written inline fit in 1 MiB: counted before validation.
    let inline: Vec<String> = (0..20_000)
        .map(|i| format!("{{id=\"p{i}\",city=\"FRA\",cache_bytes=1}}"))
        .collect();
    write(
        "20k-pops.toml",
        &with_pops(&format!("pops = [{}]", inline.join(","))),
    );
    refused(
        "20k-pops.toml",
        "20k-pops.toml:1:8: pops: pops has 20000 entries, more than the limit of 5000 (--no-limits lifts the limits)",
    );

    // A 10 MB line.
    write("10mb-line.toml", &format!("# {}\n", "x".repeat(10 << 20)));
    refused("10mb-line.toml", "is larger than 1048576 bytes");

    // A long value is quoted cut, not whole.
    write(
        "long-name.toml",
        &with_pops(&format!(
            "name = \"{}/\"\n[[pops]]\nid = \"fra\"\ncity = \"FRA\"\ncache_bytes = 1\n",
            "n".repeat(500_000)
        )),
    );
    let err = refused("long-name.toml", "long-name.toml:1:8: name \"nnnn");
    assert!(err.contains('…'), "{err}");

    // 300 variants, each of which would be validated as a whole scenario.
    let variants: String = (0..300)
        .map(|i| {
            format!(
                "[[variants]]\nname = \"v{i}\"\nset = {{ \"viewers.requests_per_sec\" = {i} }}\n"
            )
        })
        .collect();
    write(
        "300-variants.toml",
        &with_pops(&format!(
            "[[pops]]\nid = \"fra\"\ncity = \"FRA\"\ncache_bytes = 1\n\n{variants}"
        )),
    );
    refused(
        "300-variants.toml",
        "variants has 300 entries, more than the limit of 256",
    );

    // Thousands of unknown keys: the schema stage stops at 100 problems.
    let junk: String = (0..5_000).map(|i| format!("junk{i} = {i}\n")).collect();
    write(
        "5000-unknown-keys.toml",
        &with_pops(&format!(
            "{junk}[[pops]]\nid = \"fra\"\ncity = \"FRA\"\ncache_bytes = 1\n"
        )),
    );
    let err = refused(
        "5000-unknown-keys.toml",
        "5000-unknown-keys.toml:1:1: unknown field `junk0`",
    );
    assert_eq!(err.lines().count(), 100, "{err}");
}

#[test]
fn no_limits_lifts_the_limits() {
    let dir = corpus().join("scenarios");
    let o = capped(&dir, &["validate", "--no-limits", "huge-rate.toml"]);
    let (err, out) = outputs(&o, "huge-rate --no-limits");
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("huge-rate.toml: estimate: 6.0e13 requests (busiest epoch 1.0e12)"),
        "{out}"
    );
    // A name that escapes reports/ is not a limit: --no-limits keeps it out.
    let o = capped(&dir, &["validate", "--no-limits", "traversal-name.toml"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn run_refuses_before_anything_starts_and_leaves_no_report() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "huge-rate.toml",
        "huge-duration.toml",
        "traversal-name.toml",
    ] {
        std::fs::copy(corpus().join("scenarios").join(file), dir.path().join(file)).unwrap();
        let o = capped(dir.path(), &["run", file, "--agents", "1", "-q"]);
        let (err, _) = outputs(&o, file);
        assert_eq!(o.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains("nothing was run"), "{file}: {err}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| !n.to_string_lossy().ends_with(".toml"))
            .collect();
        assert!(left.is_empty(), "{file} left {left:?}");
    }
    assert!(!dir.path().parent().unwrap().join("escaped").exists());

    // compare and sweep check every run before the first.
    std::fs::copy(
        corpus().join("scenarios/valid.toml"),
        dir.path().join("valid.toml"),
    )
    .unwrap();
    for args in [
        &["compare", "huge-rate.toml", "--agents", "1", "-q"][..],
        &[
            "compare",
            "valid.toml",
            "huge-duration.toml",
            "--agents",
            "1",
            "-q",
        ],
        &[
            "sweep",
            "valid.toml",
            "--vary",
            "viewers.requests_per_sec=100,1e12",
            "--agents",
            "1",
            "-q",
        ],
    ] {
        let o = capped(dir.path(), args);
        let (err, _) = outputs(&o, &format!("{args:?}"));
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("more than the limit of"), "{args:?}: {err}");
        assert!(!dir.path().join("reports").exists(), "{args:?}");
    }
}

#[test]
fn overrides_on_a_file_that_is_not_toml_report_its_problems_with_places() {
    let dir = corpus().join("scenarios");
    let o = capped(
        &dir,
        &[
            "validate",
            "--set",
            "viewers.requests_per_sec=5",
            "duplicate-keys.toml",
        ],
    );
    let (err, _) = outputs(&o, "--set on duplicate keys");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("duplicate-keys.toml:4:1: simulation: duplicate key"),
        "{err}"
    );
}

#[test]
fn log_trace_and_trigger_readers_refuse_endless_and_overlong_input() {
    let dir = tempfile::tempdir().unwrap();
    let failed = |args: &[&str], code: i32, want: &str| {
        let o = capped(dir.path(), args);
        let (err, _) = outputs(&o, &format!("{args:?}"));
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in:\n{err}");
    };
    failed(
        &["workload", "from-logs", "/dev/zero"],
        1,
        "/dev/zero:1: line is longer than 65536 bytes",
    );
    // A gzip bomb: 200 MB of one line in 200 KB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..200 {
        gz.write_all(&chunk).unwrap();
    }
    std::fs::write(dir.path().join("bomb.log.gz"), gz.finish().unwrap()).unwrap();
    failed(
        &["workload", "from-logs", "bomb.log.gz"],
        1,
        "bomb.log.gz:1: line is longer than 65536 bytes",
    );
    // A log whose second line is 100 KB.
    let mut log = edgesim_model::cflog::standard_header();
    log.push_str(&"x".repeat(100_000));
    log.push('\n');
    std::fs::write(dir.path().join("long.log"), &log).unwrap();
    failed(
        &["workload", "from-logs", "long.log"],
        1,
        "long.log:3: line is longer than 65536 bytes",
    );
    std::fs::write(dir.path().join("long.csv"), "7".repeat(100_000)).unwrap();
    failed(
        &[
            "replay",
            "long.csv",
            "--format",
            "csv",
            "--cache-size",
            "1MiB",
        ],
        1,
        "long.csv:1: line is longer than 65536 bytes",
    );
    failed(
        &[
            "replay",
            "long.log",
            "--format",
            "cloudfront-log",
            "--cache-size",
            "1MiB",
        ],
        1,
        "long.log:3: line is longer than 65536 bytes",
    );
    for format in ["csv", "cloudfront-log"] {
        failed(
            &[
                "replay",
                "bomb.log.gz",
                "--format",
                format,
                "--cache-size",
                "1MiB",
            ],
            1,
            "bomb.log.gz:1: line is longer than 65536 bytes",
        );
    }
    failed(
        &["trigger", "test", "/dev/zero", "--stage", "viewer-request"],
        2,
        "cannot read /dev/zero: is larger than 52428800 bytes, the limit for a handler source",
    );
    std::fs::write(
        dir.path().join("h.js"),
        "exports.handler = async (e) => e.Records[0].cf.request;\n",
    )
    .unwrap();
    failed(
        &["trigger", "test", "h.js", "--event", "/dev/zero"],
        2,
        "cannot read /dev/zero: is larger than 4194304 bytes, the limit for an event file",
    );
    failed(
        &[
            "trigger",
            "test",
            "h.js",
            "--stage",
            "viewer-request",
            "--body",
            "/dev/zero",
        ],
        2,
        "cannot read /dev/zero: is larger than 4194304 bytes, the limit for a body file",
    );
    // A key the event quotes back is escaped.
    std::fs::write(
        dir.path().join("ev.json"),
        r#"{"Records":[{"cf":{"config":{"eventType":"\u001b[2Jevil"}}}]}"#,
    )
    .unwrap();
    failed(
        &["trigger", "test", "h.js", "--event", "ev.json"],
        2,
        "ev.json: not a CloudFront event: unknown variant `\\x1b[2Jevil`",
    );
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = corpus().join("scenarios");
    // Enough output to fill any pipe buffer: the writes must meet the
    // closed pipe.
    let files = vec!["valid.toml"; 2_000];
    let mut child = Command::new(BIN)
        .arg("validate")
        .args(&files)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(o.status.signal(), Some(13), "{:?}", o.status);

    // `run` keeps SIGPIPE ignored (its sockets need it): it ends with the
    // shell's status for a closed pipe, after writing its report.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("valid.toml"), tmp.path().join("valid.toml")).unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "valid.toml", "--agents", "1", "-q", "--out", "out"])
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.is_empty(), "{err}");
    assert_eq!(o.status.code(), Some(141), "{:?}", o.status);
    assert!(tmp.path().join("out/summary.json").exists());
}
