//! Things that happen during a run (`[[events]]`: outages, slowdowns,
//! degraded paths, flash crowds) and the shape of traffic over time
//! (`[traffic]`: diurnal curves by local time, steady growth).

use serde::Deserialize;
use toml::Spanned;

/// One `[[events]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    /// `pop_outage`, `regional_outage`, `origin_outage`, `origin_slowdown`,
    /// `network_degradation` or `flash_crowd`.
    pub kind: Spanned<String>,
    /// When it starts, simulated seconds.
    pub at_secs: Spanned<f64>,
    /// How long it lasts (default: to the end of the run).
    pub for_secs: Option<Spanned<f64>>,
    /// The PoP (`pop_outage`).
    pub pop: Option<Spanned<String>>,
    /// The region (`regional_outage`, `network_degradation`).
    pub region: Option<Spanned<String>>,
    /// The origin (`origin_outage`, `origin_slowdown`; optional for
    /// `network_degradation`: every origin).
    pub origin: Option<Spanned<String>>,
    /// Service-time multiplier (`origin_slowdown`) or traffic multiplier
    /// (`flash_crowd`).
    pub factor: Option<Spanned<f64>>,
    /// What the origin answers while out (`origin_outage`, default 502:
    /// CloudFront cannot connect).
    pub status: Option<Spanned<i64>>,
    /// Round trip added between the region and the origin(s), ms
    /// (`network_degradation`).
    pub extra_ms: Option<Spanned<f64>>,
    /// How many objects the extra traffic of a `flash_crowd` asks for (the
    /// least popular of the first object class: content nobody had cached).
    pub objects: Option<Spanned<i64>>,
    /// Viewer countries of a `flash_crowd` (default: all).
    pub countries: Option<Vec<Spanned<String>>>,
}

/// `[traffic]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraffic {
    /// Relative swing of each country's rate over its local day, in [0, 1).
    pub diurnal_amplitude: Option<Spanned<f64>>,
    /// Local hour of the daily peak (default 20).
    pub peak_local_hour: Option<Spanned<f64>>,
    /// Growth of all rates per simulated hour (0.1 = +10% per hour).
    pub growth_per_hour: Option<Spanned<f64>>,
    /// Local hour at which the run starts in UTC (default 12: noon UTC), on
    /// [`DEFAULT_START_DATE_UNIX`]'s date.
    pub start_utc_hour: Option<Spanned<f64>>,
    /// The date and time the run starts, RFC 3339 with an offset
    /// (`"2026-07-01T18:00:00Z"`): gives the date as well, so daylight
    /// saving is what the tz database says for it. Supersedes
    /// `start_utc_hour` (giving both is an error).
    pub start: Option<Spanned<String>>,
    /// 24 relative rates, one per UTC hour (index 0: 00:00-01:00 UTC),
    /// for every country alike: a measured time-of-day curve (e.g. from
    /// access logs) instead of `diurnal_amplitude`. Normalised to mean 1.
    pub hourly_profile: Option<Spanned<Vec<f64>>>,
}

/// What an event does.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The PoP is down: its viewers go to the next-best PoP; it comes back
    /// with an empty cache.
    PopOutage {
        /// Index into the scenario's PoPs.
        pop: usize,
    },
    /// The region's regional edge cache is down: its PoPs go straight to
    /// the origins.
    RegionalOutage {
        /// Index into the scenario's regions.
        region: usize,
    },
    /// The origin answers every fetch with `status` at once.
    OriginOutage {
        /// Index into the scenario's origins.
        origin: usize,
        /// The answer.
        status: u16,
    },
    /// The origin's service time is multiplied by `factor`.
    OriginSlowdown {
        /// Index into the scenario's origins.
        origin: usize,
        /// Multiplier (> 0).
        factor: f64,
    },
    /// Extra round trip between a region and one or every origin.
    NetworkDegradation {
        /// Index into the scenario's regions.
        region: usize,
        /// Index into the scenario's origins; None: all.
        origin: Option<usize>,
        /// Added round trip, ms.
        extra_ms: f64,
    },
    /// Traffic from `countries` is multiplied by `factor`; the extra
    /// requests ask for `objects` objects nobody had cached.
    FlashCrowd {
        /// Traffic multiplier (>= 1).
        factor: f64,
        /// Number of objects.
        objects: u64,
        /// Indices into the scenario's countries (empty: all).
        countries: Vec<usize>,
    },
}

