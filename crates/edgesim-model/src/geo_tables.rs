//! Static geography tables: CloudFront-like edge locations, viewer countries and AWS regions.
//!
//! Coordinates are decimal degrees (WGS84, north/east positive) rounded to about
//! two decimals, which is ample for distance-based latency estimates.

/// A CloudFront-like edge location city.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PopCity {
    /// IATA airport code, uppercase, e.g. `"FRA"`.
    pub code: &'static str,
    /// City name in English.
    pub city: &'static str,
    /// ISO 3166-1 alpha-2 country code, uppercase.
    pub country: &'static str,
    /// Latitude of the city in degrees.
    pub lat: f64,
    /// Longitude of the city in degrees.
    pub lon: f64,
    /// The AWS region of the CloudFront regional edge cache this location sits behind.
    pub region: &'static str,
}

/// A viewer country: centroid of its population (not the geometric centroid) and a
/// default device mix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountryInfo {
    /// ISO 3166-1 alpha-2 country code, uppercase.
    pub code: &'static str,
    /// Country name in English.
    pub name: &'static str,
    /// Latitude of the population centre in degrees.
    pub lat: f64,
    /// Longitude of the population centre in degrees.
    pub lon: f64,
    /// Standard-time (non-DST) UTC offset of the main population centre, in hours.
    pub utc_offset_hours: f32,
    /// Device mix `[desktop, mobile, tablet, smarttv]`; sums to 1.0.
    pub devices: [f64; 4],
}

/// An AWS region (origin locations and regional edge caches).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AwsRegion {
    /// Region code, lowercase, e.g. `"us-east-1"`.
    pub code: &'static str,
    /// City (or metro area) hosting the region.
    pub city: &'static str,
    /// Latitude of the hosting city in degrees.
    pub lat: f64,
    /// Longitude of the hosting city in degrees.
    pub lon: f64,
}

const fn pop(
    code: &'static str,
    city: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    region: &'static str,
) -> PopCity {
    PopCity {
        code,
        city,
        country,
        lat,
        lon,
        region,
    }
}

const fn ctry(
    code: &'static str,
    name: &'static str,
    lat: f64,
    lon: f64,
    utc_offset_hours: f32,
    devices: [f64; 4],
) -> CountryInfo {
    CountryInfo {
        code,
        name,
        lat,
        lon,
        utc_offset_hours,
        devices,
    }
}

const fn reg(code: &'static str, city: &'static str, lat: f64, lon: f64) -> AwsRegion {
    AwsRegion {
        code,
        city,
        lat,
        lon,
    }
}

/// CloudFront-like edge locations, each mapped to the regional edge cache region
/// (one of the 13 CloudFront REC regions) it would most sensibly sit behind.
pub static POP_CITIES: &[PopCity] = &[
    // North America
    pop("IAD", "Ashburn", "US", 39.04, -77.49, "us-east-1"),
    pop("JFK", "New York", "US", 40.71, -74.01, "us-east-1"),
    pop("EWR", "Newark", "US", 40.74, -74.17, "us-east-1"),
    pop("BOS", "Boston", "US", 42.36, -71.06, "us-east-1"),
    pop("PHL", "Philadelphia", "US", 39.95, -75.17, "us-east-1"),
    pop("ATL", "Atlanta", "US", 33.75, -84.39, "us-east-1"),
    pop("MIA", "Miami", "US", 25.76, -80.19, "us-east-1"),
    pop("YUL", "Montreal", "CA", 45.50, -73.57, "us-east-1"),
    pop("ORD", "Chicago", "US", 41.88, -87.63, "us-east-2"),
    pop("MSP", "Minneapolis", "US", 44.98, -93.27, "us-east-2"),
    pop("DFW", "Dallas", "US", 32.78, -96.80, "us-east-2"),
    pop("IAH", "Houston", "US", 29.76, -95.37, "us-east-2"),
    pop("YYZ", "Toronto", "CA", 43.65, -79.38, "us-east-2"),
    pop("QRO", "Queretaro", "MX", 20.59, -100.39, "us-east-2"),
    pop("LAX", "Los Angeles", "US", 34.05, -118.24, "us-west-1"),
    pop("SFO", "San Francisco", "US", 37.77, -122.42, "us-west-1"),
    pop("SJC", "San Jose", "US", 37.34, -121.89, "us-west-1"),
    pop("PHX", "Phoenix", "US", 33.45, -112.07, "us-west-1"),
    pop("SEA", "Seattle", "US", 47.61, -122.33, "us-west-2"),
    pop("PDX", "Portland", "US", 45.52, -122.68, "us-west-2"),
    pop("DEN", "Denver", "US", 39.74, -104.99, "us-west-2"),
    pop("YVR", "Vancouver", "CA", 49.28, -123.12, "us-west-2"),
    // South America
    pop("GRU", "Sao Paulo", "BR", -23.55, -46.63, "sa-east-1"),
    pop("GIG", "Rio de Janeiro", "BR", -22.91, -43.17, "sa-east-1"),
    pop("FOR", "Fortaleza", "BR", -3.73, -38.53, "sa-east-1"),
    pop("EZE", "Buenos Aires", "AR", -34.60, -58.38, "sa-east-1"),
    pop("SCL", "Santiago", "CL", -33.45, -70.67, "sa-east-1"),
    pop("LIM", "Lima", "PE", -12.05, -77.04, "sa-east-1"),
    pop("BOG", "Bogota", "CO", 4.71, -74.07, "us-east-1"),
    // Europe
    pop("FRA", "Frankfurt", "DE", 50.11, 8.68, "eu-central-1"),
    pop("MUC", "Munich", "DE", 48.14, 11.58, "eu-central-1"),
    pop("BER", "Berlin", "DE", 52.52, 13.40, "eu-central-1"),
    pop("HAM", "Hamburg", "DE", 53.55, 9.99, "eu-central-1"),
    pop("DUS", "Dusseldorf", "DE", 51.23, 6.77, "eu-central-1"),
    pop("AMS", "Amsterdam", "NL", 52.37, 4.90, "eu-central-1"),
    pop("BRU", "Brussels", "BE", 50.85, 4.35, "eu-central-1"),
    pop("MRS", "Marseille", "FR", 43.30, 5.37, "eu-central-1"),
    pop("BCN", "Barcelona", "ES", 41.39, 2.17, "eu-central-1"),
    pop("MXP", "Milan", "IT", 45.46, 9.19, "eu-central-1"),
    pop("FCO", "Rome", "IT", 41.90, 12.50, "eu-central-1"),
    pop("ZRH", "Zurich", "CH", 47.38, 8.54, "eu-central-1"),
    pop("VIE", "Vienna", "AT", 48.21, 16.37, "eu-central-1"),
    pop("PRG", "Prague", "CZ", 50.08, 14.44, "eu-central-1"),
    pop("WAW", "Warsaw", "PL", 52.23, 21.01, "eu-central-1"),
    pop("BUD", "Budapest", "HU", 47.50, 19.04, "eu-central-1"),
    pop("OTP", "Bucharest", "RO", 44.43, 26.10, "eu-central-1"),
    pop("SOF", "Sofia", "BG", 42.70, 23.32, "eu-central-1"),
    pop("ATH", "Athens", "GR", 37.98, 23.73, "eu-central-1"),
    pop("IST", "Istanbul", "TR", 41.01, 28.98, "eu-central-1"),
    pop("CPH", "Copenhagen", "DK", 55.68, 12.57, "eu-central-1"),
    pop("OSL", "Oslo", "NO", 59.91, 10.75, "eu-central-1"),
    pop("ARN", "Stockholm", "SE", 59.33, 18.07, "eu-central-1"),
    pop("HEL", "Helsinki", "FI", 60.17, 24.94, "eu-central-1"),
    pop("LHR", "London", "GB", 51.51, -0.13, "eu-west-2"),
    pop("MAN", "Manchester", "GB", 53.48, -2.24, "eu-west-2"),
    pop("CDG", "Paris", "FR", 48.86, 2.35, "eu-west-2"),
    pop("DUB", "Dublin", "IE", 53.35, -6.26, "eu-west-1"),
    pop("LIS", "Lisbon", "PT", 38.72, -9.14, "eu-west-1"),
    pop("MAD", "Madrid", "ES", 40.42, -3.70, "eu-west-1"),
    // Middle East and Africa
    pop("TLV", "Tel Aviv", "IL", 32.09, 34.78, "eu-central-1"),
    pop("DXB", "Dubai", "AE", 25.20, 55.27, "ap-south-1"),
    pop("BAH", "Manama", "BH", 26.23, 50.59, "ap-south-1"),
    pop("NBO", "Nairobi", "KE", -1.29, 36.82, "ap-south-1"),
    pop("LOS", "Lagos", "NG", 6.52, 3.38, "eu-central-1"),
    pop("JNB", "Johannesburg", "ZA", -26.20, 28.05, "eu-central-1"),
    pop("CPT", "Cape Town", "ZA", -33.92, 18.42, "eu-central-1"),
    // India
    pop("BOM", "Mumbai", "IN", 19.08, 72.88, "ap-south-1"),
    pop("DEL", "New Delhi", "IN", 28.61, 77.21, "ap-south-1"),
    pop("MAA", "Chennai", "IN", 13.08, 80.27, "ap-south-1"),
    pop("BLR", "Bengaluru", "IN", 12.97, 77.59, "ap-south-1"),
    pop("HYD", "Hyderabad", "IN", 17.39, 78.49, "ap-south-1"),
    pop("CCU", "Kolkata", "IN", 22.57, 88.36, "ap-south-1"),
    // East Asia
    pop("NRT", "Tokyo", "JP", 35.68, 139.69, "ap-northeast-1"),
    pop("KIX", "Osaka", "JP", 34.69, 135.50, "ap-northeast-1"),
    pop("ICN", "Seoul", "KR", 37.57, 126.98, "ap-northeast-2"),
    pop("TPE", "Taipei", "TW", 25.03, 121.57, "ap-northeast-2"),
    pop("HKG", "Hong Kong", "HK", 22.32, 114.17, "ap-northeast-2"),
    // Southeast Asia
    pop("SIN", "Singapore", "SG", 1.35, 103.82, "ap-southeast-1"),
    pop("KUL", "Kuala Lumpur", "MY", 3.139, 101.69, "ap-southeast-1"),
    pop("BKK", "Bangkok", "TH", 13.76, 100.50, "ap-southeast-1"),
    pop("CGK", "Jakarta", "ID", -6.21, 106.85, "ap-southeast-1"),
    pop("MNL", "Manila", "PH", 14.60, 120.98, "ap-southeast-1"),
    pop(
        "SGN",
        "Ho Chi Minh City",
        "VN",
        10.82,
        106.63,
        "ap-southeast-1",
    ),
    pop("HAN", "Hanoi", "VN", 21.03, 105.85, "ap-southeast-1"),
    // Oceania
    pop("SYD", "Sydney", "AU", -33.87, 151.21, "ap-southeast-2"),
    pop("MEL", "Melbourne", "AU", -37.81, 144.96, "ap-southeast-2"),
    pop("BNE", "Brisbane", "AU", -27.47, 153.03, "ap-southeast-2"),
    pop("PER", "Perth", "AU", -31.95, 115.86, "ap-southeast-2"),
    pop("AKL", "Auckland", "NZ", -36.85, 174.76, "ap-southeast-2"),
];

