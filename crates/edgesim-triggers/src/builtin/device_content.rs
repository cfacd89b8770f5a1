//! `device_content`: URI prefix or image-variant suffix per device class, from the
//! `CloudFront-Is-*-Viewer` headers (which the origin-request policy must forward).

use serde::{Deserialize, Serialize};

use super::{RuleOutcome, check_prefix, concat};
use crate::config::ConfigError;
use crate::event::Request;
use crate::util::intern;
use crate::viewer::Device;

/// One optional string per device class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerDevice {
    /// Desktop viewers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop: Option<String>,
    /// Phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Tablets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablet: Option<String>,
    /// Smart TVs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smarttv: Option<String>,
}

impl PerDevice {
    fn entries(&self) -> [(&'static str, Device, &Option<String>); 4] {
        [
            ("desktop", Device::Desktop, &self.desktop),
            ("mobile", Device::Mobile, &self.mobile),
            ("tablet", Device::Tablet, &self.tablet),
            ("smarttv", Device::SmartTv, &self.smarttv),
        ]
    }

    fn compile(&self) -> [&'static str; 4] {
        self.entries()
            .map(|(_, _, v)| v.as_deref().map_or("", intern))
    }
}

/// `builtin = "device_content"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceContentConfig {
    /// Prepended to the URI per device (`mobile = "/m"`).
    #[serde(default)]
    pub prefix: PerDevice,
    /// Inserted before the file extension per device (`mobile = "@2x"` turns `/a.jpg` into
    /// `/a@2x.jpg`), for files whose extension is in `extensions`.
    #[serde(default)]
    pub suffix: PerDevice,
    /// Extensions the suffix applies to.
    #[serde(default = "default_extensions")]
    pub extensions: Vec<String>,
}

fn default_extensions() -> Vec<String> {
    ["jpg", "jpeg", "png", "webp", "avif", "gif"]
        .map(String::from)
        .to_vec()
}

pub(crate) struct DeviceContent {
    prefix: [&'static str; 4],
    suffix: [&'static str; 4],
    extensions: Vec<String>,
}

/// The device class CloudFront's headers describe; the most specific true flag wins
/// (SmartTV, tablet, mobile, desktop). `None` when no flag is present and true.
pub fn device_from_headers(headers: &crate::headers::Headers) -> Option<Device> {
    // One pass over the headers: this runs on every origin fetch.
    // Only four names qualify; their length and the byte after `cloudfront-is-` pick the
    // candidate, and fixed-size comparisons (inlined, no `bcmp` call) confirm it.
    let mut flags = [false; 4];
    for entry in headers {
        let name = entry.name.as_bytes();
        let slot = match (name.len(), name.get(14)) {
            (28, Some(b'd')) => 0,
            (27, Some(b'm')) => 1,
            (27, Some(b't')) => 2,
            (28, Some(b's')) => 3,
            _ => continue,
        };
        let known = match slot {
            0 => name == b"cloudfront-is-desktop-viewer",
            1 => name == b"cloudfront-is-mobile-viewer",
            2 => name == b"cloudfront-is-tablet-viewer",
            _ => name == b"cloudfront-is-smarttv-viewer",
        };
        if known {
            flags[slot] |= entry.value.as_bytes() == b"true";
        }
    }
    [
        Device::SmartTv,
        Device::Tablet,
        Device::Mobile,
        Device::Desktop,
    ]
    .into_iter()
    .find(|d| flags[*d as usize])
}

impl DeviceContent {
    pub(crate) fn compile(config: &DeviceContentConfig) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        for (name, _, value) in config.prefix.entries() {
            if let Some(v) = value {
                check_prefix(&format!("prefix.{name}"), v, &mut errors);
            }
        }
        for (name, _, value) in config.suffix.entries() {
            if let Some(v) = value
                && v.contains(['/', '?', '#'])
            {
                errors.push(ConfigError::new(
                    format!("suffix.{name}"),
                    format!("`{v}` may not contain `/`, `?` or `#`"),
                ));
            }
        }
        if config.prefix == PerDevice::default() && config.suffix == PerDevice::default() {
            errors.push(ConfigError::new(
                "prefix",
                "set a prefix or a suffix for at least one device",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(DeviceContent {
            prefix: config.prefix.compile(),
            suffix: config.suffix.compile(),
            extensions: config
                .extensions
                .iter()
                .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                .collect(),
        })
    }

    pub(crate) fn apply(&self, request: &mut Request) -> RuleOutcome {
        let Some(device) = device_from_headers(&request.headers) else {
            return RuleOutcome::Continue;
        };
        let index = device as usize;
        let (prefix, suffix) = (self.prefix[index], self.suffix[index]);
        let uri = request.uri.as_str();
        // Where the suffix goes: before the extension of the last path segment, if listed.
        let insert_at = if suffix.is_empty() {
            None
        } else {
            // Byte scans from the end: `/` and `.` are ASCII, so the indices are char boundaries.
            let bytes = uri.as_bytes();
            let file_start = bytes.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
            bytes[file_start..]
                .iter()
                .rposition(|&b| b == b'.')
                .map(|d| file_start + d)
                .filter(|&dot| {
                    let ext = &bytes[dot + 1..];
                    self.extensions
                        .iter()
                        .any(|e| ext.eq_ignore_ascii_case(e.as_bytes()))
                })
        };
        if prefix.is_empty() && insert_at.is_none() {
            return RuleOutcome::Continue;
        }
        let split = insert_at.unwrap_or(uri.len());
        let suffix = if insert_at.is_some() { suffix } else { "" };
        request.uri = concat(&[prefix, &uri[..split], suffix, &uri[split..]]);
        RuleOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::{Os, Viewer};

    fn request_from(device: Device, uri: &str) -> Request {
        let viewer = Viewer {
            country: "US".into(),
            device,
            os: Os::Other,
            viewer_id: 1,
            client_ip: "1.1.1.1".into(),
            location: None,
        };
        let mut r = viewer.request("GET", uri, "example.org");
        viewer.add_cloudfront_headers(&mut r.headers);
        r
    }

    #[test]
    fn prefix_and_suffix_per_device() {
        let rule = DeviceContent::compile(&DeviceContentConfig {
            prefix: PerDevice {
                mobile: Some("/mobile".into()),
                tablet: Some("/tablet".into()),
                ..Default::default()
            },
            suffix: PerDevice {
                mobile: Some("@2x".into()),
                ..Default::default()
            },
            extensions: default_extensions(),
        })
        .unwrap();
        let mut r = request_from(Device::Mobile, "/img/cat.jpg");
        rule.apply(&mut r);
        assert_eq!(r.uri, "/mobile/img/cat@2x.jpg");
        let mut r = request_from(Device::Tablet, "/index.html");
        rule.apply(&mut r);
        assert_eq!(r.uri, "/tablet/index.html");
        let mut r = request_from(Device::Desktop, "/index.html");
        rule.apply(&mut r);
        assert_eq!(r.uri, "/index.html");
        // Headers not forwarded: nothing changes.
        let mut r = Request::new("GET", "/img/cat.jpg", "1.1.1.1");
        rule.apply(&mut r);
        assert_eq!(r.uri, "/img/cat.jpg");
    }

    #[test]
    fn empty_config_is_an_error() {
        let config = DeviceContentConfig {
            prefix: PerDevice::default(),
            suffix: PerDevice::default(),
            extensions: vec![],
        };
        assert!(DeviceContent::compile(&config).is_err());
    }
}
