//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`
//! and the escapes `${*}`, `${?}`, `${$}`.
//!
//! Variables are only recognised under Version 2012-10-17; with Version
//! 2008-10-17 or no Version the text is literal [UG:reference_policies_variables].

/// A variable reference inside a pattern, resolved per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The context key, lowercased: variable names are case-insensitive.
    pub key: Box<str>,
    /// The value used when the key is absent from the request.
    pub default: Option<Box<str>>,
}

/// What `${…}` at the start of a text stands for.
#[derive(Debug, PartialEq, Eq)]
pub enum Reference {
    /// `${*}`, `${?}`, `${$}`: a character that must match literally.
    Escape(char),
    Variable(Variable),
}

/// Reads a `${…}` reference at the start of `text`; returns it and the bytes it
/// spans, or `None` when `text` does not start with a well-formed reference
/// (then the characters are literal).
pub fn read_reference(text: &str) -> Option<(Reference, usize)> {
    let inner_and_rest = text.strip_prefix("${")?;
    let close = inner_and_rest.find('}')?;
    let inner = &inner_and_rest[..close];
    let span = close + 3;
    let reference = match inner {
        "*" => Reference::Escape('*'),
        "?" => Reference::Escape('?'),
        "$" => Reference::Escape('$'),
        _ => Reference::Variable(read_variable(inner)?),
    };
    Some((reference, span))
}

fn read_variable(inner: &str) -> Option<Variable> {
    let (name, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((name, default)) => {
            let quoted = default.trim();
            let unquoted = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
            (name.trim(), Some(unquoted.into()))
        }
    };
    let valid = !name.is_empty()
        && name.contains(':')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:/.@+=".contains(c));
    valid.then(|| Variable {
        key: name.to_ascii_lowercase().into(),
        default,
    })
}

/// Looks up single-valued context keys for variable substitution.
pub trait Variables {
    /// The value of `key` (already lowercased), or `None` when it is absent or
    /// multivalued: multivalued keys cannot be used as variables
    /// [UG:reference_policies_single-vs-multi-valued-condition-keys].
    fn variable(&self, key: &str) -> Option<&str>;
}

/// No variables at all (actions never carry any).
pub struct NoVariables;

impl Variables for NoVariables {
    fn variable(&self, _key: &str) -> Option<&str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(key: &str, default: Option<&str>) -> Option<(Reference, usize)> {
        let len = 0;
        Some((
            Reference::Variable(Variable {
                key: key.into(),
                default: default.map(Into::into),
            }),
            len,
        ))
    }

    #[test]
    fn reads_references() {
        let cases: &[(&str, Option<(Reference, usize)>)] = &[
            ("${*}x", Some((Reference::Escape('*'), 4))),
            ("${?}", Some((Reference::Escape('?'), 4))),
            ("${$}", Some((Reference::Escape('$'), 4))),
            ("${aws:username}/x", var("aws:username", None)),
            ("${AWS:UserName}", var("aws:username", None)),
            (
                "${aws:PrincipalTag/team, 'company-wide'}",
                var("aws:principaltag/team", Some("company-wide")),
            ),
            (
                "${aws:PrincipalTag/team,''}",
                var("aws:principaltag/team", Some("")),
            ),
            ("${aws:username", None),
            ("${}", None),
            ("${noservice}", None),
            ("${aws:x, unquoted}", None),
            ("$x", None),
        ];
        for (text, expected) in cases {
            let got = read_reference(text);
            match (got, expected) {
                (Some((Reference::Variable(v), _)), Some((Reference::Variable(e), _))) => {
                    assert_eq!(&v, e, "{text}")
                }
                (got, expected) => assert_eq!(got.as_ref(), expected.as_ref(), "{text}"),
            }
        }
    }
}
