//! Date* operators. Values are W3C ISO 8601 dates/times or epoch seconds,
//! compared as nanoseconds since the epoch.

use time::{Date, Month};

/// Nanoseconds since 1970-01-01T00:00:00Z.
pub type Instant = i128;

const NANOS: i128 = 1_000_000_000;

/// Reads `2020-01-31`, `2020-01-31T12:00Z`, `2020-01-31T12:00:00.5+02:00`, or epoch seconds.
pub fn parse(text: &str) -> Option<Instant> {
    let text = text.trim();
    if text.contains(['-', 'T', 't']) && !text.starts_with('-') {
        parse_iso(text)
    } else {
        parse_epoch(text)
    }
}

fn parse_epoch(text: &str) -> Option<Instant> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 18 {
        return None;
    }
    let mut nanos = whole.parse::<i128>().ok()? * NANOS + fraction_nanos(fraction)?;
    if negative {
        nanos = -nanos;
    }
    Some(nanos)
}

fn fraction_nanos(fraction: &str) -> Option<i128> {
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(9)
        .collect();
    digits.parse().ok()
}

fn parse_iso(text: &str) -> Option<Instant> {
    let (date, time) = match text.find(['T', 't']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year: i32 = number(parts.next()?, 4)?;
    let month: u8 = parts.next().map_or(Some(1), |m| number(m, 2))?;
    let day: u8 = parts.next().map_or(Some(1), |d| number(d, 2))?;
    if parts.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let days = i128::from(date.to_julian_day() - 2_440_588);
    let seconds = match time {
        None => 0,
        Some(time) => parse_time(time)?,
    };
    Some(days * 86_400 * NANOS + seconds)
}

/// `hh:mm[:ss[.fff]]` with `Z`, `±hh:mm`, `±hhmm` or no zone (UTC); in nanoseconds.
fn parse_time(text: &str) -> Option<i128> {
    let (clock, offset) = if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(i) = text.rfind(['+', '-']) {
        let sign = if text.as_bytes()[i] == b'-' { -1 } else { 1 };
        let zone = text[i + 1..].replace(':', "");
        if zone.len() != 4 && zone.len() != 2 {
            return None;
        }
        let hours: i128 = number(&zone[..2], 2)?;
        let minutes: i128 = if zone.len() == 4 {
            number(&zone[2..], 2)?
        } else {
            0
        };
        (&text[..i], sign * (hours * 3600 + minutes * 60))
    } else {
        (text, 0)
    };
    let mut parts = clock.split(':');
    let hours: i128 = number(parts.next()?, 2)?;
    let minutes: i128 = number(parts.next()?, 2)?;
    let (seconds, fraction) = match parts.next() {
        Some(s) => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            (number::<i128>(whole, 2)?, fraction_nanos(fraction)?)
        }
        None => (0, 0),
    };
    if parts.next().is_some() || hours > 24 || minutes > 59 || seconds > 60 {
        return None;
    }
    Some(((hours * 3600 + minutes * 60 + seconds) - offset) * NANOS + fraction)
}

fn number<T: std::str::FromStr>(text: &str, len: usize) -> Option<T> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Whether IAM's legacy parser takes `text` as a Date condition value when a policy is written.
/// It is looser than the evaluation's reading ([`parse`]): a bare year with an empty time
/// (`01T`), one-digit hours, a negative year (`-292275054`), a two-digit `+hh` zone. The rules
/// are those AWS's recorded answers show (LocalStack's AWS-validated policy corpus,
/// `test_iam_policies.py` cases valid-30..37 and invalid-64..75): a value with `t` or `-` is a
/// date-time whose fields are range-checked, anything else epoch seconds in `0..=i64::MAX`.
pub fn legacy_accepts(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    if text.contains(['t', '-']) {
        legacy_date_time(&text).is_some()
    } else {
        integer(&text).is_some_and(|n| n >= 0)
    }
}

fn legacy_date_time(text: &str) -> Option<()> {
    let (date, time) = text.split_once('t').unwrap_or((text, ""));
    let (negative, date) = match date.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, date),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let year = integer(parts[0])?;
    let year = if negative { -year } else { year };
    in_range(year, -292_275_054, 292_278_993)?;
    if let Some(month) = parts.get(1) {
        in_range(integer(month)?, 1, 12)?;
    }
    if let Some(day) = parts.get(2) {
        in_range(integer(day)?, 1, 31)?;
    }
    if parts.len() > 3 {
        return None;
    }
    let fields: Vec<&str> = time.split(':').collect();
    if !fields[0].is_empty() {
        in_range(integer(fields[0])?, 0, 23)?;
    }
    if let Some(minutes) = fields.get(1) {
        in_range(integer(minutes)?, 0, 59)?;
    }
    // Only the third field counts: a zone's `:mm` is a fourth one.
    let Some(&rest) = fields.get(2) else {
        return Some(());
    };
    let seconds = if let Some((seconds, after)) = rest.split_once('z') {
        if !after.is_empty() {
            return None;
        }
        seconds
    } else if let Some((seconds, zone_hours)) = rest.split_once('+') {
        if zone_hours.len() != 2 {
            return None;
        }
        in_range(integer(zone_hours)?, 0, 23)?;
        seconds
    } else {
        rest
    };
    let (whole, fraction) = match seconds.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (seconds, None),
    };
    in_range(integer(whole)?, 0, 59)?;
    if let Some(fraction) = fraction {
        in_range(integer(fraction)?, 0, 999_999_999)?;
    }
    Some(())
}

/// An optionally signed decimal integer that fits in an `i64`.
fn integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn in_range(n: i64, low: i64, high: i64) -> Option<()> {
    (low..=high).contains(&n).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates() {
        let s = |secs: i128| Some(secs * NANOS);
        let cases: &[(&str, Option<Instant>)] = &[
            ("0", s(0)),
            ("1700000000", s(1_700_000_000)),
            ("1.5", Some(1_500_000_000)),
            ("-86400", s(-86_400)),
            ("1970-01-02", s(86_400)),
            ("2023-11-14T22:13:20Z", s(1_700_000_000)),
            (
                "2023-11-14T22:13:20.250Z",
                Some(1_700_000_000 * NANOS + 250_000_000),
            ),
            ("2023-11-15T00:13:20+02:00", s(1_700_000_000)),
            ("2023-11-14T20:13:20-0200", s(1_700_000_000)),
            ("2023-11-14T22:13Z", s(1_699_999_980)),
            ("2023-11-14T22:13:20", s(1_700_000_000)),
            ("2023-13-01", None),
            ("2023-02-30", None),
            ("yesterday", None),
            ("2023-11-14T25:00:00Z", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), *expected, "{text}");
        }
    }

    #[test]
    fn legacy_parser_acceptance() {
        // AWS's recorded answers (LocalStack's AWS-validated corpus, test_iam_policies.py).
        let accepted = [
            "01T",
            "2019-07-01T13:20:15Z",
            "2016-12-13T21:20:37.593194+00:00",
            "2016-12-13t2:00:00.593194+23",
            "-292275054",
            "2017-07-01T00:00:00Z",
            "1700000000",
        ];
        let refused = [
            "sdfdsf",
            "234-13",
            "2016-12-13t2:00:00.593194+1",
            "2016-12-13t2:00:00.1999999999+10:59",
            "9223372036854775808",
            "",
            "-292275055",
        ];
        for text in accepted {
            assert!(legacy_accepts(text), "{text} should be accepted");
        }
        for text in refused {
            assert!(!legacy_accepts(text), "{text} should be refused");
        }
    }
}
