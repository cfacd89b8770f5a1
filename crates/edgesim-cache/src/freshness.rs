//! CloudFront freshness rules: how long an origin response stays in the edge cache.
//!
//! Pure functions of the cache policy's TTL settings and the origin response's
//! status, `Cache-Control`, `Expires` and `Date`. The rules, from the CloudFront
//! Developer Guide ("Manage how long content stays in the cache (expiration)"
//! and "Control how long CloudFront caches errors"):
//!
//! * Policy TTLs default to minimum 0 s, default 86,400 s, maximum 31,536,000 s.
//! * The origin's freshness comes from `s-maxage`, else `max-age`, else
//!   `Expires - Date`. With minimum TTL 0 CloudFront caches for
//!   `min(origin value, maximum TTL)`; with a minimum TTL above 0 it clamps the
//!   origin value to `[minimum, maximum]`.
//! * Without any of those headers CloudFront uses the default TTL, or the
//!   minimum TTL when that is larger.
//! * `no-store`, `no-cache` or `private`: with minimum TTL 0 CloudFront respects
//!   them (`no-store`/`private`: not stored; `no-cache`: stored but revalidated
//!   on every request, i.e. TTL 0); with a minimum TTL above 0 it caches for the
//!   minimum TTL.
//! * Errors: 404, 414 and 500-504 are cached for the error-caching minimum TTL
//!   (default 10 s), or for the origin's `max-age`/`s-maxage`/`Expires` value
//!   when that is larger; 400, 403, 405, 412 and 415 are cached only when the
//!   origin sends `max-age` or `s-maxage`; other 4xx/5xx (e.g. 416) are not cached.
//!
//! Header parsing follows RFC 9111: directive names are case-insensitive,
//! values may be quoted, an invalid `max-age`/`s-maxage` or `Expires` makes the
//! response stale (TTL 0 before clamping), and huge delta-seconds saturate at 2^31.

use crate::calendar;

/// Seconds in a day: CloudFront's default TTL.
pub const DEFAULT_TTL_SECS: u64 = 86_400;
/// Seconds in 365 days: CloudFront's default maximum TTL.
pub const DEFAULT_MAX_TTL_SECS: u64 = 31_536_000;
/// CloudFront's default error-caching minimum TTL.
pub const DEFAULT_ERROR_CACHING_MIN_TTL_SECS: u64 = 10;
/// RFC 9111 §1.2.2: delta-seconds too large to represent are taken as 2^31.
const DELTA_SECONDS_CAP: u64 = 1 << 31;

/// The TTL settings of a CloudFront cache policy (plus the distribution's
/// error-caching minimum TTL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TtlPolicy {
    /// Minimum TTL in seconds.
    pub min_ttl_secs: u64,
    /// Default TTL in seconds (used when the origin sends no freshness headers).
    pub default_ttl_secs: u64,
    /// Maximum TTL in seconds.
    pub max_ttl_secs: u64,
    /// Error-caching minimum TTL in seconds.
    pub error_caching_min_ttl_secs: u64,
}

impl Default for TtlPolicy {
    fn default() -> Self {
        TtlPolicy {
            min_ttl_secs: 0,
            default_ttl_secs: DEFAULT_TTL_SECS,
            max_ttl_secs: DEFAULT_MAX_TTL_SECS,
            error_caching_min_ttl_secs: DEFAULT_ERROR_CACHING_MIN_TTL_SECS,
        }
    }
}

/// A cache policy whose TTLs are out of order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "TTLs must satisfy min_ttl_secs ({min}) <= default_ttl_secs ({default}) <= max_ttl_secs ({max})"
)]
pub struct TtlOrderError {
    /// The minimum TTL given.
    pub min: u64,
    /// The default TTL given.
    pub default: u64,
    /// The maximum TTL given.
    pub max: u64,
}

impl TtlPolicy {
    /// A policy with the given TTLs, checked as CloudFront checks them
    /// (minimum <= default <= maximum), and the default error-caching TTL.
    pub fn try_new(
        min_ttl_secs: u64,
        default_ttl_secs: u64,
        max_ttl_secs: u64,
    ) -> Result<Self, TtlOrderError> {
        if min_ttl_secs > default_ttl_secs || default_ttl_secs > max_ttl_secs {
            return Err(TtlOrderError {
                min: min_ttl_secs,
                default: default_ttl_secs,
                max: max_ttl_secs,
            });
        }
        Ok(TtlPolicy {
            min_ttl_secs,
            default_ttl_secs,
            max_ttl_secs,
            error_caching_min_ttl_secs: DEFAULT_ERROR_CACHING_MIN_TTL_SECS,
        })
    }
}

