//! `roleplane store migrate`: an embedded SQLite store copied, row for row, into an empty
//! PostgreSQL database, in one PostgreSQL transaction (all of it or nothing).
//!
//! The copy is generic over tables: both schemas hold the same tables and columns
//! (`tests/postgres.rs` checks it), so each SQLite table's columns are read and inserted under
//! the same names, each value bound as its PostgreSQL column's type. Tables go in the order of
//! PostgreSQL's foreign keys (parents first), rows in SQLite's rowid order (so `tags.seq`, which
//! PostgreSQL numbers as rows arrive, keeps SQLite's order). What PostgreSQL computes itself is
//! left to it: the instance change stamps (a trigger numbers every inserted instance, so
//! `instance_change_counter`, which its migration seeds, is not copied) and the change counters
//! (`changes`, PostgreSQL's alone).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::postgres::{PgArguments, PgConnectOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Arguments as _, Connection as _, PgConnection, Row as _, SqliteConnection};

use crate::error::{Result, StoreError};
use crate::postgres::DatabaseUrl;
use crate::sqlite::DATABASE_FILE;
use crate::{PgStore, SqliteStore};

/// Tables a PostgreSQL migration seeds and keeps up itself.
const COMPUTED_ON_POSTGRES: &[&str] = &["instance_change_counter"];

/// Rows per INSERT statement: PostgreSQL takes at most 65,535 bound values in one.
const ROWS_PER_INSERT: usize = 200;

/// What a copy moved: rows per table, in the order copied.
#[derive(Debug, Default)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }
}

/// Copies the store of `data_dir` into the PostgreSQL database at `target`, which must hold no
/// account yet. Both schemas are first brought to this build's migrations.
pub async fn sqlite_to_postgres(data_dir: &Path, target: &DatabaseUrl) -> Result<Copied> {
    let file = data_dir.join(DATABASE_FILE);
    if !file.is_file() {
        return Err(StoreError::InvalidInput(format!(
            "{} holds no store",
            data_dir.display()
        )));
    }
    SqliteStore::open(data_dir).await?.close().await;
    PgStore::connect(target).await?.close().await;

    let mut source = SqliteConnection::connect_with(
        &SqliteConnectOptions::new().filename(&file).read_only(true),
    )
    .await?;
    let options: PgConnectOptions = target.expose().parse()?;
    let mut pg = PgConnection::connect_with(&options).await?;
    let mut tx = pg.begin().await?;
    // Replicas starting meanwhile would bootstrap an account of their own: they wait for this
    // lock (their bootstrap inserts an account) until the copy commits, and then find it.
    sqlx::query("LOCK TABLE accounts IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let (accounts,): (i64,) = sqlx::query_as("SELECT count(*) FROM accounts")
        .fetch_one(&mut *tx)
        .await?;
    if accounts > 0 {
        return Err(StoreError::InvalidInput(
            "the PostgreSQL database already holds accounts: the copy fills an empty one".into(),
        ));
    }

    // One read transaction: every table as of one moment, even beside a running server.
    let mut snapshot = source.begin().await?;
    let tables = sqlite_tables(&mut snapshot).await?;
    let mut copied = Copied::default();
    for table in parents_first(&mut tx, &tables).await? {
        let rows = copy_table(&mut snapshot, &mut tx, &table).await?;
        copied.tables.push((table, rows));
    }
    tx.commit().await?;
    snapshot.rollback().await?;
    source.close().await?;
    Ok(copied)
}

/// The SQLite store's tables that hold data to copy.
async fn sqlite_tables(source: &mut SqliteConnection) -> Result<BTreeSet<String>> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *source)
    .await?;
    Ok(names
        .into_iter()
        .map(|(name,)| name)
        .filter(|name| !COMPUTED_ON_POSTGRES.contains(&name.as_str()))
        .collect())
}

