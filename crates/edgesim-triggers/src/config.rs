//! Trigger configuration as a scenario file embeds it per stage, and its compilation into handlers.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::builtin::{self, BuiltinConfig};
use crate::handler::Handler;
use crate::pool::ExecutionModel;
use crate::script::{ScriptHandler, ScriptLanguage};
use crate::stage::Stage;

/// One problem in a trigger configuration; `field` names the offending key (may be empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Dotted path of the key, e.g. `variants[1].weight`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Provisioning and cost settings shared by every trigger kind; each overrides the stage default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionConfig {
    /// Memory size (viewer stages: 128 only; origin stages: 128–10,240).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    /// Timeout (viewer stages: at most 5,000; origin stages: at most 30,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Extra latency of a cold start (default 150 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start_ms: Option<u64>,
    /// Idle time after which an environment is reclaimed (default 600 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_secs: Option<u64>,
    /// Concurrent executions per region before throttling (default 1,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Fixed simulated cost of each invocation (default 1,000 µs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead_us: Option<u64>,
    /// CloudFront's "include body" option: the event carries `request.body` (cut at 40 KB at
    /// viewer stages and 1 MB at origin stages) and the function may replace it. Script
    /// triggers only; built-ins never read bodies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_body: bool,
}

const EXECUTION_KEYS: [&str; 7] = [
    "memory_mb",
    "timeout_ms",
    "cold_start_ms",
    "idle_timeout_secs",
    "max_concurrency",
    "overhead_us",
    "include_body",
];

impl ExecutionConfig {
    /// The stage's defaults with these overrides, or every limit the overrides break.
    pub fn model(&self, stage: Stage) -> Result<ExecutionModel, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut model = ExecutionModel::lambda_defaults(stage);
        if let Some(memory) = self.memory_mb {
            if stage.is_viewer() && memory != 128 {
                errors.push(ConfigError::new(
                    "memory_mb",
                    format!("{stage} functions have 128 MB; got {memory}"),
                ));
            } else if !(128..=stage.max_memory_mb()).contains(&memory) {
                errors.push(ConfigError::new(
                    "memory_mb",
                    format!(
                        "must be 128..={} at {stage}; got {memory}",
                        stage.max_memory_mb()
                    ),
                ));
            }
            model.memory_mb = memory;
        }
        if let Some(timeout) = self.timeout_ms {
            if timeout == 0 || timeout > stage.max_timeout_ms() {
                errors.push(ConfigError::new(
                    "timeout_ms",
                    format!(
                        "must be 1..={} at {stage}; got {timeout}",
                        stage.max_timeout_ms()
                    ),
                ));
            }
            model.timeout_ms = timeout;
        }
        if let Some(ms) = self.cold_start_ms {
            model.cold_start_us = ms * 1_000;
        }
        if let Some(secs) = self.idle_timeout_secs {
            model.idle_timeout_us = secs * 1_000_000;
        }
        if let Some(n) = self.max_concurrency {
            if n == 0 {
                errors.push(ConfigError::new("max_concurrency", "must be at least 1"));
            }
            model.max_concurrency = n;
        }
        if let Some(us) = self.overhead_us {
            model.overhead_us = us;
        }
        if errors.is_empty() {
            Ok(model)
        } else {
            Err(errors)
        }
    }
}

/// A handler file: JavaScript (`js = "x.js"`, Node.js-style) or Python (`py = "x.py"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptConfig {
    /// Path of the handler file, resolved by the caller's loader (relative to the scenario).
    pub path: String,
    /// JavaScript: name of the exported function (default `handler`).
    #[serde(default = "default_export", skip_serializing_if = "is_default_export")]
    pub export: String,
    /// Python: `module.function` (default `lambda_function.lambda_handler`, as Lambda's console
    /// creates it); the file is loaded as that module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Python: the Lambda runtime (`python3.9` to `python3.14`); the interpreter found must be
    /// that version. Without it any of those versions is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
}