/// Viewer countries with population-centre coordinates, standard-time UTC offset and a
/// default `[desktop, mobile, tablet, smarttv]` device mix.
///
/// Single-metro countries use their main city; large multi-centre countries (US, DE, GB,
/// IT, IN, CN) use an approximate population-weighted centroid.
pub static COUNTRIES: &[CountryInfo] = &[
    // North and Central America, Caribbean
    ctry(
        "US",
        "United States",
        37.42,
        -92.30,
        -6.0,
        [0.44, 0.50, 0.04, 0.02],
    ),
    ctry(
        "CA",
        "Canada",
        43.65,
        -79.38,
        -5.0,
        [0.47, 0.46, 0.05, 0.02],
    ),
    ctry(
        "MX",
        "Mexico",
        19.43,
        -99.13,
        -6.0,
        [0.30, 0.66, 0.02, 0.02],
    ),
    ctry(
        "GT",
        "Guatemala",
        14.63,
        -90.51,
        -6.0,
        [0.22, 0.74, 0.02, 0.02],
    ),
    ctry(
        "CR",
        "Costa Rica",
        9.93,
        -84.09,
        -6.0,
        [0.30, 0.66, 0.02, 0.02],
    ),
    ctry("PA", "Panama", 8.98, -79.52, -5.0, [0.28, 0.68, 0.02, 0.02]),
    ctry(
        "DO",
        "Dominican Republic",
        18.49,
        -69.93,
        -4.0,
        [0.22, 0.74, 0.02, 0.02],
    ),
    // South America
    ctry(
        "BR",
        "Brazil",
        -23.55,
        -46.63,
        -3.0,
        [0.30, 0.66, 0.02, 0.02],
    ),
    ctry(
        "AR",
        "Argentina",
        -34.60,
        -58.38,
        -3.0,
        [0.32, 0.64, 0.02, 0.02],
    ),
    ctry(
        "CL",
        "Chile",
        -33.45,
        -70.67,
        -4.0,
        [0.35, 0.61, 0.02, 0.02],
    ),
    ctry(
        "CO",
        "Colombia",
        4.71,
        -74.07,
        -5.0,
        [0.32, 0.64, 0.02, 0.02],
    ),
    ctry("PE", "Peru", -12.05, -77.04, -5.0, [0.30, 0.66, 0.02, 0.02]),
    ctry(
        "VE",
        "Venezuela",
        10.49,
        -66.88,
        -4.0,
        [0.25, 0.72, 0.02, 0.01],
    ),
    ctry(
        "EC",
        "Ecuador",
        -2.19,
        -79.89,
        -5.0,
        [0.28, 0.68, 0.02, 0.02],
    ),
    ctry(
        "UY",
        "Uruguay",
        -34.90,
        -56.16,
        -3.0,
        [0.38, 0.58, 0.02, 0.02],
    ),
    // Western Europe
    ctry(
        "GB",
        "United Kingdom",
        52.56,
        -1.46,
        0.0,
        [0.40, 0.51, 0.07, 0.02],
    ),
    ctry("IE", "Ireland", 53.35, -6.26, 0.0, [0.40, 0.54, 0.04, 0.02]),
    ctry("FR", "France", 48.86, 2.35, 1.0, [0.46, 0.49, 0.03, 0.02]),
    ctry("DE", "Germany", 50.90, 9.20, 1.0, [0.50, 0.45, 0.03, 0.02]),
    ctry(
        "NL",
        "Netherlands",
        52.09,
        5.12,
        1.0,
        [0.47, 0.47, 0.04, 0.02],
    ),
    ctry("BE", "Belgium", 50.85, 4.35, 1.0, [0.47, 0.46, 0.05, 0.02]),
    ctry(
        "LU",
        "Luxembourg",
        49.61,
        6.13,
        1.0,
        [0.52, 0.42, 0.04, 0.02],
    ),
    ctry(
        "CH",
        "Switzerland",
        47.38,
        8.54,
        1.0,
        [0.50, 0.44, 0.04, 0.02],
    ),
    ctry("AT", "Austria", 48.21, 16.37, 1.0, [0.50, 0.45, 0.03, 0.02]),
    ctry("ES", "Spain", 40.42, -3.70, 1.0, [0.40, 0.55, 0.03, 0.02]),
    ctry(
        "PT",
        "Portugal",
        38.72,
        -9.14,
        0.0,
        [0.42, 0.53, 0.03, 0.02],
    ),
    ctry("IT", "Italy", 42.50, 12.40, 1.0, [0.40, 0.55, 0.03, 0.02]),
    // Northern Europe
    ctry("DK", "Denmark", 55.68, 12.57, 1.0, [0.48, 0.44, 0.06, 0.02]),
    ctry("NO", "Norway", 59.91, 10.75, 1.0, [0.47, 0.45, 0.06, 0.02]),
    ctry("SE", "Sweden", 59.33, 18.07, 1.0, [0.48, 0.45, 0.05, 0.02]),
    ctry("FI", "Finland", 60.17, 24.94, 2.0, [0.52, 0.42, 0.04, 0.02]),
    ctry(
        "IS",
        "Iceland",
        64.15,
        -21.94,
        0.0,
        [0.48, 0.45, 0.05, 0.02],
    ),
    ctry("EE", "Estonia", 59.44, 24.75, 2.0, [0.52, 0.44, 0.02, 0.02]),
    ctry("LV", "Latvia", 56.95, 24.11, 2.0, [0.45, 0.51, 0.02, 0.02]),
    ctry(
        "LT",
        "Lithuania",
        54.69,
        25.28,
        2.0,
        [0.45, 0.51, 0.02, 0.02],
    ),
    // Central and Eastern Europe
    ctry("PL", "Poland", 52.23, 21.01, 1.0, [0.40, 0.56, 0.02, 0.02]),
    ctry("CZ", "Czechia", 50.08, 14.44, 1.0, [0.52, 0.44, 0.02, 0.02]),
    ctry(
        "SK",
        "Slovakia",
        48.15,
        17.11,
        1.0,
        [0.48, 0.48, 0.02, 0.02],
    ),
    ctry("HU", "Hungary", 47.50, 19.04, 1.0, [0.45, 0.51, 0.02, 0.02]),
    ctry(
        "SI",
        "Slovenia",
        46.06,
        14.51,
        1.0,
        [0.48, 0.48, 0.02, 0.02],
    ),
    ctry("HR", "Croatia", 45.81, 15.98, 1.0, [0.42, 0.54, 0.02, 0.02]),
    ctry("RS", "Serbia", 44.79, 20.45, 1.0, [0.40, 0.56, 0.02, 0.02]),
    ctry("RO", "Romania", 44.43, 26.10, 2.0, [0.38, 0.58, 0.02, 0.02]),
    ctry(
        "BG",
        "Bulgaria",
        42.70,
        23.32,
        2.0,
        [0.42, 0.54, 0.02, 0.02],
    ),
    ctry("GR", "Greece", 37.98, 23.73, 2.0, [0.38, 0.58, 0.02, 0.02]),
    ctry("UA", "Ukraine", 50.45, 30.52, 2.0, [0.40, 0.56, 0.02, 0.02]),
    ctry("RU", "Russia", 55.76, 37.62, 3.0, [0.45, 0.51, 0.02, 0.02]),
    ctry("TR", "Turkey", 41.01, 28.98, 3.0, [0.28, 0.68, 0.02, 0.02]),
    // Middle East
    ctry("IL", "Israel", 32.09, 34.78, 2.0, [0.38, 0.58, 0.02, 0.02]),
    ctry(
        "SA",
        "Saudi Arabia",
        24.71,
        46.68,
        3.0,
        [0.22, 0.73, 0.03, 0.02],
    ),
    ctry(
        "AE",
        "United Arab Emirates",
        25.20,
        55.27,
        4.0,
        [0.30, 0.65, 0.03, 0.02],
    ),
    ctry("BH", "Bahrain", 26.23, 50.59, 3.0, [0.25, 0.70, 0.03, 0.02]),
    ctry("QA", "Qatar", 25.29, 51.53, 3.0, [0.28, 0.67, 0.03, 0.02]),
    ctry("KW", "Kuwait", 29.38, 47.99, 3.0, [0.22, 0.73, 0.03, 0.02]),
    ctry("IQ", "Iraq", 33.31, 44.37, 3.0, [0.15, 0.82, 0.02, 0.01]),
    ctry("IR", "Iran", 35.69, 51.39, 3.5, [0.25, 0.72, 0.02, 0.01]),
    // Africa
    ctry("EG", "Egypt", 30.04, 31.24, 2.0, [0.20, 0.77, 0.02, 0.01]),
    ctry("MA", "Morocco", 33.57, -7.59, 1.0, [0.20, 0.77, 0.02, 0.01]),
    ctry("DZ", "Algeria", 36.75, 3.06, 1.0, [0.22, 0.75, 0.02, 0.01]),
    ctry("TN", "Tunisia", 36.81, 10.18, 1.0, [0.28, 0.68, 0.03, 0.01]),
    ctry("NG", "Nigeria", 6.52, 3.38, 1.0, [0.12, 0.86, 0.01, 0.01]),
    ctry("GH", "Ghana", 5.60, -0.19, 0.0, [0.14, 0.84, 0.01, 0.01]),
    ctry("KE", "Kenya", -1.29, 36.82, 3.0, [0.14, 0.84, 0.01, 0.01]),
    ctry("ET", "Ethiopia", 9.03, 38.74, 3.0, [0.15, 0.83, 0.01, 0.01]),
    ctry(
        "TZ",
        "Tanzania",
        -6.79,
        39.21,
        3.0,
        [0.12, 0.86, 0.01, 0.01],
    ),
    ctry(
        "ZA",
        "South Africa",
        -26.20,
        28.05,
        2.0,
        [0.28, 0.68, 0.02, 0.02],
    ),
    // South and Central Asia
    ctry("IN", "India", 22.50, 79.50, 5.5, [0.14, 0.84, 0.01, 0.01]),
    ctry(
        "PK",
        "Pakistan",
        31.55,
        74.34,
        5.0,
        [0.15, 0.83, 0.01, 0.01],
    ),
    ctry(
        "BD",
        "Bangladesh",
        23.81,
        90.41,
        6.0,
        [0.15, 0.83, 0.01, 0.01],
    ),
    ctry(
        "LK",
        "Sri Lanka",
        6.93,
        79.85,
        5.5,
        [0.25, 0.72, 0.02, 0.01],
    ),
    ctry("NP", "Nepal", 27.72, 85.32, 5.75, [0.18, 0.80, 0.01, 0.01]),
    ctry(
        "UZ",
        "Uzbekistan",
        41.30,
        69.24,
        5.0,
        [0.25, 0.72, 0.02, 0.01],
    ),
    // East Asia
    ctry("CN", "China", 32.00, 114.00, 8.0, [0.30, 0.65, 0.03, 0.02]),
    ctry(
        "HK",
        "Hong Kong",
        22.32,
        114.17,
        8.0,
        [0.38, 0.56, 0.04, 0.02],
    ),
    ctry("TW", "Taiwan", 25.03, 121.57, 8.0, [0.38, 0.58, 0.02, 0.02]),
    ctry(
        "KR",
        "South Korea",
        37.57,
        126.98,
        9.0,
        [0.45, 0.51, 0.02, 0.02],
    ),
    ctry("JP", "Japan", 35.68, 139.69, 9.0, [0.42, 0.52, 0.04, 0.02]),
    // Southeast Asia
    ctry(
        "SG",
        "Singapore",
        1.35,
        103.82,
        8.0,
        [0.38, 0.57, 0.03, 0.02],
    ),
    ctry(
        "MY",
        "Malaysia",
        3.139,
        101.69,
        8.0,
        [0.30, 0.66, 0.02, 0.02],
    ),
    ctry(
        "TH",
        "Thailand",
        13.76,
        100.50,
        7.0,
        [0.28, 0.68, 0.02, 0.02],
    ),
    ctry(
        "ID",
        "Indonesia",
        -6.21,
        106.85,
        7.0,
        [0.13, 0.85, 0.01, 0.01],
    ),
    ctry(
        "PH",
        "Philippines",
        14.60,
        120.98,
        8.0,
        [0.25, 0.72, 0.02, 0.01],
    ),
    ctry(
        "VN",
        "Vietnam",
        10.82,
        106.63,
        7.0,
        [0.25, 0.72, 0.02, 0.01],
    ),
    ctry("MM", "Myanmar", 16.87, 96.20, 6.5, [0.10, 0.88, 0.01, 0.01]),
    ctry(
        "KH",
        "Cambodia",
        11.56,
        104.92,
        7.0,
        [0.15, 0.83, 0.01, 0.01],
    ),
    // Oceania
    ctry(
        "AU",
        "Australia",
        -33.87,
        151.21,
        10.0,
        [0.42, 0.50, 0.06, 0.02],
    ),
    ctry(
        "NZ",
        "New Zealand",
        -36.85,
        174.76,
        12.0,
        [0.42, 0.50, 0.06, 0.02],
    ),
];

