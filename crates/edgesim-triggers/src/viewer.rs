//! Synthetic viewers: device classes, User-Agent strings and the CloudFront-* headers derived from them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::event::Request;
use crate::headers::{Headers, Str};
use crate::util::mix64;

/// Device class as CloudFront's `CloudFront-Is-*-Viewer` headers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// Desktop or laptop browser.
    Desktop,
    /// Phone.
    Mobile,
    /// Tablet.
    Tablet,
    /// Smart TV or set-top box.
    #[serde(rename = "smarttv", alias = "smart_tv")]
    SmartTv,
}

/// Operating system family, for `CloudFront-Is-Android-Viewer` / `-IOS-Viewer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Android.
    Android,
    /// iOS / iPadOS.
    Ios,
    /// Anything else (Windows, macOS, Linux, TV platforms).
    Other,
}

/// A name that is not a device class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device `{0}`: expected desktop, mobile, tablet or smarttv")]
pub struct UnknownDevice(pub String);

impl FromStr for Device {
    type Err = UnknownDevice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "desktop" => Ok(Device::Desktop),
            "mobile" | "phone" => Ok(Device::Mobile),
            "tablet" => Ok(Device::Tablet),
            "smarttv" | "tv" => Ok(Device::SmartTv),
            _ => Err(UnknownDevice(s.to_string())),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::SmartTv => "smarttv",
        })
    }
}

/// Where CloudFront geolocates a viewer: the values of its `CloudFront-Viewer-*` location
/// headers (AWS CloudFront Developer Guide, "Add CloudFront request headers"). An empty string
/// means CloudFront cannot tell, and the header is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewerLocation {
    /// `CloudFront-Viewer-Country-Name`, e.g. `Germany`.
    pub country_name: &'static str,
    /// `CloudFront-Viewer-Country-Region`: the ISO 3166-2 code of the first-level subdivision
    /// (up to three characters), e.g. `BE`.
    pub region_code: &'static str,
    /// `CloudFront-Viewer-Country-Region-Name`, e.g. `Berlin`.
    pub region_name: &'static str,
    /// `CloudFront-Viewer-City`.
    pub city: &'static str,
    /// `CloudFront-Viewer-Latitude`, decimal degrees (`52.52000`).
    pub latitude: &'static str,
    /// `CloudFront-Viewer-Longitude`, decimal degrees (`13.40500`).
    pub longitude: &'static str,
    /// `CloudFront-Viewer-Time-Zone`, an IANA time zone name (`Europe/Berlin`).
    pub time_zone: &'static str,
    /// `CloudFront-Viewer-Metro-Code` (a US DMA code; United States only).
    pub metro_code: &'static str,
    /// `CloudFront-Viewer-Postal-Code`.
    pub postal_code: &'static str,
    /// `CloudFront-Viewer-ASN`: the autonomous system of the viewer's network.
    pub asn: &'static str,
}

/// One simulated viewer: where it is, what it runs, and a stable id (cookies, sticky splits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// ISO 3166-1 alpha-2 country code (`DE`).
    pub country: Str,
    /// Device class.
    pub device: Device,
    /// Operating system family.
    pub os: Os,
    /// Stable id of this viewer across requests.
    pub viewer_id: u64,
    /// The viewer's IP address.
    pub client_ip: Str,
    /// City-level location (the country's main city in the simulation); `None` adds no
    /// location headers beyond `CloudFront-Viewer-Country`.
    #[serde(skip)]
    pub location: Option<ViewerLocation>,
}

/// Every header CloudFront derives from the viewer, lowercase: what [`Viewer::add_cloudfront_headers`]
/// adds (the location ones only with a [`ViewerLocation`]). A behaviour's origin side sees only
/// those its cache or origin-request policy includes.
pub const CLOUDFRONT_VIEWER_HEADERS: [&str; 20] = [
    "cloudfront-viewer-country",
    "cloudfront-is-desktop-viewer",
    "cloudfront-is-mobile-viewer",
    "cloudfront-is-tablet-viewer",
    "cloudfront-is-smarttv-viewer",
    "cloudfront-is-android-viewer",
    "cloudfront-is-ios-viewer",
    "cloudfront-viewer-country-name",
    "cloudfront-viewer-country-region",
    "cloudfront-viewer-country-region-name",
    "cloudfront-viewer-city",
    "cloudfront-viewer-latitude",
    "cloudfront-viewer-longitude",
    "cloudfront-viewer-time-zone",
    "cloudfront-viewer-metro-code",
    "cloudfront-viewer-postal-code",
    "cloudfront-viewer-address",
    "cloudfront-viewer-asn",
    "cloudfront-viewer-http-version",
    "cloudfront-forwarded-proto",
];

