//! Wildcard patterns (`*`, `?`), compiled once at parse time and matched with a
//! greedy backtracking loop: no regex, no allocation unless variables are involved.
//!
//! A literal `*` (from `${*}` or from a substituted variable value) is stored as
//! text, so it never acts as a wildcard.

use std::borrow::Cow;

use crate::variables::{Reference, Variable, Variables, read_reference};

/// How a pattern's source text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    /// `*` and `?` are wildcards (StringLike, ARNs, actions) rather than text.
    pub wildcards: bool,
    /// `${…}` is a variable reference (Version 2012-10-17, allowed places only).
    pub variables: bool,
}

impl Syntax {
    pub const LITERAL: Syntax = Syntax {
        wildcards: false,
        variables: false,
    };
    pub const GLOB: Syntax = Syntax {
        wildcards: true,
        variables: false,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(Box<str>),
    AnySequence,
    AnyChar,
    Variable(Variable),
}

/// A piece after variable substitution.
#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    Text(&'a str),
    AnySequence,
    AnyChar,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pieces: Vec<Piece>,
    has_variables: bool,
}

/// A variable in the pattern has no value in the request (and no default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingVariable;

impl Pattern {
    /// Compiles `source` under `syntax`.
    pub fn compile(source: &str, syntax: Syntax) -> Pattern {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if syntax.variables
                && c == '$'
                && let Some((reference, len)) = read_reference(rest)
            {
                match reference {
                    Reference::Escape(c) => text.push(c),
                    Reference::Variable(v) => {
                        flush(&mut text, &mut pieces);
                        pieces.push(Piece::Variable(v));
                    }
                }
                rest = &rest[len..];
                continue;
            }
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut text, &mut pieces);
                    // `**` is the same as `*`; keeping one makes matching cheaper.
                    if pieces.last() != Some(&Piece::AnySequence) {
                        pieces.push(Piece::AnySequence);
                    }
                }
                '?' if syntax.wildcards => {
                    flush(&mut text, &mut pieces);
                    pieces.push(Piece::AnyChar);
                }
                _ => text.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        flush(&mut text, &mut pieces);
        let has_variables = pieces.iter().any(|p| matches!(p, Piece::Variable(_)));
        Pattern {
            pieces,
            has_variables,
        }
    }

    /// True when the pattern is a lone `*`, which matches everything.
    pub fn is_match_all(&self) -> bool {
        matches!(self.pieces.as_slice(), [Piece::AnySequence])
    }

    /// Whether `text` matches; `Err` when a variable has no value.
    pub fn matches(&self, text: &str, vars: &dyn Variables) -> Result<bool, MissingVariable> {
        if !self.has_variables {
            // Common shapes first: exact text, `*`, `prefix*`.
            return Ok(match self.pieces.as_slice() {
                [] => text.is_empty(),
                [Piece::Text(t)] => **t == *text,
                [Piece::AnySequence] => true,
                [Piece::Text(t), Piece::AnySequence] => text.starts_with(&**t),
                _ => glob(self.pieces.len(), |i| static_token(&self.pieces[i]), text),
            });
        }
        // Resolve into a stack buffer: no allocation for patterns of up to 8 pieces.
        let mut buffer = [Token::AnySequence; 8];
        if self.pieces.len() <= buffer.len() {
            for (slot, piece) in buffer.iter_mut().zip(&self.pieces) {
                *slot = resolve_piece(piece, vars)?;
            }
            let tokens = &buffer[..self.pieces.len()];
            return Ok(glob(tokens.len(), |i| tokens[i], text));
        }
        let tokens = self.resolve(vars)?;
        Ok(glob(tokens.len(), |i| tokens[i], text))
    }

    /// Whether the pattern, read as plain text, equals `text` ignoring case.
    pub fn equals_ignore_case(
        &self,
        text: &str,
        vars: &dyn Variables,
    ) -> Result<bool, MissingVariable> {
        let literal = self.to_text(vars)?;
        if literal.is_ascii() && text.is_ascii() {
            return Ok(literal.eq_ignore_ascii_case(text));
        }
        // Unicode lowercasing, compared without allocating.
        Ok(literal
            .chars()
            .flat_map(char::to_lowercase)
            .eq(text.chars().flat_map(char::to_lowercase)))
    }

    /// The pattern as plain text after substitution (wildcards read as `*`/`?`).
    pub fn to_text<'a>(&'a self, vars: &'a dyn Variables) -> Result<Cow<'a, str>, MissingVariable> {
        if let [Piece::Text(t)] = self.pieces.as_slice() {
            return Ok(Cow::Borrowed(t));
        }
        let mut out = String::new();
        for token in self.resolve(vars)? {
            match token {
                Token::Text(t) => out.push_str(t),
                Token::AnySequence => out.push('*'),
                Token::AnyChar => out.push('?'),
            }
        }
        Ok(Cow::Owned(out))
    }

    fn resolve<'a>(&'a self, vars: &'a dyn Variables) -> Result<Vec<Token<'a>>, MissingVariable> {
        self.pieces
            .iter()
            .map(|piece| resolve_piece(piece, vars))
            .collect()
    }
}