/// Commercial AWS regions with the coordinates of the city (metro area) hosting them.
pub static AWS_REGIONS: &[AwsRegion] = &[
    // North America
    reg("us-east-1", "Ashburn", 39.04, -77.49),
    reg("us-east-2", "Columbus", 39.96, -83.00),
    reg("us-west-1", "San Jose", 37.34, -121.89),
    reg("us-west-2", "Boardman", 45.84, -119.70),
    reg("ca-central-1", "Montreal", 45.50, -73.57),
    reg("ca-west-1", "Calgary", 51.05, -114.07),
    reg("mx-central-1", "Queretaro", 20.59, -100.39),
    // South America
    reg("sa-east-1", "Sao Paulo", -23.55, -46.63),
    // Europe
    reg("eu-central-1", "Frankfurt", 50.11, 8.68),
    reg("eu-central-2", "Zurich", 47.38, 8.54),
    reg("eu-west-1", "Dublin", 53.35, -6.26),
    reg("eu-west-2", "London", 51.51, -0.13),
    reg("eu-west-3", "Paris", 48.86, 2.35),
    reg("eu-north-1", "Stockholm", 59.33, 18.07),
    reg("eu-south-1", "Milan", 45.46, 9.19),
    reg("eu-south-2", "Zaragoza", 41.65, -0.88),
    // Middle East and Africa
    reg("il-central-1", "Tel Aviv", 32.09, 34.78),
    reg("me-south-1", "Manama", 26.23, 50.59),
    reg("me-central-1", "Dubai", 25.20, 55.27),
    reg("af-south-1", "Cape Town", -33.92, 18.42),
    // Asia Pacific
    reg("ap-south-1", "Mumbai", 19.08, 72.88),
    reg("ap-south-2", "Hyderabad", 17.39, 78.49),
    reg("ap-east-1", "Hong Kong", 22.32, 114.17),
    reg("ap-northeast-1", "Tokyo", 35.68, 139.69),
    reg("ap-northeast-2", "Seoul", 37.57, 126.98),
    reg("ap-northeast-3", "Osaka", 34.69, 135.50),
    reg("ap-southeast-1", "Singapore", 1.35, 103.82),
    reg("ap-southeast-2", "Sydney", -33.87, 151.21),
    reg("ap-southeast-3", "Jakarta", -6.21, 106.85),
    reg("ap-southeast-4", "Melbourne", -37.81, 144.96),
    reg("ap-southeast-5", "Kuala Lumpur", 3.139, 101.69),
    reg("ap-southeast-7", "Bangkok", 13.76, 100.50),
];

