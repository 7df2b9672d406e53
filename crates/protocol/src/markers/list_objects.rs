//! S3 ListObjectsV2's continuation token: the last key or common prefix of the page, marked as
//! one roleplane wrote so that a forged token is refused as S3 refuses it (a token names only a
//! place in the listing: nothing to protect beyond that).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const TOKEN_PREFIX: &str = "rp1\0";

pub fn encode(last: &str) -> String {
    STANDARD.encode(format!("{TOKEN_PREFIX}{last}"))
}

/// The key or prefix to list after, if the token is one of ours.
pub fn decode(token: &str) -> Option<String> {
    STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(TOKEN_PREFIX).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_garbage_is_refused() {
        let token = encode("photos/2026/é.jpg");
        assert_eq!(decode(&token).as_deref(), Some("photos/2026/é.jpg"));
        assert_eq!(decode("not base64!"), None);
        // Base64 of a key, but not a token roleplane wrote.
        assert_eq!(decode("bm90LWEtdG9rZW4="), None);
    }
}
