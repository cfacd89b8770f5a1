//! Property tests of the readers of untrusted input: the scenario parser
//! (arbitrary text, and shipped scenarios mutated byte by byte and token
//! by token) and the CloudFront log reader (arbitrary bytes, plain and
//! gzip, and endless streams). None may panic; every diagnostic must be
//! one printable line of bounded length; and a reader given a stream that
//! never ends must stop with an error after a bounded amount of it, which
//! is what bounded memory means for a reader.

use std::io::{Cursor, Read, Write};

use edgesim_model::cflog::{CfLogReader, STANDARD_FIELDS, standard_header};
use edgesim_model::{Scenario, limits};
use proptest::prelude::*;

const QUICKSTART: &str = include_str!("../../../scenarios/quickstart.toml");
const TIERS: &str = include_str!("../../../scenarios/tiers.toml");

/// Validates `text` as a scenario, with the limits, as `validate` does;
/// checks that every problem prints as one safe line.
fn validate(text: &str) {
    let result = limits::precheck("p.toml", text)
        .and_then(|()| Scenario::from_toml("p.toml", text))
        .and_then(|s| limits::check("p.toml", text, &s).map(|_| ()));
    if let Err(d) = result {
        assert!(!d.0.is_empty());
        for line in d.to_string().lines() {
            assert!(line.starts_with("p.toml:"), "{line}");
            assert!(line.chars().count() < 1200, "{line}");
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
    }
}

/// Tokens that make TOML and validation take unusual paths.
const TOKENS: &[&str] = &[
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "\"",
    "'",
    ",",
    ".",
    "\n",
    "#",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e308",
    "18446744073709551616",
    "\"\\u001b[2J\"",
    "\"../x\"",
    "true",
    "[]",
    "{}",
    "\"1PiB\"",
    "\"-5GiB\"",
    "1979-05-27T07:32:00Z",
    "\u{202e}",
    "\"\u{0}\"",
    "x.y.z = 1",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, u8),
    Replace(usize, u8),
    Token(usize, usize),
    DuplicateLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Mutation::Token(at, t)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

/// `text` with the mutations applied (positions taken modulo its length);
/// bytes that break UTF-8 are replaced, as the file reader would refuse
/// them before parsing.
fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Mutation::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Mutation::Replace(at, b) => {
                if !bytes.is_empty() {
                    bytes[at % len] = b;
                }
            }
            Mutation::Token(at, t) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, TOKENS[t].bytes());
            }
            Mutation::DuplicateLine(at) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let line = lines[at % lines.len()].to_owned();
                    bytes.extend_from_slice(format!("\n{line}\n").as_bytes());
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_the_parser(text in "(?s).{0,600}") {
        validate(&text);
    }

    #[test]
    fn mutated_scenarios_never_panic_the_parser(
        mutations in proptest::collection::vec(mutation(), 1..8),
        tiers in any::<bool>(),
    ) {
        let text = mutate(if tiers { TIERS } else { QUICKSTART }, &mutations);
        validate(&text);
    }
}

/// Reads every record of `bytes` as a log; the number of records read and
/// whether it ended in an error.
fn read_log(
    reader: Result<CfLogReader, edgesim_model::cflog::CfLogError>,
    max_calls: usize,
) -> (usize, bool) {
    let Ok(mut reader) = reader else {
        return (0, true);
    };
    let mut n = 0;
    for _ in 0..max_calls {
        match reader.next_record() {
            Ok(Some(_)) => n += 1,
            Ok(None) => return (n, false),
            Err(e) => {
                let shown = e.to_string();
                assert!(shown.starts_with("x.log:"), "{shown}");
                assert!(shown.chars().count() < 600, "{shown}");
                return (n, true);
            }
        }
    }
    panic!("the reader did not stop after {max_calls} calls");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A log line with `fields` in place of the standard ones where given.
fn log_line(fields: &[String]) -> String {
    let mut f: Vec<String> = STANDARD_FIELDS.iter().map(|_| "-".to_owned()).collect();
    f[0] = "2024-01-01".into();
    f[1] = "00:00:01".into();
    f[2] = "FRA56-C1".into();
    f[3] = "100".into();
    f[7] = "/a".into();
    for (i, v) in fields.iter().enumerate() {
        f[i % STANDARD_FIELDS.len()] = v.clone();
    }
    f.join("\t")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_log_reader(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        with_header in any::<bool>(),
        zipped in any::<bool>(),
    ) {
        let mut input = if with_header { standard_header().into_bytes() } else { Vec::new() };
        input.extend_from_slice(&bytes);
        let input = if zipped { gzip(&input) } else { input };
        let calls = input.len() + 2;
        read_log(CfLogReader::from_reader("x.log", Cursor::new(input)), calls);
    }

    #[test]
    fn mutated_log_lines_never_panic_the_log_reader(
        fields in proptest::collection::vec("(?s).{0,40}", 0..40),
    ) {
        let text = format!("{}{}\n", standard_header(), log_line(&fields));
        read_log(CfLogReader::from_reader("x.log", Cursor::new(text.into_bytes())), 8);
    }

    #[test]
    fn an_endless_stream_is_an_error_after_a_bounded_read(
        prefix in proptest::collection::vec(any::<u8>(), 0..300),
        with_header in any::<bool>(),
        zipped in any::<bool>(),
    ) {
        let mut head = if with_header { standard_header().into_bytes() } else { Vec::new() };
        head.extend_from_slice(&prefix);
        let calls = head.len() + 2;
        let (_, failed) = if zipped {
            // A gzip member of 1 MB of one byte value, then the end: a bomb
            // with no line break, reassembled in pieces by the decoder.
            let mut body = head.clone();
            body.extend(std::iter::repeat_n(b'x', 1 << 20));
            read_log(CfLogReader::from_reader("x.log", Cursor::new(gzip(&body))), calls)
        } else {
            let endless = Cursor::new(head).chain(std::io::repeat(b'x'));
            read_log(CfLogReader::from_reader("x.log", endless), calls)
        };
        prop_assert!(failed);
    }
}