/// Where CloudFront would geolocate a viewer in a country: the country's main city (the
/// most populous metro area, or the capital), its first-level subdivision (ISO 3166-2 code
/// and name), IANA time zone, coordinates, a central postal code, the US DMA metro code and
/// an ASN. The simulation places every viewer of a country there, so the
/// `CloudFront-Viewer-*` location headers are deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryPlace {
    /// ISO 3166-1 alpha-2 country code, uppercase.
    pub code: &'static str,
    /// Main city.
    pub city: &'static str,
    /// ISO 3166-2 subdivision code without the country prefix (`BE` for DE-BE); empty when
    /// the country has none.
    pub region_code: &'static str,
    /// Name of that subdivision.
    pub region_name: &'static str,
    /// IANA time zone of the city.
    pub time_zone: &'static str,
    /// Latitude of the city, as CloudFront writes it (five decimals).
    pub latitude: &'static str,
    /// Longitude of the city, five decimals.
    pub longitude: &'static str,
    /// A postal code in the city centre; empty where the country has no postal codes.
    pub postal_code: &'static str,
    /// Nielsen DMA metro code; United States only, empty elsewhere.
    pub metro_code: &'static str,
    /// Autonomous system number of the country's largest access network where one is
    /// modelled; elsewhere a private-use ASN (64512-65534, RFC 6996), one per country.
    pub asn: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn place(
    code: &'static str,
    city: &'static str,
    region_code: &'static str,
    region_name: &'static str,
    time_zone: &'static str,
    latitude: &'static str,
    longitude: &'static str,
    postal_code: &'static str,
    metro_code: &'static str,
    asn: &'static str,
) -> CountryPlace {
    CountryPlace {
        code,
        city,
        region_code,
        region_name,
        time_zone,
        latitude,
        longitude,
        postal_code,
        metro_code,
        asn,
    }
}

