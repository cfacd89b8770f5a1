//! `edgesim replay`: runs a cache trace through eviction policies and cache sizes and reports miss ratios.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use edgesim_cache::replay::{ReplayOptions, ReplayResult, ReplaySpec, replay_trace};
use edgesim_cache::size::{format_bytes, parse_bytes};
use edgesim_cache::trace::{CsvOptions, TraceFormat, TraceReader};
use edgesim_cache::{Capacity, PolicyKind};

/// Trace file formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// libCacheSim oracleGeneral binary: 24-byte records (u32 time, u64 id, u32 size, i64 next access).
    OracleGeneral,
    /// One request per line; columns set with the --csv-* options.
    Csv,
    /// CloudFront standard access log (tab-separated W3C with #Fields:); key = cs-uri-stem, size = sc-bytes.
    CloudfrontLog,
}

/// Whether a csv trace starts with a header line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvHeader {
    /// Detect it: a first line with more letters than digits is a header (libCacheSim's rule).
    Auto,
    /// The first line is a header.
    Yes,
    /// There is no header.
    No,
}

/// A `--cache-size` value as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizeArg {
    /// The value in bytes (or objects with `--object-count`).
    pub value: u64,
    /// Whether the text carried a unit such as `MiB`.
    pub has_unit: bool,
}

fn parse_size_arg(text: &str) -> Result<SizeArg, String> {
    let value = parse_bytes(text).map_err(|error| error.to_string())?;
    Ok(SizeArg {
        value,
        has_unit: text.chars().any(|c| c.is_ascii_alphabetic()),
    })
}

fn parse_policy(text: &str) -> Result<PolicyKind, String> {
    text.parse()
        .map_err(|error: edgesim_cache::UnknownPolicy| error.to_string())
}

/// Arguments of `edgesim replay`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Every request counts (no warm-up). A miss admits the object unless it is larger than the cache; \
zero-byte requests are skipped, as libCacheSim's readers do (see --keep-zero-size).

Sizes: a plain integer is bytes; B, KB/MB/GB/TB are powers of 1000 and KiB/MiB/GiB/TiB powers \
of 1024 (case-insensitive), e.g. --cache-size 128MiB,1GiB,1.5GB. With --object-count the sizes \
are object counts and take no unit.

Output columns: requests, misses, byte_misses (bytes requested by missing requests), miss_ratio \
(misses / requests) and byte_miss_ratio (byte_misses / bytes requested). --json prints an array \
of objects with those keys plus policy and cache_bytes (cache_objects with --object-count).

Example: edgesim replay trace.oracleGeneral.bin --format oracle-general --policy lru,sieve,s3fifo \
--cache-size 64MiB,256MiB")]
pub struct Args {
    /// Trace file to replay; gzip-compressed files are detected automatically.
    pub trace: PathBuf,

    /// Trace format.
    #[arg(long, value_enum)]
    pub format: FormatArg,

    /// Eviction policies, comma-separated: lru, fifo, clock, sieve, s3fifo (or s3-fifo), arc.
    #[arg(long, value_delimiter = ',', default_value = "lru", value_parser = parse_policy, value_name = "POLICY[,...]")]
    pub policy: Vec<PolicyKind>,

    /// Cache sizes, comma-separated, in bytes with an optional unit (e.g. 128MiB,1GiB); see below.
    #[arg(long = "cache-size", value_delimiter = ',', required = true, value_parser = parse_size_arg, value_name = "SIZE[,...]")]
    pub cache_size: Vec<SizeArg>,

    /// Interpret --cache-size as object counts: every object costs 1 whatever its size
    /// (libCacheSim's ignore_obj_size).
    #[arg(long)]
    pub object_count: bool,

    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Also count zero-byte requests (libCacheSim skips them).
    #[arg(long)]
    pub keep_zero_size: bool,

    /// Worker threads; 0 uses every available core.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// csv: 1-based column of the timestamp (0: no time column).
    #[arg(
        long,
        default_value_t = 1,
        value_name = "COLUMN",
        help_heading = "CSV options"
    )]
    pub csv_time_col: usize,

    /// csv: 1-based column of the object id.
    #[arg(
        long,
        default_value_t = 2,
        value_name = "COLUMN",
        help_heading = "CSV options"
    )]
    pub csv_id_col: usize,

    /// csv: 1-based column of the object size in bytes (0: no size column, every request is 1 byte).
    #[arg(
        long,
        default_value_t = 3,
        value_name = "COLUMN",
        help_heading = "CSV options"
    )]
    pub csv_size_col: usize,

    /// csv: field delimiter [default: detected among tab , | :].
    #[arg(long, value_name = "CHAR", help_heading = "CSV options")]
    pub csv_delimiter: Option<char>,

    /// csv: whether the first line is a header.
    #[arg(long, value_enum, default_value = "auto", help_heading = "CSV options")]
    pub csv_header: CsvHeader,

    /// csv: hash non-numeric object ids instead of rejecting them.
    #[arg(long, help_heading = "CSV options")]
    pub csv_hash_ids: bool,
}

