//! The writers' locks (decision 0026): transaction-scoped advisory locks, one per domain of
//! writes, so the writes of a domain run one at a time across every replica, as SQLite runs all
//! writes one at a time.
//!
//! Keys use PostgreSQL's two-`int4` form, whose key space is apart from the one-`bigint` form
//! sqlx's migrator locks with.

use sqlx::PgConnection;

use crate::error::Result;
use crate::model::Topic;

/// One lock: a domain, and within it an account's share (0 for the whole domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lock {
    domain: i32,
    key: i32,
}

const IAM: i32 = 1;
const EC2: i32 = 2;
/// Buckets and objects share one domain: deleting a bucket ends its uploads and must see its
/// objects, so bucket and object writes may not interleave.
const S3: i32 = 3;
const BOOKKEEPING: i32 = 4;
// 5: the audit trail's pruning, a session-level lock (`audit/postgres/pruning.rs`).

impl Lock {
    /// IAM writes of one account. Two accounts whose keys collide only wait for each other.
    pub(super) fn iam(account: &str) -> Self {
        Self {
            domain: IAM,
            key: fnv1a(account),
        }
    }

    /// The one lock of a topic's writes: EC2's, for the addresses and the instance change
    /// sequence every account shares; S3's, for global bucket names; bookkeeping's.
    pub(super) fn of(topic: Topic) -> Self {
        let domain = match topic {
            Topic::Iam => IAM,
            Topic::Ec2 => EC2,
            Topic::Buckets | Topic::Objects => S3,
            Topic::Bookkeeping => BOOKKEEPING,
        };
        Self { domain, key: 0 }
    }

    /// Waits for the lock (at most the connection's `lock_timeout`); the transaction's end
    /// releases it.
    pub(super) async fn take(self, conn: &mut PgConnection) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(self.domain)
            .bind(self.key)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// A stable 32-bit hash (FNV-1a), the same in every replica and release.
fn fnv1a(text: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i32::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_keys_are_stable_and_distinct() {
        // Pinned: replicas of different releases must agree on every key.
        assert_eq!(fnv1a(""), 0x811c_9dc5_u32 as i32);
        assert_eq!(fnv1a("a"), 0xe40c_292c_u32 as i32);
        assert_ne!(Lock::iam("123456789012"), Lock::iam("210987654321"));
        assert_eq!(Lock::of(Topic::Buckets), Lock::of(Topic::Objects));
        assert_ne!(Lock::of(Topic::Ec2), Lock::of(Topic::Bookkeeping));
    }
}
