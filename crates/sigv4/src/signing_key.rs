//! The SigV4 signing key, `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
//! "aws4_request")`, and a cache for it: the chain costs four HMACs, the signature one.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A derived signing key.
pub(crate) type SigningKey = [u8; 32];

/// Starts an HMAC-SHA256 under `key`, applying RFC 2104's key rule (hash keys longer than the
/// block, zero-pad the rest) ourselves so that no fallible constructor is involved.
pub(crate) fn hmac(key_parts: &[&[u8]]) -> HmacSha256 {
    let mut block = Key::<HmacSha256>::default();
    let len: usize = key_parts.iter().map(|part| part.len()).sum();
    if len <= block.len() {
        let mut at = 0;
        for part in key_parts {
            block[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
    } else {
        let mut hasher = Sha256::new();
        for part in key_parts {
            hasher.update(part);
        }
        block[..32].copy_from_slice(&hasher.finalize());
    }
    let mac = <HmacSha256 as KeyInit>::new(&block);
    // Best effort: do not leave the secret in this stack slot.
    block.fill(0);
    mac
}

fn mac(key: &[u8], data: &[u8]) -> SigningKey {
    let mut mac = hmac(&[key]);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Derives the signing key for one (secret, date, region, service).
pub(crate) fn derive(secret: &[u8], date: &str, region: &str, service: &str) -> SigningKey {
    let mut date_mac = hmac(&[b"AWS4", secret]);
    date_mac.update(date.as_bytes());
    let k_date: SigningKey = date_mac.finalize().into_bytes().into();
    let k_region = mac(&k_date, region.as_bytes());
    let k_service = mac(&k_region, service.as_bytes());
    mac(&k_service, b"aws4_request")
}

struct CachedKey {
    /// SHA-256 of the secret the key was derived from, so that a different secret presented for
    /// the same access key id (a rotated or mistaken lookup) never reuses this key.
    secret_fingerprint: [u8; 32],
    key: SigningKey,
}

/// A bounded, thread-safe cache of derived signing keys, keyed by the full credential
/// (`AKID/date/region/service/aws4_request`). Keys change daily, so when the cache is full it is
/// simply emptied: the next day's keys replace the old ones without any bookkeeping.
pub struct SigningKeyCache {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, CachedKey>>,
}

impl SigningKeyCache {
    /// A cache holding at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How many keys are cached now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, CachedKey>> {
        // The map is always consistent between statements, so a poisoned lock is still usable.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The signing key for `credential`, derived with `derive` on a miss.
    pub(crate) fn get_or_derive(
        &self,
        credential: &str,
        secret: &[u8],
        derive: impl FnOnce() -> SigningKey,
    ) -> SigningKey {
        let fingerprint: [u8; 32] = Sha256::digest(secret).into();
        if let Some(hit) = self.lock().get(credential)
            && bool::from(hit.secret_fingerprint.ct_eq(&fingerprint))
        {
            return hit.key;
        }
        let key = derive();
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(credential) {
            entries.clear();
        }
        entries.insert(
            credential.into(),
            CachedKey {
                secret_fingerprint: fingerprint,
                key,
            },
        );
        key
    }
}

impl Default for SigningKeyCache {
    /// Room for 1024 (key, day, region, service) combinations.
    fn default() -> Self {
        Self::new(1024)
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKeyCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_key() {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
        let key = derive(
            b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn long_secrets_are_hashed_like_rfc_2104() {
        let secret = [7u8; 100];
        let mut reference =
            <HmacSha256 as KeyInit>::new_from_slice(&[b"AWS4".as_slice(), &secret].concat())
                .unwrap();
        reference.update(b"20120215");
        let mut ours = hmac(&[b"AWS4", &secret]);
        ours.update(b"20120215");
        assert_eq!(
            ours.finalize().into_bytes(),
            reference.finalize().into_bytes()
        );
    }

    #[test]
    fn cache_hits_misses_and_bounds() {
        let cache = SigningKeyCache::new(2);
        let mut derivations = 0;
        let mut get = |cred: &str, secret: &[u8]| {
            cache.get_or_derive(cred, secret, || {
                derivations += 1;
                derive(secret, "20120215", "us-east-1", "iam")
            })
        };
        let a = get("A/20120215/us-east-1/iam/aws4_request", b"s1");
        assert_eq!(get("A/20120215/us-east-1/iam/aws4_request", b"s1"), a);
        // Same credential, different secret: must not reuse the cached key.
        assert_ne!(get("A/20120215/us-east-1/iam/aws4_request", b"s2"), a);
        get("B/20120215/us-east-1/iam/aws4_request", b"s1");
        get("C/20120215/us-east-1/iam/aws4_request", b"s1");
        assert_eq!(derivations, 4);
        assert!(cache.len() <= 2);
    }
}
