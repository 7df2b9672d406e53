//! EC2 resource IDs: a prefix (`i-`, `r-`, `iip-assoc-`) and 17 lowercase hex digits.

const HEX: &[u8; 16] = b"0123456789abcdef";

pub(crate) fn new(prefix: &str) -> String {
    let mut bytes = [0u8; 17];
    rand::fill(&mut bytes[..]);
    let mut id = String::with_capacity(prefix.len() + bytes.len());
    id.push_str(prefix);
    id.extend(bytes.iter().map(|b| char::from(HEX[usize::from(b & 15)])));
    id
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_prefix_and_17_hex_digits() {
        let id = super::new("i-");
        assert_eq!(id.len(), 19);
        assert!(
            id[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(super::new("i-"), id);
    }
}