/// The `Cache-Control` directives that matter to a shared cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheControl {
    /// `max-age` in seconds (`Some(0)` if present but invalid: RFC 9111 §4.2.1).
    pub max_age: Option<u64>,
    /// `s-maxage` in seconds (`Some(0)` if present but invalid).
    pub s_maxage: Option<u64>,
    /// `no-store` is present.
    pub no_store: bool,
    /// `no-cache` is present (with or without a field list).
    pub no_cache: bool,
    /// `private` is present (with or without a field list).
    pub private: bool,
}

impl CacheControl {
    /// Parses a `Cache-Control` header value. Unknown directives are ignored;
    /// for repeated directives the first occurrence wins.
    pub fn parse(header: &str) -> CacheControl {
        let mut parsed = CacheControl::default();
        for directive in split_directives(header) {
            let (name, value) = match directive.split_once('=') {
                Some((name, value)) => (name.trim(), Some(unquote(value.trim()))),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("max-age") {
                parsed.max_age.get_or_insert(parse_delta_seconds(value));
            } else if name.eq_ignore_ascii_case("s-maxage") {
                parsed.s_maxage.get_or_insert(parse_delta_seconds(value));
            } else if name.eq_ignore_ascii_case("no-store") {
                parsed.no_store = true;
            } else if name.eq_ignore_ascii_case("no-cache") {
                parsed.no_cache = true;
            } else if name.eq_ignore_ascii_case("private") {
                parsed.private = true;
            }
        }
        parsed
    }
}

/// Splits on commas that are not inside a quoted string.
fn split_directives(header: &str) -> Vec<&str> {
    let mut directives = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    for (position, character) in header.char_indices() {
        match character {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                directives.push(&header[start..position]);
                start = position + 1;
            }
            _ => {}
        }
    }
    directives.push(&header[start..]);
    directives
        .into_iter()
        .filter(|directive| !directive.trim().is_empty())
        .collect()
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
}

/// RFC 9111 §1.2.2 delta-seconds: digits only; too large saturates at 2^31;
/// missing or invalid is treated as 0 (stale), per §4.2.1.
fn parse_delta_seconds(value: Option<&str>) -> u64 {
    match value {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits
            .parse::<u64>()
            .map_or(DELTA_SECONDS_CAP, |seconds| seconds.min(DELTA_SECONDS_CAP)),
        _ => 0,
    }
}

/// Parses an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the obsolete RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`)
/// forms. Returns Unix seconds.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let text = text.trim();
    let parts: Vec<&str> = text.split_whitespace().collect();
    match parts.as_slice() {
        // IMF-fixdate: day-name "," SP date1 SP time-of-day SP GMT
        [_day_name, day, month, year, clock, "GMT"] if text.contains(',') => {
            let (hour, minute, second) = calendar::parse_clock(clock)?;
            calendar::unix_seconds(
                year.parse().ok()?,
                calendar::month_from_abbreviation(month)?,
                day.parse().ok()?,
                hour,
                minute,
                second,
            )
        }
        // RFC 850: day-name "," SP date2 SP time-of-day SP GMT, date2 = DD-Mon-YY
        [_day_name, date, clock, "GMT"] if text.contains(',') => {
            let mut date_parts = date.split('-');
            let day = date_parts.next()?.parse().ok()?;
            let month = calendar::month_from_abbreviation(date_parts.next()?)?;
            let short_year: i64 = date_parts.next()?.parse().ok()?;
            // RFC 9110: a two-digit year more than 50 years in the future is
            // in the past century; without a clock, pivot at 70 like most parsers.
            let year = if short_year >= 100 {
                short_year
            } else if short_year >= 70 {
                1900 + short_year
            } else {
                2000 + short_year
            };
            let (hour, minute, second) = calendar::parse_clock(clock)?;
            calendar::unix_seconds(year, month, day, hour, minute, second)
        }
        // asctime: day-name SP month SP ( 2DIGIT / ( SP DIGIT )) SP time-of-day SP year
        [_day_name, month, day, clock, year] => {
            let (hour, minute, second) = calendar::parse_clock(clock)?;
            calendar::unix_seconds(
                year.parse().ok()?,
                calendar::month_from_abbreviation(month)?,
                day.parse().ok()?,
                hour,
                minute,
                second,
            )
        }
        _ => None,
    }
}

