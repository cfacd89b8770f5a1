//! `geo_content`: per-country, per-region or per-city origin, URI prefix or redirect, from
//! `CloudFront-Viewer-Country`, `-Country-Region` and `-City` (the most specific match wins:
//! city, then region, then country, then the default).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::origin_split::OriginKind;
use super::{RuleOutcome, check_prefix, prefixed};
use crate::config::ConfigError;
use crate::event::{Origin, Request, Response};
use crate::headers::Str;
use crate::util::intern;

/// What to do for a country.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoAction {
    /// Fetch from this origin domain instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Region of that origin (S3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_region: Option<String>,
    /// Kind of that origin (default: same as the current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_kind: Option<OriginKind>,
    /// Prepend this to the URI (`/de`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_prefix: Option<String>,
    /// Answer with a redirect to this location instead of fetching (the response is cached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    /// Redirect status (301, 302, 303, 307 or 308; default 302).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Append the request's URI (and query) to the redirect location.
    #[serde(default)]
    pub keep_path: bool,
}

/// `builtin = "geo_content"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoContentConfig {
    /// Action per ISO country code (`DE`, `FR`).
    #[serde(default)]
    pub countries: BTreeMap<String, GeoAction>,
    /// Action per ISO 3166-2 subdivision, country included (`US-CA`): matches
    /// `CloudFront-Viewer-Country` and `-Country-Region`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: BTreeMap<String, GeoAction>,
    /// Action per city, as `COUNTRY/City` (`US/Seattle`, the city as `CloudFront-Viewer-City`
    /// writes it): matches `CloudFront-Viewer-Country` and `-City`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cities: BTreeMap<String, GeoAction>,
    /// Action for other countries, and when the header is missing (default: nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<GeoAction>,
}

