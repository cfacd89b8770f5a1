//! Proleptic Gregorian calendar arithmetic (UTC) for log timestamps and HTTP dates.

/// Days since 1970-01-01 of the civil date `year-month-day`
/// (Howard Hinnant's `days_from_civil`). Month and day must be in range.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Number of days in `month` of `year`.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Seconds since the Unix epoch for a validated UTC date and time, or `None`
/// if a component is out of range or the instant is before 1970.
pub(crate) fn unix_seconds(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<u64> {
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        // 60 allows a leap second, which HTTP dates may carry.
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    u64::try_from(seconds).ok()
}

/// Parses `YYYY-MM-DD` and `HH:MM:SS` (as in CloudFront logs) into Unix seconds.
pub(crate) fn parse_iso_date_time(date: &str, time: &str) -> Option<u64> {
    let mut date_parts = date.split('-');
    let year = date_parts.next()?.parse().ok()?;
    let month = date_parts.next()?.parse().ok()?;
    let day = date_parts.next()?.parse().ok()?;
    if date_parts.next().is_some() {
        return None;
    }
    let (hour, minute, second) = parse_clock(time)?;
    unix_seconds(year, month, day, hour, minute, second)
}

/// Parses `HH:MM:SS`.
pub(crate) fn parse_clock(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(':');
    let hour = parts.next()?.parse().ok()?;
    let minute = parts.next()?.parse().ok()?;
    let second = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((hour, minute, second))
}

/// Month number (1-12) of an English three-letter abbreviation.
pub(crate) fn month_from_abbreviation(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|&month| month == lower)
        .map(|index| index as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(unix_seconds(1994, 11, 6, 8, 49, 37), Some(784_111_777));
        assert_eq!(unix_seconds(2000, 2, 29, 0, 0, 0), Some(951_782_400));
        assert_eq!(unix_seconds(2019, 2, 29, 0, 0, 0), None);
        assert_eq!(unix_seconds(1969, 12, 31, 23, 59, 59), None);
        assert_eq!(
            parse_iso_date_time("2019-12-04", "21:02:31"),
            Some(1_575_493_351)
        );
        assert_eq!(parse_iso_date_time("2019-13-04", "21:02:31"), None);
        assert_eq!(parse_iso_date_time("2019-12-04", "24:00:00"), None);
        assert_eq!(month_from_abbreviation("Nov"), Some(11));
        assert_eq!(month_from_abbreviation("Foo"), None);
    }
}
