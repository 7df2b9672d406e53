//! The canonical request, written straight into a hasher so that verifying a request allocates
//! nothing beyond the sorted query (and nothing at all when the query is empty, as in every
//! awsQuery POST).
//!
//! Rules follow AWS's documentation and, where it is vague, the `aws-sigv4` signer (our test
//! oracle): non-S3 services normalize the path (dot segments, empty segments) and then encode the
//! already-encoded path *again*, so `%3D` on the wire becomes `%253D`.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// Something the canonical request can be written into: a hasher on the hot path, a `Vec<u8>` in
/// tests (to compare with AWS's published canonical requests).
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// What the canonical request is built from, beyond the request itself.
pub(crate) struct Parts<'p> {
    pub method: &'p str,
    pub path: &'p str,
    pub canonical_query: &'p str,
    pub headers: &'p [(&'p str, &'p str)],
    pub signed_headers: &'p str,
    pub payload_hash: &'p str,
}

pub(crate) fn write(parts: &Parts<'_>, out: &mut impl Sink) {
    out.put(parts.method.as_bytes());
    out.put(b"\n");
    write_path(parts.path, out);
    out.put(b"\n");
    out.put(parts.canonical_query.as_bytes());
    out.put(b"\n");
    for name in parts.signed_headers.split(';') {
        out.put(name.as_bytes());
        out.put(b":");
        write_header_values(parts.headers, name, out);
        out.put(b"\n");
    }
    out.put(b"\n");
    out.put(parts.signed_headers.as_bytes());
    out.put(b"\n");
    out.put(parts.payload_hash.as_bytes());
}

/// RFC 3986 unreserved characters: the only bytes SigV4 leaves unencoded.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes `bytes` (uppercase hex), keeping unreserved bytes and, if `keep_slash`, `/`.
fn encode(bytes: &[u8], keep_slash: bool, out: &mut impl Sink) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            continue;
        }
        out.put(&bytes[run_start..i]);
        out.put(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        run_start = i + 1;
    }
    out.put(&bytes[run_start..]);
}

/// The canonical URI: the raw path, normalized as RFC 3986 §5.2.4 plus empty-segment removal
/// (what `aws-sigv4` does for every service but S3), then encoded again.
fn write_path(path: &str, out: &mut impl Sink) {
    if path.is_empty() {
        return out.put(b"/");
    }
    if !(path.contains('.') || path.contains("//")) {
        if !path.starts_with('/') {
            out.put(b"/");
        }
        return encode(path.as_bytes(), true, out);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            kept => segments.push(kept),
        }
    }
    for segment in &segments {
        out.put(b"/");
        encode(segment.as_bytes(), false, out);
    }
    let ends_in_directory = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if segments.is_empty() || ends_in_directory || path == "." || path == ".." {
        out.put(b"/");
    }
}

/// The canonical query string: every `name=value` pair decoded (form rules: `+` is a space),
/// re-encoded with the unreserved set, and sorted by encoded name then value. Empty values are
/// kept; empty pieces (`a=1&&b=2`) are dropped, as `aws-sigv4` does. The presigned
/// `X-Amz-Signature` is left out because it cannot sign itself.
pub(crate) fn query(raw: &str, skip_signature: bool) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    for piece in raw.split('&').filter(|piece| !piece.is_empty()) {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        let name = reencode(name);
        if skip_signature && name == "X-Amz-Signature" {
            continue;
        }
        pairs.push((name, reencode(value)));
    }
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw.len() + 16);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// One query component in canonical form; borrowed when it already is.
fn reencode(component: &str) -> Cow<'_, str> {
    if component.bytes().all(is_unreserved) {
        return Cow::Borrowed(component);
    }
    let mut encoded = Vec::with_capacity(component.len() + 8);
    encode(&decode(component), false, &mut encoded);
    // Only ASCII was written.
    Cow::Owned(encoded.into_iter().map(char::from).collect())
}

/// Form-style percent-decoding: `+` is a space; an invalid escape stays literal.
pub(crate) fn decode(component: &str) -> Cow<'_, [u8]> {
    let bytes = component.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(bytes);
    }
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some((hi, lo)), _) => {
                // Two hex digits fit a byte.
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, other) => out.push(other),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Decodes a query component to text (lossy: signature parameters are ASCII in practice).
pub(crate) fn decode_str(component: &str) -> Cow<'_, str> {
    match decode(component) {
        Cow::Borrowed(_) => Cow::Borrowed(component),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// All values of header `name` (case-insensitive), in request order, each with its ends trimmed
/// of spaces and inner runs of spaces collapsed, joined by `,`.
fn write_header_values(headers: &[(&str, &str)], name: &str, out: &mut impl Sink) {
    let mut first = true;
    for (_, value) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
        if !first {
            out.put(b",");
        }
        first = false;
        for (i, word) in value.split(' ').filter(|w| !w.is_empty()).enumerate() {
            if i > 0 {
                out.put(b" ");
            }
            out.put(word.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str) -> String {
        let mut out = Vec::new();
        write_path(raw, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn paths_are_normalized_then_encoded_again() {
        assert_eq!(path(""), "/");
        assert_eq!(path("/"), "/");
        assert_eq!(path("foo"), "/foo");
        assert_eq!(path("/foo/bar/"), "/foo/bar/");
        assert_eq!(
            path("/test/@connections/JBDvjfGEIAMCERw%3D"),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
        assert_eq!(path("/a//b"), "/a/b");
        assert_eq!(path("/a/./b/../c"), "/a/c");
        assert_eq!(path("/../foo"), "/foo");
        assert_eq!(path("/foo/bar/."), "/foo/bar/");
        assert_eq!(path("/foo/.."), "/");
        assert_eq!(path("./"), "/");
        assert_eq!(path("/ሴ"), "/%E1%88%B4");
        assert_eq!(path("/-_.~"), "/-_.~");
        assert_eq!(path("/a b+c"), "/a%20b%2Bc");
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        assert_eq!(query("", false), "");
        assert_eq!(query("b=2&a=1&a=0", false), "a=0&a=1&b=2");
        assert_eq!(
            query("Param1=value1&Param1=Value2", false),
            "Param1=Value2&Param1=value1"
        );
        assert_eq!(query("flag&x=", false), "flag=&x=");
        assert_eq!(query("a=1&&b=2", false), "a=1&b=2");
        assert_eq!(query("k=a+b%20c%2Bd", false), "k=a%20b%20c%2Bd");
        assert_eq!(query("k=%7e%41", false), "k=~A");
        assert_eq!(query("k=100%", false), "k=100%25");
        assert_eq!(query("k=%zz", false), "k=%25zz");
        assert_eq!(query("%E1%88%B4=x", false), "%E1%88%B4=x");
        // Sorting is on the encoded form: "%20" (space) sorts before "A".
        assert_eq!(query("A=1&+=2", false), "%20=2&A=1");
        assert_eq!(query("X-Amz-Signature=ab&b=1", true), "b=1");
        assert_eq!(
            query("X-Amz-Signature=ab&b=1", false),
            "X-Amz-Signature=ab&b=1"
        );
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let headers = [("My-Header1", "  a   b  "), ("x", "y"), ("my-header1", "c")];
        let mut out = Vec::new();
        write_header_values(&headers, "my-header1", &mut out);
        assert_eq!(out, b"a b,c");
    }
}
