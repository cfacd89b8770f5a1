//! The orchestrator files (deploy/k8s/*.yaml, deploy/swarm/stack.yml)
//! parsed and checked against the CLI they drive: every flag they pass
//! exists in `edgesim run --help` / `edgesim agent --help`, the agents
//! listen on the port the coordinator connects to (and that the Service
//! publishes), the DNS name in `--connect dns:NAME:PORT` is the headless
//! Service (or Swarm's `tasks.SERVICE`), the coordinator waits for as many
//! agents as there are replicas, the image is the one
//! docker/build-image.sh builds, and the scenario exists.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn help(sub: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_edgesim"))
        .args([sub, "--help"])
        .output()
        .expect("edgesim runs");
    assert!(out.status.success());
    // Wrapped lines joined: one space for every run of white space.
    let text = String::from_utf8(out.stdout).expect("help is UTF-8");
    text.split_whitespace().collect::<Vec<_>>().join(" ") + " "
}

/// Every YAML document of the k8s directory, with its file name.
fn k8s_documents() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let dir = root().join("deploy/k8s");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("deploy/k8s exists")
        .map(|e| e.expect("listing").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: not YAML: {e}", f.display()));
            if !v.is_null() {
                out.push((f.display().to_string(), v));
            }
        }
    }
    out
}

use serde::Deserialize as _;

fn kind<'a>(docs: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|(_, v)| v["kind"].as_str() == Some(kind))
        .map(|(_, v)| v)
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => panic!("not a string: {other:?}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The value after `flag` in `args`.
fn after<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    &args[i + 1]
}

/// Checks that every `--flag` in `args` is one `help` documents.
fn flags_exist(args: &[String], help: &str, what: &str) {
    for a in args.iter().filter(|a| a.starts_with("--")) {
        assert!(
            help.contains(&format!("{a} ")),
            "{what}: {a} is not an option of the CLI:\n{help}"
        );
    }
}

/// (name, port) of a `dns:NAME:PORT` entry.
fn dns_target(s: &str) -> (&str, u16) {
    let rest = s
        .strip_prefix("dns:")
        .unwrap_or_else(|| panic!("{s} is not dns:NAME:PORT"));
    let (name, port) = rest.rsplit_once(':').expect("NAME:PORT");
    (name, port.parse().expect("a port"))
}

/// The image docker/build-image.sh builds by default.
fn built_image() -> String {
    let script = std::fs::read_to_string(root().join("docker/build-image.sh")).unwrap();
    let line = script
        .lines()
        .find(|l| l.starts_with("image=\"${EDGESIM_IMAGE:-"))
        .expect("build-image.sh sets its image name");
    line.trim_start_matches("image=\"${EDGESIM_IMAGE:-")
        .trim_end_matches("}\"")
        .to_owned()
}

/// The port of the agent's default --listen, from `edgesim agent --help`.
fn default_agent_port(agent_help: &str) -> u16 {
    let at = agent_help
        .find("[default: 127.0.0.1:")
        .expect("a default --listen");
    let rest = &agent_help[at + "[default: 127.0.0.1:".len()..];
    rest[..rest.find(']').unwrap()].parse().unwrap()
}

