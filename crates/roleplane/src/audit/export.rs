//! `roleplane audit export`: every record in a time range, oldest first, one JSON document per
//! line. Reads `audit.db` beside a running server (WAL readers never block its writer), or with
//! `--store postgres://…` the trail every replica commits to.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use store::audit::{EventQuery, Order};
use store::{AuditLog, AuditTrail, DatabaseUrl, PgAuditLog};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Records per read: large enough to amortise the query, small enough to stream.
const PAGE: u32 = 5_000;

/// A `--since`/`--until` value: RFC 3339 (`2024-05-01T00:00:00Z`) or epoch seconds.
pub fn parse_time(value: &str) -> Result<OffsetDateTime, String> {
    if let Ok(seconds) = value.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| e.to_string());
    }
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        format!("{value:?} is neither RFC 3339 (2024-05-01T00:00:00Z) nor epoch seconds")
    })
}

/// The trail a reader beside the servers opens: the one in the PostgreSQL database at `store`
/// (every replica's records), else the data dir's.
pub async fn open_trail(
    data_dir: &Path,
    store: Option<&DatabaseUrl>,
) -> anyhow::Result<AuditTrail> {
    let Some(url) = store else {
        anyhow::ensure!(
            data_dir.join(store::AUDIT_DATABASE_FILE).exists(),
            "{} has no audit trail yet (start `roleplane serve` on it)",
            data_dir.display()
        );
        let log = AuditLog::open_existing(data_dir)
            .await
            .context("opening the audit log")?;
        return Ok(log.into());
    };
    // The URL is shown redacted: `DatabaseUrl` never prints its password.
    anyhow::ensure!(
        url.is_postgres(),
        "--store takes a postgres:// or postgresql:// URL, not {url}"
    );
    let log = PgAuditLog::connect(url)
        .await
        .with_context(|| format!("opening the audit trail in {url}"))?;
    Ok(log.into())
}

/// Writes the records of `[since, until]` to `out`; returns how many.
pub async fn export(
    data_dir: &Path,
    store: Option<&DatabaseUrl>,
    since: OffsetDateTime,
    until: Option<OffsetDateTime>,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let log = open_trail(data_dir, store).await?;
    let mut query = EventQuery {
        start_ms: Some(super::record::epoch_ms(since)),
        end_ms: until.map(super::record::epoch_ms),
        order: Order::OldestFirst,
        limit: PAGE,
        ..EventQuery::default()
    };
    let mut written = 0;
    loop {
        let page = log.lookup(&query).await?;
        for event in &page {
            out.write_all(event.record.as_bytes())?;
            out.write_all(b"\n")?;
        }
        written += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == PAGE as usize => query.after = Some(last.position()),
            _ => break,
        }
    }
    out.flush()?;
    log.close().await;
    Ok(written)
}
