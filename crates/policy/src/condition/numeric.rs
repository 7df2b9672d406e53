//! Numeric* operators. Values are integers or decimals, compared as f64.

use crate::condition::Test;

pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        && text.chars().any(|c| c.is_ascii_digit());
    valid.then(|| text.parse().ok()).flatten()
}

/// Compares `request` against `policy` (request on the left, as AWS reads it).
pub fn test<T: PartialOrd>(test: Test, policy: T, request: T) -> bool {
    match test {
        Test::LessThan => request < policy,
        Test::LessThanEquals => request <= policy,
        Test::GreaterThan => request > policy,
        Test::GreaterThanEquals => request >= policy,
        _ => request == policy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compares() {
        assert_eq!(parse("10"), Some(10.0));
        assert_eq!(parse("-1.5"), Some(-1.5));
        assert_eq!(parse("ten"), None);
        assert_eq!(parse("inf"), None);
        assert_eq!(parse(""), None);
        assert!(test(Test::LessThan, 10.0, 9.0));
        assert!(!test(Test::LessThan, 10.0, 10.0));
        assert!(test(Test::LessThanEquals, 10.0, 10.0));
        assert!(test(Test::GreaterThan, 10.0, 11.0));
        assert!(test(Test::Equals, 10.0, 10.0));
    }
}
