//! Whether the database can serve this build (`Store::ready`, the admin listener's `/readyz`):
//! it answers a query, and its schema is the one this build's embedded migrations make.

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;

use crate::error::{Result, StoreError};

/// One row of sqlx's `_sqlx_migrations`: version, whether it finished, its SQL's checksum.
pub(super) type Applied = (i64, bool, Vec<u8>);

/// Reads what was applied (the trivial query that also proves the database answers) and
/// compares it with what `migrator` embeds.
pub(super) async fn check(pool: &SqlitePool, migrator: &Migrator) -> Result<()> {
    let applied: Vec<Applied> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await?;
    let embedded = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, &*m.checksum));
    compare(embedded, &applied).map_err(StoreError::Schema)
}

/// Every embedded migration applied whole with the same SQL, and nothing applied that this
/// build does not know (a newer roleplane migrated the database: this one must not serve it).
fn compare<'a>(
    embedded: impl Iterator<Item = (i64, &'a [u8])>,
    applied: &[Applied],
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
            let result = compare(embedded.iter().copied(), applied);
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
