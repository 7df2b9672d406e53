//! Loopback addresses for instances in local mode, on PostgreSQL: the range and its rules are
//! `sqlite::loopback`'s; here are the lookups in the launching transaction.

use std::net::Ipv4Addr;

use sqlx::PgConnection;

use crate::error::{Ec2Rejection, Result, StoreError};
use crate::sqlite::loopback::{FIRST, LAST, usable};

/// Whether a live instance holds `address`.
pub(super) async fn in_use(conn: &mut PgConnection, address: &str) -> Result<bool> {
    let found: Option<bool> = sqlx::query_scalar(
        "SELECT TRUE FROM instances WHERE private_ip = $1 AND state <> 'terminated'",
    )
    .bind(address)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// The next free address; runs inside the launching transaction, which holds EC2's lock.
pub(super) async fn allocate(conn: &mut PgConnection) -> Result<String> {
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