const DESKTOP_UA: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
];
const MOBILE_ANDROID_UA: &[&str] = &[
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.118 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.119 Mobile Safari/537.36",
];
const MOBILE_IOS_UA: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
];
const MOBILE_OTHER_UA: &[&str] =
    &["Mozilla/5.0 (Mobile; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5"];
const TABLET_ANDROID_UA: &[&str] = &[
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; Lenovo TB-J606F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.178 Safari/537.36",
];
const TABLET_IOS_UA: &[&str] = &[
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_7_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
];
const TABLET_OTHER_UA: &[&str] = &[
    "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.3.1 like Chrome/124.0.6367.82 Safari/537.36",
];
const SMART_TV_UA: &[&str] = &[
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) 85.0.4183.93/6.5 TV Safari/537.36",
    "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager",
    "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7633) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 Mobile Safari/537.36",
    "Roku/DVP-12.5 (12.5.0.4178-46)",
];

fn flag(on: bool) -> &'static str {
    if on { "true" } else { "false" }
}

impl Viewer {
    /// A realistic User-Agent for this device and OS, the same one for every request of this viewer.
    pub fn user_agent(&self) -> &'static str {
        let table = match (self.device, self.os) {
            (Device::Desktop, _) => DESKTOP_UA,
            (Device::Mobile, Os::Android) => MOBILE_ANDROID_UA,
            (Device::Mobile, Os::Ios) => MOBILE_IOS_UA,
            (Device::Mobile, Os::Other) => MOBILE_OTHER_UA,
            (Device::Tablet, Os::Android) => TABLET_ANDROID_UA,
            (Device::Tablet, Os::Ios) => TABLET_IOS_UA,
            (Device::Tablet, Os::Other) => TABLET_OTHER_UA,
            (Device::SmartTv, _) => SMART_TV_UA,
        };
        table[(mix64(self.viewer_id) % table.len() as u64) as usize]
    }

    /// Set `User-Agent` to [`Viewer::user_agent`] (no allocation).
    pub fn add_user_agent(&self, headers: &mut Headers) {
        headers.set_static("user-agent", "User-Agent", self.user_agent());
    }

    /// Add every header CloudFront derives from the viewer (see [`CLOUDFRONT_VIEWER_HEADERS`]):
    /// country and device flags, the location headers when the location is known, the viewer's
    /// address, ASN, HTTP version and protocol.
    ///
    /// CloudFront adds these after viewer-request: call this after that stage, never before.
    pub fn add_cloudfront_headers(&self, headers: &mut Headers) {
        self.add_cloudfront_headers_where(headers, |_| true);
    }

    /// Like [`Viewer::add_cloudfront_headers`], but only the headers for which `include`
    /// (called with the lowercase name) is true: what a behaviour's cache and origin-request
    /// policies forward. Headers not included are not built at all.
    pub fn add_cloudfront_headers_where(
        &self,
        headers: &mut Headers,
        include: impl Fn(&str) -> bool,
    ) {
        if include("cloudfront-viewer-country") {
            headers.set_named(
                "cloudfront-viewer-country",
                "CloudFront-Viewer-Country",
                self.country.clone(),
            );
        }
        let mut put = |name: &'static str, key: &'static str, value: &'static str| {
            if include(name) {
                headers.set_static(name, key, value);
            }
        };
        let d = self.device;
        put(
            "cloudfront-is-desktop-viewer",
            "CloudFront-Is-Desktop-Viewer",
            flag(d == Device::Desktop),
        );
        put(
            "cloudfront-is-mobile-viewer",
            "CloudFront-Is-Mobile-Viewer",
            flag(d == Device::Mobile),
        );
        put(
            "cloudfront-is-tablet-viewer",
            "CloudFront-Is-Tablet-Viewer",
            flag(d == Device::Tablet),
        );
        put(
            "cloudfront-is-smarttv-viewer",
            "CloudFront-Is-SmartTV-Viewer",
            flag(d == Device::SmartTv),
        );
        put(
            "cloudfront-is-android-viewer",
            "CloudFront-Is-Android-Viewer",
            flag(self.os == Os::Android),
        );
        put(
            "cloudfront-is-ios-viewer",
            "CloudFront-Is-IOS-Viewer",
            flag(self.os == Os::Ios),
        );
        put(
            "cloudfront-viewer-http-version",
            "CloudFront-Viewer-HTTP-Version",
            self.http_version(),
        );
        put(
            "cloudfront-forwarded-proto",
            "CloudFront-Forwarded-Proto",
            "https",
        );
        if let Some(at) = &self.location {
            let located = [
                (
                    "cloudfront-viewer-country-name",
                    "CloudFront-Viewer-Country-Name",
                    at.country_name,
                ),
                (
                    "cloudfront-viewer-country-region",
                    "CloudFront-Viewer-Country-Region",
                    at.region_code,
                ),
                (
                    "cloudfront-viewer-country-region-name",
                    "CloudFront-Viewer-Country-Region-Name",
                    at.region_name,
                ),
                ("cloudfront-viewer-city", "CloudFront-Viewer-City", at.city),
                (
                    "cloudfront-viewer-latitude",
                    "CloudFront-Viewer-Latitude",
                    at.latitude,
                ),
                (
                    "cloudfront-viewer-longitude",
                    "CloudFront-Viewer-Longitude",
                    at.longitude,
                ),
                (
                    "cloudfront-viewer-time-zone",
                    "CloudFront-Viewer-Time-Zone",
                    at.time_zone,
                ),
                (
                    "cloudfront-viewer-metro-code",
                    "CloudFront-Viewer-Metro-Code",
                    at.metro_code,
                ),
                (
                    "cloudfront-viewer-postal-code",
                    "CloudFront-Viewer-Postal-Code",
                    at.postal_code,
                ),
                ("cloudfront-viewer-asn", "CloudFront-Viewer-ASN", at.asn),
            ];
            for (name, key, value) in located {
                if !value.is_empty() {
                    put(name, key, value);
                }
            }
        }
        if include("cloudfront-viewer-address") {
            headers.set_named(
                "cloudfront-viewer-address",
                "CloudFront-Viewer-Address",
                self.address(),
            );
        }
    }

    /// `CloudFront-Viewer-Address`: the viewer's IP and the source port of its connection
    /// (`198.51.100.10:46532`), the port stable per viewer (an ephemeral port, 1024-65535).
    pub fn address(&self) -> Str {
        use std::fmt::Write;
        let port = 1024 + mix64(self.viewer_id ^ 0x706f_7274) % (65_536 - 1024);
        let mut out = Str::with_capacity(self.client_ip.len() + 6);
        if self.client_ip.contains(':') {
            let _ = write!(out, "[{}]:{port}", self.client_ip);
        } else {
            let _ = write!(out, "{}:{port}", self.client_ip);
        }
        out
    }

    /// `CloudFront-Viewer-HTTP-Version`: browsers speak HTTP/2 (`2.0`); TV platforms and
    /// set-top boxes often still HTTP/1.1.
    pub fn http_version(&self) -> &'static str {
        if self.device == Device::SmartTv {
            "1.1"
        } else {
            "2.0"
        }
    }

    /// The request this viewer sends, as viewer-request sees it: `Host`, `User-Agent`, `Accept`,
    /// `Accept-Encoding` (no CloudFront-* headers yet).
    pub fn request(&self, method: &str, uri: &str, host: &str) -> Request {
        let mut request = Request::new(method, uri, &self.client_ip);
        request.headers.set("Host", host);
        self.add_user_agent(&mut request.headers);
        request.headers.set_static("accept", "Accept", "*/*");
        request
            .headers
            .set_static("accept-encoding", "Accept-Encoding", "gzip, deflate, br");
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(device: Device, os: Os, id: u64) -> Viewer {
        Viewer {
            country: Str::from("DE"),
            device,
            os,
            viewer_id: id,
            client_ip: Str::from("198.51.100.7"),
            location: None,
        }
    }

    #[test]
    fn user_agent_is_stable_per_viewer_and_matches_device() {
        let v = viewer(Device::Mobile, Os::Ios, 42);
        assert_eq!(v.user_agent(), v.user_agent());
        assert!(v.user_agent().contains("iPhone"));
        assert!(
            viewer(Device::Tablet, Os::Ios, 7)
                .user_agent()
                .contains("iPad")
        );
        let distinct: std::collections::BTreeSet<_> = (0..50)
            .map(|id| viewer(Device::Desktop, Os::Other, id).user_agent())
            .collect();
        assert!(distinct.len() > 1);
    }

    #[test]
    fn cloudfront_headers_reflect_device_and_os() {
        let mut h = Headers::new();
        viewer(Device::Mobile, Os::Android, 1).add_cloudfront_headers(&mut h);
        assert_eq!(h.get("cloudfront-viewer-country"), Some("DE"));
        assert!(h.is_true("cloudfront-is-mobile-viewer"));
        assert!(h.is_true("cloudfront-is-android-viewer"));
        assert!(!h.is_true("cloudfront-is-desktop-viewer"));
        assert!(!h.is_true("cloudfront-is-ios-viewer"));
        // Country, six device flags, address, HTTP version and protocol; no location.
        assert_eq!(h.len(), 10);
        assert_eq!(h.get("cloudfront-forwarded-proto"), Some("https"));
        assert_eq!(h.get("cloudfront-viewer-http-version"), Some("2.0"));
        assert!(h.get("cloudfront-viewer-city").is_none());
    }

    const BERLIN: ViewerLocation = ViewerLocation {
        country_name: "Germany",
        region_code: "BE",
        region_name: "Berlin",
        city: "Berlin",
        latitude: "52.52000",
        longitude: "13.40500",
        time_zone: "Europe/Berlin",
        metro_code: "",
        postal_code: "10115",
        asn: "3320",
    };

    #[test]
    fn location_headers_come_from_the_location() {
        let mut v = viewer(Device::Desktop, Os::Other, 5);
        v.location = Some(BERLIN);
        let mut h = Headers::new();
        v.add_cloudfront_headers(&mut h);
        for (name, value) in [
            ("cloudfront-viewer-country-name", "Germany"),
            ("cloudfront-viewer-country-region", "BE"),
            ("cloudfront-viewer-country-region-name", "Berlin"),
            ("cloudfront-viewer-city", "Berlin"),
            ("cloudfront-viewer-latitude", "52.52000"),
            ("cloudfront-viewer-longitude", "13.40500"),
            ("cloudfront-viewer-time-zone", "Europe/Berlin"),
            ("cloudfront-viewer-postal-code", "10115"),
            ("cloudfront-viewer-asn", "3320"),
        ] {
            assert_eq!(h.get(name), Some(value), "{name}");
        }
        // Metro codes exist only in the United States.
        assert!(h.get("cloudfront-viewer-metro-code").is_none());
        let key = h
            .iter()
            .find(|e| e.name == "cloudfront-viewer-asn")
            .map(|e| e.key.clone());
        assert_eq!(key.as_deref(), Some("CloudFront-Viewer-ASN"));
        // Every header added is one of the listed names.
        assert!(h.names().all(|n| CLOUDFRONT_VIEWER_HEADERS.contains(&n)));
        assert_eq!(h.len(), 19);
    }

    #[test]
    fn address_is_ip_and_a_stable_port() {
        let v = viewer(Device::Mobile, Os::Ios, 77);
        let address = v.address();
        let (ip, port) = address.split_once(':').unwrap();
        assert_eq!(ip, "198.51.100.7");
        let port: u32 = port.parse().unwrap();
        assert!((1024..=65_535).contains(&port));
        assert_eq!(v.address(), address);
        assert_ne!(viewer(Device::Mobile, Os::Ios, 78).address(), address);
        let mut v6 = v.clone();
        v6.client_ip = Str::from("2001:db8::1");
        assert!(v6.address().starts_with("[2001:db8::1]:"));
    }

    #[test]
    fn only_included_headers_are_added() {
        let mut v = viewer(Device::SmartTv, Os::Other, 5);
        v.location = Some(BERLIN);
        let mut h = Headers::new();
        v.add_cloudfront_headers_where(&mut h, |n| {
            n == "cloudfront-viewer-city" || n == "cloudfront-viewer-http-version"
        });
        assert_eq!(h.len(), 2);
        assert_eq!(h.get("cloudfront-viewer-city"), Some("Berlin"));
        assert_eq!(h.get("cloudfront-viewer-http-version"), Some("1.1"));
    }

    #[test]
    fn viewer_request_has_no_cloudfront_headers() {
        let r = viewer(Device::Desktop, Os::Other, 3).request("GET", "/", "example.org");
        assert!(r.headers.get("user-agent").is_some());
        assert!(r.headers.names().all(|n| !n.starts_with("cloudfront-")));
    }

    #[test]
    fn device_names_parse() {
        assert_eq!("SmartTV".parse::<Device>().unwrap(), Device::SmartTv);
        assert!("fridge".parse::<Device>().is_err());
    }
}
