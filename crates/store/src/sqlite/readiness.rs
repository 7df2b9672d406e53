//! Whether the database can serve this build (`Store::ready`, the admin listener's `/readyz`):
//! it answers a query, and its schema is the one this build's embedded migrations make. The
//! comparison is shared with PostgreSQL's (`postgres/readiness.rs`), which tolerates newer
//! migrations.

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;

use crate::error::{Result, StoreError};

/// One row of sqlx's `_sqlx_migrations`: version, whether it finished, its SQL's checksum.
pub(crate) type Applied = (i64, bool, Vec<u8>);

/// What this build's schema check makes of migrations it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Newer {
    /// Not ready: a newer roleplane migrated the database, this one must not serve it.
    Refused,
    /// Ready: a newer release's additive migrations, which this one runs on during a rolling
    /// upgrade (PostgreSQL, decision 0026).
    Tolerated,
}

/// What sqlx recorded of the migrations applied.
pub(crate) const APPLIED: &str =
    "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version";

/// The up migrations `migrator` embeds: version and checksum.
pub(crate) fn embedded(migrator: &Migrator) -> impl Iterator<Item = (i64, &[u8])> {
    migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, &*m.checksum))
}

/// Reads what was applied (the trivial query that also proves the database answers) and
/// compares it with what `migrator` embeds.
pub(super) async fn check(pool: &SqlitePool, migrator: &Migrator) -> Result<()> {
    let applied: Vec<Applied> = sqlx::query_as(APPLIED).fetch_all(pool).await?;
    compare(embedded(migrator), &applied, Newer::Refused).map_err(StoreError::Schema)
}

/// Every embedded migration applied whole with the same SQL, and, unless `newer` tolerates
/// them, nothing applied that this build does not know.
pub(crate) fn compare<'a>(
    embedded: impl Iterator<Item = (i64, &'a [u8])>,
    applied: &[Applied],
    newer: Newer,
) -> std::result::Result<(), String> {
    let mut known = Vec::new();
    for (version, checksum) in embedded {
        known.push(version);
        match applied.iter().find(|(v, _, _)| *v == version) {
            None => return Err(format!("migration {version} is not applied")),
            Some((_, false, _)) => return Err(format!("migration {version} is partly applied")),
            Some((_, true, sum)) if sum.as_slice() != checksum => {
                return Err(format!(
                    "migration {version} was applied from different SQL than this build's"
                ));
            }
            Some(_) => {}
        }
    }
    if newer == Newer::Tolerated {
        return Ok(());
    }
    match applied.iter().find(|(v, _, _)| !known.contains(v)) {
        Some((version, _, _)) => Err(format!(
            "migration {version} is applied but unknown to this build (a newer roleplane?)"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_only_when_applied_matches_embedded_exactly() {
        let embedded = [(1, b"one".as_slice()), (2, b"two".as_slice())];
        let row = |v: i64, ok: bool, sum: &[u8]| (v, ok, sum.to_vec());
        let cases: &[(&[Applied], Option<&str>)] = &[
            (&[row(1, true, b"one"), row(2, true, b"two")], None),
            (&[row(1, true, b"one")], Some("migration 2 is not applied")),
            (&[], Some("migration 1 is not applied")),
            (
                &[row(1, true, b"one"), row(2, false, b"two")],
                Some("migration 2 is partly applied"),
            ),
            (
                &[row(1, true, b"uno"), row(2, true, b"two")],
                Some("migration 1 was applied from different SQL"),
            ),
            (
                &[
                    row(1, true, b"one"),
                    row(2, true, b"two"),
                    row(3, true, b"x"),
                ],
                Some("migration 3 is applied but unknown"),
            ),
        ];
        for (applied, expected) in cases {
            let result = compare(embedded.iter().copied(), applied, Newer::Refused);
            match expected {
                None => assert_eq!(result, Ok(()), "{applied:?}"),
                Some(start) => {
                    let message = result.expect_err("not current");
                    assert!(message.starts_with(start), "{message} for {applied:?}");
                }
            }
        }
    }

    /// During a rolling upgrade: this build's migrations must all be there as it wrote them,
    /// and a newer release's are no reason to stop serving.
    #[test]
    fn newer_migrations_tolerated_this_builds_still_required() {
        let embedded = [(1, b"one".as_slice()), (2, b"two".as_slice())];
        let row = |v: i64, ok: bool, sum: &[u8]| (v, ok, sum.to_vec());
        let cases: &[(&[Applied], Option<&str>)] = &[
            (&[row(1, true, b"one"), row(2, true, b"two")], None),
            (
                &[
                    row(1, true, b"one"),
                    row(2, true, b"two"),
                    row(3, true, b"x"),
                ],
                None,
            ),
            (
                &[row(1, true, b"one"), row(3, true, b"x")],
                Some("migration 2 is not applied"),
            ),
            (
                &[
                    row(1, true, b"one"),
                    row(2, false, b"two"),
                    row(3, true, b"x"),
                ],
                Some("migration 2 is partly applied"),
            ),
            (
                &[
                    row(1, true, b"uno"),
                    row(2, true, b"two"),
                    row(3, true, b"x"),
                ],
                Some("migration 1 was applied from different SQL"),
            ),
        ];
        for (applied, expected) in cases {
            let result = compare(embedded.iter().copied(), applied, Newer::Tolerated);
            match expected {
                None => assert_eq!(result, Ok(()), "{applied:?}"),
                Some(start) => {
                    let message = result.expect_err("not current");
                    assert!(message.starts_with(start), "{message} for {applied:?}");
                }
            }
        }
    }
}
