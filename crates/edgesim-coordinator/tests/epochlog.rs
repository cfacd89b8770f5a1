//! The epoch-log reader against damage: arbitrary bytes, a real log cut
//! at every offset, every single-byte corruption of it, and lengths that
//! claim more than a record may hold. It never panics, never allocates
//! what a damaged length claims, and tells a torn final record (the
//! epochs before it kept) from corruption (named with its epoch and byte
//! offset, wherever it is).

use std::sync::{Arc, OnceLock};

use edgesim_coordinator::{AgentSource, LogEnd, RunConfig, parse_log, rebuild, run};
use edgesim_model::Scenario;
use proptest::prelude::*;

const TINY: &str = r#"
name = "tiny-log"
[simulation]
duration_secs = 4
epoch_ms = 1000
seed = 3
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1MiB"
[[origins]]
id = "o"
kind = "custom"
location = "eu-west-1"
[catalog]
objects = 50
zipf_alpha = 1.0
size = "1KiB"
ttl_secs = 60
[viewers]
requests_per_sec = 20
countries = { DE = 1 }
"#;

/// A real log of a 4-epoch run, and where each of its records starts
/// (the last entry: its length).
fn real_log() -> &'static (Vec<u8>, Vec<usize>) {
    static LOG: OnceLock<(Vec<u8>, Vec<usize>)> = OnceLock::new();
    LOG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epochs.log");
        let mut config = RunConfig::new(AgentSource::InProcess { count: 1 });
        config.epoch_log = Some(path.clone());
        let scenario = Arc::new(Scenario::from_toml("tiny.toml", TINY).unwrap());
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(scenario, TINY, &config, |_| {}))
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // Frame starts: walk the frames (16-byte head with the length).
        let mut starts = Vec::new();
        let mut at = b"edgesim epoch log 3\n".len();
        while at < bytes.len() {
            starts.push(at);
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            at += 16 + len + 4;
        }
        assert_eq!(at, bytes.len());
        // starts[0] is the header; then 4 records.
        assert_eq!(starts.len(), 5);
        (bytes, starts)
    })
}

#[test]
fn a_whole_log_reads_clean_and_rebuilds() {
    let (bytes, _) = real_log();
    let parsed = parse_log(bytes).unwrap();
    assert_eq!(parsed.epochs, [0, 1, 2, 3]);
    assert_eq!(parsed.end, LogEnd::Clean);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("epochs.log");
    std::fs::write(&path, bytes).unwrap();
    let rebuilt = rebuild(&path).unwrap();
    assert!(rebuilt.summary.complete);
    assert_eq!(rebuilt.summary.epochs, 4);
}

#[test]
fn a_cut_at_every_offset_is_a_torn_tail_keeping_the_records_before_it() {
    let (bytes, starts) = real_log();
    let header_end = starts[1];
    for cut in 0..bytes.len() {
        let parsed = parse_log(&bytes[..cut]);
        if cut < header_end {
            assert!(parsed.is_err(), "cut at {cut}: the header is incomplete");
            continue;
        }
        let parsed = parsed.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        // Records wholly before the cut survive.
        let whole = starts[1..].iter().filter(|&&s| s < cut).count();
        let boundary = starts.contains(&cut);
        let kept = if boundary { whole } else { whole - 1 };
        assert_eq!(parsed.epochs.len(), kept, "cut at {cut}");
        let expected = if boundary {
            LogEnd::Clean
        } else {
            let start = starts[kept + 1];
            LogEnd::TornTail {
                offset: start as u64,
                bytes: (cut - start) as u64,
            }
        };
        assert_eq!(parsed.end, expected, "cut at {cut}");
    }
}

#[test]
fn every_single_byte_corruption_is_named_with_its_epoch_and_offset() {
    let (bytes, starts) = real_log();
    let mut damaged = bytes.clone();
    for at in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            damaged[at] ^= flip;
            let parsed = parse_log(&damaged);
            damaged[at] ^= flip;
            if at < starts[1] {
                assert!(parsed.is_err(), "byte {at} of the header");
                continue;
            }
            let parsed = parsed.unwrap_or_else(|e| panic!("byte {at}: {e}"));
            let k = starts[1..].iter().filter(|&&s| s <= at).count() - 1;
            assert_eq!(parsed.epochs.len(), k, "byte {at}: records before it");
            match &parsed.end {
                LogEnd::Corrupt { epoch, offset, .. } => {
                    assert_eq!(
                        (*epoch, *offset),
                        (k as u64, starts[k + 1] as u64),
                        "byte {at}"
                    );
                }
                other => panic!("byte {at} ^ {flip:#x}: {other:?}, not corruption"),
            }
        }
    }
}

