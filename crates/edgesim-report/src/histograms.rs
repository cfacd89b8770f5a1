//! The run's latency histograms (total, per PoP, per country, per device)
//! and their file, `histograms.json`, which lets `edgesim report` redraw
//! the CDF plots from a saved report.
//!
//! Each histogram is an HdrHistogram of viewer latency in microseconds
//! (1 µs to 60 s, 3 significant digits) in the standard compressed form
//! (V2 + DEFLATE, cookie `0x1c849314`) encoded as base64, i.e. the
//! `HISTFAA…` strings other HdrHistogram implementations decode too.

use edgesim_sim::LatencyHistogram;
use edgesim_sim::metrics::new_latency_histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use crate::base64;
use crate::summary::Summary;

/// `format` of histograms.json.
pub const HISTOGRAMS_FORMAT: &str = "edgesim-latency-histograms";
/// `version` of histograms.json.
pub const HISTOGRAMS_VERSION: u32 = 1;

/// The latency histograms of a run, µs, aligned with the summary's lists.
#[derive(Debug, Clone, PartialEq)]
pub struct RunHistograms {
    /// All viewer requests.
    pub total: LatencyHistogram,
    /// Per PoP, in [`Summary::pops`] order.
    pub pops: Vec<LatencyHistogram>,
    /// Per viewer country (all its routes added), in
    /// [`Summary::countries`] order.
    pub countries: Vec<LatencyHistogram>,
    /// Per device class (`desktop`, `mobile`, ...), by device index. Empty
    /// until the region engine reports latency per device; the report
    /// draws a device CDF as soon as it is filled.
    pub devices: Vec<(String, LatencyHistogram)>,
}

impl Default for RunHistograms {
    fn default() -> Self {
        RunHistograms {
            total: new_latency_histogram(),
            pops: Vec::new(),
            countries: Vec::new(),
            devices: Vec::new(),
        }
    }
}

/// One named histogram in histograms.json.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedEncoded {
    id: String,
    histogram: String,
}

/// histograms.json as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistogramsFile {
    format: String,
    version: u32,
    unit: String,
    encoding: String,
    total: String,
    pops: Vec<NamedEncoded>,
    countries: Vec<NamedEncoded>,
    devices: Vec<NamedEncoded>,
}

const ENCODING: &str = "hdrhistogram-v2-deflate-base64";

/// A histogram in the compressed, base64 form.
pub fn encode_compressed(h: &LatencyHistogram) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serialising into a Vec cannot fail");
    base64::encode(&bytes)
}

/// Reads a histogram in the compressed, base64 form (plain V2 is accepted too).
pub fn decode_compressed(text: &str) -> Result<LatencyHistogram, String> {
    let bytes = base64::decode(text)?;
    let h: LatencyHistogram = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("bad histogram: {e:?}"))?;
    // Re-home into edgesim's bounds so it adds like any other.
    let mut out = new_latency_histogram();
    out.add(&h)
        .map_err(|e| format!("histogram out of range: {e:?}"))?;
    Ok(out)
}

impl RunHistograms {
    /// histograms.json for `summary` (whose ids name the histograms).
    pub fn to_json(&self, summary: &Summary) -> String {
        let named = |ids: &mut dyn Iterator<Item = &str>,
                     hs: &mut dyn Iterator<Item = &LatencyHistogram>| {
            ids.zip(hs)
                .map(|(id, h)| NamedEncoded {
                    id: id.to_owned(),
                    histogram: encode_compressed(h),
                })
                .collect()
        };
        let file = HistogramsFile {
            format: HISTOGRAMS_FORMAT.into(),
            version: HISTOGRAMS_VERSION,
            unit: "us".into(),
            encoding: ENCODING.into(),
            total: encode_compressed(&self.total),
            pops: named(
                &mut summary.pops.iter().map(|p| p.id.as_str()),
                &mut self.pops.iter(),
            ),
            countries: named(
                &mut summary.countries.iter().map(|c| c.code.as_str()),
                &mut self.countries.iter(),
            ),
            devices: named(
                &mut self.devices.iter().map(|(d, _)| d.as_str()),
                &mut self.devices.iter().map(|(_, h)| h),
            ),
        };
        serde_json::to_string_pretty(&file).expect("histograms serialise") + "\n"
    }

    /// Reads histograms.json written for `summary`; the error says what
    /// does not fit.
    pub fn from_json(text: &str, summary: &Summary) -> Result<RunHistograms, String> {
        let file: HistogramsFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.format != HISTOGRAMS_FORMAT || file.version != HISTOGRAMS_VERSION {
            return Err(format!(
                "format {:?} version {} is not {HISTOGRAMS_FORMAT:?} version {HISTOGRAMS_VERSION}",
                file.format, file.version
            ));
        }
        if file.unit != "us" || file.encoding != ENCODING {
            return Err(format!(
                "unit {:?} / encoding {:?} not supported",
                file.unit, file.encoding
            ));
        }
        fn list<'a>(
            what: &str,
            got: &[NamedEncoded],
            want: impl ExactSizeIterator<Item = &'a str>,
        ) -> Result<Vec<LatencyHistogram>, String> {
            if got.len() != want.len() {
                return Err(format!(
                    "{} {what} histograms for {} {what} in summary.json",
                    got.len(),
                    want.len()
                ));
            }
            got.iter()
                .zip(want)
                .map(|(n, id)| {
                    if n.id != id {
                        return Err(format!("{what} {:?} where summary.json has {id:?}", n.id));
                    }
                    decode_compressed(&n.histogram).map_err(|e| format!("{what} {id:?}: {e}"))
                })
                .collect()
        }
        Ok(RunHistograms {
            total: decode_compressed(&file.total).map_err(|e| format!("total: {e}"))?,
            pops: list(
                "pops",
                &file.pops,
                summary.pops.iter().map(|p| p.id.as_str()),
            )?,
            countries: list(
                "countries",
                &file.countries,
                summary.countries.iter().map(|c| c.code.as_str()),
            )?,
            devices: file
                .devices
                .iter()
                .map(|n| {
                    decode_compressed(&n.histogram)
                        .map(|h| (n.id.clone(), h))
                        .map_err(|e| format!("device {:?}: {e}", n.id))
                })
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_sim::metrics::record_latency;

    #[test]
    fn compressed_form_round_trips_and_is_the_standard_one() {
        let mut h = new_latency_histogram();
        for v in [1, 700, 12_345, 12_345, 59_000_000] {
            record_latency(&mut h, v);
        }
        let text = encode_compressed(&h);
        assert!(text.starts_with("HISTFAA"), "{text}");
        let back = decode_compressed(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), 5);
        assert!(decode_compressed("HISTFAAA").is_err());
        assert!(decode_compressed("not base64!").is_err());
    }
}
