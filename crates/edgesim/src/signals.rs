//! SIGINT and SIGTERM, watched on a thread of their own (with its own
//! small runtime), so that they are seen whatever the command's runtime
//! and threads are busy with. The first signal is handed to the command
//! (which stops cleanly); a second one, or the end of a grace period,
//! ends the process at once with the signal's exit code.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::watch;

/// The conventional exit code after `signal`: 128 + its number.
pub(crate) fn exit_code(signal: &str) -> u8 {
    match signal {
        "SIGTERM" => 143,
        _ => 130,
    }
}

/// Starts watching (once per process) and returns a receiver that holds
/// the first signal's name once one came. `grace`: how long the command
/// has to stop by itself after that signal (the first caller's value
/// counts).
pub(crate) fn watch(grace: Duration) -> watch::Receiver<Option<&'static str>> {
    static WATCH: OnceLock<watch::Receiver<Option<&'static str>>> = OnceLock::new();
    WATCH.get_or_init(|| start(grace)).clone()
}

fn start(grace: Duration) -> watch::Receiver<Option<&'static str>> {
    let (tx, rx) = watch::channel(None);
    let spawned = std::thread::Builder::new()
        .name("edgesim-signals".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(wait(tx, grace));
        });
    if let Err(e) = spawned {
        eprintln!("warning: cannot watch for Ctrl-C: {e}");
    }
    rx
}

#[cfg(unix)]
async fn wait(tx: watch::Sender<Option<&'static str>>, grace: Duration) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        eprintln!("warning: cannot watch for SIGINT and SIGTERM");
        return;
    };
    let first = tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    };
    let _ = tx.send(Some(first));
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        () = tokio::time::sleep(grace) => {}
    }
    eprintln!("edgesim: {first}: exiting now");
    std::process::exit(i32::from(exit_code(first)));
}

#[cfg(not(unix))]
async fn wait(tx: watch::Sender<Option<&'static str>>, grace: Duration) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    let _ = tx.send(Some("SIGINT"));
    let _ = tokio::time::timeout(grace, tokio::signal::ctrl_c()).await;
    std::process::exit(130);
}
