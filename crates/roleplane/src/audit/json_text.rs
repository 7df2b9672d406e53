//! Compact JSON written straight into one `String`: a record is built on every API call, and a
//! `serde_json::Value` tree would cost an allocation per key and value before being printed
//! anyway. Keys are the record's own constants; values are escaped as JSON requires.

/// An object being written; fields follow each other in call order.
pub struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    /// Opens an object at the end of `out`. Close it with [`Object::end`].
    pub fn open(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, empty: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        self.out.push_str(if self.empty { "\"" } else { ",\"" });
        self.empty = false;
        self.out.push_str(key);
        self.out.push_str("\":");
        self.out
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        let out = self.key(key);
        push_str(out, value);
        self
    }

    /// A string field made of `parts` joined, without building the string first.
    pub fn concat(&mut self, key: &str, parts: &[&str]) -> &mut Self {
        let out = self.key(key);
        out.push('"');
        for part in parts {
            push_escaped(out, part);
        }
        out.push('"');
        self
    }

    /// A string field written by `write` (already escaped-safe text such as numbers and
    /// addresses).
    pub fn display(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write as _;
        let out = self.key(key);
        out.push('"');
        let _ = write!(out, "{value}");
        out.push('"');
        self
    }

    /// A string field whose text `write` appends: text that never needs escaping (times,
    /// addresses), written in place rather than formatted into a `String` first.
    pub fn plain(&mut self, key: &str, write: impl FnOnce(&mut String)) -> &mut Self {
        let out = self.key(key);
        out.push('"');
        write(out);
        out.push('"');
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let out = self.key(key);
        out.push_str(if value { "true" } else { "false" });
        self
    }

    /// A field whose value is already JSON text.
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key).push_str(json);
        self
    }

    pub fn object(&mut self, key: &str, fill: impl FnOnce(&mut Object<'_>)) -> &mut Self {
        let out = self.key(key);
        let mut inner = Object::open(out);
        fill(&mut inner);
        inner.end();
        self
    }

    pub fn end(self) {
        self.out.push('}');
    }
}

/// `value` as a JSON string literal.
pub fn push_str(out: &mut String, value: &str) {
    out.push('"');
    push_escaped(out, value);
    out.push('"');
}

/// `value`'s characters as they appear inside a JSON string literal, escaped the way
/// `serde_json` escapes them, so records read the same whichever wrote them.
pub fn push_escaped(out: &mut String, value: &str) {
    let bytes = value.as_bytes();
    let mut start = 0;
    // Ids, ARNs and names never need an escape: one scan, one copy.
    while let Some(offset) = first_escape(&bytes[start..]) {
        let at = start + offset;
        out.push_str(&value[start..at]);
        push_escape(out, bytes[at]);
        start = at + 1;
    }
    out.push_str(&value[start..]);
}

const BLOCK: usize = 16;

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether a block holds a byte to escape, tested without an early exit so the compiler
/// tests all 16 at once.
fn block_needs_escape(block: &[u8; BLOCK]) -> bool {
    block
        .iter()
        .fold(false, |any, &byte| any | needs_escape(byte))
}

/// Where the first byte JSON must escape is, block by block; the short tail (most values are
/// shorter than a block) is padded with spaces to one.
fn first_escape(bytes: &[u8]) -> Option<usize> {
    let (blocks, tail) = bytes.as_chunks::<BLOCK>();
    let position = |part: &[u8]| part.iter().position(|&byte| needs_escape(byte));
    for (i, block) in blocks.iter().enumerate() {
        if block_needs_escape(block) {
            return position(block).map(|at| i * BLOCK + at);
        }
    }
    let mut padded = [b' '; BLOCK];
    padded[..tail.len()].copy_from_slice(tail);
    if !block_needs_escape(&padded) {
        return None;
    }
    position(tail).map(|at| blocks.len() * BLOCK + at)
}

/// The escape of one byte that [`first_escape`] found.
fn push_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        _ => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
            return;
        }
    };
    out.push_str(short);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn strings_escape_as_serde_json_does() {
        let nasty = "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}j\u{7f}k€😀</script>";
        let mut out = String::new();
        push_str(&mut out, nasty);
        assert_eq!(out, Value::from(nasty).to_string());
    }

    #[test]
    fn escapes_are_found_at_every_place_in_and_around_a_block() {
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 40] {
            for at in 0..len {
                for special in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
                    let mut text: String =
                        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"[..len].into();
                    text.replace_range(at..=at, &special.to_string());
                    let mut out = String::new();
                    push_str(&mut out, &text);
                    assert_eq!(out, Value::from(text.as_str()).to_string(), "{len} {at}");
                }
            }
        }
        let clean = "arn:aws:iam::123456789012:role/some/long/path/name";
        let mut out = String::new();
        push_str(&mut out, clean);
        assert_eq!(out, format!("\"{clean}\""));
    }

    #[test]
    fn objects_nest_in_call_order() {
        let mut out = String::new();
        let mut o = Object::open(&mut out);
        o.str("b", "x\"y")
            .bool("a", true)
            .raw("r", "null")
            .concat("c", &["p", "\"q"])
            .display("ip", std::net::Ipv4Addr::LOCALHOST)
            .plain("at", |out| out.push_str("2019-12-10T07:46:42Z"))
            .object("o", |inner| {
                inner.str("k", "v");
            })
            .object("e", |_| {});
        o.end();
        assert_eq!(
            out,
            json!({"b": "x\"y", "a": true, "r": null, "c": "p\"q", "ip": "127.0.0.1",
                   "at": "2019-12-10T07:46:42Z",
                   "o": {"k": "v"}, "e": {}})
            .to_string()
        );
    }
}
