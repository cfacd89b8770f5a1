//! Agent and coordinator failures from the command line: an agent killed
//! or frozen mid-run (abort keeps the completed epochs in a report marked
//! incomplete; reassign finishes on the survivors), and a killed
//! coordinator whose report is rebuilt from its epoch log.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

mod common;

use common::{BIN, LONG, start_agent, start_agent_with};

/// Starts `edgesim run` on LONG in `dir` and returns it once it has
/// reported its first 10% of progress (its stderr is handed back).
fn start_run(dir: &Path, args: &[&str]) -> (Child, BufReader<std::process::ChildStderr>) {
    start_run_of(dir, LONG, args)
}

/// [`start_run`] of another scenario text.
fn start_run_of(
    dir: &Path,
    text: &str,
    args: &[&str],
) -> (Child, BufReader<std::process::ChildStderr>) {
    std::fs::write(dir.join("long.toml"), text).unwrap();
    let mut run = Command::new(BIN)
        .args(["run", "long.toml", "--out", "out"])
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

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap()
}

fn rest(mut err: BufReader<std::process::ChildStderr>) -> String {
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    rest
}

#[test]
fn a_killed_agent_aborts_with_the_completed_epochs_in_an_incomplete_report() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, addr) = start_agent();
    let (mut run, err) = start_run(dir.path(), &["--connect", &addr]);
    agent.kill().unwrap();
    agent.wait().unwrap();
    let status = run.wait().unwrap();
    let rest = rest(err);
    assert!(!status.success());
    assert!(
        rest.contains(&format!("agent #0 ({addr})")) && rest.contains("failed at epoch"),
        "{rest}"
    );
    assert!(rest.contains("run aborted after"), "{rest}");
    let s = summary(dir.path());
    assert_eq!(s["complete"], false);
    let epochs = s["epochs"].as_u64().unwrap();
    assert!((3_000..30_000).contains(&epochs), "{epochs}");
    assert_eq!(s["timeseries"].as_array().unwrap().len() as u64, epochs);
    let incident = &s["incidents"][0];
    assert_eq!(incident["action"], "aborted");
    assert_eq!(incident["epoch"].as_u64().unwrap(), epochs);
    assert_eq!(
        incident["regions"],
        serde_json::json!(["ap-southeast-1", "eu-central-1", "us-east-1"])
    );
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(html.contains("Incomplete run"), "the page says so");

    // The epoch log rebuilds the same summary, byte for byte.
    let before = std::fs::read(dir.path().join("out/summary.json")).unwrap();
    let o = Command::new(BIN)
        .args(["report", "out", "--rebuild"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = std::fs::read(dir.path().join("out/summary.json")).unwrap();
    assert!(before == after, "rebuilt summary differs");
}

#[test]
fn a_killed_agents_regions_are_reassigned_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, addr_a) = start_agent();
    let (mut b, addr_b) = start_agent();
    // Shorter: this run goes to the end.
    let medium = LONG.replace("duration_secs = 3000", "duration_secs = 400");
    let (mut run, err) = start_run_of(
        dir.path(),
        &medium,
        &[
            "--connect",
            &format!("{addr_a},{addr_b}"),
            "--on-agent-failure",
            "reassign",
        ],
    );
    b.kill().unwrap();
    b.wait().unwrap();
    let status = run.wait().unwrap();
    let rest = rest(err);
    a.kill().unwrap();
    a.wait().unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.contains("reassigned to"), "{rest}");
    let s = summary(dir.path());
    assert_eq!(s["complete"], true);
    assert_eq!(s["epochs"], 4_000);
    let incident = &s["incidents"][0];
    assert_eq!(incident["action"], "reassigned");
    assert!(incident["agent"].as_str().unwrap().contains(&addr_b));
    assert_eq!(
        incident["to"],
        serde_json::json!([format!("#0 ({addr_a})")])
    );
    // Traffic went on: every epoch has requests.
    assert!(
        s["timeseries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["requests"].as_u64().unwrap() > 0)
    );
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(html.contains("reassigned"));
}

