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
            for (i, target) in expand_connect(addrs).await?.iter().enumerate() {
                let name = match &target.from_dns {
                    None => format!("#{i} ({})", target.addr),
                    Some(dns) => format!("#{i} ({} from {dns})", target.addr),
                };
                let tls_host = target.tls_host.as_deref();
                let client =
                    connect_with(&name, &target.addr, tls_host, token, tls, deadline).await?;
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

/// The prefix of a `--connect` entry that names every address a DNS name
/// resolves to: `dns:NAME:PORT`.
pub const DNS_PREFIX: &str = "dns:";

/// One agent address of a `--connect` list, after DNS expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTarget {
    /// What to connect to: `HOST:PORT` (or a URI) as given, or an
    /// `IP:PORT` a `dns:` entry resolved to.
    pub addr: String,
    /// The `dns:NAME:PORT` entry it came from, if any.
    pub from_dns: Option<String>,
    /// The name a TLS certificate is checked against when no domain is
    /// given (the DNS name for a `dns:` entry; else the address's host).
    pub tls_host: Option<String>,
}

/// Expands a `--connect` list: a `dns:NAME:PORT` entry becomes one agent
/// per address NAME resolves to (every A and AAAA record, as Docker
/// Swarm's `tasks.SERVICE` and a Kubernetes headless Service give),
/// sorted and deduplicated so that the assignment of regions does not
/// depend on the order of the DNS answer; other entries stay as given.
/// An address listed twice (by two entries) is kept once, at its first
/// place. A name that resolves to nothing is an error naming it.
pub async fn expand_connect(entries: &[String]) -> Result<Vec<ConnectTarget>, CoordinatorError> {
    let mut out: Vec<ConnectTarget> = Vec::new();
    for entry in entries {
        let Some(rest) = entry.strip_prefix(DNS_PREFIX) else {
            if !out.iter().any(|t| t.addr == *entry) {
                out.push(ConnectTarget {
                    addr: entry.clone(),
                    from_dns: None,
                    tls_host: None,
                });
            }
            continue;
        };
        let fail = |reason: String| CoordinatorError::AgentStart {
            agent: entry.clone(),
            reason,
        };
        let (name, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| fail("expected dns:NAME:PORT (no port)".to_owned()))?;
        let name = name.trim_matches(['[', ']']);
        let port: u16 = port
            .parse()
            .map_err(|_| fail(format!("port {port:?} is not a number from 0 to 65535")))?;
        if name.is_empty() {
            return Err(fail("expected dns:NAME:PORT (no name)".to_owned()));
        }
        let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| fail(format!("cannot resolve {name}: {e}")))?
            .collect();
        addrs.sort();
        addrs.dedup();
        if addrs.is_empty() {
            return Err(fail(format!("{name} resolves to no address")));
        }
        for addr in addrs {
            let addr = addr.to_string();
            if !out.iter().any(|t| t.addr == addr) {
                out.push(ConnectTarget {
                    addr,
                    from_dns: Some(entry.clone()),
                    tls_host: Some(name.to_owned()),
                });
            }
        }
    }
    Ok(out)
}

async fn connect(
    name: &str,
    addr: &str,
    token: Option<&str>,
    tls: Option<&ClientTls>,
    deadline: Duration,
) -> Result<AgentClient, CoordinatorError> {
    connect_with(name, addr, None, token, tls, deadline).await
}

/// [`connect`], checking a TLS certificate against `tls_host` (when no
/// domain is configured) instead of the address's host part.
async fn connect_with(
    name: &str,
    addr: &str,
    tls_host: Option<&str>,
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
        let host = tls_host.unwrap_or_else(|| {
            addr.rsplit_once(':')
                .map_or(addr, |(h, _)| h)
                .trim_start_matches("https://")
                .trim_matches(['[', ']'])
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test]
    async fn dns_entries_expand_sorted_and_deduplicated() {
        // localhost resolves to 127.0.0.1 and, where IPv6 is set up, ::1.
        let got = expand_connect(&entries(&["dns:localhost:7070", "dns:localhost:7070"]))
            .await
            .unwrap();
        let addrs: Vec<&str> = got.iter().map(|t| t.addr.as_str()).collect();
        assert!(addrs.contains(&"127.0.0.1:7070"), "{addrs:?}");
        assert!(
            addrs
                .iter()
                .all(|a| *a == "127.0.0.1:7070" || *a == "[::1]:7070"),
            "{addrs:?}"
        );
        // IPv4 sorts before IPv6; each address once.
        assert_eq!(addrs[0], "127.0.0.1:7070");
        let mut unique = addrs.clone();
        unique.dedup();
        assert_eq!(unique, addrs);
        assert!(
            got.iter()
                .all(|t| t.from_dns.as_deref() == Some("dns:localhost:7070"))
        );
        assert!(
            got.iter()
                .all(|t| t.tls_host.as_deref() == Some("localhost"))
        );
    }

    #[tokio::test]
    async fn plain_entries_stay_in_order_and_mix_with_dns() {
        let got = expand_connect(&entries(&[
            "10.0.0.2:7070",
            "dns:localhost:7071",
            "10.0.0.1:7070",
            "127.0.0.1:7071",
        ]))
        .await
        .unwrap();
        let addrs: Vec<&str> = got.iter().map(|t| t.addr.as_str()).collect();
        assert_eq!(addrs[0], "10.0.0.2:7070");
        assert_eq!(addrs[1], "127.0.0.1:7071");
        assert_eq!(*addrs.last().unwrap(), "10.0.0.1:7070");
        // 127.0.0.1:7071 came from the dns entry already: not twice.
        assert_eq!(addrs.iter().filter(|a| **a == "127.0.0.1:7071").count(), 1);
        assert_eq!(got[0].from_dns, None);
    }

    #[tokio::test]
    async fn bad_dns_entries_are_errors_naming_them() {
        for (entry, want) in [
            ("dns:localhost", "no port"),
            ("dns::7070", "no name"),
            ("dns:localhost:http", "is not a number"),
            (
                "dns:no-such-host.invalid:7070",
                "cannot resolve no-such-host.invalid",
            ),
        ] {
            let e = expand_connect(&entries(&[entry]))
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(entry) && e.contains(want), "{entry}: {e}");
        }
    }
}
