//! IMDSv2 session tokens: stateless, unforgeable, bound to one instance.
//!
//! A token is `version ‖ expiry ‖ tag` (40 bytes, 56 characters of URL-safe base64 with padding,
//! the length of EC2's own tokens), where `tag` is HMAC-SHA256 over the version, expiry and
//! instance ID, truncated to 31 bytes. Nothing is stored server-side, so any number of tokens may
//! exist; a token presented on another instance's endpoint fails the MAC.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const VERSION: u8 = 1;
const TAG_LEN: usize = 31;
const RAW_LEN: usize = 1 + 8 + TAG_LEN;
/// Length of the encoded token (EC2's tokens are 56 characters too).
pub const TOKEN_LEN: usize = 56;
/// Domain separation: this key never MACs anything else, but the label keeps it that way.
const LABEL: &[u8] = b"roleplane imds session token\0";

/// Why a presented token was refused (all map to 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is not a well-formed session token")]
    Malformed,
    #[error("token was not issued for this instance")]
    BadSignature,
    #[error("token has expired")]
    Expired,
}

/// Issues and checks session tokens under one secret key.
#[derive(Clone)]
pub struct TokenKey {
    mac: Hmac<Sha256>,
}

impl TokenKey {
    pub fn new(key: &[u8; 32]) -> Self {
        // HMAC takes keys of any length, so this cannot fail.
        let mac = match Hmac::<Sha256>::new_from_slice(key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        Self { mac }
    }

    /// A token for `instance_id` valid until `expires_at` (seconds since the Unix epoch).
    pub fn issue(&self, instance_id: &str, expires_at: u64) -> String {
        let mut raw = [0u8; RAW_LEN];
        raw[0] = VERSION;
        raw[1..9].copy_from_slice(&expires_at.to_be_bytes());
        let tag = self.tag(instance_id, expires_at).finalize().into_bytes();
        raw[9..].copy_from_slice(&tag[..TAG_LEN]);
        URL_SAFE.encode(raw)
    }

    /// Checks `token` for `instance_id` at `now` (seconds since the epoch) and returns its
    /// remaining lifetime in seconds (at least 1).
    pub fn verify(&self, token: &[u8], instance_id: &str, now: u64) -> Result<u64, TokenError> {
        if token.len() != TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut raw = [0u8; RAW_LEN + 2];
        let len = URL_SAFE
            .decode_slice(token, &mut raw)
            .map_err(|_| TokenError::Malformed)?;
        if len != RAW_LEN || raw[0] != VERSION {
            return Err(TokenError::Malformed);
        }
        let mut expiry = [0u8; 8];
        expiry.copy_from_slice(&raw[1..9]);
        let expires_at = u64::from_be_bytes(expiry);
        self.tag(instance_id, expires_at)
            .verify_truncated_left(&raw[9..RAW_LEN])
            .map_err(|_| TokenError::BadSignature)?;
        if now >= expires_at {
            return Err(TokenError::Expired);
        }
        Ok(expires_at - now)
    }

    fn tag(&self, instance_id: &str, expires_at: u64) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(LABEL);
        mac.update(&[VERSION]);
        mac.update(&expires_at.to_be_bytes());
        mac.update(instance_id.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn round_trip_reports_remaining_seconds() {
        let key = TokenKey::new(&KEY);
        let token = key.issue("i-0123456789abcdef0", 1_000 + 21_600);
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(token.ends_with("=="));
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b))
        );
        let verify = |now| key.verify(token.as_bytes(), "i-0123456789abcdef0", now);
        assert_eq!(verify(1_000), Ok(21_600));
        assert_eq!(verify(1_001), Ok(21_599));
        assert_eq!(verify(22_599), Ok(1));
        assert_eq!(verify(22_600), Err(TokenError::Expired));
    }

    #[test]
    fn bound_to_instance_and_key() {
        let key = TokenKey::new(&KEY);
        let token = key.issue("i-aaaaaaaaaaaaaaaaa", 5_000);
        assert_eq!(
            key.verify(token.as_bytes(), "i-bbbbbbbbbbbbbbbbb", 1),
            Err(TokenError::BadSignature)
        );
        let other = TokenKey::new(&[8; 32]);
        assert_eq!(
            other.verify(token.as_bytes(), "i-aaaaaaaaaaaaaaaaa", 1),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn tampered_expiry_or_garbage_is_refused() {
        let key = TokenKey::new(&KEY);
        let token = key.issue("i-1", 5_000);
        let mut raw = URL_SAFE.decode(&token).unwrap();
        raw[8] ^= 1; // extend the expiry by a second
        let forged = URL_SAFE.encode(&raw);
        assert_eq!(
            key.verify(forged.as_bytes(), "i-1", 1),
            Err(TokenError::BadSignature)
        );
        for junk in [&b""[..], b"abc", &[b'!'; TOKEN_LEN], &[b'A'; TOKEN_LEN]] {
            assert_eq!(key.verify(junk, "i-1", 1), Err(TokenError::Malformed));
        }
    }
}
