//! `[cost]`: defaults, overrides, and exact diagnostics for bad input.

use edgesim_model::Scenario;
use edgesim_model::cost::{CostConfig, PriceRegion};

/// A small valid scenario without `[cost]`; tests append one.
const BASE: &str = r#"[simulation]
duration_secs = 60

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"

[[origins]]
id = "bucket"
kind = "s3"
location = "us-east-1"

[[origins]]
id = "app"
kind = "custom"
location = "eu-west-1"

[catalog]
objects = 1000
zipf_alpha = 0.8
size = "10KiB"
ttl_secs = 60

[viewers]
requests_per_sec = 100
countries = { DE = 1 }
"#;

/// BASE has 27 lines: `[cost]` lands on line 28, its first key on 29.
fn with_cost(cost: &str) -> String {
    format!("{BASE}[cost]\n{cost}")
}

fn errors(text: &str) -> Vec<String> {
    match Scenario::from_toml("s.toml", text) {
        Ok(_) => vec![],
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    }
}

fn config(cost: &str) -> CostConfig {
    Scenario::from_toml("s.toml", &with_cost(cost))
        .expect("valid")
        .cost
}

#[test]
fn without_cost_the_default_table_and_a_730_hour_month() {
    let s = Scenario::from_toml("s.toml", BASE).expect("valid");
    assert_eq!(s.cost, CostConfig::default());
    assert_eq!(s.cost.prices, "aws-2026-11");
    assert_eq!(s.cost.monthly_hours, 730.0);
    assert!(s.cost.overrides().is_empty());
}

#[test]
fn overrides_are_read_by_group_origin_or_for_all() {
    let c = config(
        r#"prices = "aws-2026-11"
data_transfer_per_gb = { europe = 0.08, india = 0 }
https_per_10k = 0.012
lambda_per_million = 0.6
lambda_gb_second = 0.00005001
s3_get_per_1k = 0.0004
origin_egress_per_gb = { "app" = 0.05 }
monthly_hours = 720
"#,
    );
    assert_eq!(c.data_transfer_per_gb.len(), 2);
    assert_eq!(c.data_transfer_per_gb[&PriceRegion::Europe], 0.08);
    assert_eq!(c.data_transfer_per_gb[&PriceRegion::India], 0.0);
    assert_eq!(c.https_per_10k.len(), 8, "a number sets every group");
    assert_eq!(c.https_per_10k[&PriceRegion::SouthAmerica], 0.012);
    assert_eq!(c.lambda_per_million, Some(0.6));
    assert_eq!(c.lambda_gb_second, Some(0.00005001));
    assert_eq!(c.s3_get_per_1k, Some(0.0004));
    assert_eq!(c.origin_egress_per_gb["app"], 0.05);
    assert_eq!(c.custom_origin_egress_per_gb, None);
    assert_eq!(c.monthly_hours, 720.0);
    let c = config("origin_egress_per_gb = 0.02\n");
    assert_eq!(c.custom_origin_egress_per_gb, Some(0.02));
    assert!(c.origin_egress_per_gb.is_empty());
}

#[test]
fn an_unknown_price_table_is_refused_with_the_known_ones() {
    assert_eq!(
        errors(&with_cost("prices = \"aws-2019\"\n")),
        ["s.toml:29:10: cost: prices: unknown price table \"aws-2019\" (built-in: aws-2026-11)"]
    );
}

#[test]
fn negative_and_unknown_keys_are_refused_each_once() {
    assert_eq!(
        errors(&with_cost(
            "https_per_10k = -0.01\ndata_transfer_per_gb = { europe = -1, mars = 0.1 }\n"
        )),
        [
            "s.toml:29:17: cost: https_per_10k must be a price >= 0, got -0.01",
            "s.toml:30:24: cost: data_transfer_per_gb.europe must be a price >= 0, got -1",
            "s.toml:30:24: cost: data_transfer_per_gb: unknown region group \"mars\" (groups: north_america, europe, middle_east_africa, south_america, japan, australia, asia_pacific, india)",
        ]
    );
    assert_eq!(
        errors(&with_cost("lambda_gb_second = -1\ns3_get_per_1k = nan\n")),
        [
            "s.toml:29:20: cost: lambda_gb_second must be a price >= 0, got -1",
            "s.toml:30:17: cost: s3_get_per_1k must be a price >= 0, got NaN",
        ]
    );
}

#[test]
fn origin_egress_names_existing_origins() {
    assert_eq!(
        errors(&with_cost(
            "origin_egress_per_gb = { \"my-origin\" = 0.09 }\n"
        )),
        [
            "s.toml:29:24: cost: origin_egress_per_gb: no origin \"my-origin\" (origins: bucket, app)"
        ]
    );
}

#[test]
fn monthly_hours_must_fit_a_month() {
    assert_eq!(
        errors(&with_cost("monthly_hours = 0\n")),
        ["s.toml:29:17: cost: monthly_hours must be > 0 and at most 744 (31 days), got 0"]
    );
    assert_eq!(
        errors(&with_cost("monthly_hours = 800\n")),
        ["s.toml:29:17: cost: monthly_hours must be > 0 and at most 744 (31 days), got 800"]
    );
}

#[test]
fn unknown_keys_and_wrong_types_are_refused_by_the_parser() {
    let e = errors(&with_cost("price = \"aws-2026-11\"\n"));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("s.toml:29:1: cost: unknown field `price`, expected one of `prices`"),
        "{}",
        e[0]
    );
    let e = errors(&with_cost("https_per_10k = \"cheap\"\n"));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("s.toml:29:17: cost: invalid type: string \"cheap\", expected a price (number) or a table of prices"),
        "{}",
        e[0]
    );
}

#[test]
fn a_variant_may_override_a_price() {
    let text = format!(
        "{}\n[[variants]]\nname = \"cheap-eu\"\nset = {{ \"cost.data_transfer_per_gb\" = {{ europe = 0.01 }} }}\n",
        with_cost("monthly_hours = 730\n")
    );
    assert_eq!(errors(&text), Vec::<String>::new());
    let bad = text.replace("europe = 0.01", "europe = -0.01");
    let e = errors(&bad);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].ends_with(
            "variants #1 (cheap-eu): cost: data_transfer_per_gb.europe must be a price >= 0, got -0.01"
        ),
        "{}",
        e[0]
    );
}
