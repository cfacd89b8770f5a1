//! Starting, reaching and stopping agents.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use edgesim_agent::MAX_MESSAGE_BYTES;
use edgesim_proto::auth::SendToken;
use edgesim_proto::pb::edge_agent_client::EdgeAgentClient;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::{AgentSource, ClientTls, CoordinatorError};

/// The line a starting agent prints on stdout once it listens.
pub const LISTENING_PREFIX: &str = "edgesim agent listening on ";

/// A gRPC client that sends the run's token with every call.
pub type AgentClient = EdgeAgentClient<InterceptedService<Channel, SendToken>>;

/// One agent the coordinator talks to.
pub struct AgentConn {
    /// How messages name it: index and address.
    pub name: String,
    /// gRPC client.
    pub client: AgentClient,
    /// The child process, when the coordinator started it.
    child: Option<Child>,
    /// Stops an in-process agent.
    stop: Option<oneshot::Sender<()>>,
}

/// All agents of a run.
pub struct AgentPool {
    agents: Vec<AgentConn>,
}

impl AgentPool {
    /// Number of agents.
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// The agents.
    pub fn iter(&self) -> std::slice::Iter<'_, AgentConn> {
        self.agents.iter()
    }

    /// The agents, mutably.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, AgentConn> {
        self.agents.iter_mut()
    }

    /// The name of agent `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.agents[i].name
    }

    /// Stops agents the coordinator started and waits for them.
    pub async fn shutdown(mut self) {
        for a in &mut self.agents {
            if let Some(stop) = a.stop.take() {
                let _ = stop.send(());
            }
            if let Some(mut child) = a.child.take() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }
}

/// Starts or connects to the agents.
pub async fn start(
    source: &AgentSource,
    token: Option<&str>,
    tls: Option<&ClientTls>,
    deadline: Duration,
) -> Result<AgentPool, CoordinatorError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut agents = Vec::new();
    match source {
        AgentSource::Spawn { exe, count } => {
            let count = (*count).max(1);
            let threads = (cores / count).max(1);
            for i in 0..count {
                agents.push(spawn_child(i, exe, threads, deadline).await?);
            }
        }
        AgentSource::InProcess { count } => {
            let count = (*count).max(1);
            let threads = (cores / count).max(1);
            for i in 0..count {
                let (listener, addr) = edgesim_agent::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .await
                    .map_err(|e| CoordinatorError::AgentStart {
                        agent: format!("#{i} (in-process)"),
                        reason: e.to_string(),
                    })?;
                let (tx, rx) = oneshot::channel();
                tokio::spawn(edgesim_agent::serve(listener, threads, None, async move {
                    let _ = rx.await;
                }));
                let name = format!("#{i} ({addr}, in-process)");
                let client = connect(&name, &addr.to_string(), None, None, deadline).await?;
                agents.push(AgentConn {
                    name,
                    client,
                    child: None,
                    stop: Some(tx),
                });
            }
        }
        AgentSource::Connect(addrs) => {
            for (i, addr) in addrs.iter().enumerate() {
                let name = format!("#{i} ({addr})");
                let client = connect(&name, addr, token, tls, deadline).await?;
                agents.push(AgentConn {
                    name,
                    client,
                    child: None,
                    stop: None,
                });
            }
        }
    }
    if agents.is_empty() {
        return Err(CoordinatorError::AgentStart {
            agent: "(none)".into(),
            reason: "no agents given".into(),
        });
    }
    Ok(AgentPool { agents })
}

async fn spawn_child(
    i: usize,
    exe: &std::path::Path,
    threads: usize,
    deadline: Duration,
) -> Result<AgentConn, CoordinatorError> {
    let label = format!("#{i} ({} agent)", exe.display());
    let fail = |reason: String| CoordinatorError::AgentStart {
        agent: label.clone(),
        reason,
    };
    let mut command = Command::new(exe);
    // Its own process group: a Ctrl-C at the terminal reaches the
    // coordinator, which stops its agents itself (they also exit when
    // their stdin, the coordinator's pipe, closes).
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .args([
            "agent",
            "--listen",
            "127.0.0.1:0",
            "--threads",
            &threads.to_string(),
            "--exit-on-stdin-eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", exe.display())))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(deadline, lines.next_line())
        .await
        .map_err(|_| fail(format!("did not report its address within {deadline:?}")))?
        .map_err(|e| fail(format!("reading its output: {e}")))?;
    let Some(addr) = line
        .as_deref()
        .and_then(|l| l.strip_prefix(LISTENING_PREFIX))
        .map(str::to_owned)
    else {
        let status = child
            .try_wait()
            .ok()
            .flatten()
            .map_or_else(|| "still running".to_owned(), |s| s.to_string());
        return Err(fail(format!(
            "exited or printed no address (first line: {line:?}; status: {status})"
        )));
    };
    let name = format!("#{i} ({addr}, pid {})", child.id().unwrap_or(0));
    let client = connect(&name, &addr, None, None, deadline).await?;
    Ok(AgentConn {
        name,
        client,
        child: Some(child),
        stop: None,
    })
}

async fn connect(
    name: &str,
    addr: &str,
    token: Option<&str>,
    tls: Option<&ClientTls>,
    deadline: Duration,
) -> Result<AgentClient, CoordinatorError> {
    let fail = |reason: String| CoordinatorError::AgentStart {
        agent: name.to_owned(),
        reason,
    };
    let uri = match (addr.contains("://"), tls) {
        (true, _) => addr.to_owned(),
        (false, None) => format!("http://{addr}"),
        (false, Some(_)) => format!("https://{addr}"),
    };
    let mut endpoint = Endpoint::from_shared(uri)
        .map_err(|e| fail(format!("bad address {addr:?}: {e}")))?
        .connect_timeout(deadline)
        .tcp_nodelay(true)
        // An agent that is cut off (no FIN, no RST) is noticed by HTTP/2
        // pings even between epochs.
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(20))
        .keep_alive_while_idle(true);
    if let Some(tls) = tls {
        let host = addr
            .rsplit_once(':')
            .map_or(addr, |(h, _)| h)
            .trim_start_matches("https://")
            .trim_matches(['[', ']']);
        let config = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&tls.ca_pem))
            .domain_name(tls.domain.clone().unwrap_or_else(|| host.to_owned()));
        endpoint = endpoint
            .tls_config(config)
            .map_err(|e| fail(format!("TLS configuration: {e}")))?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| fail(format!("cannot connect to {addr}: {e}")))?;
    Ok(
        EdgeAgentClient::with_interceptor(channel, SendToken(token.map(str::to_owned)))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
    )
}