/// Whether CloudFront caches a response with this status at all, given the
/// parsed `Cache-Control`.
fn status_is_cacheable(status: u16, cache_control: &CacheControl) -> bool {
    match status {
        // "HTTP 4xx and 5xx status codes that CloudFront caches".
        404 | 414 | 500..=504 => true,
        // Cached only when the origin sends Cache-Control max-age or s-maxage.
        400 | 403 | 405 | 412 | 415 => {
            cache_control.max_age.is_some() || cache_control.s_maxage.is_some()
        }
        // 416 and every other 4xx/5xx: never cached.
        400..=599 => false,
        _ => true,
    }
}

/// The origin's own freshness lifetime: `s-maxage` beats `max-age` beats
/// `Expires - Date`. An unparsable `Expires` means already expired (RFC 9111 §5.3).
fn origin_lifetime(
    cache_control: &CacheControl,
    expires: Option<&str>,
    date_unix_secs: u64,
) -> Option<u64> {
    if let Some(seconds) = cache_control.s_maxage {
        return Some(seconds);
    }
    if let Some(seconds) = cache_control.max_age {
        return Some(seconds);
    }
    let expires = expires?;
    Some(match parse_http_date(expires) {
        Some(expires_at) => expires_at.saturating_sub(date_unix_secs),
        None => 0,
    })
}

