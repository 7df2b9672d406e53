//! A small XML writer for AWS responses: one `String`, escaping on the way in, no DOM.
//!
//! ```
//! # use protocol::XmlWriter;
//! let mut x = XmlWriter::new();
//! x.node("Role", |x| {
//!     x.elem("RoleName", "a<b").opt_elem("Description", None::<&str>);
//!     x.list("Tags", "member", [("k", "v")], |x, (k, v)| { x.elem("Key", k).elem("Value", v); });
//! });
//! assert_eq!(x.as_str(), "<Role><RoleName>a&lt;b</RoleName><Tags><member><Key>k</Key><Value>v</Value></member></Tags></Role>");
//! ```

use std::fmt::{self, Display, Write as _};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::{OffsetDateTime, UtcOffset};

/// Writes elements into one growing `String`. Element names are trusted (they come from our own
/// operation tables); text is always escaped.
#[derive(Debug, Default, Clone)]
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self::with_capacity(512)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        XmlWriter {
            buf: String::with_capacity(capacity),
        }
    }

    /// `<name>`
    pub fn start(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// `<name xmlns="ns">`
    pub fn start_ns(&mut self, name: &str, namespace: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str(" xmlns=\"");
        escape_into(&mut self.buf, namespace);
        self.buf.push_str("\">");
        self
    }

    /// `</name>`
    pub fn end(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// `<name/>`
    pub fn empty(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str("/>");
        self
    }

    /// Escaped text content.
    pub fn text(&mut self, value: impl Display) -> &mut Self {
        // Writing to a String cannot fail.
        let _ = write!(Escaper(&mut self.buf), "{value}");
        self
    }

    /// `<name>value</name>`, the value escaped. `bool` renders as `true`/`false`; wrap
    /// timestamps in [`Iso8601`] and policy documents in [`UrlEncoded`].
    pub fn elem(&mut self, name: &str, value: impl Display) -> &mut Self {
        self.start(name).text(value).end(name)
    }

    /// [`XmlWriter::elem`] when the value is present; nothing otherwise (absent optional members).
    pub fn opt_elem(&mut self, name: &str, value: Option<impl Display>) -> &mut Self {
        if let Some(value) = value {
            self.elem(name, value);
        }
        self
    }

    /// `<name>…</name>` around whatever `body` writes.
    pub fn node(&mut self, name: &str, body: impl FnOnce(&mut Self)) -> &mut Self {
        self.start(name);
        body(self);
        self.end(name)
    }

    /// `<name><item>…</item>…</name>`: awsQuery lists use `member`, EC2 lists `item`.
    /// An empty list is written as `<name></name>`, which clients read as an empty list.
    pub fn list<I: IntoIterator>(
        &mut self,
        name: &str,
        item: &str,
        items: I,
        mut each: impl FnMut(&mut Self, I::Item),
    ) -> &mut Self {
        self.start(name);
        for value in items {
            self.start(item);
            each(self, value);
            self.end(item);
        }
        self.end(name)
    }

    /// IAM's pagination output: `<IsTruncated>` and, when truncated, the `<Marker>` to resume from.
    pub fn truncation(&mut self, next_marker: Option<&str>) -> &mut Self {
        self.elem("IsTruncated", next_marker.is_some())
            .opt_elem("Marker", next_marker)
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything written after byte `len` (used to take back an empty wrapper).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    pub(crate) fn push_raw(&mut self, raw: &str) {
        self.buf.push_str(raw);
    }

    pub fn as_str(&self) -> &str {
        &self.buf
    }

    pub fn into_string(self) -> String {
        self.buf
    }
}

/// Appends `text` escaped for XML content or a quoted attribute.
///
/// `& < > " '` become entities and CR becomes `&#xD;` (a parser would otherwise normalize it to
/// LF). Characters XML 1.0 cannot carry at all, even as references (C0 controls other than TAB,
/// LF, CR; U+FFFE; U+FFFF), become U+FFFD: one stray byte in a description must not make the
/// whole response unparseable for every client.
pub fn escape_into(out: &mut String, text: &str) {
    let mut clean_from = 0;
    for (at, c) in text.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            '\r' => "&#xD;",
            '\t' | '\n' => continue,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => "\u{fffd}",
            _ => continue,
        };
        out.push_str(&text[clean_from..at]);
        out.push_str(replacement);
        clean_from = at + c.len_utf8();
    }
    out.push_str(&text[clean_from..]);
}

