//! How many failing unauthenticated calls a client may make before it is answered `Throttling`
//! (S3: `SlowDown`) and leaves no audit record.
//!
//! Only calls that failed and had no authenticated caller are counted: a valid signature, or an
//! anonymous S3 request a policy allows, never reaches these limits, whatever its address or
//! key id. Two token buckets must both have a token: one per (source address, claimed access
//! key id) and one per source address, ten times larger, so that a client cycling through
//! made-up key ids is held too.
//!
//! Memory is bounded: each of the [`SHARDS`] maps holds at most [`ENTRIES_PER_SHARD`] buckets.
//! When a map is full, buckets that have refilled (indistinguishable from new ones) are dropped,
//! then, if none has, an arbitrary eighth: a client's bucket may then start over full, which lets
//! it through sooner but never holds anyone back.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

const SHARDS: usize = 16;
const ENTRIES_PER_SHARD: usize = 4096;
/// The per-address bucket is this many times the per-(address, key) one.
const ADDRESS_FACTOR: f64 = 10.0;
/// A bucket holds this many seconds' worth of its rate.
const BURST_SECONDS: f64 = 10.0;

/// The per-(address, key) rate in failing calls per second; 0 turns the limits off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureRate(pub f64);

/// The limits, shared by every request of a server.
pub struct FailureLimits {
    rate: f64,
    shards: [Mutex<HashMap<u64, Bucket>>; SHARDS],
    hasher: std::hash::RandomState,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl FailureLimits {
    pub fn new(rate: FailureRate) -> Self {
        Self {
            rate: rate.0.max(0.0),
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            hasher: std::hash::RandomState::new(),
        }
    }

    /// Whether a failing unauthenticated call from `source`, claiming `key_id`, may be answered
    /// as it is (and recorded); `false` means answer `Throttling` instead. Takes a token from
    /// both buckets when it admits.
    pub fn admit(&self, source: IpAddr, key_id: Option<&str>, now: Instant) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let pair = self.key(&(source, key_id.unwrap_or("")));
        let address = self.key(&source);
        let address_rate = self.rate * ADDRESS_FACTOR;
        // Check both before taking from either, so a refusal costs no token.
        if !self.has_token(pair, self.rate, now) || !self.has_token(address, address_rate, now) {
            return false;
        }
        self.take(pair, self.rate, now);
        self.take(address, address_rate, now);
        true
    }

    fn key(&self, value: &impl Hash) -> u64 {
        self.hasher.hash_one(value)
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Bucket>> {
        let shard = &self.shards[(key as usize) % SHARDS];
        // A panic while holding the lock leaves plain numbers behind: still usable.
        shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn has_token(&self, key: u64, rate: f64, now: Instant) -> bool {
        let shard = self.shard(key);
        shard
            .get(&key)
            .is_none_or(|bucket| bucket.refilled(rate, now) >= 1.0)
    }

    fn take(&self, key: u64, rate: f64, now: Instant) {
        let capacity = rate * BURST_SECONDS;
        let mut shard = self.shard(key);
        if !shard.contains_key(&key) && shard.len() >= ENTRIES_PER_SHARD {
            shard.retain(|_, bucket| bucket.refilled(rate, now) < capacity);
            // Still full: drop an arbitrary eighth, so the scan above runs once per many
            // inserts and not on every one.
            if shard.len() >= ENTRIES_PER_SHARD {
                let victims: Vec<u64> = shard.keys().take(ENTRIES_PER_SHARD / 8).copied().collect();
                for victim in victims {
                    shard.remove(&victim);
                }
            }
        }
        let bucket = shard.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens = bucket.refilled(rate, now) - 1.0;
        bucket.at = now;
    }
}

impl Bucket {
    fn refilled(&self, rate: f64, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * rate).min(rate * BURST_SECONDS)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    /// How many of `n` calls at `now` are admitted.
    fn admitted(
        limits: &FailureLimits,
        source: IpAddr,
        key: &str,
        n: usize,
        now: Instant,
    ) -> usize {
        (0..n)
            .filter(|_| limits.admit(source, Some(key), now))
            .count()
    }

    #[test]
    fn a_burst_then_the_rate() {
        let limits = FailureLimits::new(FailureRate(2.0));
        let t0 = Instant::now();
        assert_eq!(admitted(&limits, ip(1), "AKIABAD", 100, t0), 20);
        assert_eq!(
            admitted(&limits, ip(1), "AKIABAD", 100, t0 + Duration::from_secs(3)),
            6
        );
        assert_eq!(
            admitted(&limits, ip(1), "AKIABAD", 100, t0 + Duration::from_secs(60)),
            20
        );
    }

    #[test]
    fn other_addresses_and_other_keys_have_their_own_buckets() {
        let limits = FailureLimits::new(FailureRate(2.0));
        let t0 = Instant::now();
        assert_eq!(admitted(&limits, ip(1), "AKIAONE", 100, t0), 20);
        assert_eq!(admitted(&limits, ip(2), "AKIAONE", 100, t0), 20);
        assert_eq!(admitted(&limits, ip(1), "AKIATWO", 100, t0), 20);
    }

    #[test]
    fn made_up_keys_from_one_address_meet_the_address_bucket() {
        let limits = FailureLimits::new(FailureRate(2.0));
        let t0 = Instant::now();
        let total: usize = (0..1000)
            .map(|i| admitted(&limits, ip(1), &format!("AKIA{i:016}"), 1, t0))
            .sum();
        assert_eq!(total, 200);
        // Another address is untouched.
        assert_eq!(
            admitted(&limits, ip(2), "AKIA0000000000000000", 100, t0),
            20
        );
    }

    #[test]
    fn a_refusal_takes_no_token() {
        let limits = FailureLimits::new(FailureRate(1.0));
        let t0 = Instant::now();
        // Exhaust the address bucket (100) with fresh keys, then one key's own bucket is
        // still full once the address refills.
        assert_eq!(
            (0..200)
                .filter(|i| limits.admit(ip(1), Some(&format!("K{i}")), t0))
                .count(),
            100
        );
        assert!(!limits.admit(ip(1), Some("KFRESH"), t0));
        let later = t0 + Duration::from_secs(100);
        assert_eq!(admitted(&limits, ip(1), "KFRESH", 100, later), 10);
    }

    #[test]
    fn rate_zero_is_off() {
        let limits = FailureLimits::new(FailureRate(0.0));
        assert_eq!(
            admitted(&limits, ip(1), "K", 10_000, Instant::now()),
            10_000
        );
    }

    #[test]
    fn memory_stays_bounded_under_a_spray_of_addresses() {
        let limits = FailureLimits::new(FailureRate(1.0));
        let t0 = Instant::now();
        for i in 0..200_000u32 {
            limits.admit(IpAddr::from(i.to_be_bytes()), Some("K"), t0);
        }
        let entries: usize = limits.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(entries <= SHARDS * ENTRIES_PER_SHARD, "{entries}");
    }
}