/// One [`CountryPlace`] for every country in [`COUNTRIES`], in the same order.
pub static COUNTRY_PLACES: &[CountryPlace] = &[
    place(
        "US",
        "New York",
        "NY",
        "New York",
        "America/New_York",
        "40.71280",
        "-74.00600",
        "10001",
        "501",
        "7922",
    ),
    place(
        "CA",
        "Toronto",
        "ON",
        "Ontario",
        "America/Toronto",
        "43.65320",
        "-79.38320",
        "M5H",
        "",
        "577",
    ),
    place(
        "MX",
        "Mexico City",
        "CMX",
        "Ciudad de Mexico",
        "America/Mexico_City",
        "19.43260",
        "-99.13320",
        "06000",
        "",
        "8151",
    ),
    place(
        "GT",
        "Guatemala City",
        "GU",
        "Guatemala",
        "America/Guatemala",
        "14.63490",
        "-90.50690",
        "01001",
        "",
        "14754",
    ),
    place(
        "CR",
        "San Jose",
        "SJ",
        "San Jose",
        "America/Costa_Rica",
        "9.92810",
        "-84.09070",
        "10101",
        "",
        "11830",
    ),
    place(
        "PA",
        "Panama City",
        "8",
        "Panama",
        "America/Panama",
        "8.98240",
        "-79.51990",
        "0801",
        "",
        "64512",
    ),
    place(
        "DO",
        "Santo Domingo",
        "01",
        "Distrito Nacional",
        "America/Santo_Domingo",
        "18.48610",
        "-69.93120",
        "10101",
        "",
        "6400",
    ),
    place(
        "BR",
        "Sao Paulo",
        "SP",
        "Sao Paulo",
        "America/Sao_Paulo",
        "-23.55050",
        "-46.63330",
        "01000-000",
        "",
        "28573",
    ),
    place(
        "AR",
        "Buenos Aires",
        "C",
        "Ciudad Autonoma de Buenos Aires",
        "America/Argentina/Buenos_Aires",
        "-34.60370",
        "-58.38160",
        "C1002",
        "",
        "7303",
    ),
    place(
        "CL",
        "Santiago",
        "RM",
        "Region Metropolitana de Santiago",
        "America/Santiago",
        "-33.44890",
        "-70.66930",
        "8320000",
        "",
        "7418",
    ),
    place(
        "CO",
        "Bogota",
        "DC",
        "Bogota",
        "America/Bogota",
        "4.71100",
        "-74.07210",
        "110111",
        "",
        "3816",
    ),
    place(
        "PE",
        "Lima",
        "LMA",
        "Lima",
        "America/Lima",
        "-12.04640",
        "-77.04280",
        "15001",
        "",
        "6147",
    ),
    place(
        "VE",
        "Caracas",
        "A",
        "Distrito Capital",
        "America/Caracas",
        "10.48060",
        "-66.90360",
        "1010",
        "",
        "8048",
    ),
    place(
        "EC",
        "Guayaquil",
        "G",
        "Guayas",
        "America/Guayaquil",
        "-2.17100",
        "-79.92240",
        "090101",
        "",
        "64513",
    ),
    place(
        "UY",
        "Montevideo",
        "MO",
        "Montevideo",
        "America/Montevideo",
        "-34.90110",
        "-56.16450",
        "11000",
        "",
        "6057",
    ),
    place(
        "GB",
        "London",
        "ENG",
        "England",
        "Europe/London",
        "51.50740",
        "-0.12780",
        "EC1A",
        "",
        "2856",
    ),
    place(
        "IE",
        "Dublin",
        "D",
        "Dublin",
        "Europe/Dublin",
        "53.34980",
        "-6.26030",
        "D01",
        "",
        "5466",
    ),
    place(
        "FR",
        "Paris",
        "IDF",
        "Ile-de-France",
        "Europe/Paris",
        "48.85660",
        "2.35220",
        "75001",
        "",
        "3215",
    ),
    place(
        "DE",
        "Berlin",
        "BE",
        "Berlin",
        "Europe/Berlin",
        "52.52000",
        "13.40500",
        "10115",
        "",
        "3320",
    ),
    place(
        "NL",
        "Amsterdam",
        "NH",
        "Noord-Holland",
        "Europe/Amsterdam",
        "52.36760",
        "4.90410",
        "1012",
        "",
        "1136",
    ),
    place(
        "BE",
        "Brussels",
        "BRU",
        "Brussels Capital",
        "Europe/Brussels",
        "50.85030",
        "4.35170",
        "1000",
        "",
        "5432",
    ),
    place(
        "LU",
        "Luxembourg",
        "LU",
        "Luxembourg",
        "Europe/Luxembourg",
        "49.61160",
        "6.13190",
        "1009",
        "",
        "6661",
    ),
    place(
        "CH",
        "Zurich",
        "ZH",
        "Zurich",
        "Europe/Zurich",
        "47.37690",
        "8.54170",
        "8001",
        "",
        "3303",
    ),
    place(
        "AT",
        "Vienna",
        "9",
        "Wien",
        "Europe/Vienna",
        "48.20820",
        "16.37380",
        "1010",
        "",
        "8447",
    ),
    place(
        "ES",
        "Madrid",
        "MD",
        "Madrid",
        "Europe/Madrid",
        "40.41680",
        "-3.70380",
        "28001",
        "",
        "3352",
    ),
    place(
        "PT",
        "Lisbon",
        "11",
        "Lisboa",
        "Europe/Lisbon",
        "38.72230",
        "-9.13930",
        "1100-148",
        "",
        "3243",
    ),
    place(
        "IT",
        "Rome",
        "62",
        "Lazio",
        "Europe/Rome",
        "41.90280",
        "12.49640",
        "00118",
        "",
        "3269",
    ),
    place(
        "DK",
        "Copenhagen",
        "84",
        "Capital Region",
        "Europe/Copenhagen",
        "55.67610",
        "12.56830",
        "1050",
        "",
        "3292",
    ),
    place(
        "NO",
        "Oslo",
        "03",
        "Oslo",
        "Europe/Oslo",
        "59.91390",
        "10.75220",
        "0150",
        "",
        "2119",
    ),
    place(
        "SE",
        "Stockholm",
        "AB",
        "Stockholm",
        "Europe/Stockholm",
        "59.32930",
        "18.06860",
        "111 20",
        "",
        "3301",
    ),
    place(
        "FI",
        "Helsinki",
        "18",
        "Uusimaa",
        "Europe/Helsinki",
        "60.16990",
        "24.93840",
        "00100",
        "",
        "1759",
    ),
    place(
        "IS",
        "Reykjavik",
        "1",
        "Capital Region",
        "Atlantic/Reykjavik",
        "64.14660",
        "-21.94260",
        "101",
        "",
        "6677",
    ),
    place(
        "EE",
        "Tallinn",
        "37",
        "Harju",
        "Europe/Tallinn",
        "59.43700",
        "24.75360",
        "10111",
        "",
        "3249",
    ),
    place(
        "LV",
        "Riga",
        "RIX",
        "Riga",
        "Europe/Riga",
        "56.94960",
        "24.10520",
        "LV-1050",
        "",
        "64514",
    ),
    place(
        "LT",
        "Vilnius",
        "VL",
        "Vilnius County",
        "Europe/Vilnius",
        "54.68720",
        "25.27970",
        "01100",
        "",
        "8764",
    ),
    place(
        "PL",
        "Warsaw",
        "MZ",
        "Mazowieckie",
        "Europe/Warsaw",
        "52.22970",
        "21.01220",
        "00-001",
        "",
        "5617",
    ),
    place(
        "CZ",
        "Prague",
        "10",
        "Praha",
        "Europe/Prague",
        "50.07550",
        "14.43780",
        "110 00",
        "",
        "5610",
    ),
    place(
        "SK",
        "Bratislava",
        "BL",
        "Bratislava",
        "Europe/Bratislava",
        "48.14860",
        "17.10770",
        "811 01",
        "",
        "6855",
    ),
    place(
        "HU",
        "Budapest",
        "BU",
        "Budapest",
        "Europe/Budapest",
        "47.49790",
        "19.04020",
        "1051",
        "",
        "5483",
    ),
    place(
        "SI",
        "Ljubljana",
        "061",
        "Ljubljana",
        "Europe/Ljubljana",
        "46.05690",
        "14.50580",
        "1000",
        "",
        "5603",
    ),
    place(
        "HR",
        "Zagreb",
        "21",
        "Grad Zagreb",
        "Europe/Zagreb",
        "45.81500",
        "15.98190",
        "10000",
        "",
        "5391",
    ),
    place(
        "RS",
        "Belgrade",
        "00",
        "Belgrade",
        "Europe/Belgrade",
        "44.78660",
        "20.44890",
        "11000",
        "",
        "8400",
    ),
    place(
        "RO",
        "Bucharest",
        "B",
        "Bucuresti",
        "Europe/Bucharest",
        "44.42680",
        "26.10250",
        "010011",
        "",
        "8708",
    ),
    place(
        "BG",
        "Sofia",
        "22",
        "Sofia City",
        "Europe/Sofia",
        "42.69770",
        "23.32190",
        "1000",
        "",
        "8866",
    ),
    place(
        "GR",
        "Athens",
        "I",
        "Attica",
        "Europe/Athens",
        "37.98380",
        "23.72750",
        "105 57",
        "",
        "6799",
    ),
    place(
        "UA",
        "Kyiv",
        "30",
        "Kyiv",
        "Europe/Kyiv",
        "50.45010",
        "30.52340",
        "01001",
        "",
        "6849",
    ),
    place(
        "RU",
        "Moscow",
        "MOW",
        "Moscow",
        "Europe/Moscow",
        "55.75580",
        "37.61730",
        "101000",
        "",
        "12389",
    ),
    place(
        "TR",
        "Istanbul",
        "34",
        "Istanbul",
        "Europe/Istanbul",
        "41.00820",
        "28.97840",
        "34000",
        "",
        "9121",
    ),
    place(
        "IL",
        "Tel Aviv",
        "TA",
        "Tel Aviv",
        "Asia/Jerusalem",
        "32.08530",
        "34.78180",
        "61000",
        "",
        "8551",
    ),
    place(
        "SA",
        "Riyadh",
        "01",
        "Riyadh",
        "Asia/Riyadh",
        "24.71360",
        "46.67530",
        "11564",
        "",
        "25019",
    ),
    place(
        "AE",
        "Dubai",
        "DU",
        "Dubai",
        "Asia/Dubai",
        "25.20480",
        "55.27080",
        "",
        "",
        "5384",
    ),
    place(
        "BH",
        "Manama",
        "13",
        "Capital",
        "Asia/Bahrain",
        "26.22850",
        "50.58600",
        "",
        "",
        "64515",
    ),
    place(
        "QA",
        "Doha",
        "DA",
        "Doha",
        "Asia/Qatar",
        "25.28540",
        "51.53100",
        "",
        "",
        "8781",
    ),
    place(
        "KW",
        "Kuwait City",
        "KU",
        "Al Asimah",
        "Asia/Kuwait",
        "29.37590",
        "47.97740",
        "",
        "",
        "64516",
    ),
    place(
        "IQ",
        "Baghdad",
        "BG",
        "Baghdad",
        "Asia/Baghdad",
        "33.31520",
        "44.36610",
        "10001",
        "",
        "64517",
    ),
    place(
        "IR",
        "Tehran",
        "23",
        "Tehran",
        "Asia/Tehran",
        "35.68920",
        "51.38900",
        "",
        "",
        "64518",
    ),
    place(
        "EG",
        "Cairo",
        "C",
        "Cairo",
        "Africa/Cairo",
        "30.04440",
        "31.23570",
        "11511",
        "",
        "8452",
    ),
    place(
        "MA",
        "Casablanca",
        "06",
        "Casablanca-Settat",
        "Africa/Casablanca",
        "33.57310",
        "-7.58980",
        "20000",
        "",
        "6713",
    ),
    place(
        "DZ",
        "Algiers",
        "16",
        "Alger",
        "Africa/Algiers",
        "36.75380",
        "3.05880",
        "16000",
        "",
        "64519",
    ),
    place(
        "TN",
        "Tunis",
        "11",
        "Tunis",
        "Africa/Tunis",
        "36.80650",
        "10.18150",
        "1000",
        "",
        "64520",
    ),
    place(
        "NG",
        "Lagos",
        "LA",
        "Lagos",
        "Africa/Lagos",
        "6.52440",
        "3.37920",
        "100001",
        "",
        "29465",
    ),
    place(
        "GH",
        "Accra",
        "AA",
        "Greater Accra",
        "Africa/Accra",
        "5.60370",
        "-0.18700",
        "",
        "",
        "64521",
    ),
    place(
        "KE",
        "Nairobi",
        "30",
        "Nairobi City",
        "Africa/Nairobi",
        "-1.29210",
        "36.82190",
        "00100",
        "",
        "33771",
    ),
    place(
        "ET",
        "Addis Ababa",
        "AA",
        "Addis Ababa",
        "Africa/Addis_Ababa",
        "9.03000",
        "38.74000",
        "1000",
        "",
        "64522",
    ),
    place(
        "TZ",
        "Dar es Salaam",
        "02",
        "Dar es Salaam",
        "Africa/Dar_es_Salaam",
        "-6.79240",
        "39.20830",
        "11101",
        "",
        "64523",
    ),
    place(
        "ZA",
        "Johannesburg",
        "GT",
        "Gauteng",
        "Africa/Johannesburg",
        "-26.20410",
        "28.04730",
        "2001",
        "",
        "64524",
    ),
    place(
        "IN",
        "Mumbai",
        "MH",
        "Maharashtra",
        "Asia/Kolkata",
        "19.07600",
        "72.87770",
        "400001",
        "",
        "55836",
    ),
    place(
        "PK",
        "Lahore",
        "PB",
        "Punjab",
        "Asia/Karachi",
        "31.54970",
        "74.34360",
        "54000",
        "",
        "17557",
    ),
    place(
        "BD",
        "Dhaka",
        "13",
        "Dhaka",
        "Asia/Dhaka",
        "23.81030",
        "90.41250",
        "1000",
        "",
        "64525",
    ),
    place(
        "LK",
        "Colombo",
        "1",
        "Western Province",
        "Asia/Colombo",
        "6.92710",
        "79.86120",
        "00100",
        "",
        "64526",
    ),
    place(
        "NP",
        "Kathmandu",
        "P3",
        "Bagmati",
        "Asia/Kathmandu",
        "27.71720",
        "85.32400",
        "44600",
        "",
        "64527",
    ),
    place(
        "UZ",
        "Tashkent",
        "TK",
        "Toshkent",
        "Asia/Tashkent",
        "41.29950",
        "69.24010",
        "100000",
        "",
        "64528",
    ),
    place(
        "CN",
        "Shanghai",
        "SH",
        "Shanghai",
        "Asia/Shanghai",
        "31.23040",
        "121.47370",
        "200000",
        "",
        "4134",
    ),
    place(
        "HK",
        "Hong Kong",
        "",
        "",
        "Asia/Hong_Kong",
        "22.31930",
        "114.16940",
        "",
        "",
        "4760",
    ),
    place(
        "TW",
        "Taipei",
        "TPE",
        "Taipei",
        "Asia/Taipei",
        "25.03300",
        "121.56540",
        "100",
        "",
        "3462",
    ),
    place(
        "KR",
        "Seoul",
        "11",
        "Seoul",
        "Asia/Seoul",
        "37.56650",
        "126.97800",
        "04524",
        "",
        "4766",
    ),
    place(
        "JP",
        "Tokyo",
        "13",
        "Tokyo",
        "Asia/Tokyo",
        "35.67620",
        "139.65030",
        "100-0001",
        "",
        "4713",
    ),
    place(
        "SG",
        "Singapore",
        "01",
        "Central Singapore",
        "Asia/Singapore",
        "1.35210",
        "103.81980",
        "018956",
        "",
        "64529",
    ),
    place(
        "MY",
        "Kuala Lumpur",
        "14",
        "Kuala Lumpur",
        "Asia/Kuala_Lumpur",
        "3.13900",
        "101.68690",
        "50000",
        "",
        "4788",
    ),
    place(
        "TH",
        "Bangkok",
        "10",
        "Bangkok",
        "Asia/Bangkok",
        "13.75630",
        "100.50180",
        "10200",
        "",
        "64530",
    ),
    place(
        "ID",
        "Jakarta",
        "JK",
        "Jakarta",
        "Asia/Jakarta",
        "-6.20880",
        "106.84560",
        "10110",
        "",
        "7713",
    ),
    place(
        "PH",
        "Manila",
        "00",
        "Metro Manila",
        "Asia/Manila",
        "14.59950",
        "120.98420",
        "1000",
        "",
        "9299",
    ),
    place(
        "VN",
        "Ho Chi Minh City",
        "SG",
        "Ho Chi Minh",
        "Asia/Ho_Chi_Minh",
        "10.82310",
        "106.62970",
        "700000",
        "",
        "7552",
    ),
    place(
        "MM",
        "Yangon",
        "06",
        "Yangon",
        "Asia/Yangon",
        "16.84090",
        "96.17350",
        "11181",
        "",
        "64531",
    ),
    place(
        "KH",
        "Phnom Penh",
        "12",
        "Phnom Penh",
        "Asia/Phnom_Penh",
        "11.55640",
        "104.92820",
        "120101",
        "",
        "64532",
    ),
    place(
        "AU",
        "Sydney",
        "NSW",
        "New South Wales",
        "Australia/Sydney",
        "-33.86880",
        "151.20930",
        "2000",
        "",
        "1221",
    ),
    place(
        "NZ",
        "Auckland",
        "AUK",
        "Auckland",
        "Pacific/Auckland",
        "-36.84850",
        "174.76330",
        "1010",
        "",
        "4771",
    ),
];

