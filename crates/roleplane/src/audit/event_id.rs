//! `eventID`s: UUIDs in the time-ordered version 7 layout (48 bits of epoch milliseconds, then
//! random bits). The log's unique index on event IDs then grows at its end like the log itself,
//! instead of dirtying a random page per record.
//!
//! The random bits come from a per-thread generator seeded once from the OS, not a system call
//! per record: they make IDs unique, they are not a secret.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // Threads start at different nanoseconds: still distinct, never a panic.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or_default();
        return u64::from(nanos);
    }
    u64::from_le_bytes(bytes)
}

/// SplitMix64: a full-period sequence, well mixed, a few instructions per number.
fn next_random() -> u64 {
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// A new event ID for an event at `at_ms` (epoch milliseconds).
pub fn new(at_ms: i64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    let ms = u64::try_from(at_ms).unwrap_or(0).to_be_bytes();
    bytes[..6].copy_from_slice(&ms[2..]);
    bytes[6..14].copy_from_slice(&next_random().to_be_bytes());
    bytes[14..].copy_from_slice(&next_random().to_be_bytes()[..2]);
    bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    let mut id = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn event_ids_are_time_ordered_uuids() {
        let a = super::new(1_700_000_000_000);
        let b = super::new(1_700_000_000_001);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "7");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_eq!(&a[..13], "018bcfe5-6800");
        assert!(a < b, "{a} {b}");
    }

    #[test]
    fn ids_in_one_millisecond_differ_across_threads() {
        let mine: Vec<String> = (0..10_000).map(|_| super::new(5)).collect();
        let theirs = std::thread::spawn(|| (0..10_000).map(|_| super::new(5)).collect::<Vec<_>>())
            .join()
            .unwrap();
        let all: HashSet<_> = mine.iter().chain(&theirs).collect();
        assert_eq!(all.len(), 20_000);
    }
}
