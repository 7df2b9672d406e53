//! BinaryEquals: base64 values compared byte for byte.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub fn parse(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text.trim()).ok()
}

/// The request value is base64 as well; one that does not decode matches nothing.
pub fn test(policy: &[u8], request: &str) -> bool {
    parse(request).is_some_and(|bytes| bytes == policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_bytes() {
        let policy = parse("QmluYXJ5").expect("base64");
        assert_eq!(policy, b"Binary");
        assert!(test(&policy, "QmluYXJ5"));
        assert!(!test(&policy, "QmluYXJ6"));
        assert!(!test(&policy, "not base64!"));
        assert_eq!(parse("%%"), None);
    }
}