/// Adapts `Display` output to escaped XML text without an intermediate `String`.
struct Escaper<'a>(&'a mut String);

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// An instant rendered as ISO 8601 in UTC: `2026-01-01T00:00:00Z`, with milliseconds
/// (`…00.359Z`) only when the instant has a fractional second, as AWS's own examples show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iso8601(pub OffsetDateTime);

impl Display for Iso8601 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.to_offset(UtcOffset::UTC);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let millis = t.millisecond();
        if millis != 0 {
            write!(f, ".{millis:03}")?;
        }
        f.write_str("Z")
    }
}

/// RFC 3986 unreserved characters stay, everything else is percent-encoded: the form in which
/// IAM returns policy documents (`%7B%22Version%22%3A…`).
const POLICY_DOCUMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A policy document rendered URL-encoded, as IAM returns `AssumeRolePolicyDocument`,
/// `PolicyDocument` and `PolicyVersion.Document`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlEncoded<'a>(pub &'a str);

impl Display for UrlEncoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(&utf8_percent_encode(self.0, POLICY_DOCUMENT), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, s);
        out
    }

    #[test]
    fn escapes_markup_and_controls() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            (
                "<a href=\"x\">&'</a>",
                "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;",
            ),
            ("a\tb\nc", "a\tb\nc"),
            ("cr\r\nlf", "cr&#xD;\nlf"),
            (
                "nul\u{0}bel\u{7}esc\u{1b}",
                "nul\u{fffd}bel\u{fffd}esc\u{fffd}",
            ),
            ("\u{fffe}\u{ffff}", "\u{fffd}\u{fffd}"),
            ("日本 ✓ \u{10ffff}", "日本 ✓ \u{10ffff}"),
            ("]]>", "]]&gt;"),
        ];
        for (input, expected) in cases {
            assert_eq!(escaped(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn builder_writes_elements() {
        let mut x = XmlWriter::new();
        x.elem("B", true)
            .elem("N", 42)
            .opt_elem("Skip", None::<&str>)
            .opt_elem("S", Some("s&"));
        x.empty("E").list("L", "item", Vec::<&str>::new(), |x, s| {
            x.text(s);
        });
        x.truncation(Some("m")).truncation(None);
        assert_eq!(
            x.as_str(),
            "<B>true</B><N>42</N><S>s&amp;</S><E/><L></L><IsTruncated>true</IsTruncated><Marker>m</Marker><IsTruncated>false</IsTruncated>"
        );
    }

    #[test]
    fn timestamps_are_utc_iso8601() {
        assert_eq!(
            Iso8601(datetime!(2026-01-01 00:00:00 UTC)).to_string(),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(
            Iso8601(datetime!(2011-07-15 23:28:33.359 UTC)).to_string(),
            "2011-07-15T23:28:33.359Z"
        );
        assert_eq!(
            Iso8601(datetime!(2019-12-16 22:48:18 -1)).to_string(),
            "2019-12-16T23:48:18Z"
        );
    }

    #[test]
    fn policy_documents_are_rfc3986_encoded() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*~_-."}]}"#;
        assert_eq!(
            UrlEncoded(doc).to_string(),
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2F%2A~_-.%22%7D%5D%7D"
        );
        assert_eq!(UrlEncoded("a b\n日").to_string(), "a%20b%0A%E6%97%A5");
    }
}