impl ScriptConfig {
    /// The entry point the engine looks for: the export (JavaScript) or `module.function`.
    pub fn entry(&self, language: ScriptLanguage) -> &str {
        match language {
            ScriptLanguage::JavaScript => &self.export,
            ScriptLanguage::Python => self
                .handler
                .as_deref()
                .unwrap_or(crate::python::DEFAULT_HANDLER),
        }
    }
}

fn default_export() -> String {
    "handler".to_string()
}

fn is_default_export(s: &String) -> bool {
    s == "handler"
}

/// What runs.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerKind {
    /// A declarative built-in trigger.
    Builtin(BuiltinConfig),
    /// A CloudFront Function (`cff = "path"`), run at the PoP.
    CloudFrontFunction(crate::cff::CffConfig),
    /// A script in one of the supported languages.
    Script {
        /// The language.
        language: ScriptLanguage,
        /// File and export.
        script: ScriptConfig,
    },
}

/// The configuration of one trigger, as a scenario embeds it per stage:
///
/// ```toml
/// viewer_request = { builtin = "ab_test", variants = [{ name = "A", weight = 0.5 }, { name = "B", weight = 0.5, uri_prefix = "/b" }] }
/// origin_request = { js = "triggers/migrate.js", memory_mb = 512, timeout_ms = 3000 }
/// ```
///
/// Exactly one of `builtin = "<name>"`, `js = "<path>"` or `py = "<path>"` (with optional
/// `handler = "module.function"` and `runtime = "python3.x"`) selects the kind; the execution
/// keys ([`ExecutionConfig`]) may accompany any. Unknown keys are rejected.
///
/// A CloudFront Function is `cff = "<path>"` with optional `runtime = "cloudfront-js-1.0"` or
/// `"cloudfront-js-2.0"` (the default) and `kvs = "<store.json>"`; it takes no execution keys.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerConfig {
    /// What runs.
    pub kind: TriggerKind,
    /// Provisioning overrides.
    pub execution: ExecutionConfig,
}

impl Serialize for TriggerConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut map = match &self.kind {
            TriggerKind::Builtin(builtin) => {
                match serde_json::to_value(builtin).map_err(S::Error::custom)? {
                    Value::Object(map) => map,
                    _ => return Err(S::Error::custom("a built-in trigger serializes to a table")),
                }
            }
            TriggerKind::CloudFrontFunction(cff) => {
                let mut map = Map::new();
                map.insert("cff".to_string(), Value::String(cff.path.clone()));
                map.insert(
                    "runtime".to_string(),
                    Value::String(cff.runtime.as_str().to_string()),
                );
                if let Some(kvs) = &cff.kvs {
                    map.insert("kvs".to_string(), Value::String(kvs.clone()));
                }
                map
            }
            TriggerKind::Script { language, script } => {
                let mut map = Map::new();
                map.insert(
                    language.config_key().to_string(),
                    Value::String(script.path.clone()),
                );
                if !is_default_export(&script.export) {
                    map.insert("export".to_string(), Value::String(script.export.clone()));
                }
                for (key, value) in [("handler", &script.handler), ("runtime", &script.runtime)] {
                    if let Some(value) = value {
                        map.insert(key.to_string(), Value::String(value.clone()));
                    }
                }
                map
            }
        };
        if let Value::Object(execution) =
            serde_json::to_value(&self.execution).map_err(S::Error::custom)?
        {
            map.extend(execution);
        }
        Value::Object(map).serialize(serializer)
    }
}

impl TriggerConfig {
    /// True for a CloudFront Function (runs at the PoP, billed per invocation), false for a
    /// Lambda@Edge function (scripts and built-ins).
    pub fn is_cloudfront_function(&self) -> bool {
        matches!(self.kind, TriggerKind::CloudFrontFunction(_))
    }

    /// A JavaScript trigger with default provisioning.
    pub fn js(path: &str) -> Self {
        TriggerConfig {
            kind: TriggerKind::Script {
                language: ScriptLanguage::JavaScript,
                script: ScriptConfig {
                    path: path.to_string(),
                    export: default_export(),
                    handler: None,
                    runtime: None,
                },
            },
            execution: ExecutionConfig::default(),
        }
    }

