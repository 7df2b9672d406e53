//! ListObjects on PostgreSQL: the walk of `sqlite::object_listing` (batches of the primary key,
//! a jump past each common prefix), over batches read in one REPEATABLE READ snapshot. Keys
//! compare under COLLATE "C", UTF-8 byte order, the order `successor` reasons in.

use sqlx::{AssertSqlSafe, PgConnection};

use super::s3_rows::require_bucket;
use super::{Db, begin_read, corrupt};
use crate::error::Result;
use crate::s3::{ObjectListing, ObjectPage};
use crate::sqlite::object_listing::{Bound, PageBuilder, start, successor};
use crate::sqlite::s3_rows::{OBJECT_COLUMNS, ObjectRow};

pub(super) async fn list(db: &Db, bucket: &str, listing: &ObjectListing) -> Result<ObjectPage> {
    // One read transaction: every batch sees the same snapshot.
    let mut tx = begin_read(db).await?;
    require_bucket(&mut tx, bucket).await?;
    let mut page = PageBuilder::new(listing.max_keys);
    if listing.max_keys == 0 {
        return Ok(page.finish());
    }
    let delimiter = listing.delimiter.as_deref().filter(|d| !d.is_empty());
    let after = listing.after.as_deref();
    let end = successor(&listing.prefix);
    let mut from = start(&listing.prefix, after);
    'batches: loop {
        let want = page.room() + 1;
        let rows = batch(&mut tx, bucket, &from, end.as_deref(), want).await?;
        let exhausted = rows.len() < want;
        for row in rows {
            let Some(rest) = row.key.strip_prefix(listing.prefix.as_str()) else {
                return Err(corrupt(format!(
                    "object key {:?} outside the range of prefix {:?}: keys must compare \
                     in byte order",
                    row.key, listing.prefix
                )));
            };
            match delimiter.and_then(|d| rest.find(d).map(|at| at + d.len())) {
                Some(length) => {
                    let common = &row.key[..listing.prefix.len() + length];
                    // A common prefix at or before the marker was on an earlier page (or the
                    // marker lies inside it): S3 returns only what sorts after the marker.
                    if after.is_none_or(|after| common > after) && !page.push_prefix(common) {
                        break 'batches;
                    }
                    match successor(common) {
                        Some(past) => from = Bound::inclusive(past),
                        None => break 'batches,
                    }
                    continue 'batches;
                }
                None => {
                    from = Bound::exclusive(row.key.clone());
                    if !page.push_object(row)? {
                        break 'batches;
                    }
                }
            }
        }
        if exhausted {
            break;
        }
    }
    tx.commit().await?;
    Ok(page.finish())
}

/// Up to `limit` objects from `from`, before `end` (exclusive), in key order.
async fn batch(
    conn: &mut PgConnection,
    bucket: &str,
    from: &Bound,
    end: Option<&str>,
    limit: usize,
) -> Result<Vec<ObjectRow>> {
    let from_op = if from.inclusive { ">=" } else { ">" };
    let (end_clause, limit_param) = match end {
        Some(_) => (" AND key < $3", "$4"),
        None => ("", "$3"),
    };
    let sql = format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = $1 AND key {from_op} $2{end_clause} \
         ORDER BY key LIMIT {limit_param}"
    );
    let mut query = sqlx::query_as(AssertSqlSafe(sql))
        .bind(bucket)
        .bind(&from.key);
    if let Some(end) = end {
        query = query.bind(end);
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(query.bind(limit).fetch_all(&mut *conn).await?)
}
