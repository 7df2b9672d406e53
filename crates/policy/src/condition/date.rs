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
}
