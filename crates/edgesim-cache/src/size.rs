//! Byte sizes as people write them: `128MiB`, `1.5GB`, `4096`.
//!
//! Units are case-insensitive: `B`; `KB`, `MB`, `GB`, `TB` (powers of 1000);
//! `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024). A number without a unit is in
//! bytes. A fraction is accepted when the result is a whole number of bytes.

use std::fmt;

/// Why a size string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Nothing but whitespace.
    #[error("empty size; expected a number of bytes such as 4096 or 128MiB")]
    Empty,
    /// The numeric part is missing or malformed.
    #[error(
        "invalid size {input:?}: expected a number followed by an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
    )]
    InvalidNumber {
        /// The text that was given.
        input: String,
    },
    /// The unit is not one of the supported ones.
    #[error(
        "invalid size {input:?}: unknown unit {unit:?}; valid units are B, KB, MB, GB, TB (1000-based) and KiB, MiB, GiB, TiB (1024-based)"
    )]
    UnknownUnit {
        /// The text that was given.
        input: String,
        /// The unrecognised unit.
        unit: String,
    },
    /// The value does not fit in 64 bits.
    #[error("invalid size {input:?}: larger than {max} bytes", max = u64::MAX)]
    Overflow {
        /// The text that was given.
        input: String,
    },
    /// The value is not a whole number of bytes.
    #[error("invalid size {input:?}: not a whole number of bytes")]
    Fractional {
        /// The text that was given.
        input: String,
    },
}

/// The multiplier for a unit, or `None` if the unit is unknown.
fn unit_multiplier(unit: &str) -> Option<u64> {
    let multiplier = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return None,
    };
    Some(multiplier)
}

/// Parses a byte size such as `128MiB`, `10 GB`, `1.5KiB` or `4096`.
///
/// ```
/// use edgesim_cache::size::parse_bytes;
/// assert_eq!(parse_bytes("128MiB"), Ok(128 << 20));
/// assert_eq!(parse_bytes("2KB"), Ok(2000));
/// assert!(parse_bytes("12XB").is_err());
/// ```
pub fn parse_bytes(text: &str) -> Result<u64, SizeError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(SizeError::Empty);
    }
    let number_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(number_end);
    let unit = unit.trim_start();
    let invalid_number = || SizeError::InvalidNumber {
        input: text.to_owned(),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let whole: String = whole.chars().filter(|&c| c != '_').collect();
    let fraction: String = fraction.chars().filter(|&c| c != '_').collect();
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(invalid_number());
    }
    let multiplier = unit_multiplier(unit).ok_or_else(|| SizeError::UnknownUnit {
        input: text.to_owned(),
        unit: unit.to_owned(),
    })?;
    let overflow = || SizeError::Overflow {
        input: text.to_owned(),
    };
    // Exact arithmetic: value = (whole * 10^k + fraction) * multiplier / 10^k.
    let digits = format!("{whole}{fraction}");
    let scaled: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse::<u128>().map_err(|_| overflow())?
    };
    let denominator = 10u128
        .checked_pow(u32::try_from(fraction.len()).map_err(|_| overflow())?)
        .ok_or_else(overflow)?;
    let numerator = scaled
        .checked_mul(u128::from(multiplier))
        .ok_or_else(overflow)?;
    if !numerator.is_multiple_of(denominator) {
        return Err(SizeError::Fractional {
            input: text.to_owned(),
        });
    }
    u64::try_from(numerator / denominator).map_err(|_| overflow())
}

/// Formats a byte count with the largest binary unit that divides it exactly
/// (`134217728` -> `128MiB`), or in decimal units when those divide it exactly
/// (`2000000` -> `2MB`), else in bytes (`1234B`).
pub fn format_bytes(bytes: u64) -> String {
    ByteSize(bytes).to_string()
}

/// A byte count that displays as [`format_bytes`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 8] = [
            (1 << 40, "TiB"),
            (1_000_000_000_000, "TB"),
            (1 << 30, "GiB"),
            (1_000_000_000, "GB"),
            (1 << 20, "MiB"),
            (1_000_000, "MB"),
            (1 << 10, "KiB"),
            (1_000, "KB"),
        ];
        let bytes = self.0;
        if bytes > 0 {
            for (multiplier, unit) in UNITS {
                if bytes.is_multiple_of(multiplier) {
                    return write!(f, "{}{unit}", bytes / multiplier);
                }
            }
        }
        write!(f, "{bytes}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_integers_are_bytes() {
        assert_eq!(parse_bytes("0"), Ok(0));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes(" 1_000 "), Ok(1000));
        assert_eq!(parse_bytes("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn decimal_and_binary_units() {
        assert_eq!(parse_bytes("1B"), Ok(1));
        assert_eq!(parse_bytes("1KB"), Ok(1_000));
        assert_eq!(parse_bytes("1MB"), Ok(1_000_000));
        assert_eq!(parse_bytes("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("1TB"), Ok(1_000_000_000_000));
        assert_eq!(parse_bytes("1KiB"), Ok(1 << 10));
        assert_eq!(parse_bytes("128MiB"), Ok(128 << 20));
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("1TiB"), Ok(1 << 40));
        assert_eq!(parse_bytes("10 mib"), Ok(10 << 20));
        assert_eq!(parse_bytes("1.5KiB"), Ok(1536));
        assert_eq!(parse_bytes("0.5GB"), Ok(500_000_000));
    }

    #[test]
    fn rejects_unknown_units_with_a_clear_message() {
        let error = parse_bytes("12XB").unwrap_err();
        assert_eq!(
            error,
            SizeError::UnknownUnit {
                input: "12XB".into(),
                unit: "XB".into()
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("\"12XB\"") && message.contains("MiB"),
            "{message}"
        );
        assert!(matches!(
            parse_bytes("12K"),
            Err(SizeError::UnknownUnit { .. })
        ));
    }

    #[test]
    fn rejects_malformed_numbers() {
        assert_eq!(parse_bytes("  "), Err(SizeError::Empty));
        assert!(matches!(
            parse_bytes("MiB"),
            Err(SizeError::InvalidNumber { .. })
        ));
        assert!(matches!(
            parse_bytes("1.2.3MB"),
            Err(SizeError::InvalidNumber { .. })
        ));
        assert!(matches!(
            parse_bytes("-5"),
            Err(SizeError::InvalidNumber { .. })
        ));
        assert!(matches!(
            parse_bytes("1.3B"),
            Err(SizeError::Fractional { .. })
        ));
        assert!(matches!(
            parse_bytes("16EiB"),
            Err(SizeError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_bytes("20000000TiB"),
            Err(SizeError::Overflow { .. })
        ));
        assert!(matches!(
            parse_bytes("18446744073709551616"),
            Err(SizeError::Overflow { .. })
        ));
    }

    #[test]
    fn formats_with_exact_units() {
        assert_eq!(format_bytes(128 << 20), "128MiB");
        assert_eq!(format_bytes(2_000_000), "2MB");
        assert_eq!(format_bytes(1536), "1536B");
        assert_eq!(format_bytes(0), "0B");
        assert_eq!(format_bytes(3 << 30), "3GiB");
        for bytes in [1, 1000, 1024, 1536, 128 << 20, 5_000_000_000] {
            assert_eq!(parse_bytes(&format_bytes(bytes)), Ok(bytes));
        }
    }
}
