//! The two time spellings CloudTrail records use.

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

/// Epoch seconds as [`iso_seconds`]; out-of-range values yield the epoch.
pub fn iso_epoch(seconds: i64) -> String {
    iso_seconds(OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH))
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
        assert_eq!(iso_epoch(0), "1970-01-01T00:00:00Z");
        for at in [
            at,
            datetime!(0999-01-02 03:04:05.999 UTC),
            datetime!(2024-02-29 23:59:59 UTC),
        ] {
            assert_eq!(IsoSeconds(at).to_string(), iso_seconds(at));
        }
    }
}
