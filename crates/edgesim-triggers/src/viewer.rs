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
}

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

    /// Add the headers CloudFront derives from the viewer: `CloudFront-Viewer-Country` and the
    /// six `CloudFront-Is-*-Viewer` flags.
    ///
    /// CloudFront adds these after viewer-request: call this after that stage, never before.
    pub fn add_cloudfront_headers(&self, headers: &mut Headers) {
        headers.set("CloudFront-Viewer-Country", self.country.clone());
        let d = self.device;
        headers.set_static(
            "cloudfront-is-desktop-viewer",
            "CloudFront-Is-Desktop-Viewer",
            flag(d == Device::Desktop),
        );
        headers.set_static(
            "cloudfront-is-mobile-viewer",
            "CloudFront-Is-Mobile-Viewer",
            flag(d == Device::Mobile),
        );
        headers.set_static(
            "cloudfront-is-tablet-viewer",
            "CloudFront-Is-Tablet-Viewer",
            flag(d == Device::Tablet),
        );
        headers.set_static(
            "cloudfront-is-smarttv-viewer",
            "CloudFront-Is-SmartTV-Viewer",
            flag(d == Device::SmartTv),
        );
        headers.set_static(
            "cloudfront-is-android-viewer",
            "CloudFront-Is-Android-Viewer",
            flag(self.os == Os::Android),
        );
        headers.set_static(
            "cloudfront-is-ios-viewer",
            "CloudFront-Is-IOS-Viewer",
            flag(self.os == Os::Ios),
        );
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
        assert_eq!(h.len(), 7);
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
