//! Identifiers for IAM entities, keys and S3 multipart uploads, and the ARNs built from them.
//!
//! IAM unique IDs are a 4-letter prefix plus 17 characters (21 in all); access key IDs are a
//! prefix plus 16 (20 in all). The characters come from the uppercase base32 alphabet `A-Z2-7`,
//! as AWS's do.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn with_prefix(prefix: &str, random_chars: usize) -> String {
    let mut bytes = vec![0u8; random_chars];
    rand::fill(&mut bytes[..]);
    let mut id = String::with_capacity(prefix.len() + random_chars);
    id.push_str(prefix);
    // 256 is a multiple of 32, so masking keeps every character equally likely.
    id.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
    );
    id
}

/// `AROA…`: a role's unique ID.
pub fn role_id() -> String {
    with_prefix("AROA", 17)
}

/// `AGPA…`: a group's unique ID.
pub fn group_id() -> String {
    with_prefix("AGPA", 17)
}

/// `AIDA…`: a user's unique ID.
pub fn user_id() -> String {
    with_prefix("AIDA", 17)
}

/// `AIPA…`: an instance profile's unique ID.
pub fn instance_profile_id() -> String {
    with_prefix("AIPA", 17)
}

/// `ANPA…`: a customer managed policy's unique ID.
pub fn policy_id() -> String {
    with_prefix("ANPA", 17)
}

/// The row key of an OpenID Connect provider (AWS shows none; its tags are keyed by it).
pub fn oidc_provider_id() -> String {
    with_prefix("OIDC", 17)
}

/// `AKIA…`: a long-term (user) access key ID.
pub fn access_key_id() -> String {
    with_prefix("AKIA", 16)
}

/// `ASIA…`: a temporary (STS) access key ID.
pub fn session_access_key_id() -> String {
    with_prefix("ASIA", 16)
}

/// An S3 multipart upload ID: 64 characters of the URL-safe base64 alphabet (`A-Za-z0-9-_`),
/// 384 random bits, so an ID can be neither guessed nor met twice.
pub fn upload_id() -> String {
    const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0u8; 64];
    rand::fill(&mut bytes[..]);
    // 256 is a multiple of 64, so masking keeps every character equally likely.
    bytes
        .iter()
        .map(|b| char::from(URL_SAFE[usize::from(b & 63)]))
        .collect()
}

/// `arn:aws:iam::ACCOUNT:KIND{path}{name}`, the shape of every IAM entity ARN.
/// `kind` is `role`, `user`, `instance-profile` or `policy`; `path` starts and ends with `/`.
pub fn iam_arn(account_id: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:{kind}{path}{name}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn upload_ids_are_64_url_safe_characters_and_differ() {
        let id = super::upload_id();
        assert_eq!(id.len(), 64);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(super::upload_id(), id);
    }
}
