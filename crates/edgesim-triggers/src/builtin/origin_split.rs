//! `origin_split`: send a share of origin fetches to another origin (gradual migrations).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RuleOutcome;
use crate::config::ConfigError;
use crate::event::{Origin, Request};
use crate::handler::InvokeContext;
use crate::headers::Str;
use crate::util::{hash_bytes, intern, mix64, unit_fraction};

/// The share sent to the new origin: a fixed number, or the name of a per-epoch control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WeightSpec {
    /// A fixed share in [0, 1].
    Fixed(f64),
    /// A control set by the coordinator each epoch (unset reads as 0), clamped to [0, 1].
    Control(String),
}

/// What decides which fetches move.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitKey {
    /// Each fetch independently, from the request's random number (AWS's example).
    #[default]
    Random,
    /// A hash of the URI: an object always goes to the same origin at a given weight, and
    /// raising the weight only moves more objects (monotone).
    UriHash,
    /// A hash of the viewer (what a sticky cookie identifies): a viewer's fetches all go one
    /// way, and raising the weight only moves more viewers.
    Viewer,
    /// Whole countries move, in a fixed order: with `country_thresholds`, a country moves
    /// once the weight reaches its threshold (a `[migration]` with `split = "country"` sets
    /// them so that the moved share of traffic follows the weight); without, a hash of the
    /// country code is compared with the weight (moves a share of codes, not of traffic).
    Country,
    /// The arm the simulator chose before the cache lookup (a migration whose arm is part of
    /// the cache key); without one, nothing moves.
    Arm,
}

/// Kind of the target origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// S3 bucket.
    S3,
    /// HTTP server.
    Custom,
}

/// `builtin = "origin_split"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginSplitConfig {
    /// Domain name of the new origin (what `request.origin.*.domainName` becomes).
    pub to: String,
    /// Only requests bound for this origin domain move (default: every request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Region of the new origin, for S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_region: Option<String>,
    /// Kind of the new origin; by default the same kind as the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_kind: Option<OriginKind>,
    /// Share of fetches that go to `to`.
    pub weight: WeightSpec,
    /// What decides which fetches move.
    #[serde(default)]
    pub split: SplitKey,
    /// With `split = "country"`: per country code, the weight from which its viewers move
    /// (`0 < weight` and threshold `<=` weight; a country not listed moves only at weight 1).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub country_thresholds: BTreeMap<String, f64>,
}

pub(crate) struct OriginSplit {
    to: &'static str,
    from: Option<String>,
    to_region: Option<&'static str>,
    to_kind: Option<OriginKind>,
    weight: WeightSpec,
    split: SplitKey,
    country_thresholds: BTreeMap<String, f64>,
}

