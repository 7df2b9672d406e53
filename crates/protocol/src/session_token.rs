//! Session tokens: a temporary credential's claims sealed under a key-ring key.
//!
//! Wire form (standard base64): `version(1) ‖ kid(4, big-endian) ‖ nonce ‖ ciphertext ‖ tag`, with
//! the first five bytes as associated data so a token cannot be moved to another key or version.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::seal::{SealError, SealingKey};

const VERSION: u8 = 1;
const HEADER_LEN: usize = 5;
/// AWS session tokens are well under this; anything longer is not ours.
const MAX_TOKEN_LEN: usize = 8192;

/// Who a temporary credential speaks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SessionPrincipal {
    /// `sts:AssumeRole` (or EC2 on an instance's behalf, session name = instance id).
    AssumedRole {
        role_arn: String,
        role_id: String,
        session_name: String,
    },
    /// `sts:GetSessionToken` by an IAM user: the user's own permissions.
    UserSession { user_arn: String, user_id: String },
    /// `sts:GetSessionToken` by the account root.
    RootSession,
    /// `sts:GetFederationToken` by an IAM user: `arn:aws:sts::ACCOUNT:federated-user/NAME`,
    /// with the intersection of the user's permissions and the session policies.
    FederatedUser {
        user_arn: String,
        user_id: String,
        name: String,
    },
}

/// Everything the policy engine and the signature check need about a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub access_key_id: String,
    /// The session's secret access key, so any node can verify signatures without a lookup.
    pub secret_access_key: String,
    pub account_id: String,
    pub principal: SessionPrincipal,
    /// Epoch seconds.
    pub issued_at: i64,
    pub expires_at: i64,
    /// Inline session policy plus the documents of `PolicyArns`, resolved at issue time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Extra condition keys fixed at issue time (`ec2:SourceInstanceARN`, `ec2:RoleDelivery`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<(String, String)>,
    /// Issued by role chaining (an assumed-role session calling AssumeRole).
    #[serde(default)]
    pub chained: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token we issued, sealed under a retired key, or altered: AWS says
    /// `InvalidClientTokenId` for all of these and so do we.
    #[error("The security token included in the request is invalid.")]
    Invalid,
    #[error("sealing failed: {0}")]
    Seal(SealError),
}

/// The sealing keys for session tokens: one active key seals, every key still in the ring opens.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<(u32, SealingKey)>,
    active: u32,
}

impl KeyRing {
    /// A ring whose first key is the active one.
    pub fn new(active_kid: u32, active: SealingKey) -> Self {
        Self {
            keys: vec![(active_kid, active)],
            active: active_kid,
        }
    }

    /// Adds a key that still opens tokens but no longer seals new ones.
    pub fn with_retired(mut self, kid: u32, key: SealingKey) -> Self {
        self.keys.push((kid, key));
        self
    }

    pub fn active_kid(&self) -> u32 {
        self.active
    }

    pub fn seal(&self, claims: &SessionClaims) -> Result<String, TokenError> {
        let plaintext =
            zeroize::Zeroizing::new(serde_json::to_vec(claims).map_err(|_| TokenError::Invalid)?);
        self.seal_plaintext(&plaintext)
    }

    /// Seals any bytes as a token's claims (the fuzz target hands the claims decoder its input).
    pub(crate) fn seal_plaintext(&self, plaintext: &[u8]) -> Result<String, TokenError> {
        let key = self.key(self.active).ok_or(TokenError::Invalid)?;
        let header = header(self.active);
        let sealed = key.seal(&header, plaintext).map_err(TokenError::Seal)?;
        let mut raw = Vec::with_capacity(HEADER_LEN + sealed.len());
        raw.extend_from_slice(&header);
        raw.extend_from_slice(&sealed);
        Ok(STANDARD.encode(raw))
    }

    pub fn open(&self, token: &str) -> Result<SessionClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let raw = STANDARD.decode(token).map_err(|_| TokenError::Invalid)?;
        let (header, sealed) = raw
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(TokenError::Invalid)?;
        if header[0] != VERSION {
            return Err(TokenError::Invalid);
        }
        let kid = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let key = self.key(kid).ok_or(TokenError::Invalid)?;
        let plaintext = key.open(header, sealed).map_err(|_| TokenError::Invalid)?;
        serde_json::from_slice(&plaintext).map_err(|_| TokenError::Invalid)
    }

    fn key(&self, kid: u32) -> Option<&SealingKey> {
        self.keys
            .iter()
            .find(|(k, _)| *k == kid)
            .map(|(_, key)| key)
    }
}

fn header(kid: u32) -> [u8; HEADER_LEN] {
    let k = kid.to_be_bytes();
    [VERSION, k[0], k[1], k[2], k[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> SessionClaims {
        SessionClaims {
            access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
            secret_access_key: "secret/with+chars".into(),
            account_id: "123456789012".into(),
            principal: SessionPrincipal::AssumedRole {
                role_arn: "arn:aws:iam::123456789012:role/s3access".into(),
                role_id: "AROAEXAMPLEEXAMPLE012".into(),
                session_name: "i-0123456789abcdef0".into(),
            },
            issued_at: 1_700_000_000,
            expires_at: 1_700_021_600,
            session_policies: vec![],
            tags: vec![("team".into(), "blue".into())],
            transitive_tag_keys: vec![],
            source_identity: None,
            context: vec![("ec2:RoleDelivery".into(), "2.0".into())],
            chained: false,
        }
    }

    #[test]
    fn round_trip() {
        let ring = KeyRing::new(7, SealingKey::generate().unwrap());
        let token = ring.seal(&claims()).unwrap();
        assert_eq!(ring.open(&token).unwrap(), claims());
        assert!(!token.contains("secret"), "claims must be encrypted");
    }

    #[test]
    fn retired_keys_still_open_but_do_not_seal() {
        let old = SealingKey::generate().unwrap();
        let token = KeyRing::new(1, old.clone()).seal(&claims()).unwrap();
        let rotated = KeyRing::new(2, SealingKey::generate().unwrap()).with_retired(1, old);
        assert_eq!(rotated.open(&token).unwrap(), claims());
        let fresh = rotated.seal(&claims()).unwrap();
        let raw = STANDARD.decode(fresh).unwrap();
        assert_eq!(&raw[1..5], &2u32.to_be_bytes());
        let dropped = KeyRing::new(2, SealingKey::generate().unwrap());
        assert_eq!(dropped.open(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn tampering_and_garbage_are_invalid() {
        let ring = KeyRing::new(1, SealingKey::generate().unwrap());
        let token = ring.seal(&claims()).unwrap();
        let mut raw = STANDARD.decode(&token).unwrap();
        for i in [0, 1, 4, 5, 30, raw.len() - 1] {
            raw[i] ^= 0x40;
            assert_eq!(ring.open(&STANDARD.encode(&raw)), Err(TokenError::Invalid));
            raw[i] ^= 0x40;
        }
        for garbage in ["", "AAAA", "not base64!", &"A".repeat(MAX_TOKEN_LEN + 4)] {
            assert_eq!(ring.open(garbage), Err(TokenError::Invalid));
        }
    }
}