    /// A Python trigger (`lambda_function.lambda_handler`, any supported runtime) with default
    /// provisioning.
    pub fn py(path: &str) -> Self {
        TriggerConfig {
            kind: TriggerKind::Script {
                language: ScriptLanguage::Python,
                script: ScriptConfig {
                    path: path.to_string(),
                    export: default_export(),
                    handler: None,
                    runtime: None,
                },
            },
            execution: ExecutionConfig::default(),
        }
    }
}

impl<'de> Deserialize<'de> for TriggerConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        trigger_config_from_value(value).map_err(D::Error::custom)
    }
}

fn trigger_config_from_value(value: Value) -> Result<TriggerConfig, String> {
    let Value::Object(mut map) = value else {
        return Err(
            "a trigger must be a table with `builtin = \"...\"` or `js = \"path\"`".to_string(),
        );
    };
    let mut execution_map = Map::new();
    for key in EXECUTION_KEYS {
        if let Some(v) = map.remove(key) {
            execution_map.insert(key.to_string(), v);
        }
    }
    if map.contains_key("cff") {
        if let Some(key) = execution_map.keys().next() {
            return Err(format!(
                "cff trigger: `{key}` is a Lambda@Edge setting; CloudFront Functions have fixed limits (10 KB of code, 2 MB of memory, a compute budget) and no cold starts"
            ));
        }
        for other in ["builtin", "js", "py", "python"] {
            if map.contains_key(other) {
                return Err(format!(
                    "a trigger takes exactly one of `builtin`, `js`, `py` or `cff`, got cff, {other}"
                ));
            }
        }
        let Some(path) = map.remove("cff") else {
            return Err("`cff` vanished".to_string());
        };
        map.insert("path".to_string(), path);
        let cff: crate::cff::CffConfig =
            serde_json::from_value(Value::Object(map)).map_err(|e| format!("cff trigger: {e}"))?;
        return Ok(TriggerConfig {
            kind: TriggerKind::CloudFrontFunction(cff),
            execution: ExecutionConfig::default(),
        });
    }
    let execution: ExecutionConfig =
        serde_json::from_value(Value::Object(execution_map)).map_err(|e| e.to_string())?;
    let selectors: Vec<&str> = ["builtin", "js", "py", "python"]
        .into_iter()
        .filter(|k| map.contains_key(*k))
        .collect();
    let kind = match selectors.as_slice() {
        ["builtin"] => TriggerKind::Builtin(
            serde_json::from_value(Value::Object(map))
                .map_err(|e| format!("builtin trigger: {e}"))?,
        ),
        [key @ ("js" | "py" | "python")] => {
            let language = if *key == "js" {
                ScriptLanguage::JavaScript
            } else {
                ScriptLanguage::Python
            };
            let Some(path) = map.remove(*key) else {
                return Err(format!("`{key}` vanished"));
            };
            let misplaced: &[(&str, &str)] = match language {
                ScriptLanguage::JavaScript => &[
                    (
                        "handler",
                        "a JavaScript function names its entry point with `export`",
                    ),
                    (
                        "runtime",
                        "`runtime` selects a Python version; JavaScript runs in QuickJS",
                    ),
                ],
                ScriptLanguage::Python => &[(
                    "export",
                    "a Python function names its entry point with `handler = \"module.function\"`",
                )],
            };
            for (misplaced, why) in misplaced {
                if map.contains_key(*misplaced) {
                    return Err(format!(
                        "{key} trigger: `{misplaced}` is not a {key} option: {why}"
                    ));
                }
            }
            map.insert("path".to_string(), path);
            let script: ScriptConfig = serde_json::from_value(Value::Object(map))
                .map_err(|e| format!("{key} trigger: {e}"))?;
            if let Some(handler) = &script.handler {
                crate::python::split_handler(handler).map_err(|e| format!("{key} trigger: {e}"))?;
            }
            if let Some(runtime) = &script.runtime {
                crate::python::runtime_version(runtime)
                    .map_err(|e| format!("{key} trigger: {e}"))?;
            }
            TriggerKind::Script { language, script }
        }
        [] => {
            return Err(
                "a trigger needs `builtin = \"<name>\"`, `js = \"<path>\"` or `py = \"<path>\"`"
                    .to_string(),
            );
        }
        several => {
            return Err(format!(
                "a trigger takes exactly one of `builtin`, `js` or `py`, got {}",
                several.join(", ")
            ));
        }
    };
    Ok(TriggerConfig { kind, execution })
}

