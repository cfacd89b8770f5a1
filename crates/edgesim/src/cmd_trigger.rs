//! `edgesim trigger test`: run one Lambda@Edge handler (or, with `--cf-function`, one CloudFront
//! Function) on one event and show what CloudFront would do.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use edgesim_triggers::testing::{self, EventSpec, TestOptions};
use edgesim_triggers::{CfEvent, Device, Os, Stage, ViewerLocation};

/// Arguments of `edgesim trigger test`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Handler file, written as for Lambda@Edge: JavaScript (`exports.handler = (event, context,
    /// callback) => ...`) or, for a `.py` file, Python (`def lambda_handler(event, context)`, run
    /// by python3 or $EDGESIM_PYTHON).
    pub handler: PathBuf,
    /// Entry point: the JavaScript export (default `handler`) or the Python `module.function`
    /// (default `lambda_function.lambda_handler`).
    #[arg(long = "handler", value_name = "NAME")]
    pub entry: Option<String>,
    /// Python runtime (`python3.9` to `python3.14`): the interpreter must be that version. With
    /// `--cf-function`: `cloudfront-js-1.0` or `cloudfront-js-2.0` (the default).
    #[arg(long)]
    pub runtime: Option<String>,
    /// Run the file as a CloudFront Function (`function handler(event)`, viewer-request or
    /// viewer-response, at the PoP) with CloudFront Functions' limits: 10 KB of code, 2 MB of
    /// memory, the compute-utilization budget, the runtime's syntax.
    #[arg(long, conflicts_with_all = ["entry", "memory_mb", "timeout_ms", "body"])]
    pub cf_function: bool,
    /// The CloudFront Function's KeyValueStore: a JSON file (`{"key": "value", ...}` or
    /// CloudFront's import format `{"data": [{"key": ..., "value": ...}]}`).
    #[arg(long, value_name = "FILE", requires = "cf_function")]
    pub kvs: Option<PathBuf>,
    /// viewer-request, origin-request, origin-response or viewer-response (default: the event's eventType).
    #[arg(long)]
    pub stage: Option<String>,
    /// A whole test event as the AWS console shows it (`{"Records":[{"cf":{...}}]}`).
    #[arg(long, value_name = "FILE")]
    pub event: Option<PathBuf>,
    /// Request URI, optionally with `?query`.
    #[arg(long, default_value = "/", conflicts_with = "event")]
    pub uri: String,
    /// HTTP method.
    #[arg(long, default_value = "GET", conflicts_with = "event")]
    pub method: String,
    /// Extra request header, repeatable.
    #[arg(long = "header", value_name = "NAME: VALUE", conflicts_with = "event")]
    pub headers: Vec<String>,
    /// Viewer country (CloudFront-Viewer-Country, visible from origin-request on). A country of
    /// the simulator's table also fills the location headers (CloudFront-Viewer-City,
    /// -Country-Name, -Country-Region(-Name) where known, -Latitude, -Longitude, -Time-Zone,
    /// -Postal-Code in the US, -ASN where modelled; never -Metro-Code) from its largest city.
    #[arg(long, value_name = "ISO", conflicts_with = "event")]
    pub country: Option<String>,
    /// Viewer city instead of the country's largest: any city of the simulator's table
    /// (crates/edgesim-model/data/cities.tsv) in --country, case-insensitive; its row fills the
    /// location headers.
    #[arg(long, conflicts_with = "event")]
    pub city: Option<String>,
    /// Request body, read from a file. The function sees it (CloudFront's "include body"),
    /// cut at 40 KB at viewer stages and 1 MB at origin stages with inputTruncated: true.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
    /// Test the function without "include body": the event carries no body.
    #[arg(long)]
    pub no_include_body: bool,
    /// Viewer device: desktop, mobile, tablet or smarttv (User-Agent and CloudFront-Is-*-Viewer).
    #[arg(long, conflicts_with = "event")]
    pub device: Option<String>,
    /// Viewer OS: android, ios or other.
    #[arg(long, conflicts_with = "event")]
    pub os: Option<String>,
    /// Viewer IP address.
    #[arg(long, default_value = "203.0.113.178", conflicts_with = "event")]
    pub client_ip: String,
    /// Origin domain at the origin stages (S3 when it contains `.s3`, custom otherwise).
    #[arg(long, conflicts_with = "event")]
    pub origin: Option<String>,
    /// Response status at the response stages.
    #[arg(long, default_value_t = 200, conflicts_with = "event")]
    pub status: u16,
    /// Extra response header at the response stages, repeatable.
    #[arg(
        long = "response-header",
        value_name = "NAME: VALUE",
        conflicts_with = "event"
    )]
    pub response_headers: Vec<String>,
    /// Memory size (origin stages; viewer stages have 128 MB).
    #[arg(long)]
    pub memory_mb: Option<u32>,
    /// Timeout (at most 5,000 at viewer stages, 30,000 at origin stages).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Seed for Math.random (Python: random, os.urandom, uuid4).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated time for Date.now() (Python: time.time(), datetime.now()), ms since the Unix epoch.
    #[arg(long, default_value_t = 1_700_000_000_000)]
    pub now_ms: u64,
    /// Print one JSON object: outcome, viewer_status, result, logs, duration_ms.
    #[arg(long)]
    pub json: bool,
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn parse_os(text: &str) -> Result<Os, String> {
    match text.to_ascii_lowercase().as_str() {
        "android" => Ok(Os::Android),
        "ios" => Ok(Os::Ios),
        "other" => Ok(Os::Other),
        _ => Err(format!(
            "unknown os `{text}`: expected android, ios or other"
        )),
    }
}

