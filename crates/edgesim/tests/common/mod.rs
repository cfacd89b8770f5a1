//! Helpers shared by the command-line test binaries (each uses part of them).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The edgesim binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

/// Three regions (one PoP each), epochs of 100 ms: 3,000 s make a run that
/// is still going when something is done to it.
pub const LONG: &str = r#"
name = "long"
[simulation]
duration_secs = 3000
epoch_ms = 100
seed = 5
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "16MiB"
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = "16MiB"
[[pops]]
id = "sin"
city = "SIN"
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
requests_per_sec = 800
countries = { DE = 1, US = 1, SG = 1 }
"#;

/// Starts `edgesim agent` on a free loopback port with one thread and
/// returns it with its address.
pub fn start_agent() -> (Child, String) {
    start_agent_with::<&str>(&[])
}

/// [`start_agent`] with extra arguments (a token, a certificate, ...).
pub fn start_agent_with<S: AsRef<OsStr>>(extra: &[S]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["agent", "--listen", "127.0.0.1:0", "--threads", "1"])
        .args(extra)
        .env_remove("EDGESIM_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("edgesim agent listening on ")
        .expect("address line")
        .to_owned();
    (child, addr)
}

/// Runs `edgesim ARGS` in `dir` to completion.
pub fn edgesim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("edgesim runs")
}

/// What a finished command wrote to stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
