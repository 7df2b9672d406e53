//! The two time spellings CloudTrail records use.

use std::cell::Cell;

use time::OffsetDateTime;
use time::macros::format_description;

/// `eventTime`, `creationDate`: `2019-12-10T01:44:26Z`, whole seconds.
pub fn iso_seconds(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// [`iso_seconds`] as a `Display`, to write it into a record without a `String` of its own.
pub struct IsoSeconds(pub OffsetDateTime);

impl std::fmt::Display for IsoSeconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.0.to_offset(time::UtcOffset::UTC);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        )
    }
}

/// `YYYY-MM-DDThh:mm:ssZ`, the only length [`iso_seconds`] has for years 0 to 9999.
const ISO_LEN: usize = 20;

thread_local! {
    /// The second last spelled on this thread and its text: a busy server's records mostly
    /// fall in the second before them.
    static LAST_SECOND: Cell<(i64, [u8; ISO_LEN])> = const { Cell::new((i64::MIN, [0; ISO_LEN])) };
}

/// [`iso_seconds`] of `at`, appended to `out`, for records made now.
pub fn push_event_time(out: &mut String, at: OffsetDateTime) {
    let seconds = at.unix_timestamp();
    let (last, text) = LAST_SECOND.get();
    if last == seconds {
        push_ascii(out, &text);
        return;
    }
    match iso_text(seconds) {
        Some(text) => {
            LAST_SECOND.set((seconds, text));
            push_ascii(out, &text);
        }
        None => out.push_str(&iso_seconds(at)),
    }
}

/// [`iso_seconds`] of epoch seconds, appended to `out`; out-of-range values yield the epoch.
pub fn push_iso_seconds(out: &mut String, seconds: i64) {
    match iso_text(seconds) {
        Some(text) => push_ascii(out, &text),
        None => {
            let at =
                OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            out.push_str(&iso_seconds(at));
        }
    }
}

/// The text of epoch `seconds` in years 0 to 9999, digit by digit; `None` outside them.
fn iso_text(seconds: i64) -> Option<[u8; ISO_LEN]> {
    let at = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    let year = u32::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
    let mut text = *b"0000-00-00T00:00:00Z";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], u32::from(u8::from(at.month())));
    put_digits(&mut text[8..10], u32::from(at.day()));
    put_digits(&mut text[11..13], u32::from(at.hour()));
    put_digits(&mut text[14..16], u32::from(at.minute()));
    put_digits(&mut text[17..19], u32::from(at.second()));
    Some(text)
}

/// `value`'s last `digits.len()` decimal digits, zero-padded.
fn put_digits(digits: &mut [u8], mut value: u32) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn push_ascii(out: &mut String, text: &[u8; ISO_LEN]) {
    // Digits and punctuation only; the fallback never runs.
    out.push_str(std::str::from_utf8(text).unwrap_or_default());
}

/// Credential `expiration` and key `createDate` inside responseElements use Java's
/// `MMM d, yyyy h:mm:ss a` (aws-apis.md §4): `Dec 10, 2019 7:46:42 AM`.
pub fn java_medium(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let format = format_description!(
        "[month repr:short] [day padding:none], [year] [hour repr:12 padding:none]:[minute]:[second] [period]"
    );
    at.format(&format).unwrap_or_default()
}

/// An ISO-8601 timestamp from a response body, respelled as [`java_medium`]; kept as it was
/// if it does not parse.
pub fn java_medium_from_iso(iso: &str) -> String {
    OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .map(java_medium)
        .unwrap_or_else(|_| iso.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn pushed(push: impl FnOnce(&mut String)) -> String {
        let mut out = String::from("x");
        push(&mut out);
        out.split_off(1)
    }

    #[test]
    fn spellings_match_cloudtrail_samples() {
        let at = datetime!(2019-12-10 07:46:42.359 UTC);
        assert_eq!(iso_seconds(at), "2019-12-10T07:46:42Z");
        assert_eq!(java_medium(at), "Dec 10, 2019 7:46:42 AM");
        assert_eq!(
            java_medium(datetime!(2019-01-02 13:05:09 UTC)),
            "Jan 2, 2019 1:05:09 PM"
        );
        assert_eq!(
            java_medium_from_iso("2011-07-15T23:28:33.359Z"),
            "Jul 15, 2011 11:28:33 PM"
        );
        for at in [
            at,
            datetime!(0999-01-02 03:04:05.999 UTC),
            datetime!(2024-02-29 23:59:59 UTC),
        ] {
            assert_eq!(IsoSeconds(at).to_string(), iso_seconds(at));
        }
    }

    #[test]
    fn pushed_spellings_match_the_formatted_one() {
        assert_eq!(
            pushed(|out| push_iso_seconds(out, 0)),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            pushed(|out| push_iso_seconds(out, i64::MAX)),
            "1970-01-01T00:00:00Z",
            "out of range"
        );
        let samples = [
            datetime!(2019-12-10 07:46:42.359 UTC),
            datetime!(0000-01-01 00:00:00 UTC),
            datetime!(0999-01-02 03:04:05.999 UTC),
            datetime!(2024-02-29 23:59:59 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
            datetime!(-0001-12-31 23:59:59 UTC),
        ];
        for at in samples {
            let expected = iso_seconds(at);
            assert_eq!(
                pushed(|out| push_iso_seconds(out, at.unix_timestamp())),
                expected
            );
            // Twice: once spelled, once from this thread's copy of the second.
            assert_eq!(pushed(|out| push_event_time(out, at)), expected);
            assert_eq!(pushed(|out| push_event_time(out, at)), expected);
        }
        let now = OffsetDateTime::now_utc();
        for offset in 0..20_000 {
            let at = now + time::Duration::seconds(offset * 997);
            assert_eq!(pushed(|out| push_event_time(out, at)), iso_seconds(at));
        }
    }
}