impl CountryInfo {
    /// Where viewers of this country are placed (its main city).
    pub fn place(&self) -> Option<&'static CountryPlace> {
        country_place(self.code)
    }

    /// The location CloudFront reports for viewers of this country, for the
    /// `CloudFront-Viewer-*` location headers.
    pub fn viewer_location(&self) -> Option<edgesim_triggers::ViewerLocation> {
        self.place().map(|p| edgesim_triggers::ViewerLocation {
            country_name: self.name,
            region_code: p.region_code,
            region_name: p.region_name,
            city: p.city,
            latitude: p.latitude,
            longitude: p.longitude,
            time_zone: p.time_zone,
            metro_code: p.metro_code,
            postal_code: p.postal_code,
            asn: p.asn,
        })
    }
}

/// Index of each two-letter code in [`COUNTRIES`] (and [`COUNTRY_PLACES`]): O(1) look-ups on
/// the request path.
fn country_index(code: &str) -> Option<usize> {
    use std::sync::OnceLock;
    static INDEX: OnceLock<Vec<u8>> = OnceLock::new();
    let slot = |code: &str| {
        let b = code.as_bytes();
        (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic)).then(|| {
            usize::from(b[0].to_ascii_uppercase() - b'A') * 26
                + usize::from(b[1].to_ascii_uppercase() - b'A')
        })
    };
    let index = INDEX.get_or_init(|| {
        let mut index = vec![u8::MAX; 26 * 26];
        for (i, c) in COUNTRIES.iter().enumerate() {
            if let Some(at) = slot(c.code) {
                index[at] = u8::try_from(i).expect("fewer than 255 countries");
            }
        }
        index
    });
    let i = index[slot(code)?];
    (i != u8::MAX).then_some(usize::from(i))
}