struct Action {
    origin: Option<(&'static str, Option<&'static str>, Option<OriginKind>)>,
    uri_prefix: &'static str,
    redirect: Option<(&'static str, u16, bool)>,
}

pub(crate) struct GeoContent {
    actions: Vec<Action>,
    /// Index into `actions` + 1 for each two-letter code (0: use the default).
    by_country: Vec<u16>,
    /// Index into `actions` per `CC-REGION`.
    by_region: BTreeMap<String, usize>,
    /// Index into `actions` per `CC/City`.
    by_city: BTreeMap<String, usize>,
    default: Option<usize>,
}

fn country_index(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    (b.len() == 2 && b.iter().all(u8::is_ascii_uppercase))
        .then(|| usize::from(b[0] - b'A') * 26 + usize::from(b[1] - b'A'))
}

fn compile_action(field: &str, a: &GeoAction, errors: &mut Vec<ConfigError>) -> Action {
    if a.redirect.is_some() && (a.origin.is_some() || a.uri_prefix.is_some()) {
        errors.push(ConfigError::new(
            field,
            "`redirect` cannot be combined with `origin` or `uri_prefix`",
        ));
    }
    if a.redirect.is_none() && (a.status.is_some() || a.keep_path) {
        errors.push(ConfigError::new(
            field,
            "`status` and `keep_path` need `redirect`",
        ));
    }
    let status = a.status.unwrap_or(302);
    if ![301, 302, 303, 307, 308].contains(&status) {
        errors.push(ConfigError::new(
            format!("{field}.status"),
            format!("{status} is not a redirect status"),
        ));
    }
    if let Some(prefix) = &a.uri_prefix {
        check_prefix(&format!("{field}.uri_prefix"), prefix, errors);
    }
    if let Some(origin) = &a.origin
        && (origin.is_empty() || origin.contains(['/', ' ']))
    {
        errors.push(ConfigError::new(
            format!("{field}.origin"),
            format!("`{origin}` is not a domain name"),
        ));
    }
    Action {
        origin: a.origin.as_deref().map(|o| {
            (
                intern(o),
                a.origin_region.as_deref().map(intern),
                a.origin_kind,
            )
        }),
        uri_prefix: a.uri_prefix.as_deref().map_or("", intern),
        redirect: a
            .redirect
            .as_deref()
            .map(|r| (intern(r), status, a.keep_path)),
    }
}

impl GeoContent {
    pub(crate) fn compile(config: &GeoContentConfig) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut actions = Vec::new();
        let mut by_country = vec![0u16; 26 * 26];
        for (code, action) in &config.countries {
            let field = format!("countries.{code}");
            match country_index(code) {
                Some(i) => by_country[i] = (actions.len() + 1) as u16,
                None => errors.push(ConfigError::new(
                    &field,
                    format!("`{code}` is not a two-letter uppercase country code"),
                )),
            }
            actions.push(compile_action(&field, action, &mut errors));
        }
        let mut by_region = BTreeMap::new();
        for (code, action) in &config.regions {
            let field = format!("regions.{code}");
            let ok = code.split_once('-').is_some_and(|(c, r)| {
                country_index(c).is_some()
                    && (1..=3).contains(&r.len())
                    && r.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            });
            if !ok {
                errors.push(ConfigError::new(
                    &field,
                    format!("`{code}` is not an ISO 3166-2 code such as `US-CA`"),
                ));
            }
            by_region.insert(code.clone(), actions.len());
            actions.push(compile_action(&field, action, &mut errors));
        }
        let mut by_city = BTreeMap::new();
        for (key, action) in &config.cities {
            let field = format!("cities.{key}");
            let ok = key
                .split_once('/')
                .is_some_and(|(c, city)| country_index(c).is_some() && !city.is_empty());
            if !ok {
                errors.push(ConfigError::new(
                    &field,
                    format!("`{key}` is not `COUNTRY/City` such as `US/Seattle`"),
                ));
            }
            by_city.insert(key.clone(), actions.len());
            actions.push(compile_action(&field, action, &mut errors));
        }
        let default = config.default.as_ref().map(|a| {
            actions.push(compile_action("default", a, &mut errors));
            actions.len() - 1
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(GeoContent {
            actions,
            by_country,
            by_region,
            by_city,
            default,
        })
    }

    /// The action of the most specific key the request's geolocation headers match.
    fn matching(&self, request: &Request) -> Option<usize> {
        let country = request.headers.get("cloudfront-viewer-country");
        let keyed = |map: &BTreeMap<String, usize>, header: &str, sep: char| {
            if map.is_empty() {
                return None;
            }
            let (c, v) = (country?, request.headers.get(header)?);
            let mut key = String::with_capacity(c.len() + v.len() + 1);
            key.push_str(c);
            key.push(sep);
            key.push_str(v);
            map.get(&key).copied()
        };
        keyed(&self.by_city, "cloudfront-viewer-city", '/')
            .or_else(|| keyed(&self.by_region, "cloudfront-viewer-country-region", '-'))
            .or_else(|| {
                country
                    .and_then(country_index)
                    .map(|i| self.by_country[i])
                    .filter(|&slot| slot != 0)
                    .map(|slot| usize::from(slot) - 1)
            })
            .or(self.default)
    }

    pub(crate) fn apply(&self, request: &mut Request) -> RuleOutcome {
        let Some(action) = self.matching(request).map(|i| &self.actions[i]) else {
            return RuleOutcome::Continue;
        };
        if let Some((location, status, keep_path)) = action.redirect {
            let mut response = Response::new(status);
            let value = if keep_path {
                let mut v = String::from(location.trim_end_matches('/'));
                v.push_str(&request.uri);
                if !request.querystring.is_empty() {
                    v.push('?');
                    v.push_str(&request.querystring);
                }
                Str::from(v)
            } else {
                Str::const_new(location)
            };
            response.headers.append(
                Str::const_new("location"),
                Str::const_new("Location"),
                value,
            );
            return RuleOutcome::Respond(response);
        }
        if let Some((domain, region, kind)) = action.origin {
            match (&mut request.origin, kind) {
                (Some(Origin::S3(o)), None | Some(OriginKind::S3)) => {
                    o.domain_name = Str::const_new(domain);
                    if let Some(region) = region {
                        o.region = Str::const_new(region);
                    }
                }
                (Some(Origin::Custom(o)), None | Some(OriginKind::Custom)) => {
                    o.domain_name = Str::const_new(domain)
                }
                (_, Some(OriginKind::Custom)) => request.origin = Some(Origin::custom(domain)),
                (_, _) => request.origin = Some(Origin::s3(domain, region.unwrap_or("us-east-1"))),
            }
        }
        if !action.uri_prefix.is_empty() {
            request.uri = prefixed(action.uri_prefix, &request.uri);
        }
        RuleOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> GeoContent {
        let mut countries = BTreeMap::new();
        countries.insert(
            "DE".to_string(),
            GeoAction {
                origin: Some("eu.example.com".into()),
                uri_prefix: Some("/de".into()),
                ..Default::default()
            },
        );
        countries.insert(
            "CN".to_string(),
            GeoAction {
                redirect: Some("https://example.cn".into()),
                status: Some(301),
                keep_path: true,
                ..Default::default()
            },
        );
        GeoContent::compile(&GeoContentConfig {
            countries,
            default: Some(GeoAction {
                uri_prefix: Some("/intl".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap()
    }

    fn request(country: Option<&str>) -> Request {
        let mut r = Request::new("GET", "/index.html", "1.1.1.1");
        r.origin = Some(Origin::custom("us.example.com"));
        if let Some(c) = country {
            r.headers.set("CloudFront-Viewer-Country", c);
        }
        r
    }

    #[test]
    fn country_picks_origin_and_prefix() {
        let mut r = request(Some("DE"));
        assert!(matches!(rule().apply(&mut r), RuleOutcome::Continue));
        assert_eq!(r.origin.unwrap().domain_name(), "eu.example.com");
        assert_eq!(r.uri, "/de/index.html");
    }

    #[test]
    fn redirect_keeps_path_and_query() {
        let mut r = request(Some("CN"));
        r.querystring = "a=1".into();
        let RuleOutcome::Respond(resp) = rule().apply(&mut r) else {
            panic!("expected a redirect")
        };
        assert_eq!(resp.status, 301);
        assert_eq!(
            resp.headers.get("location"),
            Some("https://example.cn/index.html?a=1")
        );
    }

    #[test]
    fn default_applies_to_other_and_missing_countries() {
        for c in [Some("FR"), None] {
            let mut r = request(c);
            rule().apply(&mut r);
            assert_eq!(r.uri, "/intl/index.html");
        }
    }

    #[test]
    fn bad_codes_and_conflicting_actions_are_reported() {
        let mut countries = BTreeMap::new();
        countries.insert("de".to_string(), GeoAction::default());
        countries.insert(
            "FR".to_string(),
            GeoAction {
                redirect: Some("/x".into()),
                origin: Some("a.b".into()),
                status: Some(200),
                ..Default::default()
            },
        );
        let errors = GeoContent::compile(&GeoContentConfig {
            countries,
            default: None,
            ..Default::default()
        })
        .err()
        .unwrap();
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn city_beats_region_beats_country() {
        let action = |prefix: &str| GeoAction {
            uri_prefix: Some(prefix.into()),
            ..Default::default()
        };
        let config = GeoContentConfig {
            countries: BTreeMap::from([("US".to_string(), action("/us"))]),
            regions: BTreeMap::from([("US-WA".to_string(), action("/wa"))]),
            cities: BTreeMap::from([("US/Seattle".to_string(), action("/sea"))]),
            default: None,
        };
        let rule = GeoContent::compile(&config).unwrap();
        let at = |region: Option<&str>, city: Option<&str>| {
            let mut r = request(Some("US"));
            if let Some(x) = region {
                r.headers.set("CloudFront-Viewer-Country-Region", x);
            }
            if let Some(x) = city {
                r.headers.set("CloudFront-Viewer-City", x);
            }
            rule.apply(&mut r);
            r.uri
        };
        assert_eq!(at(Some("WA"), Some("Seattle")), "/sea/index.html");
        assert_eq!(at(Some("WA"), Some("Spokane")), "/wa/index.html");
        assert_eq!(at(Some("CA"), Some("Los Angeles")), "/us/index.html");
        assert_eq!(at(None, None), "/us/index.html");
        let bad = GeoContentConfig {
            regions: BTreeMap::from([("California".to_string(), action("/x"))]),
            cities: BTreeMap::from([("Seattle".to_string(), action("/y"))]),
            ..Default::default()
        };
        assert_eq!(GeoContent::compile(&bad).err().unwrap().len(), 2);
    }
}