/// The location headers' values for `--country` (and `--city`), from the simulator's city table.
fn location(args: &Args) -> Result<Option<ViewerLocation>, String> {
    let Some(country) = &args.country else {
        return match &args.city {
            Some(_) => Err("--city needs --country".to_string()),
            None => Ok(None),
        };
    };
    let Some(city) = &args.city else {
        return Ok(edgesim_model::geo_tables::viewer_location(country));
    };
    if edgesim_model::cities::of_country(country).is_empty() {
        return Err(format!(
            "--city: country `{country}` is not in the simulator's city table"
        ));
    }
    match edgesim_model::cities::find(country, city) {
        Some(i) => Ok(edgesim_model::cities::viewer_location(i)),
        None => {
            let known: Vec<&str> = edgesim_model::cities::all()
                [edgesim_model::cities::of_country(country)]
            .iter()
            .take(8)
            .map(|c| c.name)
            .collect();
            Err(format!(
                "--city: `{city}` is not a city of {country} in the simulator's table \
                 (its largest: {})",
                known.join(", ")
            ))
        }
    }
}

/// The event and stage the arguments describe, or a usage error.
fn event_and_stage(args: &Args) -> Result<(CfEvent, Stage), String> {
    let stage = args
        .stage
        .as_deref()
        .map(str::parse::<Stage>)
        .transpose()
        .map_err(|e| e.to_string())?;
    let body = args
        .body
        .as_ref()
        .map(|path| edgesim_model::input::read_body(path).map_err(|e| format!("cannot read {e}")))
        .transpose()?;
    if let Some(path) = &args.event {
        let text =
            edgesim_model::input::read_event(path).map_err(|e| format!("cannot read {e}"))?;
        let mut event = CfEvent::from_json(&text).map_err(|e| {
            // serde_json quotes keys from the file: escape and cut them.
            let e = edgesim_cache::input::excerpt_chars(&e.to_string(), 400);
            format!("{}: not a CloudFront event: {e}", path.display())
        })?;
        let stage = stage.unwrap_or(event.config.event_type);
        event.config.event_type = stage;
        if let Some(body) = body {
            event.request.body = Some(edgesim_triggers::body::request_body(&body));
        }
        return Ok((event, stage));
    }
    let stage = stage.ok_or("--stage is required without --event")?;
    let spec = EventSpec {
        method: args.method.clone(),
        uri: args.uri.clone(),
        headers: args
            .headers
            .iter()
            .map(|h| testing::parse_header(h))
            .collect::<Result<_, _>>()?,
        country: args.country.as_ref().map(|c| c.to_ascii_uppercase()),
        location: location(args)?,
        body,
        device: args
            .device
            .as_deref()
            .map(str::parse::<Device>)
            .transpose()
            .map_err(|e| e.to_string())?,
        os: args.os.as_deref().map(parse_os).transpose()?,
        client_ip: args.client_ip.clone(),
        origin: args.origin.clone(),
        status: args.status,
        response_headers: args
            .response_headers
            .iter()
            .map(|h| testing::parse_header(h))
            .collect::<Result<_, _>>()?,
    };
    if stage == Stage::ViewerRequest && args.country.is_some() && !args.json {
        eprintln!(
            "note: CloudFront adds CloudFront-Viewer-Country and the location headers after viewer-request; the handler will not see them"
        );
    }
    Ok((testing::build_event(stage, &spec), stage))
}