/// `tables` ordered so that every table comes after the tables its foreign keys name.
async fn parents_first(pg: &mut PgConnection, tables: &BTreeSet<String>) -> Result<Vec<String>> {
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT child.relname::TEXT, parent.relname::TEXT FROM pg_constraint c \
         JOIN pg_class child ON child.oid = c.conrelid \
         JOIN pg_class parent ON parent.oid = c.confrelid \
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *pg)
    .await?;
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in &edges {
        if child != parent
            && tables.contains(parent)
            && let Some(set) = parents.get_mut(child.as_str())
        {
            set.insert(parent.as_str());
        }
    }
    let mut order = Vec::with_capacity(tables.len());
    while !parents.is_empty() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(_, waiting)| waiting.is_empty())
            .map(|(table, _)| *table)
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Schema(format!(
                "the foreign keys among {:?} form a cycle",
                parents.keys().collect::<Vec<_>>()
            )));
        }
        for table in ready {
            parents.remove(table);
            for waiting in parents.values_mut() {
                waiting.remove(table);
            }
            order.push(table.to_owned());
        }
    }
    Ok(order)
}

/// How a column's value is bound on PostgreSQL.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Integer,
    Bytes,
    /// SQLite keeps booleans as integers.
    Boolean,
}

async fn copy_table(
    source: &mut SqliteConnection,
    pg: &mut PgConnection,
    table: &str,
) -> Result<u64> {
    let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info(?1)")
        .bind(table)
        .fetch_all(&mut *source)
        .await?;
    let types: BTreeMap<String, String> = sqlx::query_as(
        "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut *pg)
    .await?
    .into_iter()
    .collect();
    let mut kinds = Vec::with_capacity(columns.len());
    for (column,) in &columns {
        let kind = match types.get(column).map(String::as_str) {
            Some("text") => Kind::Text,
            Some("bigint" | "integer" | "smallint") => Kind::Integer,
            Some("bytea") => Kind::Bytes,
            Some("boolean") => Kind::Boolean,
            other => {
                return Err(StoreError::Schema(format!(
                    "{table}.{column} is {other:?} on PostgreSQL, which the copy does not bind"
                )));
            }
        };
        kinds.push(kind);
    }
    let names = columns
        .iter()
        .map(|(name,)| quoted(name))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!("SELECT {names} FROM {} ORDER BY rowid", quoted(table));
    let rows = sqlx::query(sqlx::AssertSqlSafe(select))
        .fetch_all(&mut *source)
        .await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut arguments = PgArguments::default();
        let mut tuples = Vec::with_capacity(chunk.len());
        for row in chunk {
            let mut placeholders = Vec::with_capacity(kinds.len());
            for (i, kind) in kinds.iter().enumerate() {
                bind(&mut arguments, row, i, *kind)?;
                placeholders.push(format!("${}", arguments.len()));
            }
            tuples.push(format!("({})", placeholders.join(", ")));
        }
        let insert = format!(
            "INSERT INTO {} ({names}) VALUES {}",
            quoted(table),
            tuples.join(", ")
        );
        sqlx::query_with(sqlx::AssertSqlSafe(insert), arguments)
            .execute(&mut *pg)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// Binds column `i` of `row` as `kind`. Unchecked reads: SQLite's declared types are
/// affinities, and the value is taken as the PostgreSQL column wants it.
fn bind(arguments: &mut PgArguments, row: &SqliteRow, i: usize, kind: Kind) -> Result<()> {
    let added = match kind {
        Kind::Text => arguments.add(row.try_get_unchecked::<Option<String>, _>(i)?),
        Kind::Integer => arguments.add(row.try_get_unchecked::<Option<i64>, _>(i)?),
        Kind::Bytes => arguments.add(row.try_get_unchecked::<Option<Vec<u8>>, _>(i)?),
        Kind::Boolean => arguments.add(
            row.try_get_unchecked::<Option<i64>, _>(i)?
                .map(|value| value != 0),
        ),
    };
    added.map_err(|e| StoreError::Backend(sqlx::Error::Encode(e)))
}

/// An identifier as SQL quotes it (names come from the schemas, never from a caller).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
