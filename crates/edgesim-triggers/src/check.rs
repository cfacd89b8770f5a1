//! `edgesim trigger check`: a deploy preflight that reports every problem CloudFront and
//! Lambda@Edge would refuse a function for, all at once.
//!
//! The limits are not restated here: memory, timeout and package size come from the stage's
//! rules ([`crate::stage::Stage`], [`crate::config::ExecutionConfig::model`]) and the function
//! is published through [`crate::config::compile`] exactly as a scenario's is (syntax, exports,
//! CloudFront Functions' 10 KB and runtime levels, KeyValueStore limits, Python runtimes).
//! What only a deployment has (environment variables, layers, VPC, the version, the region) is
//! checked against "Restrictions on Lambda@Edge" in CloudFront's developer guide.

use serde::Serialize;

use crate::cff::{CffConfig, CffRuntime};
use crate::config::{ExecutionConfig, TriggerConfig, TriggerKind, compile};
use crate::stage::Stage;
use crate::validate::{is_forbidden_header, is_read_only_header};

/// Node.js runtimes Lambda@Edge accepts (Lambda's supported Node.js runtimes).
pub const NODE_RUNTIMES: &[&str] = &["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"];

/// Region Lambda@Edge functions must be created in.
pub const LAMBDA_EDGE_REGION: &str = "us-east-1";

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// CloudFront or Lambda would refuse the deployment (or fail every request).
    Error,
    /// Probably a mistake; the deployment would go through.
    Warning,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Short rule name (`memory`, `environment`, `forbidden-header`, ...).
    pub rule: &'static str,
    /// What is wrong, naming the value.
    pub message: String,
}

/// The function and its configuration, as a deployment would give them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckInput {
    /// The handler file's name (as given) and text.
    pub path: String,
    /// Its source.
    pub source: String,
    /// Check it as a CloudFront Function.
    pub cf_function: bool,
    /// `nodejs22.x`, `python3.12`, `cloudfront-js-2.0`...
    pub runtime: Option<String>,
    /// Memory size, MB.
    pub memory_mb: Option<u32>,
    /// Timeout, ms.
    pub timeout_ms: Option<u64>,
    /// Environment variables (`KEY=VALUE`).
    pub env: Vec<String>,
    /// Layer ARNs.
    pub layers: Vec<String>,
    /// The function is attached to a VPC.
    pub vpc: bool,
    /// The version associated (`$LATEST`, an alias, or a number).
    pub version: Option<String>,
    /// The region the function was created in.
    pub region: Option<String>,
    /// A CloudFront Function's KeyValueStore: file name and text.
    pub kvs: Option<(String, String)>,
}

fn error(rule: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        severity: Severity::Error,
        rule,
        message: message.into(),
    }
}