impl EventKind {
    /// The name used in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::PopOutage { .. } => "pop_outage",
            EventKind::RegionalOutage { .. } => "regional_outage",
            EventKind::OriginOutage { .. } => "origin_outage",
            EventKind::OriginSlowdown { .. } => "origin_slowdown",
            EventKind::NetworkDegradation { .. } => "network_degradation",
            EventKind::FlashCrowd { .. } => "flash_crowd",
        }
    }
}

/// An event over a span of simulated time.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What happens.
    pub kind: EventKind,
    /// Start, µs.
    pub start_us: u64,
    /// End (exclusive), µs.
    pub end_us: u64,
}

impl Event {
    /// Whether the event is in force at `t_us`.
    pub fn active_at(&self, t_us: u64) -> bool {
        (self.start_us..self.end_us).contains(&t_us)
    }
}

/// How request rates change over time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traffic {
    /// Relative daily swing, in [0, 1).
    pub diurnal_amplitude: f64,
    /// Local hour of the peak.
    pub peak_local_hour: f64,
    /// Growth per hour.
    pub growth_per_hour: f64,
    /// UTC hour at simulated time 0.
    pub start_utc_hour: f64,
    /// Simulated time 0 in seconds since 1970-01-01 UTC (its hour of day is
    /// `start_utc_hour`).
    pub start_unix_secs: i64,
    /// Rate multiplier per UTC hour (mean 1), if given.
    pub hourly_profile: Option<[f64; 24]>,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            diurnal_amplitude: 0.0,
            peak_local_hour: 20.0,
            growth_per_hour: 0.0,
            start_utc_hour: 12.0,
            start_unix_secs: DEFAULT_START_DATE_UNIX + 12 * 3600,
            hourly_profile: None,
        }
    }
}

/// 2026-01-01T00:00:00Z: the date of a run that gives `start_utc_hour` but
/// no `start` (northern-hemisphere standard time, southern summer time).
pub const DEFAULT_START_DATE_UNIX: i64 = 1_767_225_600;

impl Traffic {
    /// Seconds since 1970-01-01 UTC at simulated time `t_us`.
    pub fn unix_secs_at(&self, t_us: u64) -> i64 {
        self.start_unix_secs
            .saturating_add(i64::try_from(t_us / 1_000_000).unwrap_or(i64::MAX))
    }

    /// Rate multiplier at simulated time `t_us` for a whole country: its
    /// cities' multipliers weighted by their shares.
    pub fn country_multiplier(&self, t_us: u64, country: &crate::CountryDemand) -> f64 {
        if self.diurnal_amplitude > 0.0 {
            country
                .cities
                .iter()
                .filter_map(|c| {
                    Some(c.share * self.city_multiplier(t_us, crate::cities::city(c.city)?))
                })
                .sum()
        } else {
            self.multiplier(t_us, 0.0)
        }
    }

    /// Rate multiplier at simulated time `t_us` for viewers of `city`: the
    /// diurnal curve at the city's local time (its time zone's offset at
    /// that instant, daylight saving included).
    pub fn city_multiplier(&self, t_us: u64, city: &crate::cities::City) -> f64 {
        if self.diurnal_amplitude > 0.0 {
            self.multiplier(t_us, city.utc_offset_hours(self.unix_secs_at(t_us)))
        } else {
            self.multiplier(t_us, 0.0)
        }
    }

    /// Rate multiplier at simulated time `t_us` for a country whose local
    /// time is UTC + `utc_offset_hours`.
    pub fn multiplier(&self, t_us: u64, utc_offset_hours: f64) -> f64 {
        let hours = t_us as f64 / 3.6e9;
        let mut m = (1.0 + self.growth_per_hour).powf(hours);
        if self.diurnal_amplitude > 0.0 {
            let local = self.start_utc_hour + hours + utc_offset_hours;
            let phase = (local - self.peak_local_hour) / 24.0 * std::f64::consts::TAU;
            m *= 1.0 + self.diurnal_amplitude * phase.cos();
        }
        if let Some(profile) = &self.hourly_profile {
            let utc = (self.start_utc_hour + hours).rem_euclid(24.0);
            m *= profile[(utc as usize).min(23)];
        }
        m
    }
}
