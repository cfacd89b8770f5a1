//! Small deterministic helpers: hashing, fractions, base64.

pub use edgesim_hash::{hash_bytes, mix64};

/// Map a u64 to a fraction in [0, 1) using its top 53 bits.
pub fn unit_fraction(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decode base64 as leniently as Node's `Buffer.from(text, "base64")`
/// within reason: padding optional, ASCII whitespace ignored, the URL-safe
/// `-` and `_` read as `+` and `/`, stray bits after the last byte
/// ignored; `None` when malformed (a bad character, misplaced padding, a
/// length no padding can make whole).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let cleaned: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => b,
        })
        .collect();
    LENIENT.decode(cleaned).ok()
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
        // Lenient where Node is: no padding, whitespace, URL-safe letters.
        assert_eq!(base64_decode("Zm9vYg").unwrap(), b"foob");
        assert_eq!(base64_decode("Zm9v\nYmFy").unwrap(), b"foobar");
        assert_eq!(
            base64_decode("-_8=").unwrap(),
            base64_decode("+/8=").unwrap()
        );
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

/// Whether `path` matches a CloudFront path pattern (`*` any run of
/// characters, `?` exactly one). Iterative, backtracking only to the last
/// star: O(pattern x path) at worst, never exponential.
pub fn glob_matches(pattern: &[u8], path: &[u8]) -> bool {
    let (mut p, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while s < path.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == path[s]) {
            p += 1;
            s += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, s));
            p += 1;
        } else if let Some((sp, ss)) = star {
            p = sp + 1;
            s = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Match a CloudFront path pattern (`*` any run of characters, `?` exactly one) against `path`.
///
/// Returns the text the first `*` matched, as long as it can be (empty when
/// the pattern has none), or `None`. Polynomial: each end of the first
/// star, longest first, is checked with [`glob_matches`].
pub fn glob_match<'p>(pattern: &str, path: &'p str) -> Option<&'p str> {
    let (p, t) = (pattern.as_bytes(), path.as_bytes());
    let Some(star) = p.iter().position(|&c| c == b'*') else {
        return glob_matches(p, t).then_some("");
    };
    let (head, rest) = (&p[..star], &p[star + 1..]);
    if t.len() < head.len() || !head.iter().zip(t).all(|(&pc, &tc)| pc == b'?' || pc == tc) {
        return None;
    }
    let start = head.len();
    (start..=t.len())
        .rev()
        .find(|&end| glob_matches(rest, &t[end..]))
        .map(|end| &path[start..end])
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
        // The first star takes as much as it can.
        assert_eq!(glob_match("/*/*", "/a/b/c"), Some("a/b"));
        assert_eq!(glob_match("/*", "/"), Some(""));
        assert_eq!(glob_match("/x*", "/"), None);
    }

    #[test]
    fn many_stars_match_in_polynomial_time() {
        // Exponential backtracking would not finish this.
        let pattern = format!("{}b", "*a".repeat(30));
        let path = "a".repeat(300);
        assert!(!glob_matches(pattern.as_bytes(), path.as_bytes()));
        assert_eq!(glob_match(&pattern, &path), None);
        assert!(glob_matches(b"*.jpg", b"/x/y.jpg"));
        assert!(glob_matches(b"/a/*/c?", b"/a/b/b/cd"));
        assert!(!glob_matches(b"/a/*/c?", b"/a/b/c"));
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
