//! The rules every tag key and value obeys, whether IAM stores it on a role, user, policy or
//! instance profile or STS attaches it to a session: the models' `tagKeyType` / `tagValueType`
//! (IAM and STS state the same pattern and lengths) and the reserved `aws:` prefix. Each service
//! reports a broken rule in its own words; this module only decides what is broken.

/// `tagKeyType`'s pattern, as the models and AWS's messages spell it.
pub const KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
/// `tagValueType`'s pattern: the key's characters, and the empty string.
pub const VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;
/// Keys under this prefix (any case) are AWS's own (`aws:PrincipalTag/…` would be ambiguous).
pub const RESERVED_KEY_PREFIX: &str = "aws:";

/// The constraints `key` breaks, in the models' words (`Member must …`); empty when valid.
pub fn key_violations(key: &str) -> Vec<String> {
    let mut broken = length_violations(key, 1, MAX_KEY_CHARS);
    // An empty key already broke its length; Coral reports the `+` pattern too.
    if key.is_empty() || !key.chars().all(is_tag_char) {
        broken.push(pattern_violation(KEY_PATTERN));
    }
    broken
}

/// The constraints `value` breaks, in the models' words; empty when valid.
pub fn value_violations(value: &str) -> Vec<String> {
    let mut broken = length_violations(value, 0, MAX_VALUE_CHARS);
    if !value.chars().all(is_tag_char) {
        broken.push(pattern_violation(VALUE_PATTERN));
    }
    broken
}

/// Whether `key` starts with `aws:` in any case.
pub fn is_reserved_key(key: &str) -> bool {
    key.get(..RESERVED_KEY_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(RESERVED_KEY_PREFIX))
}

fn length_violations(text: &str, min: usize, max: usize) -> Vec<String> {
    let len = text.chars().count();
    let mut broken = Vec::new();
    if len < min {
        broken.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if len > max {
        broken.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    broken
}

fn pattern_violation(pattern: &str) -> String {
    format!("Member must satisfy regular expression pattern: {pattern}")
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: letters, Unicode separators (category Z: spaces, U+2028,
/// U+2029, but no control character such as TAB, LF, CR, VT, FF or NEL), numbers and
/// `_ . : / = + - @`.
fn is_tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || is_separator(c) || "_.:/=+-@".contains(c)
}

/// Unicode general category Z (Zs, Zl, Zp).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_numbers_separators_and_the_symbols_are_allowed() {
        for ok in [
            "Team",
            "kéy",
            "日本",
            "a b",
            "a\u{a0}b",
            "a\u{2028}b",
            "_.:/=+-@",
            "٣",
        ] {
            assert!(key_violations(ok).is_empty(), "{ok:?}");
            assert!(value_violations(ok).is_empty(), "{ok:?}");
        }
        assert!(value_violations("").is_empty());
    }

    #[test]
    fn control_characters_are_refused_in_keys_and_values() {
        for c in ['\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\0', '*', '!'] {
            let text = format!("a{c}b");
            assert_eq!(
                key_violations(&text),
                [format!(
                    "Member must satisfy regular expression pattern: {KEY_PATTERN}"
                )],
                "{c:?}"
            );
            assert_eq!(value_violations(&text).len(), 1, "{c:?}");
        }
    }

    #[test]
    fn lengths_count_characters() {
        assert!(key_violations(&"é".repeat(128)).is_empty());
        assert_eq!(
            key_violations(&"k".repeat(129)),
            ["Member must have length less than or equal to 128"]
        );
        assert_eq!(key_violations("").len(), 2);
        assert!(value_violations(&"v".repeat(256)).is_empty());
        assert_eq!(
            value_violations(&"v".repeat(257)),
            ["Member must have length less than or equal to 256"]
        );
    }

    #[test]
    fn the_aws_prefix_is_reserved_in_any_case() {
        for key in ["aws:team", "AWS:team", "Aws:", "aWs:x"] {
            assert!(is_reserved_key(key), "{key}");
        }
        for key in ["aws", "awsteam", "team:aws:", "é", "aw"] {
            assert!(!is_reserved_key(key), "{key}");
        }
    }
}