/// Compile `config` for `stage` into a ready handler, reporting every problem at once.
///
/// `load_source` reads a script file by the path the configuration gives (the caller resolves
/// it relative to the scenario).
pub fn compile(
    config: &TriggerConfig,
    stage: Stage,
    load_source: &dyn Fn(&str) -> std::io::Result<String>,
) -> Result<Box<dyn Handler + Send>, Vec<ConfigError>> {
    let model = config.execution.model(stage);
    let result: Result<Box<dyn Handler + Send>, Vec<ConfigError>> = match &config.kind {
        TriggerKind::CloudFrontFunction(cff) => compile_cff(cff, stage, load_source),
        TriggerKind::Builtin(builtin) => builtin::compile(
            builtin,
            stage,
            model
                .clone()
                .unwrap_or_else(|_| ExecutionModel::lambda_defaults(stage)),
        )
        .map(|h| Box::new(h) as Box<dyn Handler + Send>),
        TriggerKind::Script { language, script } => {
            let source = load_source(&script.path).map_err(|e| {
                vec![ConfigError::new(
                    language.config_key(),
                    format!("cannot read `{}`: {e}", script.path),
                )]
            });
            let source = source.and_then(|source| {
                if source.len() > stage.max_package_bytes() {
                    Err(vec![ConfigError::new(
                        language.config_key(),
                        format!(
                            "`{}` is {} bytes; a {stage} function package may be at most {} bytes",
                            script.path,
                            source.len(),
                            stage.max_package_bytes()
                        ),
                    )])
                } else {
                    Ok(source)
                }
            });
            match source {
                Ok(source) => ScriptHandler::load(
                    *language,
                    &script.path,
                    &source,
                    script.entry(*language),
                    script.runtime.as_deref(),
                    stage,
                    model
                        .clone()
                        .unwrap_or_else(|_| ExecutionModel::lambda_defaults(stage)),
                )
                .map(|mut h| {
                    h.set_include_body(config.execution.include_body);
                    Box::new(h) as Box<dyn Handler + Send>
                }),
                Err(e) => Err(e),
            }
        }
    };
    match (model, result) {
        (Ok(_), Ok(handler)) => Ok(handler),
        (model, result) => {
            let mut errors = model.err().unwrap_or_default();
            errors.extend(result.err().unwrap_or_default());
            Err(errors)
        }
    }
}

