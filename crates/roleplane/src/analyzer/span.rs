//! Where a path into a policy document sits in its text: Access Analyzer's `span` (and the IAM
//! simulator's statement positions) need line, column and offset, which a parsed value forgets.
//!
//! A small scanner over the original text, used only on documents that already parsed as JSON
//! (malformed text only ever gets the whole-document span). It never recurses, so nesting depth
//! costs nothing but time.

use policy::PathElement;

/// A point in the text: line from 1, column and offset from 0, both in characters (AWS's
/// example spans count that way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// A value's extent: `end` is just past its last character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

/// The span of the value at `path`, or `None` if the text has no such value. An index into a
/// value that is not an array addresses the value itself at index 0, as IAM reads a single
/// statement or action as a list of one.
pub fn locate(text: &str, path: &[PathElement]) -> Option<Span> {
    let bytes = text.as_bytes();
    let mut at = skip_ws(bytes, 0);
    for step in path {
        at = match step {
            PathElement::Key(key) => member(bytes, at, key)?,
            PathElement::Index(index) if bytes.get(at) == Some(&b'[') => {
                element(bytes, at, *index)?
            }
            PathElement::Index(0) => at,
            PathElement::Index(_) => return None,
        };
    }
    let end = value_end(bytes, at)?;
    Some(Span {
        start: position(text, at),
        end: position(text, end),
    })
}

/// The whole document, for findings about no element in particular.
pub fn whole(text: &str) -> Span {
    Span {
        start: position(text, 0),
        end: position(text, text.len()),
    }
}

fn position(text: &str, byte: usize) -> Position {
    let before = &text[..byte.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count(),
        offset: before.chars().count(),
    }
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The value of `key` in the object starting at `at` (exact spelling first, then any case).
fn member(bytes: &[u8], at: usize, key: &str) -> Option<usize> {
    let members = members(bytes, at)?;
    let found = members
        .iter()
        .find(|(k, _)| *k == key.as_bytes())
        .or_else(|| {
            members
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key.as_bytes()))
        })?;
    Some(found.1)
}

/// Each member of the object at `at`: its raw key and where its value starts.
fn members(bytes: &[u8], at: usize) -> Option<Vec<(&[u8], usize)>> {
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = skip_ws(bytes, at + 1);
    while bytes.get(i) == Some(&b'"') {
        let key_end = string_end(bytes, i)?;
        let key = &bytes[i + 1..key_end - 1];
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        let value = skip_ws(bytes, i + 1);
        out.push((key, value));
        i = skip_ws(bytes, value_end(bytes, value)?);
        if bytes.get(i) == Some(&b',') {
            i = skip_ws(bytes, i + 1);
        }
    }
    Some(out)
}

/// Where the `index`th element of the array at `at` starts.
fn element(bytes: &[u8], at: usize, index: usize) -> Option<usize> {
    let mut i = skip_ws(bytes, at + 1);
    for _ in 0..index {
        if bytes.get(i) == Some(&b']') {
            return None;
        }
        i = skip_ws(bytes, value_end(bytes, i)?);
        if bytes.get(i) != Some(&b',') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
    }
    (bytes.get(i) != Some(&b']')).then_some(i)
}

/// Just past the value starting at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let len = bytes[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(bytes.len() - at);
            Some(at + len)
        }
    }
}

/// Just past the closing quote of the string starting at `at`.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> PathElement {
        PathElement::Key(k.into())
    }

    /// The document of Access Analyzer's own validate-policy example, with its spans.
    const EXAMPLE: &str = "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n        {\n            \"Sid\": \"\",\n            \"Effect\": \"Allow\",\n            \"Principal\": {\n                \"Federated\": \"cognito-identity.amazonaws.com\"\n            },\n            \"Action\": [\n                \"sts:AssumeRole\",\n                \"sts:TagSession\"\n            ]\n        }\n    ]\n}";

    #[test]
    fn spans_match_aws_example() {
        let sid = locate(
            EXAMPLE,
            &[key("Statement"), PathElement::Index(0), key("Sid")],
        )
        .expect("sid");
        assert_eq!(
            sid.start,
            Position {
                line: 5,
                column: 19,
                offset: 79
            }
        );
        assert_eq!(
            sid.end,
            Position {
                line: 5,
                column: 21,
                offset: 81
            }
        );
        let action = locate(
            EXAMPLE,
            &[
                key("Statement"),
                PathElement::Index(0),
                key("Action"),
                PathElement::Index(0),
            ],
        )
        .expect("action");
        assert_eq!((action.start.line, action.start.column), (11, 16));
        assert_eq!((action.end.line, action.end.column), (11, 32));
        let federated = locate(
            EXAMPLE,
            &[
                key("Statement"),
                PathElement::Index(0),
                key("Principal"),
                key("Federated"),
            ],
        )
        .expect("principal");
        assert_eq!((federated.start.column, federated.end.column), (29, 61));
    }

    #[test]
    fn single_values_answer_index_zero_only() {
        let doc = r#"{"Statement":{"Action":"s3:Get*","Resource":"*"}}"#;
        let path = [key("Statement"), PathElement::Index(0), key("Action")];
        let span = locate(doc, &path).expect("action");
        assert_eq!(&doc[span.start.offset..span.end.offset], r#""s3:Get*""#);
        assert!(locate(doc, &[key("Statement"), PathElement::Index(1)]).is_none());
        assert!(locate(doc, &[key("Missing")]).is_none());
        let arr = r#"{"A":[1, [2,"]"], {"x":"}"}]}"#;
        let third = locate(arr, &[key("A"), PathElement::Index(2)]).expect("third");
        assert_eq!(&arr[third.start.offset..third.end.offset], r#"{"x":"}"}"#);
        assert!(locate(arr, &[key("A"), PathElement::Index(3)]).is_none());
    }

    #[test]
    fn whole_document_and_truncated_text() {
        let span = whole("{\n}");
        assert_eq!((span.end.line, span.end.column, span.end.offset), (2, 1, 3));
        assert!(locate(r#"{"A":[1,"#, &[key("A")]).is_none());
        assert!(locate(r#"{"A":"x"#, &[key("A")]).is_none());
    }
}
