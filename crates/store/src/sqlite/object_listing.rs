//! ListObjects: one page of a bucket's keys in UTF-8 byte order, with keys that share a
//! delimited prefix rolled up into one common prefix.
//!
//! The scan walks the `objects` primary key in batches. After a common prefix it jumps past
//! every key that starts with it (to the prefix's [`successor`]) instead of reading them, so a
//! page costs about one query per common prefix plus one per batch of plain keys, however many
//! keys the prefixes hold. Ranges are plain comparisons (never `LIKE`, which folds case and
//! gives `%` and `_` meanings); the BINARY collation compares UTF-8 bytes, which is code point
//! order, which is the order [`successor`] reasons in.

use sqlx::{AssertSqlSafe, Sqlite, SqlitePool, Transaction};

use super::corrupt;
use super::s3_rows::{OBJECT_COLUMNS, ObjectRow, require_bucket};
use crate::error::Result;
use crate::s3::{ObjectListing, ObjectPage};

pub(super) async fn list(
    pool: &SqlitePool,
    bucket: &str,
    listing: &ObjectListing,
) -> Result<ObjectPage> {
    // One read transaction: every batch sees the same snapshot.
    let mut tx = pool.begin().await?;
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
    Ok(page.finish())
}

/// Where a scan (re)starts: the first key it may return, or the key it must pass.
pub(crate) struct Bound {
    pub(crate) key: String,
    pub(crate) inclusive: bool,
}

impl Bound {
    pub(crate) fn inclusive(key: String) -> Self {
        Self {
            key,
            inclusive: true,
        }
    }

    pub(crate) fn exclusive(key: String) -> Self {
        Self {
            key,
            inclusive: false,
        }
    }
}

/// The first position: the prefix itself, or past the marker when that lies beyond it.
pub(crate) fn start(prefix: &str, after: Option<&str>) -> Bound {
    match after {
        Some(after) if after >= prefix => Bound::exclusive(after.to_owned()),
        _ => Bound::inclusive(prefix.to_owned()),
    }
}

/// Up to `limit` objects from `from`, before `end` (exclusive), in key order.
async fn batch(
    tx: &mut Transaction<'static, Sqlite>,
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
    Ok(query.bind(limit).fetch_all(&mut **tx).await?)
}

/// The least string greater than every string that starts with `prefix`: its last character
/// moved to the next Unicode scalar value (dropping trailing U+10FFFF, which has none). `None`
/// when no string is past them all (an empty prefix, or one of nothing but U+10FFFF).
pub(crate) fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value, skipping the surrogates (which no string holds).
fn next_char(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        _ => char::from_u32(u32::from(c) + 1),
    }
}

/// A page being filled, which learns that it is truncated when an entry finds it full.
pub(crate) struct PageBuilder {
    page: ObjectPage,
    max: usize,
}

impl PageBuilder {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            page: ObjectPage::default(),
            max,
        }
    }

    fn len(&self) -> usize {
        self.page.objects.len() + self.page.common_prefixes.len()
    }

    pub(crate) fn room(&self) -> usize {
        self.max.saturating_sub(self.len())
    }

    /// Adds the prefix; `false` (and truncated) if the page is already full.
    pub(crate) fn push_prefix(&mut self, prefix: &str) -> bool {
        if self.room() == 0 {
            self.page.truncated = true;
            return false;
        }
        self.page.common_prefixes.push(prefix.to_owned());
        self.page.last = Some(prefix.to_owned());
        true
    }

    /// Adds the object; `false` (and truncated) if the page is already full.
    pub(crate) fn push_object(&mut self, row: ObjectRow) -> Result<bool> {
        if self.room() == 0 {
            self.page.truncated = true;
            return Ok(false);
        }
        self.page.last = Some(row.key.clone());
        self.page.objects.push(row.into_object()?);
        Ok(true)
    }

    pub(crate) fn finish(self) -> ObjectPage {
        self.page
    }
}

#[cfg(test)]
mod tests {
    use super::successor;

    #[test]
    fn the_successor_passes_every_string_with_the_prefix() {
        assert_eq!(successor("a/"), Some("a0".to_owned()));
        assert_eq!(successor("é"), Some("ê".to_owned()));
        assert_eq!(successor("x\u{D7FF}"), Some("x\u{E000}".to_owned()));
        assert_eq!(successor("x\u{10FFFF}"), Some("y".to_owned()));
        assert_eq!(successor("\u{10FFFF}\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
        for key in ["a/", "a/b", "a/\u{10FFFF}", "a/\u{10FFFF}\u{10FFFF}"] {
            assert!(key < successor("a/").unwrap().as_str());
        }
    }
}
