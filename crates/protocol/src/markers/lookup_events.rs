//! CloudTrail LookupEvents' `NextToken`: where the last page ended, bound to the question it
//! answered.
//!
//! AWS requires a token to come back with the parameters that produced it; the token carries a
//! fingerprint of those parameters, so a token replayed with others is refused rather than
//! silently continuing a different listing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Where a page ended: the numbers of the store's audit position (`store::audit::Position`,
/// which this crate does not depend on; `cloudtrail::token` converts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub event_time_ms: i64,
    /// Place reached in the journal of authenticated calls.
    pub seq: i64,
    /// Place reached in the journal of calls without an authenticated caller, if started.
    pub unauthenticated_seq: Option<i64>,
}

/// `v2` adds the place in the journal of unauthenticated calls; `v1` tokens (one journal)
/// are still read.
const VERSION: &str = "v2";
const VERSION_1: &str = "v1";

pub fn encode(place: Place, fingerprint: u64) -> String {
    let unauthenticated = place
        .unauthenticated_seq
        .map_or_else(|| "-".to_owned(), |seq| seq.to_string());
    URL_SAFE_NO_PAD.encode(format!(
        "{VERSION}.{}.{}.{unauthenticated}.{fingerprint:016x}",
        place.event_time_ms, place.seq
    ))
}

/// The place a token continues from, if it is one of ours for this fingerprint.
pub fn decode(token: &str, fingerprint: u64) -> Option<Place> {
    if token.len() > 256 {
        return None;
    }
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let parts: Vec<&str> = raw.split('.').collect();
    let (time, seq, unauthenticated, print) = match parts[..] {
        [VERSION, time, seq, unauthenticated, print] => (time, seq, unauthenticated, print),
        [VERSION_1, time, seq, print] => (time, seq, "-", print),
        _ => return None,
    };
    if u64::from_str_radix(print, 16).ok()? != fingerprint {
        return None;
    }
    Some(Place {
        event_time_ms: time.parse().ok()?,
        seq: seq.parse().ok()?,
        unauthenticated_seq: match unauthenticated {
            "-" => None,
            seq => Some(seq.parse().ok()?),
        },
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
        let at = Place {
            event_time_ms: 1_700_000_000_123,
            seq: 42,
            unauthenticated_seq: Some(7),
        };
        let print = fingerprint(&[b"EventName", b"GetRole"]);
        let token = encode(at, print);
        assert_eq!(decode(&token, print), Some(at));
        assert_eq!(
            decode(&token, fingerprint(&[b"EventName", b"ListRoles"])),
            None
        );
        assert_eq!(decode("not-a-token", print), None);
        let one_journal = URL_SAFE_NO_PAD.encode(format!("v1.1700000000123.42.{print:016x}"));
        assert_eq!(
            decode(&one_journal, print),
            Some(Place {
                unauthenticated_seq: None,
                ..at
            })
        );
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
    }
}
