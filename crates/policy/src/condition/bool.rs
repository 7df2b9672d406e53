//! The Bool operator: `true`/`false`, case-insensitive.

pub fn parse(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_flags() {
        assert_eq!(super::parse("TRUE"), Some(true));
        assert_eq!(super::parse("false"), Some(false));
        assert_eq!(super::parse("yes"), None);
    }
}
