//! `edgesim agent`: serve regions for a coordinator.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `edgesim agent`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port. The address bound
    /// is printed as "edgesim agent listening on HOST:PORT".
    #[arg(long, default_value = "127.0.0.1:7070", value_name = "HOST:PORT")]
    listen: SocketAddr,
    /// Shared token coordinators must present; required unless listening
    /// on loopback. Prefer the environment variable: a flag shows in `ps`.
    #[arg(
        long,
        env = "EDGESIM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
    /// Speak TLS with this certificate (PEM, the chain up to the authority
    /// coordinators trust); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// Private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Threads for simulating regions [default: all cores].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Exit when standard input closes (used by a coordinator that started
    /// this agent, so agents never outlive it).
    #[arg(long, hide = true)]
    exit_on_stdin_eof: bool,
}

/// Serves until interrupted (SIGINT, SIGTERM: exits within 2 s whatever it
/// is doing) or until stdin closes, with --exit-on-stdin-eof.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("agent: cannot start the async runtime")?;
    let token = args.token.clone().filter(|t| !t.is_empty());
    edgesim_agent::check_listen_policy(args.listen, token.as_deref())?;
    let identity = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let read = |p: &std::path::Path| {
                std::fs::read(p).with_context(|| format!("agent: cannot read {}", p.display()))
            };
            Some(tonic::transport::Identity::from_pem(
                read(cert)?,
                read(key)?,
            ))
        }
        _ => None,
    };
    // Signals are watched on a thread of their own: a busy runtime or
    // simulation threads cannot delay the exit (after 1.5 s the watcher
    // ends the process itself).
    let mut signals = crate::signals::watch(std::time::Duration::from_millis(1500));
    let result = runtime.block_on(async move {
        let (listener, addr) = edgesim_agent::bind(args.listen)
            .await
            .with_context(|| format!("agent: cannot listen on {}", args.listen))?;
        println!("edgesim agent listening on {addr}");
        std::io::stdout()
            .flush()
            .context("agent: cannot write to stdout")?;
        let watch_stdin = args.exit_on_stdin_eof;
        let shutdown = async move {
            if watch_stdin {
                let _ = tokio::task::spawn_blocking(|| {
                    let mut sink = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
                })
                .await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let serve = edgesim_agent::serve_with_tls(listener, threads, token, identity, shutdown);
        tokio::select! {
            served = serve => {
                served.context("agent: server failed")?;
                Ok(ExitCode::SUCCESS)
            }
            signal = first_signal(&mut signals) => {
                // Nothing of an agent's outlives its coordinator's run:
                // drop the work in flight and go.
                eprintln!("edgesim agent: {signal}: exiting");
                Ok(ExitCode::from(crate::signals::exit_code(signal)))
            }
        }
    });
    // The stdin watcher and an epoch's threads may still be at work: do
    // not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// Resolves with the first signal's name.
async fn first_signal(rx: &mut tokio::sync::watch::Receiver<Option<&'static str>>) -> &'static str {
    loop {
        let now = *rx.borrow_and_update();
        if let Some(signal) = now {
            return signal;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
