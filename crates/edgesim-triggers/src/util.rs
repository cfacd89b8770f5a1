//! Small deterministic helpers: hashing, fractions, base64.

/// SplitMix64's finalizer: a fast, well-mixed bijection on u64.
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a over bytes, finished with [`mix64`]: a stable hash independent of Rust's hasher seeds.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix64(h)
}

/// Map a u64 to a fraction in [0, 1) using its top 53 bits.
pub fn unit_fraction(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode standard base64 (padding optional, ASCII whitespace ignored); `None` when malformed.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits must be a valid partial quantum (2 or 4 bits of zero-ish padding), not 6.
    if bits >= 6 || padding > 2 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_rejects_garbage() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let enc = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&enc).unwrap(), s.as_bytes(), "{enc}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert!(base64_decode("not base64!").is_none());
        assert!(base64_decode("Zm9=v").is_none());
        assert!(base64_decode("Z").is_none());
    }

    #[test]
    fn unit_fraction_is_in_range() {
        assert_eq!(unit_fraction(0), 0.0);
        assert!(unit_fraction(u64::MAX) < 1.0);
    }
}

/// Keep one `'static` copy of each distinct string a trigger configuration uses, so that
/// per-request headers and URIs can refer to it without allocating.
///
/// Bounded by the distinct strings in the configurations compiled by this process.
pub fn intern(text: &str) -> &'static str {
    use std::collections::BTreeSet;
    use std::sync::{Mutex, OnceLock};
    static STRINGS: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut set = STRINGS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(existing) = set.get(text) {
        return existing;
    }
    let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Match a CloudFront path pattern (`*` any run of characters, `?` exactly one) against `path`.
///
/// Returns the text the first `*` matched (empty when the pattern has none), or `None`.
pub fn glob_match<'p>(pattern: &str, path: &'p str) -> Option<&'p str> {
    fn go(p: &[u8], t: &[u8], ti: usize, capture: &mut Option<(usize, usize)>) -> bool {
        match p.first() {
            None => ti == t.len(),
            Some(b'*') => {
                for end in (ti..=t.len()).rev() {
                    let saved = *capture;
                    if capture.is_none() {
                        *capture = Some((ti, end));
                    }
                    if go(&p[1..], t, end, capture) {
                        return true;
                    }
                    *capture = saved;
                }
                false
            }
            Some(b'?') => ti < t.len() && go(&p[1..], t, ti + 1, capture),
            Some(&c) => ti < t.len() && t[ti] == c && go(&p[1..], t, ti + 1, capture),
        }
    }
    let mut capture = None;
    if go(pattern.as_bytes(), path.as_bytes(), 0, &mut capture) {
        Some(capture.map_or("", |(a, b)| &path[a..b]))
    } else {
        None
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn glob_captures_the_first_star() {
        assert_eq!(glob_match("/old/*", "/old/a/b.html"), Some("a/b.html"));
        assert_eq!(glob_match("/old/*", "/new/a"), None);
        assert_eq!(glob_match("*.jpg", "/x/y.jpg"), Some("/x/y"));
        assert_eq!(glob_match("/a?c", "/abc"), Some(""));
        assert_eq!(glob_match("/a?c", "/ac"), None);
    }

    #[test]
    fn intern_returns_the_same_pointer() {
        let a = intern("max-age=63072000; includeSubdomains; preload");
        let b = intern(&String::from(
            "max-age=63072000; includeSubdomains; preload",
        ));
        assert!(std::ptr::eq(a, b));
    }
}