/// Header names the source writes as string literals that no function may set at `stage`.
fn header_findings(source: &str, stage: Stage) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if q == b'\'' || q == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != q && bytes[j] != b'\n' {
                j += 1;
            }
            let literal = &source[start..j.min(source.len())];
            let name = literal.to_ascii_lowercase();
            let header_like =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if header_like && seen.insert(name.clone()) {
                if is_forbidden_header(&name) {
                    out.push(Finding {
                        severity: Severity::Warning,
                        rule: "forbidden-header",
                        message: format!(
                            "the code names `{literal}`: no function may add or change it (CloudFront answers 502 if it does)"
                        ),
                    });
                } else if is_read_only_header(stage, &name) {
                    out.push(Finding {
                        severity: Severity::Warning,
                        rule: "read-only-header",
                        message: format!(
                            "the code names `{literal}`, read-only at {stage}: reading it is fine, changing it is a 502"
                        ),
                    });
                }
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Every finding for `input` at `stage`, errors first.
pub fn check(input: &CheckInput, stage: Stage) -> Vec<Finding> {
    let mut findings = Vec::new();
    let config = if input.cf_function {
        for (given, what) in [
            (input.memory_mb.is_some(), "--memory-mb"),
            (input.timeout_ms.is_some(), "--timeout-ms"),
            (!input.env.is_empty(), "environment variables"),
            (!input.layers.is_empty(), "layers"),
            (input.vpc, "a VPC"),
        ] {
            if given {
                findings.push(error(
                    "not-applicable",
                    format!("CloudFront Functions take no {what}: their limits are fixed (10 KB of code, 2 MB of memory, the compute budget)"),
                ));
            }
        }
        let runtime = match input.runtime.as_deref().map(str::parse::<CffRuntime>) {
            None => Some(CffRuntime::default()),
            Some(Ok(r)) => Some(r),
            Some(Err(m)) => {
                findings.push(error("runtime", m));
                None
            }
        };
        runtime.map(|runtime| TriggerConfig {
            kind: TriggerKind::CloudFrontFunction(CffConfig {
                path: input.path.clone(),
                runtime,
                kvs: input.kvs.as_ref().map(|(n, _)| n.clone()),
            }),
            execution: ExecutionConfig::default(),
        })
    } else {
        let python = input.path.ends_with(".py");
        let mut config = if python {
            TriggerConfig::py(&input.path)
        } else {
            TriggerConfig::js(&input.path)
        };
        match (&input.runtime, python) {
            (Some(r), true) => {
                if let TriggerKind::Script { script, .. } = &mut config.kind {
                    script.runtime = Some(r.clone());
                }
                if let Err(m) = crate::python::runtime_version(r) {
                    findings.push(error("runtime", m));
                }
            }
            (Some(r), false) if !NODE_RUNTIMES.contains(&r.as_str()) => findings.push(error(
                "runtime",
                format!(
                    "runtime `{r}` is not a Lambda@Edge Node.js runtime (one of {})",
                    NODE_RUNTIMES.join(", ")
                ),
            )),
            _ => {}
        }
        config.execution.memory_mb = input.memory_mb;
        config.execution.timeout_ms = input.timeout_ms;
        for var in &input.env {
            findings.push(error(
                "environment",
                format!("Lambda@Edge functions cannot have environment variables (`{var}`)"),
            ));
        }
        for layer in &input.layers {
            findings.push(error(
                "layers",
                format!("Lambda@Edge functions cannot use layers (`{layer}`)"),
            ));
        }
        if input.vpc {
            findings.push(error(
                "vpc",
                "Lambda@Edge functions cannot be configured to access a VPC",
            ));
        }
        if let Some(v) = &input.version
            && !v.bytes().all(|b| b.is_ascii_digit())
        {
            findings.push(error(
                "version",
                format!("CloudFront associates a numbered version of the function, not `{v}` ($LATEST and aliases are refused)"),
            ));
        }
        if let Some(r) = &input.region
            && r != LAMBDA_EDGE_REGION
        {
            findings.push(error(
                "region",
                format!("Lambda@Edge functions must be created in {LAMBDA_EDGE_REGION}, not {r}"),
            ));
        }
        // Python selects its interpreter by runtime: a missing one is this machine's
        // problem, not the deployment's, so the Python runtime is checked above and the
        // code with the default interpreter.
        if python && let TriggerKind::Script { script, .. } = &mut config.kind {
            script.runtime = None;
        }
        Some(config)
    };
    if let Some(config) = config {
        let source = input.source.clone();
        let path = input.path.clone();
        let kvs = input.kvs.clone();
        let load = move |name: &str| -> std::io::Result<String> {
            if name == path {
                return Ok(source.clone());
            }
            match &kvs {
                Some((n, text)) if n == name => Ok(text.clone()),
                _ => Err(std::io::Error::other(format!("no file `{name}`"))),
            }
        };
        if let Err(errors) = compile(&config, stage, &load) {
            for e in errors {
                let rule = match e.field.as_str() {
                    "memory_mb" => "memory",
                    "timeout_ms" => "timeout",
                    "kvs" => "key-value-store",
                    _ => "code",
                };
                findings.push(error(rule, e.to_string()));
            }
        }
    }
    findings.extend(header_findings(&input.source, stage));
    findings.sort_by_key(|f| f.severity);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str, source: &str) -> CheckInput {
        CheckInput {
            path: path.into(),
            source: source.into(),
            ..CheckInput::default()
        }
    }

    #[test]
    fn a_clean_function_has_no_findings() {
        let i = input(
            "ok.js",
            "exports.handler = async (e) => e.Records[0].cf.request;",
        );
        assert_eq!(check(&i, Stage::ViewerRequest), []);
    }

    #[test]
    fn every_lambda_at_edge_refusal_is_reported_at_once() {
        let i = CheckInput {
            runtime: Some("nodejs16.x".into()),
            memory_mb: Some(512),
            timeout_ms: Some(10_000),
            env: vec!["A=1".into()],
            layers: vec!["arn:aws:lambda:us-east-1:1:layer:x:1".into()],
            vpc: true,
            version: Some("$LATEST".into()),
            region: Some("eu-west-1".into()),
            ..input(
                "h.js",
                "exports.handler = async (e) => { const r = e.Records[0].cf.request; r.headers['x-cache'] = [{value: '1'}]; console.log(r.headers['host']); return r; };",
            )
        };
        let findings = check(&i, Stage::ViewerRequest);
        let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            [
                "runtime",
                "environment",
                "layers",
                "vpc",
                "version",
                "region",
                "memory",
                "timeout",
                "forbidden-header",
                "read-only-header"
            ],
            "{findings:#?}"
        );
        // The same memory at an origin stage is allowed: the limits are the stage's.
        let origin = CheckInput {
            memory_mb: Some(512),
            ..input(
                "h.js",
                "exports.handler = async (e) => e.Records[0].cf.request;",
            )
        };
        assert_eq!(check(&origin, Stage::OriginRequest), []);
    }

    #[test]
    fn cloudfront_functions_are_checked_as_published() {
        let i = CheckInput {
            cf_function: true,
            runtime: Some("cloudfront-js-1.0".into()),
            memory_mb: Some(128),
            ..input(
                "f.js",
                "const x = 1;\nfunction handler(e) { return e.request; }",
            )
        };
        let findings = check(&i, Stage::ViewerRequest);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert_eq!(findings[0].rule, "not-applicable");
        assert!(
            findings[1]
                .message
                .contains("line 1: `const` is not supported by cloudfront-js-1.0")
        );
        let big = CheckInput {
            cf_function: true,
            ..input(
                "f.js",
                &format!(
                    "function handler(e) {{ return e.request; }} //{}",
                    "x".repeat(11_000)
                ),
            )
        };
        assert!(
            check(&big, Stage::ViewerResponse)[0]
                .message
                .contains("at most 10240 bytes")
        );
        let origin = CheckInput {
            cf_function: true,
            ..input("f.js", "function handler(e) { return e.request; }")
        };
        assert!(
            check(&origin, Stage::OriginRequest)[0]
                .message
                .contains("viewer-request and viewer-response only")
        );
    }
}
