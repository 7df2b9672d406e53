//! Secret access keys: 40 characters from the base64 alphabet, like AWS's.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::SealError;

pub fn new_secret_access_key() -> Result<String, SealError> {
    let mut bytes = Zeroizing::new([0u8; 30]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| SealError::Random)?;
    Ok(STANDARD.encode(bytes.as_slice()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn forty_base64_characters_and_fresh_each_time() {
        let a = super::new_secret_access_key().unwrap();
        assert_eq!(a.len(), 40);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        );
        assert_ne!(a, super::new_secret_access_key().unwrap());
    }
}