/// Publish a CloudFront Function: its code and its store read by `load_source`.
fn compile_cff(
    cff: &crate::cff::CffConfig,
    stage: Stage,
    load_source: &dyn Fn(&str) -> std::io::Result<String>,
) -> Result<Box<dyn Handler + Send>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let source = load_source(&cff.path)
        .map_err(|e| {
            errors.push(ConfigError::new(
                "cff",
                format!("cannot read `{}`: {e}", cff.path),
            ))
        })
        .ok();
    let store = cff.kvs.as_ref().and_then(|path| {
        load_source(path)
            .map_err(|e| {
                errors.push(ConfigError::new(
                    "kvs",
                    format!("cannot read key value store `{path}`: {e}"),
                ))
            })
            .ok()
            .map(|text| (path.as_str(), text))
    });
    let Some(source) = source else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    crate::cff::CloudFrontFunction::publish(
        &cff.path,
        &source,
        cff.runtime,
        store.as_ref().map(|(p, t)| (*p, t.as_str())),
        stage,
    )
    .map(|h| Box::new(h) as Box<dyn Handler + Send>)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compiles_cloudfront_functions() {
        let config =
            parse(r#"{"cff": "f.js", "runtime": "cloudfront-js-2.0", "kvs": "store.json"}"#)
                .unwrap();
        let TriggerKind::CloudFrontFunction(cff) = &config.kind else {
            panic!("a CloudFront Function");
        };
        assert_eq!(cff.runtime, crate::cff::CffRuntime::Js2);
        assert_eq!(cff.kvs.as_deref(), Some("store.json"));
        let back: TriggerConfig =
            serde_json::from_value(serde_json::to_value(&config).unwrap()).unwrap();
        assert_eq!(back, config);
        let default = parse(r#"{"cff": "f.js"}"#).unwrap();
        assert!(
            matches!(&default.kind, TriggerKind::CloudFrontFunction(c) if c.runtime == crate::cff::CffRuntime::Js2)
        );
        for (text, want) in [
            (
                r#"{"cff": "f.js", "memory_mb": 128}"#,
                "`memory_mb` is a Lambda@Edge setting",
            ),
            (r#"{"cff": "f.js", "runtime": "nodejs20.x"}"#, "cff trigger"),
            (r#"{"cff": "f.js", "js": "g.js"}"#, "exactly one"),
            (r#"{"cff": "f.js", "colour": 1}"#, "colour"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
        let load = |path: &str| -> std::io::Result<String> {
            match path {
                "f.js" => Ok("import cf from 'cloudfront';\nconst kvs = cf.kvs();\nasync function handler(e) { return e.request; }".into()),
                "store.json" => Ok(r#"{"a": "b"}"#.into()),
                _ => Err(std::io::Error::other("no such file")),
            }
        };
        let handler = compile(&config, Stage::ViewerRequest, &load).unwrap();
        assert!(handler.runs_at_pop());
        assert_eq!(handler.describe(), "cff f.js");
        let errors = compile(&config, Stage::OriginResponse, &load)
            .err()
            .unwrap();
        assert!(
            errors[0]
                .message
                .contains("viewer-request and viewer-response only"),
            "{errors:?}"
        );
        let missing = parse(r#"{"cff": "f.js", "kvs": "nope.json"}"#).unwrap();
        let errors = compile(&missing, Stage::ViewerRequest, &load)
            .err()
            .unwrap();
        assert!(
            errors[0]
                .message
                .contains("cannot read key value store `nope.json`"),
            "{errors:?}"
        );
    }

    fn parse(json: &str) -> Result<TriggerConfig, String> {
        serde_json::from_str::<TriggerConfig>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_js_and_builtin_forms() {
        let js =
            parse(r#"{"js": "triggers/ab.js", "memory_mb": 128, "timeout_ms": 5000}"#).unwrap();
        assert!(
            matches!(js.kind, TriggerKind::Script { ref script, .. } if script.path == "triggers/ab.js")
        );
        assert_eq!(js.execution.timeout_ms, Some(5000));
        let builtin =
            parse(r#"{"builtin": "origin_split", "to": "new.example", "weight": "migration"}"#)
                .unwrap();
        assert!(matches!(
            builtin.kind,
            TriggerKind::Builtin(BuiltinConfig::OriginSplit(_))
        ));
    }

    #[test]
    fn rejects_unknown_keys_and_ambiguous_kinds() {
        assert!(
            parse(r#"{"js": "a.js", "memroy_mb": 128}"#)
                .unwrap_err()
                .contains("memroy_mb")
        );
        assert!(
            parse(r#"{"builtin": "origin_split", "to": "x", "weight": 0.5, "colour": 1}"#)
                .unwrap_err()
                .contains("colour")
        );
        assert!(
            parse(r#"{"builtin": "ab_test", "js": "a.js"}"#)
                .unwrap_err()
                .contains("exactly one")
        );
        assert!(
            parse(r#"{"memory_mb": 128}"#)
                .unwrap_err()
                .contains("needs")
        );
        assert!(
            parse(r#"{"builtin": "teleport"}"#)
                .unwrap_err()
                .contains("teleport")
        );
    }

    #[test]
    fn parses_python_triggers_with_handler_and_runtime() {
        let py = parse(
            r#"{"py": "triggers/ab.py", "handler": "app.main", "runtime": "python3.12", "timeout_ms": 100}"#,
        )
        .unwrap();
        let TriggerKind::Script { language, script } = &py.kind else {
            panic!("a script");
        };
        assert_eq!(*language, ScriptLanguage::Python);
        assert_eq!(script.entry(*language), "app.main");
        assert_eq!(script.runtime.as_deref(), Some("python3.12"));
        let back: TriggerConfig =
            serde_json::from_value(serde_json::to_value(&py).unwrap()).unwrap();
        assert_eq!(back, py);
        let default = parse(r#"{"py": "a.py"}"#).unwrap();
        let TriggerKind::Script { script, .. } = &default.kind else {
            panic!("a script");
        };
        assert_eq!(
            script.entry(ScriptLanguage::Python),
            "lambda_function.lambda_handler"
        );
        for (text, want) in [
            (
                r#"{"py": "a.py", "runtime": "python3.8"}"#,
                "not a Lambda@Edge Python runtime",
            ),
            (
                r#"{"py": "a.py", "runtime": "nodejs20.x"}"#,
                "not a Lambda@Edge Python runtime",
            ),
            (
                r#"{"py": "a.py", "handler": "lambda_handler"}"#,
                "must be `module.function`",
            ),
            (
                r#"{"py": "a.py", "export": "handler"}"#,
                "`export` is not a py option",
            ),
            (
                r#"{"js": "a.js", "handler": "a.b"}"#,
                "`handler` is not a js option",
            ),
            (
                r#"{"js": "a.js", "runtime": "python3.11"}"#,
                "`runtime` is not a js option",
            ),
            (r#"{"js": "a.js", "py": "a.py"}"#, "exactly one"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn execution_limits_are_checked_per_stage() {
        let config = ExecutionConfig {
            memory_mb: Some(512),
            timeout_ms: Some(6000),
            ..Default::default()
        };
        let errors = config.model(Stage::ViewerRequest).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        let model = config.model(Stage::OriginRequest).unwrap();
        assert_eq!((model.memory_mb, model.timeout_ms), (512, 6000));
    }

    #[test]
    fn a_package_over_the_stage_limit_is_refused() {
        let config = parse(r#"{"js": "big.js"}"#).unwrap();
        let big = format!(
            "exports.handler = async (e) => e.Records[0].cf.request; // {}",
            "x".repeat(1024 * 1024)
        );
        let errors = compile(&config, Stage::ViewerRequest, &|_| Ok(big.clone()))
            .err()
            .expect("over 1 MB at viewer-request");
        assert!(
            errors[0]
                .message
                .contains("a viewer-request function package may be at most 1048576 bytes"),
            "{errors:?}"
        );
        assert!(compile(&config, Stage::OriginRequest, &|_| Ok(big.clone())).is_ok());
    }

    #[test]
    fn compile_reports_every_problem() {
        let config = parse(r#"{"js": "missing.js", "memory_mb": 64}"#).unwrap();
        let errors = compile(&config, Stage::OriginRequest, &|_| {
            Err(std::io::Error::other("no such file"))
        })
        .err()
        .unwrap();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with("memory_mb:"), "{text:?}");
        assert!(text[1].contains("cannot read `missing.js`"), "{text:?}");
    }

    #[test]
    fn include_body_is_an_option_of_every_trigger() {
        let config = parse(r#"{"js": "a.js", "include_body": true}"#).unwrap();
        assert!(config.execution.include_body);
        assert_eq!(
            serde_json::to_value(&config).unwrap(),
            serde_json::json!({"js": "a.js", "include_body": true})
        );
        assert!(!parse(r#"{"js": "a.js"}"#).unwrap().execution.include_body);
        assert!(parse(r#"{"js": "a.js", "include_body": "yes"}"#).is_err());
    }

    #[test]
    fn serializes_back_to_the_flat_form() {
        let config = parse(r#"{"js": "a.js", "timeout_ms": 100}"#).unwrap();
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json, serde_json::json!({"js": "a.js", "timeout_ms": 100}));
        let builtin = parse(r#"{"builtin": "origin_split", "to": "new.example", "weight": 0.2, "cold_start_ms": 0}"#).unwrap();
        let back: TriggerConfig =
            serde_json::from_value(serde_json::to_value(&builtin).unwrap()).unwrap();
        assert_eq!(back, builtin);
    }
}