/// Run `edgesim trigger test`: exit 0 when CloudFront would accept the result, 1 when it would
/// fail the request, 2 for usage errors.
pub fn run(args: Args) -> Result<ExitCode> {
    let (event, stage) = match event_and_stage(&args) {
        Ok(found) => found,
        Err(message) => return Ok(usage(message)),
    };
    let name = args.handler.display().to_string();
    let source = match edgesim_model::input::read_handler(&args.handler) {
        Ok(source) => source,
        Err(e) => return Ok(usage(format!("cannot read {e}"))),
    };
    let options = TestOptions {
        memory_mb: args.memory_mb,
        timeout_ms: args.timeout_ms,
        now_ms: args.now_ms,
        seed: args.seed,
        include_body: args.no_include_body.then_some(false),
        ..TestOptions::default()
    };
    if let Some(body) = event
        .request
        .body
        .as_ref()
        .filter(|_| !args.no_include_body)
    {
        let size = edgesim_triggers::body::body_bytes(body).len();
        let limit = edgesim_triggers::body::max_body_bytes(stage);
        if size > limit && !args.json {
            eprintln!(
                "note: the request body is {size} bytes; at {stage} the function sees the first {limit} (inputTruncated: true)"
            );
        }
    }
    let report = if args.cf_function {
        let runtime = match args.runtime.as_deref().map(str::parse).transpose() {
            Ok(runtime) => runtime.unwrap_or_default(),
            Err(message) => return Ok(usage(format!("--runtime: {message}"))),
        };
        let store = match &args.kvs {
            None => None,
            Some(path) => match edgesim_model::input::read_handler(path) {
                Ok(text) => Some((path.display().to_string(), text)),
                Err(e) => return Ok(usage(format!("cannot read {e}"))),
            },
        };
        testing::run_cff(
            &name,
            &source,
            runtime,
            store.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
            stage,
            &event,
            &options,
        )
    } else {
        testing::run_script(
            &name,
            &source,
            args.entry.as_deref(),
            args.runtime.as_deref(),
            stage,
            &event,
            &options,
        )
    };
    let report = match report {
        Ok(report) => report,
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {}", error.message);
            }
            return Ok(ExitCode::from(2));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.accepted() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Arguments of `edgesim trigger check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Handler file (JavaScript or, for `.py`, Python; with `--cf-function`, a CloudFront
    /// Function).
    pub handler: PathBuf,
    /// viewer-request, origin-request, origin-response or viewer-response.
    #[arg(long)]
    pub stage: String,
    /// Check it as a CloudFront Function.
    #[arg(long)]
    pub cf_function: bool,
    /// nodejs18.x ... nodejs24.x, python3.9 ... python3.14, or cloudfront-js-1.0/2.0.
    #[arg(long)]
    pub runtime: Option<String>,
    /// Memory size the function is configured with.
    #[arg(long)]
    pub memory_mb: Option<u32>,
    /// Timeout the function is configured with.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// An environment variable the function has (`KEY=VALUE`), repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// A layer the function uses (ARN), repeatable.
    #[arg(long = "layer", value_name = "ARN")]
    pub layers: Vec<String>,
    /// The function is configured to access a VPC.
    #[arg(long)]
    pub vpc: bool,
    /// The function version CloudFront is to associate (`$LATEST`, an alias or a number).
    #[arg(long = "function-version", value_name = "VERSION")]
    pub function_version: Option<String>,
    /// The region the function is created in.
    #[arg(long)]
    pub region: Option<String>,
    /// A CloudFront Function's KeyValueStore (JSON file).
    #[arg(long, value_name = "FILE", requires = "cf_function")]
    pub kvs: Option<PathBuf>,
    /// Print the findings as one JSON object: `ok` and `findings` [{severity, rule, message}].
    #[arg(long)]
    pub json: bool,
}

/// Run `edgesim trigger check`: exit 0 without errors (warnings allowed), 1 with any, 2 for
/// usage errors.
pub fn run_check(args: CheckArgs) -> Result<ExitCode> {
    let stage = match args.stage.parse::<Stage>() {
        Ok(stage) => stage,
        Err(e) => return Ok(usage(e)),
    };
    let source = match edgesim_model::input::read_handler(&args.handler) {
        Ok(source) => source,
        Err(e) => return Ok(usage(format!("cannot read {e}"))),
    };
    let kvs = match &args.kvs {
        None => None,
        Some(path) => match edgesim_model::input::read_handler(path) {
            Ok(text) => Some((path.display().to_string(), text)),
            Err(e) => return Ok(usage(format!("cannot read {e}"))),
        },
    };
    let input = edgesim_triggers::check::CheckInput {
        path: args.handler.display().to_string(),
        source,
        cf_function: args.cf_function,
        runtime: args.runtime,
        memory_mb: args.memory_mb,
        timeout_ms: args.timeout_ms,
        env: args.env,
        layers: args.layers,
        vpc: args.vpc,
        version: args.function_version,
        region: args.region,
        kvs,
    };
    let findings = edgesim_triggers::check::check(&input, stage);
    let errors = findings
        .iter()
        .filter(|f| f.severity == edgesim_triggers::check::Severity::Error)
        .count();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"ok": errors == 0, "stage": stage.as_str(), "findings": findings})
        );
    } else {
        for f in &findings {
            let level = match f.severity {
                edgesim_triggers::check::Severity::Error => "error",
                edgesim_triggers::check::Severity::Warning => "warning",
            };
            println!("{level} [{}]: {}", f.rule, f.message);
        }
        println!(
            "{}: {errors} error(s), {} warning(s) at {stage}",
            input.path,
            findings.len() - errors
        );
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
