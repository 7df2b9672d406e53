//! The ISO-8601 "basic format" timestamps SigV4 uses (`20150830T123600Z`), to and from Unix
//! seconds. Hand-rolled because it is one fixed format and runs on every request.

/// Parses `YYYYMMDDTHHMMSSZ` (UTC) into Unix seconds. `None` for anything else.
pub(crate) fn parse(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        b[range].iter().try_fold(0u64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_len = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    // Dates before the epoch cannot be "now" for any request we accept.
    if year < 1970 || day == 0 || day > month_len || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Formats Unix seconds as `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format(epoch_secs: u64) -> String {
    let (year, month, day) = civil_from_days(epoch_secs / 86_400);
    let secs = epoch_secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

// Howard Hinnant's civil-calendar algorithms, restricted to dates from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse("19700101T000000Z"), Some(0));
        assert_eq!(parse("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse("20240229T235959Z"), Some(1_709_251_199));
        assert_eq!(format(1_440_938_160), "20150830T123600Z");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015083OT123600Z",
            "20150230T000000Z",
            "20230229T000000Z",
            "20151301T000000Z",
            "20150830T240000Z",
            "20150830T236000Z",
            "19691231T235959Z",
            "+0150830T123600Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_every_day_for_centuries() {
        let mut t = 0;
        while t < 13_000_000_000 {
            assert_eq!(parse(&format(t)), Some(t));
            t += 86_400 * 7 + 3_661;
        }
    }
}
