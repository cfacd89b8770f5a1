//! `edgesim-wait`: a tiny readiness gate for the edgesim container image.
//!
//! The image is `FROM scratch`: it has no shell, so a compose healthcheck
//! or a "wait until the agents listen" step cannot be a shell loop. This
//! helper is both, with only the Rust standard library (it is compiled
//! with plain `rustc` by docker/build-image.sh, outside the Cargo
//! workspace, and links against the same libc as edgesim itself).
//!
//! Usage:
//!
//! ```text
//! edgesim-wait [--timeout SECS] [--count N] TARGET... [-- PROGRAM ARGS...]
//! ```
//!
//! A TARGET is `HOST:PORT` (one server: the first address of HOST that
//! answers) or `dns:NAME:PORT`, as `edgesim run --connect` takes it: every
//! address NAME resolves to must answer, and there must be at least N of
//! them (`--count`, default 1). That is how a coordinator waits for all
//! the replicas of a Docker Swarm service (`dns:tasks.agent:7070`) or the
//! pods of a Kubernetes headless Service to be up before it starts.
//!
//! It waits until every HOST:PORT answers as an HTTP/2 server (what a
//! gRPC agent is): it connects, sends the HTTP/2 client preface and an
//! empty SETTINGS frame, and expects the server's first frame to be a
//! SETTINGS frame; then it says goodbye with a GOAWAY frame and closes.
//! A bare TCP connect is not enough evidence (a bound socket accepts
//! connections before anything serves them); this checks that the gRPC
//! server itself answers. Names are resolved again on every attempt, so a
//! container that is not yet registered in the network's DNS is retried.
//!
//! Exit: 0 when all are ready (or, with `-- PROGRAM`, it replaces itself
//! with PROGRAM via exec, so PROGRAM's exit status is the container's);
//! 1 when one is still not ready after SECS seconds (default 60), with the
//! last error on stderr; 2 on bad usage. Every loop is bounded by SECS.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The HTTP/2 client connection preface (RFC 9113, section 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame: length 0, type 0x4, flags 0, stream 0.
const EMPTY_SETTINGS: [u8; 9] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
/// GOAWAY: length 8, type 0x7, stream 0, last stream 0, NO_ERROR.
const GOAWAY: [u8; 17] = [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
/// Most time allowed for one connection attempt and for its answer
/// (less when the deadline is nearer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

fn usage() -> ExitCode {
    eprintln!(
        "usage: edgesim-wait [--timeout SECS] [--count N] HOST:PORT|dns:NAME:PORT... [-- PROGRAM ARGS...]"
    );
    ExitCode::from(2)
}

/// One attempt at a `dns:NAME:PORT` target: at least `count` addresses,
/// every one answering. Returns how many.
fn probe_all(name_port: &str, count: usize, limit: Duration) -> Result<usize, String> {
    let mut addrs: Vec<SocketAddr> = name_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve: {e}"))?
        .collect();
    addrs.sort();
    addrs.dedup();
    if addrs.len() < count {
        return Err(format!(
            "resolves to {} address(es), waiting for {count}",
            addrs.len()
        ));
    }
    for &addr in &addrs {
        probe_addr(addr, limit).map_err(|e| format!("{addr}: {e}"))?;
    }
    Ok(addrs.len())
}

/// One attempt: resolve, connect, check that an HTTP/2 server answers.
fn probe(target: &str, limit: Duration) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve: {e}"))?
        .collect();
    let mut last = String::from("no address");
    for addr in addrs {
        match probe_addr(addr, limit) {
            Ok(()) => return Ok(addr),
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

fn probe_addr(addr: SocketAddr, limit: Duration) -> Result<(), String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, limit).map_err(|e| format!("cannot connect: {e}"))?;
    stream
        .set_read_timeout(Some(limit))
        .and_then(|()| stream.set_write_timeout(Some(limit)))
        .map_err(|e| format!("cannot set timeouts: {e}"))?;
    let mut hello = PREFACE.to_vec();
    hello.extend_from_slice(&EMPTY_SETTINGS);
    stream
        .write_all(&hello)
        .map_err(|e| format!("cannot send the HTTP/2 preface: {e}"))?;
    let mut header = [0u8; 9];
    stream
        .read_exact(&mut header)
        .map_err(|e| format!("no HTTP/2 answer: {e}"))?;
    if header[3] != 0x4 {
        return Err(format!(
            "first frame has type {:#x}, not SETTINGS: not an HTTP/2 server",
            header[3]
        ));
    }
    // Close politely; the server may already have gone, that is fine.
    let _ = stream.write_all(&GOAWAY);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut timeout = Duration::from_secs(60);
    let mut count = 1usize;
    let mut targets = Vec::new();
    let mut program: Vec<String> = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--timeout" => match args.next().and_then(|s| s.parse::<f64>().ok()) {
                Some(secs) if secs > 0.0 && secs <= 3600.0 => {
                    timeout = Duration::from_secs_f64(secs)
                }
                _ => return usage(),
            },
            "--count" => match args.next().and_then(|s| s.parse::<usize>().ok()) {
                Some(n) if (1..=100_000).contains(&n) => count = n,
                _ => return usage(),
            },
            "--" => {
                program = args.by_ref().collect();
                break;
            }
            "-h" | "--help" => {
                usage();
                return ExitCode::SUCCESS;
            }
            s if s.starts_with('-') => return usage(),
            _ => targets.push(arg),
        }
    }
    if targets.is_empty() || (program.is_empty() && std::env::args().any(|a| a == "--")) {
        return usage();
    }

    let start = Instant::now();
    let deadline = start + timeout;
    for target in &targets {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let limit = ATTEMPT_TIMEOUT.min(left).max(Duration::from_millis(100));
            let attempt = match target.strip_prefix("dns:") {
                Some(name_port) => probe_all(name_port, count, limit)
                    .map(|n| format!("{n} address(es) answering")),
                None => probe(target, limit).map(|addr| addr.to_string()),
            };
            match attempt {
                Ok(what) => {
                    eprintln!(
                        "edgesim-wait: {target} ({what}) ready after {:.1} s",
                        start.elapsed().as_secs_f64()
                    );
                    break;
                }
                Err(e) => {
                    if Instant::now() + RETRY_PAUSE >= deadline {
                        eprintln!(
                            "edgesim-wait: {target} not ready after {:.1} s: {e}",
                            start.elapsed().as_secs_f64()
                        );
                        return ExitCode::from(1);
                    }
                    std::thread::sleep(RETRY_PAUSE);
                }
            }
        }
    }

    if program.is_empty() {
        return ExitCode::SUCCESS;
    }
    // Replace this process, so signals and the exit status are PROGRAM's.
    let err = Command::new(&program[0]).args(&program[1..]).exec();
    eprintln!("edgesim-wait: cannot run {}: {err}", program[0]);
    ExitCode::from(127)
}