fn resolve_piece<'a>(
    piece: &'a Piece,
    vars: &'a dyn Variables,
) -> Result<Token<'a>, MissingVariable> {
    match piece {
        Piece::Variable(v) => vars
            .variable(&v.key)
            .or(v.default.as_deref())
            .map(Token::Text)
            .ok_or(MissingVariable),
        other => Ok(static_token(other)),
    }
}

fn flush(text: &mut String, pieces: &mut Vec<Piece>) {
    if !text.is_empty() {
        pieces.push(Piece::Text(std::mem::take(text).into_boxed_str()));
    }
}

fn static_token(piece: &Piece) -> Token<'_> {
    match piece {
        Piece::Text(t) => Token::Text(t),
        Piece::AnySequence => Token::AnySequence,
        Piece::AnyChar => Token::AnyChar,
        // Callers resolve variables before reaching here; a stray one matches nothing.
        Piece::Variable(_) => Token::Text("\u{0}${unresolved}"),
    }
}

/// Greedy matching with backtracking to the last `*` only, which is enough for
/// glob patterns: O(pattern × text) worst case, linear in the common case.
fn glob<'a>(len: usize, token: impl Fn(usize) -> Token<'a>, text: &str) -> bool {
    let bytes = text.as_bytes();
    let (mut p, mut t) = (0, 0);
    // (token index after the last `*`, text position it currently absorbs up to)
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        if p < len {
            match token(p) {
                Token::AnySequence => {
                    backtrack = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Token::AnyChar if t < bytes.len() => {
                    t += utf8_len(bytes[t]);
                    p += 1;
                    continue;
                }
                Token::Text(s) if bytes[t..].starts_with(s.as_bytes()) => {
                    t += s.len();
                    p += 1;
                    continue;
                }
                _ => {}
            }
        } else if t == bytes.len() {
            return true;
        }
        match backtrack {
            Some((after_star, absorbed)) if absorbed < bytes.len() => {
                let next = absorbed + utf8_len(bytes[absorbed]);
                backtrack = Some((after_star, next));
                p = after_star;
                t = next;
            }
            _ => return false,
        }
    }
}

fn utf8_len(lead: u8) -> usize {
    match lead {
        0..0x80 => 1,
        0xC0..0xE0 => 2,
        0xE0..0xF0 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::NoVariables;

    struct Vars(&'static [(&'static str, &'static str)]);
    impl Variables for Vars {
        fn variable(&self, key: &str) -> Option<&str> {
            self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
        }
    }

    const FULL: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };

    #[test]
    fn glob_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything/at:all", true),
            ("a*", "a", true),
            ("a*", "ba", false),
            ("*a", "bba", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "aéc", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("*ab*ab*", "xabyab", true),
            ("*aab", "aaab", true),
            ("a**b", "ab", true),
            ("", "", true),
            ("", "x", false),
            ("abc", "abc", true),
            ("abc", "ABC", false),
            ("${*}", "*", true),
            ("${*}", "x", false),
            ("a${?}", "a?", true),
            ("a${?}", "ab", false),
            ("${$}{x}", "${x}", true),
        ];
        for (pattern, text, expected) in cases {
            let p = Pattern::compile(pattern, FULL);
            assert_eq!(
                p.matches(text, &NoVariables),
                Ok(*expected),
                "{pattern} vs {text}"
            );
        }
    }

    #[test]
    fn substituted_values_are_literal() {
        let vars = Vars(&[("aws:username", "b*b"), ("aws:principaltag/team", "red")]);
        let cases: &[(&str, &str, Result<bool, MissingVariable>)] = &[
            ("home/${aws:username}/*", "home/b*b/x", Ok(true)),
            ("home/${aws:username}/*", "home/bob/x", Ok(false)),
            ("${aws:PrincipalTag/team}", "red", Ok(true)),
            ("${aws:PrincipalTag/missing, 'dflt'}-*", "dflt-1", Ok(true)),
            ("${aws:PrincipalTag/missing}", "", Err(MissingVariable)),
        ];
        for (pattern, text, expected) in cases {
            let p = Pattern::compile(pattern, FULL);
            assert_eq!(p.matches(text, &vars), *expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn literal_syntax_keeps_everything() {
        let p = Pattern::compile("a*${aws:username}?", Syntax::LITERAL);
        assert_eq!(p.matches("a*${aws:username}?", &NoVariables), Ok(true));
        assert_eq!(p.matches("abx", &NoVariables), Ok(false));
        let ci = Pattern::compile("ÄbC", Syntax::LITERAL);
        assert_eq!(ci.equals_ignore_case("äBc", &NoVariables), Ok(true));
        assert_eq!(ci.equals_ignore_case("abc", &NoVariables), Ok(false));
    }
}