/// The place of a country (case-insensitive code).
pub fn country_place(code: &str) -> Option<&'static CountryPlace> {
    let i = country_index(code)?;
    COUNTRY_PLACES
        .get(i)
        .filter(|p| p.code == COUNTRIES[i].code)
}

/// The `CloudFront-Viewer-*` location of a viewer in a country's largest city (case-insensitive
/// code, from [`crate::cities`]); `None` for countries not in the table.
pub fn viewer_location(code: &str) -> Option<edgesim_triggers::ViewerLocation> {
    let first = crate::cities::of_country(code).start;
    if crate::cities::of_country(code).is_empty() {
        return None;
    }
    crate::cities::viewer_location(u32::try_from(first).ok()?)
}

/// The `CloudFront-Viewer-ASN` of a country's viewers: that of its largest access network where
/// [`COUNTRY_PLACES`] models one, empty (header left out) elsewhere.
pub fn asn_of(code: &str) -> &'static str {
    country_place(code).map_or("", |p| p.asn)
}

/// Looks up an edge location by IATA code (case-insensitive).
pub fn pop_city(code: &str) -> Option<&'static PopCity> {
    POP_CITIES
        .iter()
        .find(|p| p.code.eq_ignore_ascii_case(code))
}

/// Looks up a viewer country by ISO 3166-1 alpha-2 code (case-insensitive): every country of
/// the city table ([`crate::cities`]). The countries of [`COUNTRIES`] keep their population
/// centre, device mix and standard offset; the others are placed at their largest city, with
/// the mean device mix of [`COUNTRIES`] and that city's UTC offset on 2026-01-01.
pub fn country(code: &str) -> Option<&'static CountryInfo> {
    let code = code.to_ascii_uppercase();
    let all = all_countries();
    all.binary_search_by(|c| c.code.cmp(code.as_str()))
        .ok()
        .map(|i| &all[i])
}

/// Every viewer country, sorted by code.
pub fn all_countries() -> &'static [CountryInfo] {
    use std::sync::OnceLock;
    static ALL: OnceLock<Vec<CountryInfo>> = OnceLock::new();
    ALL.get_or_init(|| {
        let n = COUNTRIES.len() as f64;
        let mut mean = [0.0; 4];
        for c in COUNTRIES {
            for (m, d) in mean.iter_mut().zip(c.devices) {
                *m += d / n;
            }
        }
        let mut out: Vec<CountryInfo> = crate::cities::country_codes()
            .filter_map(|code| {
                if let Some(c) = COUNTRIES.iter().find(|c| c.code == code) {
                    return Some(*c);
                }
                let first = crate::cities::all().get(crate::cities::of_country(code).start)?;
                Some(CountryInfo {
                    code: first.country,
                    name: crate::cities::country_name(code).unwrap_or(first.country),
                    lat: first.location.lat,
                    lon: first.location.lon,
                    utc_offset_hours: first.utc_offset_hours(1_767_225_600) as f32,
                    devices: mean,
                })
            })
            .collect();
        out.sort_by(|a, b| a.code.cmp(b.code));
        out
    })
}

