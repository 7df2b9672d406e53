//! Compact JSON written straight into one `String`: a record is built on every API call, and a
//! `serde_json::Value` tree would cost an allocation per key and value before being printed
//! anyway. Keys are the record's own constants; values are escaped as JSON requires.

use std::fmt::Write as _;

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
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.out.push('"');
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
        let out = self.key(key);
        out.push('"');
        let _ = write!(out, "{value}");
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
fn push_escaped(out: &mut String, value: &str) {
    let mut start = 0;
    for (i, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&value[start..]);
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
    fn objects_nest_in_call_order() {
        let mut out = String::new();
        let mut o = Object::open(&mut out);
        o.str("b", "x\"y")
            .bool("a", true)
            .raw("r", "null")
            .concat("c", &["p", "\"q"])
            .display("ip", std::net::Ipv4Addr::LOCALHOST)
            .object("o", |inner| {
                inner.str("k", "v");
            })
            .object("e", |_| {});
        o.end();
        assert_eq!(
            out,
            json!({"b": "x\"y", "a": true, "r": null, "c": "p\"q", "ip": "127.0.0.1",
                   "o": {"k": "v"}, "e": {}})
            .to_string()
        );
    }
}
