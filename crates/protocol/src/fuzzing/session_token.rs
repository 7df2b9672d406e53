//! Target `session_token`: attacker bytes where a session token goes (`X-Amz-Security-Token`),
//! and, since nobody can forge the seal, the same bytes as a sealed token's plaintext too, so
//! that the claims decoder sees them.

use crate::seal::SealingKey;
use crate::session_token::KeyRing;

/// The key ring every fuzz run opens tokens with (key id 7).
pub fn ring() -> KeyRing {
    KeyRing::new(7, SealingKey::from_bytes([7; 32]))
}

pub fn session_token(data: &[u8]) {
    let ring = ring();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ring.open(text);
    }
    let Ok(token) = ring.seal_plaintext(data) else {
        return;
    };
    if let Ok(claims) = ring.open(&token) {
        let again = ring.seal(&claims).and_then(|token| ring.open(&token));
        assert_eq!(again.as_ref(), Ok(&claims), "claims round trip");
    }
}
