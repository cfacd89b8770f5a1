//! Origin Shield configuration: `shield_region`, `shield_cache_bytes` and
//! `shield_policy` on an `[[origins]]` entry.

use edgesim_cache::PolicyKind;
use edgesim_model::Scenario;

fn scenario(origin_extra: &str) -> String {
    format!(
        r#"[simulation]
duration_secs = 10

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"

[[origins]]
id = "site"
kind = "s3"
location = "us-east-1"
{origin_extra}

[catalog]
objects = 1000
zipf_alpha = 0.8
size = "10KiB"
ttl_secs = 60

[viewers]
requests_per_sec = 100
countries = {{ DE = 1 }}
"#
    )
}

fn errors(text: &str) -> Vec<String> {
    match Scenario::from_toml("s.toml", text) {
        Ok(_) => vec![],
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_shield_sits_in_an_aws_region_with_a_cache() {
    let s = Scenario::from_toml(
        "s.toml",
        &scenario("shield_region = \"eu-west-1\"\nshield_cache_bytes = \"2GiB\"\nshield_policy = \"s3fifo\""),
    )
    .expect("valid");
    let shield = s.origins[0].shield.as_ref().expect("enabled");
    assert_eq!(shield.region, "eu-west-1");
    assert_eq!(shield.cache_bytes, 2 << 30);
    assert_eq!(shield.policy, PolicyKind::S3Fifo);
    assert!((shield.location.lat - 53.35).abs() < 1.0, "Dublin");
    let defaults =
        Scenario::from_toml("s.toml", &scenario("shield_region = \"US-EAST-1\"")).expect("valid");
    let shield = defaults.origins[0].shield.as_ref().expect("enabled");
    assert_eq!(shield.region, "us-east-1");
    assert_eq!(shield.cache_bytes, 1 << 40);
    assert_eq!(shield.policy, PolicyKind::Lru);
    let off = Scenario::from_toml("s.toml", &scenario("")).expect("valid");
    assert!(off.origins[0].shield.is_none());
}

#[test]
fn bad_shield_settings_are_reported_with_file_line_and_origin() {
    assert_eq!(
        errors(&scenario("shield_region = \"mars-north-1\"")),
        [
            r#"s.toml:13:17: origin "site": shield_region: unknown AWS region "mars-north-1" (Origin Shield sits in an AWS region, e.g. "us-east-1")"#
        ]
    );
    assert_eq!(
        errors(&scenario(
            "shield_region = \"us-east-1\"\nshield_cache_bytes = 0\nshield_policy = \"mru\""
        )),
        [
            r#"s.toml:14:22: origin "site": shield_cache_bytes must be > 0"#,
            r#"s.toml:15:17: origin "site": unknown cache policy "mru"; valid policies: lru, fifo, clock, sieve, s3fifo (or s3-fifo), arc"#,
        ]
    );
    assert_eq!(
        errors(&scenario("shield_cache_bytes = \"1GiB\"")),
        [
            r#"s.toml:13:22: origin "site": shield_cache_bytes needs shield_region (the AWS region of the Origin Shield)"#
        ]
    );
}
