//! Property tests of the trace readers on untrusted input: arbitrary
//! bytes (plain and gzip) in every format never panic and always end, and
//! a text trace that never ends (no line break, or a gzip bomb) is an
//! error after a bounded read, naming the file and line.

use std::io::{Cursor, Read, Write};

use edgesim_cache::trace::{CsvOptions, TraceFormat, TraceReader};
use proptest::prelude::*;

fn formats() -> Vec<TraceFormat> {
    vec![
        TraceFormat::OracleGeneral,
        TraceFormat::Csv(CsvOptions::default()),
        TraceFormat::Csv(CsvOptions {
            hash_ids: true,
            ..CsvOptions::default()
        }),
        TraceFormat::CloudFrontLog,
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Reads the whole trace; whether it ended in an error. Panics if it
/// yields more requests than `max` (it must end).
fn drain(reader: TraceReader, max: usize) -> bool {
    let mut n = 0;
    for request in reader {
        match request {
            Ok(_) => n += 1,
            Err(e) => {
                let shown = e.to_string();
                assert!(shown.starts_with("t.trace"), "{shown}");
                assert!(shown.chars().count() < 600, "{shown}");
                return true;
            }
        }
        assert!(n <= max, "more requests than the input could hold");
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_a_reader(
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        zipped in any::<bool>(),
    ) {
        let input = if zipped { gzip(&bytes) } else { bytes.clone() };
        for format in formats() {
            if let Ok(reader) = TraceReader::from_reader("t.trace", Cursor::new(input.clone()), &format) {
                drain(reader, bytes.len() + 1);
            }
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn an_endless_text_trace_is_an_error_after_a_bounded_read(
        prefix in "[0-9a-z,\\t\\n#:]{0,200}",
        zipped in any::<bool>(),
    ) {
        for format in formats().into_iter().skip(1) {
            let reader = if zipped {
                let mut body = prefix.clone().into_bytes();
                body.extend(std::iter::repeat_n(b'7', 1 << 20));
                TraceReader::from_reader("t.trace", Cursor::new(gzip(&body)), &format)
            } else {
                let endless = Cursor::new(prefix.clone().into_bytes()).chain(std::io::repeat(b'7'));
                TraceReader::from_reader("t.trace", endless, &format)
            };
            if let Ok(reader) = reader {
                prop_assert!(drain(reader, prefix.len() + 1));
            }
        }
    }
}