#[test]
fn a_corrupt_middle_record_fails_the_rebuild_naming_epoch_and_offset() {
    let (bytes, starts) = real_log();
    let mut damaged = bytes.clone();
    damaged[starts[2] + 30] ^= 0x20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("epochs.log");
    std::fs::write(&path, &damaged).unwrap();
    let e = rebuild(&path).unwrap_err();
    assert_eq!(e.corrupt, Some((1, starts[2] as u64)));
    let text = e.to_string();
    assert!(
        text.contains("epoch 1") && text.contains(&format!("byte {}", starts[2])),
        "{text}"
    );
    let salvaged = edgesim_coordinator::rebuild_salvaging(&path).unwrap();
    assert_eq!(salvaged.summary.epochs, 1);
    assert!(!salvaged.summary.complete);
}

#[test]
fn a_length_claiming_4_gib_is_refused_without_allocating_it() {
    let (bytes, starts) = real_log();
    // A frame head whose checksum matches a 4 GiB - 1 length.
    let mut head = Vec::new();
    head.extend_from_slice(&u32::MAX.to_le_bytes());
    head.extend_from_slice(&1u64.to_le_bytes());
    let crc = crc32(&head);
    head.extend_from_slice(&crc.to_le_bytes());
    let mut log = bytes[..starts[2]].to_vec();
    log.extend_from_slice(&head);
    log.extend_from_slice(&[7u8; 64]);
    let parsed = parse_log(&log).unwrap();
    assert_eq!(parsed.epochs, [0]);
    assert!(
        matches!(&parsed.end, LogEnd::Corrupt { epoch: 1, offset, problem }
            if *offset == starts[2] as u64 && problem.contains("more than a record may be")),
        "{:?}",
        parsed.end
    );
}

/// CRC-32 (IEEE), as the log uses.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse_log(&bytes);
        let mut framed = b"edgesim epoch log 3\n".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = parse_log(&framed);
        let mut old = b"edgesim epoch log 2\n".to_vec();
        old.extend_from_slice(&bytes);
        let _ = parse_log(&old);
    }

    #[test]
    fn garbage_after_a_real_log_is_never_read_as_records(
        tail in proptest::collection::vec(any::<u8>(), 1..512),
    ) {
        let (bytes, _) = real_log();
        let mut log = bytes.clone();
        log.extend_from_slice(&tail);
        let parsed = parse_log(&log).unwrap();
        prop_assert_eq!(parsed.epochs, vec![0, 1, 2, 3]);
        prop_assert!(parsed.end != LogEnd::Clean);
    }

    #[test]
    fn random_damage_is_classified(
        at in 0usize..1 << 20,
        len in 1usize..64,
        fill in any::<u8>(),
    ) {
        let (bytes, starts) = real_log();
        let at = starts[1] + at % (bytes.len() - starts[1]);
        let end = (at + len).min(bytes.len());
        let mut damaged = bytes.clone();
        damaged[at..end].iter_mut().for_each(|b| *b = fill);
        let parsed = parse_log(&damaged).unwrap();
        if damaged == *bytes {
            prop_assert_eq!(parsed.end, LogEnd::Clean);
        } else {
            let k = starts[1..].iter().filter(|&&s| s <= at).count() - 1;
            prop_assert_eq!(parsed.epochs.len(), k);
            match parsed.end {
                LogEnd::Corrupt { epoch, offset, .. } => {
                    prop_assert_eq!((epoch, offset), (k as u64, starts[k + 1] as u64));
                }
                // Zeros over the whole end of the file are a crash's tail.
                LogEnd::TornTail { offset, .. } => {
                    prop_assert!(fill == 0 && end == bytes.len());
                    prop_assert_eq!(offset, starts[k + 1] as u64);
                }
                LogEnd::Clean => prop_assert!(false, "damage read as clean"),
            }
        }
    }
}

#[test]
fn a_version_2_log_is_still_read() {
    let (bytes, starts) = real_log();
    // The same frames' payloads, length-delimited as version 2 wrote them.
    let mut v2 = b"edgesim epoch log 2\n".to_vec();
    // (The header's payload is its protobuf, the records' their deflate
    // streams, in both versions.)
    for &at in starts {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let payload = &bytes[at + 16..at + 16 + len];
        let mut n = len as u64;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                v2.push(b);
                break;
            }
            v2.push(b | 0x80);
        }
        v2.extend_from_slice(payload);
    }
    let parsed = parse_log(&v2).unwrap();
    assert_eq!(parsed.epochs, [0, 1, 2, 3]);
    assert_eq!(parsed.end, LogEnd::Clean);
    let parsed = parse_log(&v2[..v2.len() - 3]).unwrap();
    assert_eq!(parsed.epochs, [0, 1, 2]);
    assert!(matches!(parsed.end, LogEnd::TornTail { .. }));
}
