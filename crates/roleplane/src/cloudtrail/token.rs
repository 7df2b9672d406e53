//! LookupEvents' `NextToken`: where the last page ended, bound to the question it answered.
//!
//! AWS requires a token to come back with the parameters that produced it; the token carries a
//! fingerprint of those parameters, so a token replayed with others is refused rather than
//! silently continuing a different listing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use store::audit::Position;

const VERSION: &str = "v1";

pub fn encode(position: Position, fingerprint: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{VERSION}.{}.{}.{fingerprint:016x}",
        position.event_time_ms, position.seq
    ))
}

/// The position a token continues from, if it is one of ours for this fingerprint.
pub fn decode(token: &str, fingerprint: u64) -> Option<Position> {
    if token.len() > 256 {
        return None;
    }
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.split('.');
    let (Some(VERSION), Some(time), Some(seq), Some(print), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if u64::from_str_radix(print, 16).ok()? != fingerprint {
        return None;
    }
    Some(Position {
        event_time_ms: time.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

/// FNV-1a over the request's filtering parameters: a tamper check is not needed (a forged
/// position only lists events the caller may list anyway), only "same question".
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_only_for_the_same_question() {
        let at = Position {
            event_time_ms: 1_700_000_000_123,
            seq: 42,
        };
        let print = fingerprint(&[b"EventName", b"GetRole"]);
        let token = encode(at, print);
        assert_eq!(decode(&token, print), Some(at));
        assert_eq!(
            decode(&token, fingerprint(&[b"EventName", b"ListRoles"])),
            None
        );
        assert_eq!(decode("not-a-token", print), None);
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
    }
}