/// Looks up an AWS region by code (case-insensitive).
pub fn aws_region(code: &str) -> Option<&'static AwsRegion> {
    AWS_REGIONS
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The 13 AWS regions hosting CloudFront regional edge caches.
    const REC_REGIONS: [&str; 13] = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-central-1",
        "eu-west-1",
        "eu-west-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "sa-east-1",
    ];

    fn coords_ok(lat: f64, lon: f64) -> bool {
        lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon)
    }

    #[test]
    fn every_country_has_a_place_in_the_same_order() {
        assert_eq!(COUNTRY_PLACES.len(), COUNTRIES.len());
        for (c, p) in COUNTRIES.iter().zip(COUNTRY_PLACES) {
            assert_eq!(c.code, p.code);
            assert!(!p.city.is_empty(), "{}", c.code);
            let (lat, lon): (f64, f64) =
                (p.latitude.parse().unwrap(), p.longitude.parse().unwrap());
            assert!(coords_ok(lat, lon), "{}", c.code);
            assert_eq!(
                p.latitude.split('.').nth(1).map(str::len),
                Some(5),
                "{}",
                c.code
            );
            assert_eq!(
                p.longitude.split('.').nth(1).map(str::len),
                Some(5),
                "{}",
                c.code
            );
            // An IANA name: Area/Location.
            assert!(
                p.time_zone.contains('/') && !p.time_zone.contains(' '),
                "{}",
                c.code
            );
            assert!(p.region_code.len() <= 3, "{}", c.code);
            assert_eq!(
                p.region_code.is_empty(),
                p.region_name.is_empty(),
                "{}",
                c.code
            );
            assert_eq!(!p.metro_code.is_empty(), c.code == "US", "{}", c.code);
            assert!(p.asn.parse::<u32>().is_ok(), "{}", c.code);
            // The city lies in the country: within a few degrees of its population centre,
            // and its standard-time offset matches the zone's region roughly.
            assert!(
                (lat - c.lat).abs() < 25.0 && (lon - c.lon).abs() < 40.0,
                "{}",
                c.code
            );
        }
    }

    #[test]
    fn viewer_location_lookup() {
        let de = viewer_location("de").unwrap();
        // The largest city of the table; GeoNames' German admin1 codes are FIPS, so no region.
        assert_eq!(
            (de.country_name, de.city, de.region_code, de.time_zone),
            ("Germany", "Berlin", "", "Europe/Berlin")
        );
        assert_eq!(viewer_location("US").unwrap().metro_code, "");
        assert_eq!(viewer_location("US").unwrap().region_code, "NY");
        assert!(viewer_location("ZZ").is_none());
        assert!(viewer_location("D").is_none());
        assert_eq!(country_place("JP").unwrap().time_zone, "Asia/Tokyo");
    }

    #[test]
    fn counts() {
        assert!(POP_CITIES.len() >= 60, "{} PoPs", POP_CITIES.len());
        assert!(COUNTRIES.len() >= 70, "{} countries", COUNTRIES.len());
        assert!(AWS_REGIONS.len() >= 21, "{} regions", AWS_REGIONS.len());
    }

    #[test]
    fn pop_codes_unique_uppercase() {
        let mut seen = HashSet::new();
        for p in POP_CITIES {
            assert_eq!(p.code.len(), 3, "{}", p.code);
            assert!(p.code.bytes().all(|b| b.is_ascii_uppercase()), "{}", p.code);
            assert!(seen.insert(p.code), "duplicate PoP {}", p.code);
            assert!(!p.city.is_empty());
        }
    }

    #[test]
    fn country_codes_unique_uppercase() {
        let mut seen = HashSet::new();
        for c in COUNTRIES {
            assert_eq!(c.code.len(), 2, "{}", c.code);
            assert!(c.code.bytes().all(|b| b.is_ascii_uppercase()), "{}", c.code);
            assert!(seen.insert(c.code), "duplicate country {}", c.code);
            assert!(!c.name.is_empty());
        }
    }

    #[test]
    fn region_codes_unique_lowercase() {
        let mut seen = HashSet::new();
        for r in AWS_REGIONS {
            assert!(
                r.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.code
            );
            assert!(seen.insert(r.code), "duplicate region {}", r.code);
            assert!(!r.city.is_empty());
        }
    }

    #[test]
    fn coordinates_in_range() {
        for p in POP_CITIES {
            assert!(coords_ok(p.lat, p.lon), "PoP {}", p.code);
        }
        for c in COUNTRIES {
            assert!(coords_ok(c.lat, c.lon), "country {}", c.code);
            assert!((-12.0..=14.0).contains(&c.utc_offset_hours), "{}", c.code);
        }
        for r in AWS_REGIONS {
            assert!(coords_ok(r.lat, r.lon), "region {}", r.code);
        }
    }

    #[test]
    fn device_mixes_sum_to_one() {
        for c in COUNTRIES {
            assert!(
                c.devices.iter().all(|&d| (0.0..=1.0).contains(&d)),
                "{}",
                c.code
            );
            let sum: f64 = c.devices.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "{} sums to {sum}", c.code);
        }
    }

    #[test]
    fn pop_regions_are_rec_regions_and_exist() {
        for p in POP_CITIES {
            assert!(
                REC_REGIONS.contains(&p.region),
                "{} -> {}",
                p.code,
                p.region
            );
            assert!(aws_region(p.region).is_some(), "{} -> {}", p.code, p.region);
        }
    }

    #[test]
    fn pop_countries_exist() {
        for p in POP_CITIES {
            assert!(country(p.country).is_some(), "{} in {}", p.code, p.country);
        }
    }

    #[test]
    fn every_rec_region_has_two_pops() {
        for rec in REC_REGIONS {
            assert!(aws_region(rec).is_some(), "{rec} missing");
            let n = POP_CITIES.iter().filter(|p| p.region == rec).count();
            assert!(n >= 2, "{rec} has {n} PoPs");
        }
    }

    #[test]
    fn required_entries_present() {
        for code in [
            "FRA", "MUC", "AMS", "CDG", "LHR", "MAN", "DUB", "MAD", "MXP", "WAW", "ARN", "HEL",
            "VIE", "ZRH", "PRG", "IAD", "JFK", "ATL", "MIA", "ORD", "DFW", "DEN", "LAX", "SFO",
            "SEA", "YYZ", "YUL", "GRU", "GIG", "EZE", "SCL", "BOG", "NRT", "KIX", "ICN", "HKG",
            "TPE", "SIN", "KUL", "BKK", "CGK", "MNL", "BOM", "DEL", "MAA", "BLR", "SYD", "MEL",
            "AKL", "JNB", "CPT", "DXB", "TLV", "BAH",
        ] {
            assert!(pop_city(code).is_some(), "PoP {code} missing");
        }
        for code in [
            "CN", "RU", "TR", "EG", "NG", "KE", "MA", "SA", "PK", "BD", "VN", "UA", "PT", "GR",
            "RO", "HU", "BE", "DK", "NO", "IE", "CZ", "PE", "NZ",
        ] {
            assert!(country(code).is_some(), "country {code} missing");
        }
        for code in [
            "ca-central-1",
            "eu-west-3",
            "eu-north-1",
            "eu-south-1",
            "ap-east-1",
            "me-south-1",
            "af-south-1",
            "ap-southeast-3",
            "sa-east-1",
        ] {
            assert!(aws_region(code).is_some(), "region {code} missing");
        }
    }

    #[test]
    fn lookups_case_insensitive() {
        assert_eq!(pop_city("fra").map(|p| p.city), Some("Frankfurt"));
        assert_eq!(pop_city("Lhr").map(|p| p.code), Some("LHR"));
        assert_eq!(country("de").map(|c| c.name), Some("Germany"));
        assert_eq!(country("uS").map(|c| c.code), Some("US"));
        assert_eq!(aws_region("US-EAST-1").map(|r| r.city), Some("Ashburn"));
        assert_eq!(
            aws_region("Eu-Central-1").map(|r| r.code),
            Some("eu-central-1")
        );
        assert!(pop_city("XXX").is_none());
        assert!(country("").is_none());
        assert!(aws_region("mars-north-1").is_none());
    }

    #[test]
    fn device_mix_shape() {
        for c in COUNTRIES {
            let [desktop, mobile, tablet, tv] = c.devices;
            assert!(mobile > 0.4 && desktop > 0.05, "{}", c.code);
            assert!((0.005..=0.08).contains(&tablet), "{}", c.code);
            assert!((0.005..=0.035).contains(&tv), "{}", c.code);
        }
        let mobile = |code: &str| country(code).map_or(0.0, |c| c.devices[1]);
        assert!(mobile("IN") > mobile("DE"));
        assert!(mobile("NG") > mobile("US"));
        assert!(mobile("ID") > mobile("JP"));
    }
}
