//! Loopback addresses for instances in local mode: each live instance gets its own address in
//! 127.1.0.1–127.254.255.254 (never 127.0.0.1, never a `.0` or `.255` host part), so the
//! metadata service can tell instances apart by the address a connection comes from.
//!
//! [`assignable`] is that range as a rule: a launch that asks for a loopback address gets one
//! only inside it, so no instance takes over 127.0.0.1 (the host's own loopback, where the API
//! and the metadata anchor listen) or the network and broadcast addresses of 127.0.0.0/8.
//!
//! A cursor remembers where the last search ended, so allocation costs one or a few indexed
//! lookups however many instances exist; addresses of terminated instances are reused once
//! the cursor wraps around.

use std::net::Ipv4Addr;

use sqlx::SqliteConnection;

use crate::error::{Ec2Rejection, Result, StoreError};

pub(crate) const FIRST: u32 = u32::from_be_bytes([127, 1, 0, 1]);
pub(crate) const LAST: u32 = u32::from_be_bytes([127, 254, 255, 254]);

/// Whether a live instance holds `address`.
pub(super) async fn in_use(conn: &mut SqliteConnection, address: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM instances WHERE private_ip = $1 AND state <> 'terminated'",
    )
    .bind(address)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// The next free address; runs inside the launching transaction, which holds the write lock.
pub(super) async fn allocate(conn: &mut SqliteConnection) -> Result<String> {
    let cursor: Option<i64> =
        sqlx::query_scalar("SELECT next_address FROM loopback_cursor WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?;
    let start = cursor
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (FIRST..=LAST).contains(n))
        .unwrap_or(FIRST);
    let mut candidate = start;
    loop {
        if usable(candidate) {
            let address = Ipv4Addr::from(candidate).to_string();
            if !in_use(conn, &address).await? {
                let next = if candidate == LAST {
                    FIRST
                } else {
                    candidate + 1
                };
                sqlx::query(
                    "INSERT INTO loopback_cursor (id, next_address) VALUES (1, $1) \
                     ON CONFLICT (id) DO UPDATE SET next_address = excluded.next_address",
                )
                .bind(i64::from(next))
                .execute(&mut *conn)
                .await?;
                return Ok(address);
            }
        }
        candidate = if candidate == LAST {
            FIRST
        } else {
            candidate + 1
        };
        if candidate == start {
            return Err(StoreError::Ec2(Ec2Rejection::AddressesExhausted));
        }
    }
}

/// Host parts `.0` and `.255` are skipped: tools treat them as network and broadcast addresses.
pub(crate) fn usable(address: u32) -> bool {
    !matches!(address & 0xff, 0 | 255)
}

/// Whether `address` is one this module could assign: inside the range, host part not `.0` or
/// `.255`.
pub fn assignable(address: Ipv4Addr) -> bool {
    let n = u32::from(address);
    (FIRST..=LAST).contains(&n) && usable(n)
}

/// Refuses a requested address that is loopback outside the assignable range, or unspecified:
/// the server checks first, with its own wording; this keeps the rule whoever launches.
pub(crate) fn check_requested(address: &str) -> Result<()> {
    match address.parse::<Ipv4Addr>() {
        Ok(ip) if ip.is_unspecified() || (ip.is_loopback() && !assignable(ip)) => {
            Err(StoreError::Ec2(Ec2Rejection::AddressUnusable {
                address: address.to_owned(),
            }))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_stays_off_127_0_0_1_and_edge_host_parts() {
        assert_eq!(Ipv4Addr::from(FIRST), Ipv4Addr::new(127, 1, 0, 1));
        assert!(!usable(u32::from_be_bytes([127, 1, 1, 0])));
        assert!(!usable(u32::from_be_bytes([127, 1, 1, 255])));
        assert!(usable(LAST));
    }

    #[test]
    fn only_the_range_is_assignable() {
        for refused in [
            [127, 0, 0, 0],
            [127, 0, 0, 1],
            [127, 0, 255, 254],
            [127, 1, 0, 0],
            [127, 1, 2, 255],
            [127, 255, 0, 1],
            [127, 255, 255, 255],
            [0, 0, 0, 0],
            [10, 0, 0, 5],
        ] {
            assert!(!assignable(Ipv4Addr::from(refused)), "{refused:?}");
        }
        for taken in [[127, 1, 0, 1], [127, 3, 0, 9], [127, 254, 255, 254]] {
            assert!(assignable(Ipv4Addr::from(taken)), "{taken:?}");
        }
        assert!(check_requested("127.0.0.1").is_err());
        assert!(check_requested("0.0.0.0").is_err());
        assert!(check_requested("127.3.0.9").is_ok());
        assert!(
            check_requested("10.213.1.2").is_ok(),
            "host mode's real addresses"
        );
    }
}
