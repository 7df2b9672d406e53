//! Whether the database can serve this build (`Store::ready`, the admin listener's `/readyz`):
//! it answers a query, every migration this build embeds is applied whole with this build's
//! SQL, and migrations it does not know are tolerated. Those are a newer release's, additive
//! (decision 0026): during a rolling upgrade the replicas not yet upgraded keep serving on the
//! newer schema, as `migrate` lets them start on it.

use sqlx::migrate::Migrator;

use super::Db;
use crate::error::{Result, StoreError};
use crate::sqlite::readiness::{APPLIED, Applied, Newer, compare, embedded};

pub(super) async fn check(db: &Db, migrator: &Migrator) -> Result<()> {
    let applied: Vec<Applied> = sqlx::query_as(APPLIED).fetch_all(&db.pool).await?;
    compare(embedded(migrator), &applied, Newer::Tolerated).map_err(StoreError::Schema)
}
