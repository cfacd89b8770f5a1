//! Distances and round-trip times between points on the Earth.
//!
//! Light in fibre covers about 200 km per millisecond; real paths are
//! longer than the great circle by a path-inflation factor (1.3–2x), so a
//! round trip over `d` km takes at least `2 d / 200` ms (the physical
//! floor) and typically `2 d * inflation / 200` ms, plus last mile and
//! jitter.

/// Speed of light in vacuum, km per ms: exactly 299 792 458 m/s, the value
/// that defines the metre (BIPM, *The International System of Units*, 9th
/// edition 2019, section 2.3.1). Nothing in a network is faster.
pub const LIGHT_IN_VACUUM_KM_PER_MS: f64 = 299.792_458;

/// Group refractive index of standard single-mode silica fibre (ITU-T
/// G.652) at 1550 nm: about 1.468 (Corning SMF-28 datasheet: 1.4682 at
/// 1550 nm, 1.4676 at 1310 nm).
pub const FIBRE_GROUP_INDEX: f64 = 1.468;

/// Speed of light in silica fibre, km per ms:
/// [`LIGHT_IN_VACUUM_KM_PER_MS`] / [`FIBRE_GROUP_INDEX`], about 204.2.
/// Faster paths exist only off fibre (microwave, hollow-core fibre), so a
/// scenario above it gets a warning.
pub const LIGHT_IN_FIBRE_KM_PER_MS: f64 = LIGHT_IN_VACUUM_KM_PER_MS / FIBRE_GROUP_INDEX;

/// Mean Earth radius in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// A point given by latitude and longitude in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    /// Latitude in degrees, north positive.
    pub lat: f64,
    /// Longitude in degrees, east positive.
    pub lon: f64,
}

impl LatLon {
    /// Great-circle distance in km (haversine).
    pub fn distance_km(self, other: LatLon) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = la2 - la1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

/// The physical floor of a round trip over `distance_km` of great circle,
/// in microseconds, for light covering `fibre_km_per_ms` in fibre.
pub fn rtt_floor_us(distance_km: f64, fibre_km_per_ms: f64) -> f64 {
    2.0 * distance_km / fibre_km_per_ms * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn light_in_fibre_is_about_two_thirds_of_c() {
        assert!((LIGHT_IN_FIBRE_KM_PER_MS - 204.22).abs() < 0.01);
        const { assert!(LIGHT_IN_FIBRE_KM_PER_MS < LIGHT_IN_VACUUM_KM_PER_MS) };
    }

    #[test]
    fn frankfurt_to_new_york_is_about_6200_km() {
        let fra = LatLon {
            lat: 50.03,
            lon: 8.57,
        };
        let jfk = LatLon {
            lat: 40.64,
            lon: -73.78,
        };
        let d = fra.distance_km(jfk);
        assert!((6150.0..6250.0).contains(&d), "{d}");
        assert!((fra.distance_km(fra)).abs() < 1e-9);
        assert!((d - jfk.distance_km(fra)).abs() < 1e-9);
    }

    #[test]
    fn antipodes_are_half_the_circumference() {
        let a = LatLon { lat: 0.0, lon: 0.0 };
        let b = LatLon {
            lat: 0.0,
            lon: 180.0,
        };
        assert!((a.distance_km(b) - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }

    #[test]
    fn floor_is_two_way_light_in_fibre() {
        // 1000 km one way at 200 km/ms: 5 ms each way.
        assert_eq!(rtt_floor_us(1000.0, 200.0), 10_000.0);
    }
}