#[cfg(unix)]
#[test]
fn a_frozen_agent_is_detected_by_the_epoch_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, addr) = start_agent();
    let (mut run, err) = start_run(dir.path(), &["--connect", &addr, "--epoch-deadline", "2"]);
    let pid = agent.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = std::time::Instant::now();
    let status = run.wait().unwrap();
    let took = started.elapsed();
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    agent.kill().unwrap();
    agent.wait().unwrap();
    let rest = rest(err);
    assert!(!status.success());
    assert!(rest.contains("no answer within"), "{rest}");
    assert!(took.as_secs_f64() < 20.0, "detected after {took:?}");
    assert_eq!(summary(dir.path())["complete"], false);
}

#[cfg(unix)]
#[test]
fn a_killed_coordinators_report_is_rebuilt_from_its_epoch_log() {
    let dir = tempfile::tempdir().unwrap();
    let (mut run, _err) = start_run(dir.path(), &["--agents", "2"]);
    run.kill().unwrap();
    run.wait().unwrap();
    let partial = dir.path().join("out.partial");
    assert!(partial.join("epochs.log").exists());
    assert!(
        !dir.path().join("out").exists(),
        "nothing passed off as whole"
    );
    // `report out` points at what the run left.
    let o = Command::new(BIN)
        .args(["report", "out"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("`edgesim report out.partial --rebuild`"),
        "{err}"
    );
    let o = Command::new(BIN)
        .args(["report", "out.partial"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("rebuilt from"), "{stdout}");
    assert!(stdout.contains("marked incomplete"), "{stdout}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(partial.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["complete"], false);
    assert!(s["epochs"].as_u64().unwrap() >= 3_000);
    for f in [
        "index.html",
        "timeseries.csv",
        "histograms.json",
        "latency_offload.svg",
    ] {
        assert!(partial.join(f).exists(), "{f}");
    }
}

#[test]
fn a_complete_report_rebuilds_byte_identically_from_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let short = LONG.replace("duration_secs = 3000", "duration_secs = 30");
    std::fs::write(dir.path().join("short.toml"), short).unwrap();
    let o = Command::new(BIN)
        .args(["run", "short.toml", "--out", "out", "--agents", "2", "-q"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |f: &str| std::fs::read(dir.path().join("out").join(f)).unwrap();
    let (summary, csv) = (read("summary.json"), read("timeseries.csv"));
    let o = Command::new(BIN)
        .args(["report", "out", "--rebuild"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(summary == read("summary.json"));
    assert!(csv == read("timeseries.csv"));
    assert!(
        dir.path().join("out/epochs.log").exists(),
        "the log is kept"
    );
}

/// A self-signed certificate for `localhost` and its key, as PEM files in `dir`.
fn self_signed(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (c, k) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, signing_key.serialize_pem()).unwrap();
    (c, k)
}

#[test]
fn agents_with_a_certificate_speak_tls_and_refuse_coordinators_that_do_not_trust_it() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "agent");
    let (other, _) = self_signed(dir.path(), "other");
    let short = LONG.replace("duration_secs = 3000", "duration_secs = 5");
    std::fs::write(dir.path().join("short.toml"), short).unwrap();
    let (mut agent, addr) = start_agent_with(&[
        "--tls-cert".as_ref(),
        cert.as_os_str(),
        "--tls-key".as_ref(),
        key.as_os_str(),
    ]);
    let run = |extra: &[&std::ffi::OsStr], out: &str| {
        Command::new(BIN)
            .args(["run", "short.toml", "--connect", &addr, "--out", out, "-q"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let domain = std::ffi::OsStr::new("localhost");
    let trusted = run(
        &[
            "--tls-ca".as_ref(),
            cert.as_os_str(),
            "--tls-domain".as_ref(),
            domain,
        ],
        "trusted",
    );
    let plain = run(&[], "plain");
    let untrusted = run(
        &[
            "--tls-ca".as_ref(),
            other.as_os_str(),
            "--tls-domain".as_ref(),
            domain,
        ],
        "untrusted",
    );
    agent.kill().unwrap();
    agent.wait().unwrap();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(dir.path().join("trusted/summary.json").exists());
    for (o, what) in [(&plain, "plain"), (&untrusted, "untrusted")] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{what} must fail");
        assert!(err.contains(&format!("agent #0 ({addr})")), "{what}: {err}");
        assert!(!dir.path().join(what).exists(), "{what}: no report");
    }
}

/// One region; `rps` requests per second in epochs of 10 s: an epoch of
/// 1M requests keeps a debug-built agent busy for a few seconds.
fn heavy(rps: u32, duration_secs: u32) -> String {
    format!(
        r#"
name = "heavy"
[simulation]
duration_secs = {duration_secs}
epoch_ms = 10000
seed = 5
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "16MiB"
[[origins]]
id = "o"
kind = "custom"
location = "eu-west-1"
[catalog]
objects = 5000
zipf_alpha = 1.0
size = "8KiB"
ttl_secs = 600
[viewers]
requests_per_sec = {rps}
countries = {{ DE = 1 }}
"#
    )
}

#[test]
fn a_slow_epoch_is_not_taken_for_a_dead_agent() {
    // Each epoch takes seconds, far beyond the deadline: the agent's
    // progress messages keep it alive; only silence counts.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("heavy.toml"), heavy(100_000, 10)).unwrap();
    let (mut agent, addr) = start_agent();
    let started = std::time::Instant::now();
    let o = Command::new(BIN)
        .args([
            "run",
            "heavy.toml",
            "--connect",
            &addr,
            "--out",
            "out",
            "-q",
        ])
        .args(["--epoch-deadline", "1.5"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let took = started.elapsed();
    agent.kill().unwrap();
    agent.wait().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(took.as_secs_f64() > 1.5, "the epoch was slow: {took:?}");
    assert_eq!(summary(dir.path())["complete"], true);
}

#[cfg(unix)]
#[test]
fn an_agent_answers_sigint_within_2_s_while_it_simulates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("heavy.toml"), heavy(200_000, 10)).unwrap();
    let (mut agent, addr) = start_agent();
    let mut run = Command::new(BIN)
        .args([
            "run",
            "heavy.toml",
            "--connect",
            &addr,
            "--out",
            "out",
            "-q",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Well into its epoch (several seconds of work).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(agent.try_wait().unwrap().is_none());
    let pid = agent.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = std::time::Instant::now();
    let mut exited = None;
    while started.elapsed() < std::time::Duration::from_secs(5) {
        if let Some(status) = agent.try_wait().unwrap() {
            exited = Some((status, started.elapsed()));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = agent.kill();
    let _ = agent.wait();
    let _ = run.wait();
    let (status, took) = exited.expect("the agent exited");
    assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
    assert_eq!(status.code(), Some(130));
}

#[cfg(unix)]
#[test]
fn a_coordinator_killed_with_9_frees_its_agent_within_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, addr) = start_agent();
    let (mut run, _err) = start_run(dir.path(), &["--connect", &addr]);
    run.kill().unwrap();
    run.wait().unwrap();
    let killed = std::time::Instant::now();
    let short = LONG.replace("duration_secs = 3000", "duration_secs = 2");
    std::fs::write(dir.path().join("short.toml"), short).unwrap();
    // The next coordinator is served once the agent has dropped the run:
    // at once when an epoch's stream was cut, within the lease otherwise.
    let served = loop {
        let o = Command::new(BIN)
            .args([
                "run",
                "short.toml",
                "--connect",
                &addr,
                "--out",
                "next",
                "-q",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        if o.status.success() {
            break killed.elapsed();
        }
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(err.contains("already serving run"), "{err}");
        assert!(
            killed.elapsed() < std::time::Duration::from_secs(20),
            "still busy after {:?}: {err}",
            killed.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    agent.kill().unwrap();
    agent.wait().unwrap();
    assert!(served < std::time::Duration::from_secs(15), "{served:?}");
    assert!(dir.path().join("next/summary.json").exists());
}
