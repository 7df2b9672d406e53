//! LookupEvents' `NextToken` over the store's audit positions; the token's wire form is
//! `protocol::markers::lookup_events`.

use protocol::markers::lookup_events::{self, Place};
use store::audit::Position;

pub use lookup_events::fingerprint;

pub fn encode(position: Position, fingerprint: u64) -> String {
    let Position {
        event_time_ms,
        seq,
        unauthenticated_seq,
    } = position;
    lookup_events::encode(
        Place {
            event_time_ms,
            seq,
            unauthenticated_seq,
        },
        fingerprint,
    )
}

/// The position a token continues from, if it is one of ours for this fingerprint.
pub fn decode(token: &str, fingerprint: u64) -> Option<Position> {
    let Place {
        event_time_ms,
        seq,
        unauthenticated_seq,
    } = lookup_events::decode(token, fingerprint)?;
    Some(Position {
        event_time_ms,
        seq,
        unauthenticated_seq,
    })
}
