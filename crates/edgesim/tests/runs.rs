//! Report directories under failing, concurrent and interrupted runs: the
//! previous report stays until a complete new one replaces it; a failed
//! or interrupted run keeps its epochs in `OUT.partial/` and says how to
//! make a report of them; two runs never share a directory; a rebuild
//! never passes a less complete report off as the one it replaces.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{BIN, LONG, edgesim, start_agent, stderr};

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("long.toml"), LONG).unwrap();
    let short = LONG.replace("duration_secs = 3000", "duration_secs = 30");
    std::fs::write(dir.path().join("short.toml"), short).unwrap();
    dir
}

/// Starts `edgesim run long.toml --out out ARGS` in `dir`; returns it once
/// it has reported its first 10%.
fn start_long(dir: &Path, args: &[&str]) -> (Child, BufReader<ChildStderr>) {
    let agents: &[&str] = if args.contains(&"--connect") {
        &[]
    } else {
        &["--agents", "1"]
    };
    let mut run = Command::new(BIN)
        .args(["run", "long.toml", "--out", "out"])
        .args(agents)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(run.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("[ 10%]"), "expected progress, got {first:?}");
    (run, err)
}

fn short_run(dir: &Path) -> std::process::Output {
    edgesim(
        dir,
        &["run", "short.toml", "--out", "out", "--agents", "1", "-q"],
    )
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn summary_of(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_failed_run_leaves_the_previous_report_untouched() {
    let dir = setup();
    let o = short_run(dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(dir.path().join("out/summary.json")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = edgesim(
        dir.path(),
        &[
            "run",
            "short.toml",
            "--out",
            "out",
            "--connect",
            &format!("127.0.0.1:{port}"),
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("the previous report in out is untouched"),
        "{}",
        stderr(&o)
    );
    assert!(std::fs::read(dir.path().join("out/summary.json")).unwrap() == before);
    assert_eq!(listing(dir.path()), ["long.toml", "out", "short.toml"]);
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_keeps_the_old_report_and_says_how_to_make_one_of_its_epochs() {
    for (sig, code) in [("-INT", 130), ("-TERM", 143)] {
        let dir = setup();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("summary.json"), "the previous report").unwrap();
        let (mut run, err) = start_long(dir.path(), &[]);
        signal(&run, sig);
        let started = Instant::now();
        let status = run.wait().unwrap();
        let mut rest = String::new();
        BufReader::new(err).read_to_string(&mut rest).unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "{sig}");
        assert_eq!(status.code(), Some(code), "{sig}: {rest}");
        assert!(
            rest.contains("run interrupted by SIG")
                && rest.contains("the previous report in out is untouched")
                && rest.contains("`edgesim report out.partial --rebuild`"),
            "{sig}: {rest}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("summary.json")).unwrap(),
            "the previous report"
        );
        assert_eq!(listing(&out), ["summary.json"]);
        let o = edgesim(dir.path(), &["report", "out.partial", "--rebuild"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let s = summary_of(&dir.path().join("out.partial/summary.json"));
        assert_eq!(s["complete"], false);
        assert!(s["epochs"].as_u64().unwrap() >= 3_000, "{sig}");
        assert_eq!(
            listing(dir.path()),
            ["long.toml", "out", "out.partial", "short.toml"],
            "no agent, lock or staging left"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_second_run_on_a_directory_in_use_is_refused_and_a_crash_frees_it() {
    let dir = setup();
    let (mut first, _err) = start_long(dir.path(), &[]);
    let started = Instant::now();
    let second = short_run(dir.path());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    assert!(!second.status.success());
    let err = stderr(&second);
    assert!(
        err.contains("out is in use by another edgesim")
            && err.contains(&format!("pid {}", first.id()))
            && err.contains("run long.toml --out out"),
        "{err}"
    );
    // A run killed with -9 leaves no lock behind.
    first.kill().unwrap();
    first.wait().unwrap();
    let third = short_run(dir.path());
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(
        stderr(&third).contains("note: replacing out.partial"),
        "{}",
        stderr(&third)
    );
    assert_eq!(
        summary_of(&dir.path().join("out/summary.json"))["complete"],
        true
    );
    assert_eq!(listing(dir.path()), ["long.toml", "out", "short.toml"]);
}

#[test]
fn a_rebuild_never_replaces_a_report_with_a_less_complete_one_nor_reads_past_corruption() {
    let dir = setup();
    let o = short_run(dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    let log = std::fs::read(out.join("epochs.log")).unwrap();
    let before = std::fs::read(out.join("summary.json")).unwrap();

    // Cut in the middle: a torn tail, fewer epochs than the report has.
    std::fs::write(out.join("epochs.log"), &log[..log.len() / 2]).unwrap();
    let o = edgesim(dir.path(), &["report", "out", "--rebuild"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("refusing to replace the report in out (300 epochs, complete)")
            && err.contains("epochs, incomplete)")
            && err.contains("--force"),
        "{err}"
    );
    assert!(std::fs::read(out.join("summary.json")).unwrap() == before);
    let o = edgesim(dir.path(), &["report", "out", "--rebuild", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = summary_of(&out.join("summary.json"));
    assert_eq!(s["complete"], false);
    let kept = s["epochs"].as_u64().unwrap();
    assert!((100..300).contains(&kept), "{kept}");

    // A byte flipped in the middle: corruption, named, not a torn tail.
    let mut damaged = log.clone();
    let at = log.len() / 2;
    damaged[at] ^= 0x55;
    std::fs::write(out.join("epochs.log"), &damaged).unwrap();
    let o = edgesim(dir.path(), &["report", "out", "--rebuild"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("is corrupt")
            && err.contains("the record of epoch")
            && err.contains("at byte"),
        "{err}"
    );
    assert!(err.contains("--rebuild --force"), "{err}");

    // The whole log rebuilds the original byte for byte.
    std::fs::write(out.join("epochs.log"), &log).unwrap();
    let o = edgesim(dir.path(), &["report", "out", "--rebuild"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(out.join("summary.json")).unwrap() == before);
}

#[test]
fn an_aborted_run_does_not_replace_a_report_with_its_incomplete_one() {
    let dir = setup();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("summary.json"), "the previous report").unwrap();
    let (mut agent, addr) = start_agent();
    let (mut run, err) = start_long(dir.path(), &["--connect", &addr]);
    agent.kill().unwrap();
    agent.wait().unwrap();
    let status = run.wait().unwrap();
    let mut rest = String::new();
    BufReader::new(err).read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(
        rest.contains("marked incomplete, is in out.partial")
            && rest.contains("the previous report in out is untouched"),
        "{rest}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("summary.json")).unwrap(),
        "the previous report"
    );
    let s = summary_of(&dir.path().join("out.partial/summary.json"));
    assert_eq!(s["complete"], false);
}