impl OriginSplit {
    pub(crate) fn compile(config: &OriginSplitConfig) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if config.to.is_empty() || config.to.contains(['/', ' ']) {
            errors.push(ConfigError::new(
                "to",
                format!("`{}` is not a domain name", config.to),
            ));
        }
        match &config.weight {
            WeightSpec::Fixed(w) if !(0.0..=1.0).contains(w) => {
                errors.push(ConfigError::new(
                    "weight",
                    format!("must be in [0, 1]; got {w}"),
                ));
            }
            WeightSpec::Control(name) if name.is_empty() => {
                errors.push(ConfigError::new("weight", "control name is empty"));
            }
            _ => {}
        }
        if config.to_region.is_some() && config.to_kind == Some(OriginKind::Custom) {
            errors.push(ConfigError::new(
                "to_region",
                "only S3 origins have a region",
            ));
        }
        if !config.country_thresholds.is_empty() && config.split != SplitKey::Country {
            errors.push(ConfigError::new(
                "country_thresholds",
                "only a split by country has country thresholds",
            ));
        }
        for (code, t) in &config.country_thresholds {
            if !(0.0..=1.0).contains(t) {
                errors.push(ConfigError::new(
                    "country_thresholds",
                    format!("{code}: must be in [0, 1]; got {t}"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(OriginSplit {
            to: intern(&config.to),
            from: config.from.clone(),
            to_region: config.to_region.as_deref().map(intern),
            to_kind: config.to_kind,
            weight: config.weight.clone(),
            split: config.split,
            country_thresholds: config.country_thresholds.clone(),
        })
    }

    fn retarget(&self, request: &mut Request) {
        let domain = Str::const_new(self.to);
        match (&mut request.origin, self.to_kind) {
            (Some(Origin::S3(o)), None | Some(OriginKind::S3)) => {
                o.domain_name = domain;
                if let Some(region) = self.to_region {
                    o.region = Str::const_new(region);
                }
            }
            (Some(Origin::Custom(o)), None | Some(OriginKind::Custom)) => o.domain_name = domain,
            (_, Some(OriginKind::Custom)) => request.origin = Some(Origin::custom(self.to)),
            (_, _) => {
                request.origin = Some(Origin::s3(self.to, self.to_region.unwrap_or("us-east-1")))
            }
        }
    }

    pub(crate) fn apply(&self, request: &mut Request, ctx: &InvokeContext<'_>) -> RuleOutcome {
        let weight = match &self.weight {
            WeightSpec::Fixed(w) => *w,
            WeightSpec::Control(name) => ctx.controls.get(name).unwrap_or(0.0).clamp(0.0, 1.0),
        };
        if let Some(from) = &self.from {
            let bound_there = request
                .origin
                .as_ref()
                .is_some_and(|o| o.domain_name().eq_ignore_ascii_case(from));
            if !bound_there {
                return RuleOutcome::Continue;
            }
        }
        let key = match self.split {
            SplitKey::Random => ctx.rand,
            SplitKey::UriHash => hash_bytes(request.uri.as_bytes()),
            SplitKey::Viewer => mix64(ctx.viewer_id ^ 0x7669_6577_6572),
            SplitKey::Country if !self.country_thresholds.is_empty() => {
                // The rule of edgesim-migration's `country_moves`.
                let threshold = self
                    .country_thresholds
                    .get(ctx.viewer_country)
                    .copied()
                    .unwrap_or(1.0);
                if weight > 0.0 && threshold <= weight {
                    self.retarget(request);
                }
                return RuleOutcome::Continue;
            }
            SplitKey::Country => hash_bytes(ctx.viewer_country.as_bytes()),
            SplitKey::Arm => {
                if ctx.migration_arm == Some(true) {
                    self.retarget(request);
                }
                return RuleOutcome::Continue;
            }
        };
        if unit_fraction(key) < weight {
            self.retarget(request);
        }
        RuleOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::Controls;

    fn split(weight: WeightSpec, key: SplitKey) -> OriginSplit {
        OriginSplit::compile(&OriginSplitConfig {
            to: "new.s3.eu-central-1.amazonaws.com".into(),
            from: None,
            to_region: Some("eu-central-1".into()),
            to_kind: None,
            weight,
            split: key,
            country_thresholds: BTreeMap::new(),
        })
        .unwrap()
    }

    fn moved(rule: &OriginSplit, uri: &str, rand: u64, controls: &Controls) -> bool {
        let mut r = Request::new("GET", uri, "1.1.1.1");
        r.origin = Some(Origin::s3("old.s3.amazonaws.com", "us-east-1"));
        rule.apply(&mut r, &InvokeContext::simple(controls, rand));
        r.origin.unwrap().domain_name() == "new.s3.eu-central-1.amazonaws.com"
    }

    #[test]
    fn random_split_moves_about_the_weight() {
        let rule = split(WeightSpec::Fixed(0.2), SplitKey::Random);
        let c = Controls::new();
        let n = (0..10_000u64)
            .filter(|&i| moved(&rule, "/a", mix64(i), &c))
            .count();
        assert!((1_800..2_200).contains(&n), "{n}");
    }

    #[test]
    fn control_weight_is_read_each_call() {
        let rule = split(WeightSpec::Control("migration".into()), SplitKey::Random);
        assert!(!moved(&rule, "/a", 5, &Controls::new()));
        assert!(moved(
            &rule,
            "/a",
            5,
            &Controls::new().with("migration", 1.0)
        ));
    }

    #[test]
    fn uri_hash_is_monotone_in_the_weight() {
        let rule = split(WeightSpec::Control("m".into()), SplitKey::UriHash);
        let uris: Vec<String> = (0..500).map(|i| format!("/obj/{i}")).collect();
        let mut previous: Vec<bool> = vec![false; uris.len()];
        for step in 0..=10 {
            let c = Controls::new().with("m", f64::from(step) / 10.0);
            let now: Vec<bool> = uris
                .iter()
                .map(|u| moved(&rule, u, step as u64, &c))
                .collect();
            for (was, is) in previous.iter().zip(&now) {
                assert!(!was || *is, "an object moved back at step {step}");
            }
            previous = now;
        }
        assert!(previous.iter().all(|m| *m));
    }

    #[test]
    fn viewer_and_country_splits_are_sticky_and_the_from_filter_holds() {
        let c = Controls::new().with("m", 0.5);
        let viewer = split(WeightSpec::Control("m".into()), SplitKey::Viewer);
        let country = split(WeightSpec::Control("m".into()), SplitKey::Country);
        let run = |rule: &OriginSplit, viewer_id: u64, cc: &str, rand: u64| {
            let mut r = Request::new("GET", "/a", "1.1.1.1");
            r.origin = Some(Origin::s3("old.s3.amazonaws.com", "us-east-1"));
            let ctx = InvokeContext {
                viewer_id,
                viewer_country: cc,
                ..InvokeContext::simple(&c, rand)
            };
            rule.apply(&mut r, &ctx);
            r.origin.unwrap().domain_name() == "new.s3.eu-central-1.amazonaws.com"
        };
        let mut moved_viewers = 0;
        for v in 0..1000u64 {
            let first = run(&viewer, v, "DE", 1);
            assert!((2..20).all(|rand| run(&viewer, v, "DE", rand) == first));
            moved_viewers += usize::from(first);
        }
        assert!((400..600).contains(&moved_viewers), "{moved_viewers}");
        for cc in ["DE", "US", "JP", "BR", "IN", "GB"] {
            let first = run(&country, 1, cc, 1);
            assert!((2..50).all(|v| run(&country, v, cc, v) == first));
        }

        let mut filtered = split(WeightSpec::Fixed(1.0), SplitKey::Random);
        filtered.from = Some("other.example".into());
        assert!(!run(&filtered, 1, "DE", 1), "bound elsewhere: stays");
        filtered.from = Some("OLD.s3.amazonaws.com".into());
        assert!(run(&filtered, 1, "DE", 1));

        let arm = split(WeightSpec::Fixed(1.0), SplitKey::Arm);
        let mut r = Request::new("GET", "/a", "1.1.1.1");
        r.origin = Some(Origin::s3("old.s3.amazonaws.com", "us-east-1"));
        arm.apply(&mut r, &InvokeContext::simple(&c, 1));
        assert_eq!(
            r.origin.as_ref().unwrap().domain_name(),
            "old.s3.amazonaws.com"
        );
        let ctx = InvokeContext {
            migration_arm: Some(true),
            ..InvokeContext::simple(&c, 1)
        };
        arm.apply(&mut r, &ctx);
        assert_eq!(
            r.origin.unwrap().domain_name(),
            "new.s3.eu-central-1.amazonaws.com"
        );
    }

    #[test]
    fn bad_weight_is_reported() {
        let errors = OriginSplit::compile(&OriginSplitConfig {
            to: "".into(),
            from: None,
            to_region: None,
            to_kind: None,
            weight: WeightSpec::Fixed(1.5),
            split: SplitKey::Random,
            country_thresholds: [("DE".to_owned(), 2.0)].into(),
        })
        .err()
        .unwrap();
        assert_eq!(errors.len(), 4, "{errors:?}");
    }

    #[test]
    fn country_thresholds_move_countries_from_their_threshold_on() {
        let rule = OriginSplit::compile(&OriginSplitConfig {
            to: "new.s3.eu-central-1.amazonaws.com".into(),
            from: None,
            to_region: Some("eu-central-1".into()),
            to_kind: None,
            weight: WeightSpec::Control("m".into()),
            split: SplitKey::Country,
            country_thresholds: [("DE".to_owned(), 0.1), ("US".to_owned(), 0.6)].into(),
        })
        .unwrap();
        let moved = |cc: &str, w: f64| {
            let c = Controls::new().with("m", w);
            let mut r = Request::new("GET", "/a", "1.1.1.1");
            r.origin = Some(Origin::s3("old.s3.amazonaws.com", "us-east-1"));
            let ctx = InvokeContext {
                viewer_country: cc,
                ..InvokeContext::simple(&c, 3)
            };
            rule.apply(&mut r, &ctx);
            r.origin.unwrap().domain_name() == "new.s3.eu-central-1.amazonaws.com"
        };
        assert!(!moved("DE", 0.0) && !moved("DE", 0.09) && moved("DE", 0.1));
        assert!(!moved("US", 0.5) && moved("US", 0.6) && moved("US", 1.0));
        assert!(
            !moved("JP", 0.99) && moved("JP", 1.0),
            "unlisted: only at 1"
        );
    }
}
