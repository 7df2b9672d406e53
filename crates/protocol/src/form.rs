//! Strict `application/x-www-form-urlencoded` decoding.
//!
//! `form_urlencoded` is deliberately lenient (a stray `%` passes through, invalid UTF-8 is replaced
//! with U+FFFD). A server that authorizes what it decodes must not guess, so this decoder rejects
//! both instead of silently changing the request the client signed.

use crate::error::DecodeError;

/// Decodes a form body (or a query string) into `(name, value)` pairs, in wire order.
///
/// `limit` is the largest body accepted, in bytes; it is checked before any work is done.
/// `+` decodes to a space; empty segments (`a=1&&b=2`, a trailing `&`) are skipped;
/// a segment without `=` is a name with an empty value.
pub fn decode_form(input: &[u8], limit: usize) -> Result<Vec<(String, String)>, DecodeError> {
    if input.len() > limit {
        return Err(DecodeError::BodyTooLarge { limit });
    }
    let mut pairs = Vec::with_capacity(input.iter().filter(|&&b| b == b'&').count() + 1);
    for segment in input.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let (name, value) = match segment.iter().position(|&b| b == b'=') {
            Some(eq) => (&segment[..eq], &segment[eq + 1..]),
            None => (segment, &segment[segment.len()..]),
        };
        let name = decode_component(name)?;
        if name.is_empty() {
            return Err(DecodeError::EmptyName);
        }
        pairs.push((name, decode_component(value)?));
    }
    Ok(pairs)
}

/// Percent-decodes one name or value: `+` is a space, `%XX` needs two hex digits, and the
/// result must be UTF-8.
fn decode_component(raw: &[u8]) -> Result<String, DecodeError> {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::InvalidUtf8);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_value);
                let lo = raw.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(DecodeError::BadPercentEncoding),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| DecodeError::InvalidUtf8)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Vec<(String, String)> {
        decode_form(input.as_bytes(), 1 << 20).expect("decodes")
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn decodes_well_formed_input() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("Action=GetRole", &[("Action", "GetRole")]),
            ("a=1&&b=2&", &[("a", "1"), ("b", "2")]),
            ("flag", &[("flag", "")]),
            ("a=", &[("a", "")]),
            ("a=x+y%20z", &[("a", "x y z")]),
            ("a=%2B%2b", &[("a", "++")]),
            ("a=b=c", &[("a", "b=c")]),
            (
                "Tags.member.1.Key=%E6%97%A5",
                &[("Tags.member.1.Key", "日")],
            ),
            ("k=%7B%22Version%22%3A1%7D", &[("k", "{\"Version\":1}")]),
            ("raw=caf\u{e9}", &[("raw", "caf\u{e9}")]),
            ("dup=1&dup=2", &[("dup", "1"), ("dup", "2")]),
        ];
        for (input, expected) in cases {
            assert_eq!(ok(input), pairs(expected), "input {input:?}");
        }
    }

    #[test]
    fn rejects_malformed_input() {
        let cases: &[(&[u8], DecodeError)] = &[
            (b"a=%", DecodeError::BadPercentEncoding),
            (b"a=%4", DecodeError::BadPercentEncoding),
            (b"a=%zz", DecodeError::BadPercentEncoding),
            (b"a%=1", DecodeError::BadPercentEncoding),
            (b"a=%FF", DecodeError::InvalidUtf8),
            (b"a=%C3%28", DecodeError::InvalidUtf8),
            (b"a=\xff", DecodeError::InvalidUtf8),
            (b"=value", DecodeError::EmptyName),
        ];
        for (input, expected) in cases {
            assert_eq!(
                decode_form(input, 1024).as_ref(),
                Err(expected),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn enforces_the_size_limit_before_decoding() {
        assert_eq!(decode_form(b"a=1", 3).map(|p| p.len()), Ok(1));
        assert_eq!(
            decode_form(b"a=12", 3),
            Err(DecodeError::BodyTooLarge { limit: 3 })
        );
    }
}
