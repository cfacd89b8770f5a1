//! Standard base64 (RFC 4648, `+/`, padded) for histograms.json, by the
//! `base64` crate.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Encodes `bytes`, padded with `=`.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes padded standard base64; the error names the first bad input.
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    use base64::DecodeError;
    if !text.len().is_multiple_of(4) {
        return Err(format!(
            "base64 length {} is not a multiple of 4",
            text.len()
        ));
    }
    STANDARD.decode(text).map_err(|e| match e {
        DecodeError::InvalidByte(at, b'=') => format!("misplaced base64 padding at {at}"),
        DecodeError::InvalidByte(at, c) => {
            format!("invalid base64 character {:?} at {at}", c as char)
        }
        DecodeError::InvalidLastSymbol(at, c) => format!(
            "invalid base64 character {:?} at {at} (bits past the last byte)",
            c as char
        ),
        DecodeError::InvalidLength(n) => format!("base64 length {n} cannot be decoded"),
        DecodeError::InvalidPadding => "misplaced base64 padding".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4648_test_vectors_and_round_trips() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
    }

    #[test]
    fn rejects_malformed_input() {
        assert!(decode("Zm9").unwrap_err().contains("multiple of 4"));
        assert!(decode("Zm9!").unwrap_err().contains("'!' at 3"));
        assert!(decode("Zg==Zm9v").unwrap_err().contains("padding"));
        assert!(decode("Z===").unwrap_err().contains("padding"));
    }
}
