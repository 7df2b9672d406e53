//! Byte-level formatting in EC2's styles: timestamps and the `" : "` pretty JSON of IMDS.
//!
//! Everything appends to a caller-owned buffer so a response is built without intermediate
//! strings.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

/// Line length of EC2's base64 bodies (`signature`, `rsa2048`, `pkcs7`), as MIME wraps it.
const BASE64_LINE: usize = 76;

/// Seconds since the Unix epoch, saturating at 0 for earlier times.
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn utc(t: SystemTime) -> OffsetDateTime {
    let secs = i64::try_from(unix_secs(t)).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Standard base64 of `bytes` in lines of 76 characters joined by `\n`, without a line break
/// after the last one: the shape of EC2's signature bodies (AWS's verification steps append the
/// break before the `-----END PKCS7-----` line themselves).
pub fn wrapped_base64(bytes: &[u8]) -> Vec<u8> {
    let encoded = STANDARD.encode(bytes);
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / BASE64_LINE);
    for (i, line) in encoded.as_bytes().chunks(BASE64_LINE).enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(line);
    }
    out
}

/// `2021-09-20T21:42:26Z`, the timestamp form of IMDS JSON documents.
pub fn write_iso8601(out: &mut Vec<u8>, t: SystemTime) {
    let t = utc(t);
    // Digits by hand: `core::fmt` showed up in profiles of the credentials GET.
    push_digits(out, u32::try_from(t.year()).unwrap_or(0), 4);
    out.push(b'-');
    push_digits(out, u32::from(u8::from(t.month())), 2);
    out.push(b'-');
    push_digits(out, u32::from(t.day()), 2);
    out.push(b'T');
    push_clock(out, &t);
    out.push(b'Z');
}

/// `Mon, 20 Sep 2021 21:42:26 GMT`, the HTTP date form (RFC 9110 IMF-fixdate).
pub fn write_http_date(out: &mut Vec<u8>, t: SystemTime) {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = utc(t);
    out.extend_from_slice(DAYS[usize::from(t.weekday().number_days_from_monday())].as_bytes());
    out.extend_from_slice(b", ");
    push_digits(out, u32::from(t.day()), 2);
    out.push(b' ');
    out.extend_from_slice(MONTHS[usize::from(u8::from(t.month()) - 1)].as_bytes());
    out.push(b' ');
    push_digits(out, u32::try_from(t.year()).unwrap_or(0), 4);
    out.push(b' ');
    push_clock(out, &t);
    out.extend_from_slice(b" GMT");
}

/// `HH:MM:SS`.
fn push_clock(out: &mut Vec<u8>, t: &OffsetDateTime) {
    push_digits(out, u32::from(t.hour()), 2);
    out.push(b':');
    push_digits(out, u32::from(t.minute()), 2);
    out.push(b':');
    push_digits(out, u32::from(t.second()), 2);
}

/// `value` as exactly `width` decimal digits (zero-padded; higher digits are dropped, which the
/// callers' ranges never need).
fn push_digits(out: &mut Vec<u8>, mut value: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// A JSON object written the way IMDS writes them: one member per line, two-space indent,
/// `" : "` between key and value, no trailing newline.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    fn key(&mut self, key: &str) {
        self.out
            .extend_from_slice(if self.empty { b"\n  " } else { b",\n  " });
        self.empty = false;
        write_json_string(self.out, key);
        self.out.extend_from_slice(b" : ");
    }

    pub fn string(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        write_json_string(self.out, value);
        self
    }

    pub fn timestamp(mut self, key: &str, value: SystemTime) -> Self {
        self.key(key);
        self.out.push(b'"');
        write_iso8601(self.out, value);
        self.out.push(b'"');
        self
    }

    pub fn null(mut self, key: &str) -> Self {
        self.key(key);
        self.out.extend_from_slice(b"null");
        self
    }

    pub fn finish(self) {
        self.out
            .extend_from_slice(if self.empty { b"}" } else { b"\n}" });
    }
}

fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Copy runs that need no escaping in one go: credential documents are mostly long tokens
    // and keys, and a byte-at-a-time copy was the largest cost of the credentials GET.
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run_start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.extend_from_slice(escaped);
        }
        run_start = i + 1;
    }
    out.extend_from_slice(&bytes[run_start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn timestamps() {
        let mut out = Vec::new();
        write_iso8601(&mut out, at(1_632_174_146)); // 2021-09-20T21:42:26Z
        assert_eq!(out, b"2021-09-20T21:42:26Z");
        out.clear();
        write_http_date(&mut out, at(1_632_174_146));
        assert_eq!(out, b"Mon, 20 Sep 2021 21:42:26 GMT");
        out.clear();
        write_http_date(&mut out, UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!(out, b"Thu, 01 Jan 1970 00:00:00 GMT");
    }

    /// 256 bytes (an RSA-2048 signature) make 344 characters: four full lines and one of 40,
    /// as EC2's `signature` and `rsa2048` bodies break them.
    #[test]
    fn base64_lines_of_76() {
        let text = String::from_utf8(wrapped_base64(&[0xfb; 256])).unwrap();
        let lengths: Vec<usize> = text.split('\n').map(str::len).collect();
        assert_eq!(lengths, [76, 76, 76, 76, 40]);
        assert!(text.starts_with("+/v7"));
        assert_eq!(
            STANDARD.decode(text.replace('\n', "")).unwrap(),
            [0xfb; 256]
        );
        assert_eq!(wrapped_base64(&[0; 57]).len(), 76);
        assert!(wrapped_base64(&[]).is_empty());
    }

    #[test]
    fn json_object_layout_and_escaping() {
        let mut out = Vec::new();
        JsonObject::new(&mut out)
            .string("Code", "Success")
            .null("kernelId")
            .string("Odd", "a\"b\\c\n\u{1}")
            .finish();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"Code\" : \"Success\",\n  \"kernelId\" : null,\n  \"Odd\" : \"a\\\"b\\\\c\\n\\u0001\"\n}"
        );
        let mut out = Vec::new();
        JsonObject::new(&mut out).finish();
        assert_eq!(out, b"{}");
    }

    #[test]
    fn string_escaping_at_run_boundaries() {
        let cases: &[(&str, &str)] = &[
            ("", "\"\""),
            ("plain", "\"plain\""),
            ("\"", "\"\\\"\""),
            ("\"lead", "\"\\\"lead\""),
            ("trail\\", "\"trail\\\\\""),
            ("a\tb\rc", "\"a\\tb\\rc\""),
            ("\u{8}\u{c}\u{1f}", "\"\\u0008\\u000c\\u001f\""),
            ("€ é", "\"€ é\""),
        ];
        for (input, expected) in cases {
            let mut out = Vec::new();
            write_json_string(&mut out, input);
            assert_eq!(String::from_utf8(out).unwrap(), *expected, "{input:?}");
        }
    }

    #[test]
    fn years_and_digits_are_zero_padded() {
        let mut out = Vec::new();
        write_iso8601(&mut out, at(0));
        assert_eq!(out, b"1970-01-01T00:00:00Z");
        out.clear();
        write_iso8601(&mut out, at(253_402_300_799)); // 9999-12-31T23:59:59Z
        assert_eq!(out, b"9999-12-31T23:59:59Z");
    }
}