#[test]
fn kubernetes_manifests_match_the_cli() {
    let docs = k8s_documents();
    let run_help = help("run");
    let agent_help = help("agent");
    let image = built_image();

    let services = kind(&docs, "Service");
    let sets = kind(&docs, "StatefulSet");
    let jobs = kind(&docs, "Job");
    assert_eq!((services.len(), sets.len(), jobs.len()), (1, 1, 1));
    let (svc, set, job) = (services[0], sets[0], jobs[0]);

    // A headless Service selecting the StatefulSet's pods.
    assert_eq!(svc["spec"]["clusterIP"].as_str(), Some("None"));
    let svc_name = svc["metadata"]["name"].as_str().unwrap();
    assert_eq!(set["spec"]["serviceName"].as_str(), Some(svc_name));
    let labels = &set["spec"]["template"]["metadata"]["labels"];
    for (k, v) in svc["spec"]["selector"].as_mapping().unwrap() {
        assert_eq!(&labels[k], v, "selector {k:?}");
    }
    assert_eq!(
        &set["spec"]["selector"]["matchLabels"],
        &svc["spec"]["selector"]
    );
    let svc_port = svc["spec"]["ports"][0]["port"].as_u64().unwrap();
    assert_eq!(
        svc["spec"]["ports"][0]["targetPort"].as_u64(),
        Some(svc_port)
    );

    // The agents.
    let agent = &set["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(agent["image"].as_str(), Some(image.as_str()));
    let args = strings(&agent["args"]);
    assert_eq!(args[0], "agent");
    flags_exist(&args, &agent_help, "agent args");
    let listen = after(&args, "--listen");
    let port: u16 = listen.rsplit_once(':').unwrap().1.parse().unwrap();
    assert_eq!(u64::from(port), svc_port);
    assert_eq!(port, default_agent_port(&agent_help));
    assert_eq!(agent["ports"][0]["containerPort"].as_u64(), Some(svc_port));
    let probe = strings(&agent["readinessProbe"]["exec"]["command"]);
    assert_eq!(probe[0], "/edgesim-wait");
    assert_eq!(probe.last().unwrap(), &format!("127.0.0.1:{port}"));
    let replicas = set["spec"]["replicas"].as_u64().unwrap();

    // The coordinator.
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let coord = &pod["containers"][0];
    assert_eq!(coord["image"].as_str(), Some(image.as_str()));
    let command = strings(&coord["command"]);
    assert_eq!(command[0], "/edgesim-wait");
    assert_eq!(command.last().unwrap(), "/edgesim");
    assert_eq!(after(&command, "--count"), replicas.to_string());
    let wait_target = command.iter().find(|a| a.starts_with("dns:")).unwrap();
    let args = strings(&coord["args"]);
    assert_eq!(args[0], "run");
    flags_exist(&args, &run_help, "coordinator args");
    let connect = after(&args, "--connect");
    assert_eq!(connect, wait_target);
    assert_eq!(dns_target(connect), (svc_name, port));
    // The scenario comes from the ConfigMap mounted at /scenarios, made
    // from the repository's file of that name.
    let scenario = &args[1];
    let mount = &coord["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| scenario.starts_with(m["mountPath"].as_str().unwrap()))
        .expect("the scenario is on a mounted volume");
    let file = scenario.trim_start_matches(mount["mountPath"].as_str().unwrap());
    assert!(
        root()
            .join("scenarios")
            .join(file.trim_start_matches('/'))
            .is_file()
    );
    // The report goes to the claimed volume.
    let out = after(&args, "--out");
    let volumes = pod["volumes"].as_sequence().unwrap();
    let reports = coord["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| out.starts_with(m["mountPath"].as_str().unwrap()))
        .expect("--out is on a mounted volume");
    let volume = volumes
        .iter()
        .find(|v| v["name"] == reports["name"])
        .unwrap();
    let claim = volume["persistentVolumeClaim"]["claimName"]
        .as_str()
        .unwrap();
    assert!(
        kind(&docs, "PersistentVolumeClaim")
            .iter()
            .any(|c| c["metadata"]["name"].as_str() == Some(claim))
    );

    // Both sides take the token from the same Secret (EDGESIM_TOKEN is the
    // variable both `run` and `agent` read).
    assert!(run_help.contains("EDGESIM_TOKEN") && agent_help.contains("EDGESIM_TOKEN"));
    let secret = kind(&docs, "Secret")[0]["metadata"]["name"]
        .as_str()
        .unwrap();
    for c in [agent, coord] {
        let env = &c["env"][0];
        assert_eq!(env["name"].as_str(), Some("EDGESIM_TOKEN"));
        assert_eq!(
            env["valueFrom"]["secretKeyRef"]["name"].as_str(),
            Some(secret)
        );
    }
}

/// `${NAME:-default}` and `${NAME:?message}` as `docker stack deploy`
/// sees them with none of the variables set (`:?` ones get a stand-in).
fn interpolate_defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("closed ${") + i;
        let inner = &rest[i + 2..end];
        if let Some((_, default)) = inner.split_once(":-") {
            out.push_str(default);
        } else if inner.contains(":?") {
            out.push_str("/set-by-the-user");
        } else {
            panic!("${{{inner}}} has no default");
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn swarm_stack_matches_the_cli() {
    let text = std::fs::read_to_string(root().join("deploy/swarm/stack.yml")).unwrap();
    let stack: Value = serde_yaml::from_str(&interpolate_defaults(&text)).expect("YAML");
    let run_help = help("run");
    let agent_help = help("agent");
    let image = built_image();
    let services = &stack["services"];
    let agent = &services["agent"];
    let coord = &services["coordinator"];
    // The merge key (<<: *edgesim) carries the image to both.
    let base = &stack["x-edgesim"];
    assert_eq!(base["image"].as_str(), Some(image.as_str()));
    for s in [agent, coord] {
        assert_eq!(s["<<"]["image"].as_str(), Some(image.as_str()));
    }
    let args = strings(&agent["command"]);
    assert_eq!(args[0], "agent");
    flags_exist(&args, &agent_help, "agent command");
    let port: u16 = after(&args, "--listen")
        .rsplit_once(':')
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(port, default_agent_port(&agent_help));
    assert_eq!(agent["deploy"]["endpoint_mode"].as_str(), Some("dnsrr"));
    let replicas = agent["deploy"]["replicas"].as_u64().expect("replicas");

    let entry = strings(&coord["entrypoint"]);
    assert_eq!(entry[0], "/edgesim-wait");
    assert_eq!(after(&entry, "--count"), replicas.to_string());
    let args = strings(&coord["command"]);
    assert_eq!(args[0], "run");
    flags_exist(&args, &run_help, "coordinator command");
    let connect = after(&args, "--connect");
    assert!(entry.iter().any(|a| a == connect));
    // Swarm's DNS: tasks.SERVICE gives every task of the service.
    assert_eq!(dns_target(connect), ("tasks.agent", port));
    assert_eq!(
        coord["deploy"]["restart_policy"]["condition"].as_str(),
        Some("none")
    );
    let scenario = args[1].trim_start_matches("/scenarios/");
    assert!(root().join("scenarios").join(scenario).is_file());
}