/// How long CloudFront keeps an origin response, in seconds; `None` means it
/// is not stored at all.
///
/// `date_unix_secs` is the response's `Date` (the simulator's current time;
/// use [`parse_http_date`] for a header string); it anchors `Expires`.
///
/// ```
/// use edgesim_cache::freshness::{ttl_secs, TtlPolicy};
/// let policy = TtlPolicy::default();
/// assert_eq!(ttl_secs(&policy, 200, Some("max-age=60"), None, 0), Some(60));
/// assert_eq!(ttl_secs(&policy, 200, None, None, 0), Some(86_400));
/// assert_eq!(ttl_secs(&policy, 404, None, None, 0), Some(10));
/// assert_eq!(ttl_secs(&policy, 200, Some("no-store"), None, 0), None);
/// ```
pub fn ttl_secs(
    policy: &TtlPolicy,
    status: u16,
    cache_control: Option<&str>,
    expires: Option<&str>,
    date_unix_secs: u64,
) -> Option<u64> {
    let directives = cache_control.map(CacheControl::parse).unwrap_or_default();
    if !status_is_cacheable(status, &directives) {
        return None;
    }
    let lifetime = origin_lifetime(&directives, expires, date_unix_secs);
    if status >= 400 {
        // Errors: the larger of the origin's value and the error-caching minimum.
        let error_ttl = policy.error_caching_min_ttl_secs;
        return Some(lifetime.map_or(error_ttl, |seconds| seconds.max(error_ttl)));
    }
    if directives.no_store || directives.no_cache || directives.private {
        if policy.min_ttl_secs > 0 {
            return Some(policy.min_ttl_secs);
        }
        return if directives.no_cache && !directives.no_store && !directives.private {
            Some(0)
        } else {
            None
        };
    }
    Some(match lifetime {
        Some(seconds) if policy.min_ttl_secs == 0 => seconds.min(policy.max_ttl_secs),
        Some(seconds) => seconds.clamp(
            policy.min_ttl_secs,
            policy.max_ttl_secs.max(policy.min_ttl_secs),
        ),
        None => policy.default_ttl_secs.max(policy.min_ttl_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

    fn policy(min: u64, default: u64, max: u64) -> TtlPolicy {
        TtlPolicy::try_new(min, default, max).unwrap()
    }

    #[test]
    fn defaults_are_cloudfronts() {
        // Rule: TTLs default to 0 / 86,400 / 31,536,000 s; error caching 10 s.
        let defaults = TtlPolicy::default();
        assert_eq!(defaults, policy(0, 86_400, 31_536_000));
        assert_eq!(defaults.error_caching_min_ttl_secs, 10);
        assert!(TtlPolicy::try_new(10, 5, 100).is_err());
        assert!(TtlPolicy::try_new(0, 500, 100).is_err());
    }

    #[test]
    fn no_headers_use_default_ttl() {
        // Rule: no Cache-Control max-age / Expires -> default TTL (min 0) ...
        assert_eq!(
            ttl_secs(&TtlPolicy::default(), 200, None, None, NOW),
            Some(86_400)
        );
        // ... or the greater of minimum and default TTL (min > 0).
        assert_eq!(
            ttl_secs(&policy(60, 300, 3600), 200, None, None, NOW),
            Some(300)
        );
        let min_above_default = TtlPolicy {
            min_ttl_secs: 600,
            default_ttl_secs: 300,
            ..TtlPolicy::default()
        };
        assert_eq!(
            ttl_secs(&min_above_default, 200, Some("public"), None, NOW),
            Some(600)
        );
    }

    #[test]
    fn max_age_is_capped_by_max_ttl_when_min_is_zero() {
        // Rule: min TTL 0 -> the lesser of max-age and the maximum TTL.
        let p = policy(0, 300, 300);
        assert_eq!(
            ttl_secs(&p, 200, Some("max-age=3600"), None, NOW),
            Some(300)
        );
        assert_eq!(ttl_secs(&p, 200, Some("max-age=60"), None, NOW), Some(60));
        assert_eq!(ttl_secs(&p, 200, Some("max-age=0"), None, NOW), Some(0));
    }

    #[test]
    fn max_age_is_clamped_when_min_is_positive() {
        // Rule: min TTL > 0 -> max-age below min uses min, above max uses max.
        let p = policy(60, 300, 3600);
        assert_eq!(ttl_secs(&p, 200, Some("max-age=10"), None, NOW), Some(60));
        assert_eq!(ttl_secs(&p, 200, Some("max-age=600"), None, NOW), Some(600));
        assert_eq!(
            ttl_secs(&p, 200, Some("max-age=99999"), None, NOW),
            Some(3600)
        );
    }

    #[test]
    fn s_maxage_beats_max_age_beats_expires() {
        // Rule: s-maxage takes precedence over max-age, which beats Expires.
        let p = TtlPolicy::default();
        let expires = Some("Sun, 06 Nov 1994 09:49:37 GMT"); // NOW + 3600
        assert_eq!(
            ttl_secs(&p, 200, Some("max-age=60, s-maxage=120"), expires, NOW),
            Some(120)
        );
        assert_eq!(
            ttl_secs(&p, 200, Some("s-maxage=120, max-age=60"), expires, NOW),
            Some(120)
        );
        assert_eq!(
            ttl_secs(&p, 200, Some("max-age=60"), expires, NOW),
            Some(60)
        );
        assert_eq!(ttl_secs(&p, 200, Some("public"), expires, NOW), Some(3600));
    }

    #[test]
    fn expires_is_relative_to_date_and_clamped() {
        // Rule: min 0 -> until Expires or the maximum TTL, whichever comes first.
        let p = policy(0, 1800, 1800);
        assert_eq!(
            ttl_secs(&p, 200, None, Some("Sun, 06 Nov 1994 09:49:37 GMT"), NOW),
            Some(1800)
        );
        // Rule: min > 0 -> an Expires earlier than now + min TTL gives the min TTL.
        let p = policy(120, 300, 3600);
        assert_eq!(
            ttl_secs(&p, 200, None, Some("Sun, 06 Nov 1994 08:50:37 GMT"), NOW),
            Some(120)
        );
        // RFC 9111 §5.3: an Expires in the past or unparsable means already expired.
        let p = TtlPolicy::default();
        assert_eq!(
            ttl_secs(&p, 200, None, Some("Sat, 05 Nov 1994 08:49:37 GMT"), NOW),
            Some(0)
        );
        assert_eq!(ttl_secs(&p, 200, None, Some("0"), NOW), Some(0));
    }

    #[test]
    fn no_store_no_cache_private() {
        // Rule: min TTL 0 -> CloudFront respects no-store / private (not cached)
        // and no-cache (cached, revalidated every time).
        let p = TtlPolicy::default();
        assert_eq!(ttl_secs(&p, 200, Some("no-store"), None, NOW), None);
        assert_eq!(
            ttl_secs(&p, 200, Some("private, max-age=60"), None, NOW),
            None
        );
        assert_eq!(ttl_secs(&p, 200, Some("No-Cache"), None, NOW), Some(0));
        assert_eq!(
            ttl_secs(&p, 200, Some("no-cache, no-store"), None, NOW),
            None
        );
        // Rule: min TTL > 0 -> cached for the minimum TTL despite the directives.
        let p = policy(30, 300, 3600);
        assert_eq!(ttl_secs(&p, 200, Some("no-store"), None, NOW), Some(30));
        assert_eq!(ttl_secs(&p, 200, Some("private"), None, NOW), Some(30));
    }

    #[test]
    fn errors_use_error_caching_minimum_ttl() {
        // Rule: 404, 414, 500-504 are cached for the error-caching minimum TTL (10 s).
        let p = TtlPolicy::default();
        for status in [404, 414, 500, 501, 502, 503, 504] {
            assert_eq!(ttl_secs(&p, status, None, None, NOW), Some(10), "{status}");
        }
        // Rule: a larger max-age / s-maxage / Expires on the error wins; a smaller one does not.
        assert_eq!(ttl_secs(&p, 503, Some("max-age=60"), None, NOW), Some(60));
        assert_eq!(ttl_secs(&p, 404, Some("s-maxage=5"), None, NOW), Some(10));
        assert_eq!(ttl_secs(&p, 404, Some("no-store"), None, NOW), Some(10));
        let custom = TtlPolicy {
            error_caching_min_ttl_secs: 300,
            ..TtlPolicy::default()
        };
        assert_eq!(ttl_secs(&custom, 502, None, None, NOW), Some(300));
    }

    #[test]
    fn some_4xx_are_cached_only_with_max_age() {
        // Rule: 400, 403, 405, 412, 415 are cached only with max-age or s-maxage.
        let p = TtlPolicy::default();
        for status in [400, 403, 405, 412, 415] {
            assert_eq!(ttl_secs(&p, status, None, None, NOW), None, "{status}");
            assert_eq!(
                ttl_secs(&p, status, Some("max-age=30"), None, NOW),
                Some(30),
                "{status}"
            );
        }
        // Rule: 416 (and other 4xx/5xx) are never cached.
        assert_eq!(ttl_secs(&p, 416, Some("max-age=30"), None, NOW), None);
        assert_eq!(ttl_secs(&p, 429, None, None, NOW), None);
        assert_eq!(ttl_secs(&p, 505, None, None, NOW), None);
    }

    #[test]
    fn cache_control_parsing() {
        // RFC 9111 §5.2: case-insensitive names, quoted values, unknown directives ignored.
        let parsed = CacheControl::parse("Public, MAX-AGE=\"30\", s-maxage=10, must-revalidate");
        assert_eq!(parsed.max_age, Some(30));
        assert_eq!(parsed.s_maxage, Some(10));
        assert!(!parsed.no_store && !parsed.no_cache && !parsed.private);
        // First occurrence wins (RFC 9111 §4.2.1).
        assert_eq!(
            CacheControl::parse("max-age=5, max-age=50").max_age,
            Some(5)
        );
        // Invalid value: treat as stale (RFC 9111 §4.2.1).
        assert_eq!(CacheControl::parse("max-age=abc").max_age, Some(0));
        assert_eq!(CacheControl::parse("max-age=-1").max_age, Some(0));
        // Overflow saturates at 2^31 (RFC 9111 §1.2.2).
        assert_eq!(
            CacheControl::parse("max-age=99999999999999999999999").max_age,
            Some(1 << 31)
        );
        // Field-list forms and commas inside quotes.
        let parsed = CacheControl::parse("private=\"set-cookie, x-id\", no-cache=\"a\"");
        assert!(parsed.private && parsed.no_cache);
        assert_eq!(CacheControl::parse(""), CacheControl::default());
    }

    #[test]
    fn http_dates() {
        // RFC 9110 §5.6.7: all three formats denote the same instant.
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(NOW));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("Sun, 31 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