impl Args {
    /// The trace format with its csv options.
    fn trace_format(&self) -> anyhow::Result<TraceFormat> {
        Ok(match self.format {
            FormatArg::OracleGeneral => TraceFormat::OracleGeneral,
            FormatArg::CloudfrontLog => TraceFormat::CloudFrontLog,
            FormatArg::Csv => {
                if self.csv_id_col == 0 {
                    bail!("--csv-id-col must be at least 1 (columns are numbered from 1)");
                }
                let delimiter = match self.csv_delimiter {
                    None => None,
                    Some(c) if c.is_ascii() => Some(c as u8),
                    Some(c) => bail!("--csv-delimiter must be an ASCII character, not {c:?}"),
                };
                TraceFormat::Csv(CsvOptions {
                    time_column: (self.csv_time_col > 0).then_some(self.csv_time_col),
                    id_column: self.csv_id_col,
                    size_column: (self.csv_size_col > 0).then_some(self.csv_size_col),
                    delimiter,
                    has_header: match self.csv_header {
                        CsvHeader::Auto => None,
                        CsvHeader::Yes => Some(true),
                        CsvHeader::No => Some(false),
                    },
                    hash_ids: self.csv_hash_ids,
                })
            }
        })
    }

    /// Every (policy, capacity) pair, policies outermost.
    fn specs(&self) -> anyhow::Result<Vec<ReplaySpec>> {
        let mut capacities = Vec::new();
        for size in &self.cache_size {
            let capacity = if self.object_count {
                if size.has_unit {
                    bail!(
                        "--cache-size {} has a unit, but --object-count sizes are plain object counts",
                        format_bytes(size.value)
                    );
                }
                Capacity::Objects(size.value)
            } else {
                Capacity::Bytes(size.value)
            };
            capacities.push(capacity);
        }
        Ok(self
            .policy
            .iter()
            .flat_map(|&policy| {
                capacities
                    .iter()
                    .map(move |&capacity| ReplaySpec { policy, capacity })
            })
            .collect())
    }
}

/// Runs the subcommand: replays the trace once through every pair and prints
/// the table (or JSON) on stdout. Errors name the trace file and the record or
/// line at fault.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let format = args.trace_format()?;
    let specs = args.specs()?;
    let mut reader = TraceReader::open(&args.trace, &format)?;
    let options = ReplayOptions {
        threads: args.threads,
        skip_zero_size: !args.keep_zero_size,
        ..ReplayOptions::default()
    };
    let results = replay_trace(&mut reader, &specs, &options)?;
    let output = if args.json {
        render_json(&results)?
    } else {
        render_table(&results)
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (e.g. `| head`) is not a failure of the replay.
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("writing the replay results to stdout")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The results as a pretty-printed JSON array, with a trailing newline.
fn render_json(results: &[ReplayResult]) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(results).context("serialising replay results")?;
    text.push('\n');
    Ok(text)
}

/// The results as an aligned text table.
fn render_table(results: &[ReplayResult]) -> String {
    let header = [
        "policy",
        "cache_size",
        "requests",
        "misses",
        "byte_misses",
        "miss_ratio",
        "byte_miss_ratio",
    ];
    let rows: Vec<[String; 7]> = results
        .iter()
        .map(|result| {
            [
                result.policy.to_string(),
                match result.capacity {
                    Capacity::Bytes(bytes) => format_bytes(bytes),
                    Capacity::Objects(objects) => format!("{objects} obj"),
                },
                result.requests.to_string(),
                result.misses.to_string(),
                result.byte_misses.to_string(),
                format!("{:.6}", result.miss_ratio),
                format!("{:.6}", result.byte_miss_ratio),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut text = String::new();
    let mut line = |cells: [&str; 7]| {
        for (column, cell) in cells.iter().enumerate() {
            if column > 0 {
                text.push_str("  ");
            }
            // Names left-aligned, numbers right-aligned.
            if column < 2 {
                let _ = write!(text, "{cell:<width$}", width = widths[column]);
            } else {
                let _ = write!(text, "{cell:>width$}", width = widths[column]);
            }
        }
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        text.push('\n');
    };
    line(header);
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(arguments: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("replay").chain(arguments.iter().copied()))
            .map(|cli| cli.args)
    }

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("edgesim-replay-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn oracle_trace(records: &[(u32, u64, u32)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for &(time, id, size) in records {
            bytes.extend_from_slice(&time.to_le_bytes());
            bytes.extend_from_slice(&id.to_le_bytes());
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(&(-1i64).to_le_bytes());
        }
        bytes
    }

    #[test]
    fn parses_lists_and_sizes() {
        let args = parse(&[
            "t.bin",
            "--format",
            "oracle-general",
            "--policy",
            "lru,S3-FIFO,arc",
            "--cache-size",
            "128MiB,1GB,4096",
        ])
        .unwrap();
        assert_eq!(
            args.policy,
            vec![PolicyKind::Lru, PolicyKind::S3Fifo, PolicyKind::Arc]
        );
        let sizes: Vec<u64> = args.cache_size.iter().map(|s| s.value).collect();
        assert_eq!(sizes, vec![128 << 20, 1_000_000_000, 4096]);
        let specs = args.specs().unwrap();
        assert_eq!(specs.len(), 9);
        assert_eq!(
            specs[3],
            ReplaySpec {
                policy: PolicyKind::S3Fifo,
                capacity: Capacity::Bytes(128 << 20)
            }
        );
    }

    #[test]
    fn usage_errors_come_from_clap() {
        let error = parse(&[
            "t.bin",
            "--format",
            "oracle-general",
            "--cache-size",
            "12XB",
        ])
        .unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(error.to_string().contains("unknown unit \"XB\""), "{error}");
        assert_eq!(error.exit_code(), 2);

        let error = parse(&["t.bin", "--format", "parquet", "--cache-size", "1MiB"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(error.to_string().contains("oracle-general"), "{error}");

        let error = parse(&[
            "t.bin",
            "--format",
            "csv",
            "--policy",
            "lfu",
            "--cache-size",
            "1MiB",
        ])
        .unwrap_err();
        assert!(
            error.to_string().contains("valid policies: lru, fifo"),
            "{error}"
        );

        let error = parse(&["t.bin", "--format", "csv"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn object_count_rejects_units() {
        let args = parse(&[
            "t.bin",
            "--format",
            "csv",
            "--object-count",
            "--cache-size",
            "100,1KiB",
        ])
        .unwrap();
        let error = args.specs().unwrap_err().to_string();
        assert!(error.contains("--object-count"), "{error}");
        let args = parse(&[
            "t.bin",
            "--format",
            "csv",
            "--object-count",
            "--cache-size",
            "100",
        ])
        .unwrap();
        assert_eq!(args.specs().unwrap()[0].capacity, Capacity::Objects(100));
    }

    #[test]
    fn missing_and_truncated_traces_name_the_file() {
        let args = parse(&[
            "/nonexistent/edgesim.bin",
            "--format",
            "oracle-general",
            "--cache-size",
            "1MiB",
        ])
        .unwrap();
        let error = format!("{:#}", run(args).unwrap_err());
        assert!(
            error.starts_with("/nonexistent/edgesim.bin: cannot open trace"),
            "{error}"
        );

        let mut bytes = oracle_trace(&[(1, 1, 100), (2, 2, 100), (3, 1, 100)]);
        bytes.truncate(bytes.len() - 1);
        let path = temp_file("truncated.bin", &bytes);
        let args = parse(&[
            path.to_str().unwrap(),
            "--format",
            "oracle-general",
            "--cache-size",
            "1MiB",
        ])
        .unwrap();
        let error = format!("{:#}", run(args).unwrap_err());
        std::fs::remove_file(&path).unwrap();
        assert!(
            error.contains(
                "truncated.bin: truncated oracleGeneral trace: record 3 has only 23 of 24 bytes"
            ),
            "{error}"
        );
    }

    #[test]
    fn replays_a_csv_trace() {
        let path = temp_file(
            "trace.csv",
            b"time,id,size\n1,1,100\n2,2,100\n3,1,100\n4,3,x\n",
        );
        let args = parse(&[
            path.to_str().unwrap(),
            "--format",
            "csv",
            "--cache-size",
            "1KiB",
        ])
        .unwrap();
        let error = format!("{:#}", run(args).unwrap_err());
        assert!(
            error.contains("trace.csv:5: size field \"x\" is not a number"),
            "{error}"
        );
        std::fs::write(&path, b"1,1,100\n2,2,100\n3,1,100\n").unwrap();
        let args = parse(&[
            path.to_str().unwrap(),
            "--format",
            "csv",
            "--cache-size",
            "1KiB",
            "--json",
        ])
        .unwrap();
        assert_eq!(run(args).unwrap(), ExitCode::SUCCESS);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn table_and_json_rendering() {
        let results = [
            ReplayResult {
                policy: PolicyKind::Lru,
                capacity: Capacity::Bytes(128 << 20),
                requests: 1000,
                misses: 250,
                byte_misses: 1_000_000,
                miss_ratio: 0.25,
                byte_miss_ratio: 0.125,
            },
            ReplayResult {
                policy: PolicyKind::S3Fifo,
                capacity: Capacity::Objects(10),
                requests: 1000,
                misses: 9,
                byte_misses: 900,
                miss_ratio: 0.009,
                byte_miss_ratio: 0.0001,
            },
        ];
        assert_eq!(
            render_table(&results),
            "\
policy  cache_size  requests  misses  byte_misses  miss_ratio  byte_miss_ratio
lru     128MiB          1000     250      1000000    0.250000         0.125000
s3fifo  10 obj          1000       9          900    0.009000         0.000100
"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&results).unwrap()).unwrap();
        let first = json[0].as_object().unwrap();
        let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "byte_miss_ratio",
                "byte_misses",
                "cache_bytes",
                "miss_ratio",
                "misses",
                "policy",
                "requests"
            ]
        );
        assert_eq!(first["policy"], "lru");
        assert_eq!(json[1]["cache_objects"], 10);
    }
}
