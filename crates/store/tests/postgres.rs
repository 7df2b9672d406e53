//! What only the PostgreSQL backend has: migrations that replicas apply together and that an
//! older release tolerates, TLS to the database, a password that is never shown, and a schema
//! that keeps up with SQLite's.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{ACCOUNT, Backend, Postgres, Sqlite, TRUST, pg_server_ca};
use sqlx::{Connection, PgConnection};
use store::{DatabaseUrl, NewRole, PgStore, Store, StoreError};

/// Migrations in `migrations/postgres`.
fn migration_count() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres");
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".sql")
        })
        .count() as i64
}

async fn raw(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_apply_each_migration_once() {
    let data = Postgres::data().await;
    let url = Postgres::location(&data);
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = DatabaseUrl::new(url.clone());
            tokio::spawn(async move { PgStore::connect(&url).await })
        })
        .collect();
    for start in starts {
        start.await.unwrap().unwrap();
    }
    let mut conn = raw(&url).await;
    let (applied, succeeded): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(*) FILTER (WHERE success) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((applied, succeeded), (migration_count(), migration_count()));
}

/// During a rolling upgrade the replicas of the old release keep running, and restart, on the
/// schema the new release migrated to: an additive migration they do not know is no error.
#[tokio::test]
async fn a_release_starts_on_the_schema_of_the_next() {
    let (data, store) = Postgres::fresh().await;
    let url = Postgres::location(&data);
    let mut conn = raw(&url).await;
    sqlx::raw_sql(
        "ALTER TABLE roles ADD COLUMN next_release_note TEXT; \
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99991231000000, 'next release', TRUE, '\\x00', 0);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    Postgres::close(store).await;

    let restarted = Postgres::open(&data).await;
    restarted
        .ready()
        .await
        .expect("ready on the next release's schema");
    restarted
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    assert_eq!(
        restarted.role_by_name(ACCOUNT, "R").await.unwrap().name,
        "r"
    );
}

/// `/readyz` on PostgreSQL: every migration of this build must be applied whole as this build
/// wrote it (a newer release's are tolerated, above), and the database must answer.
#[tokio::test]
async fn ready_requires_each_migration_of_this_build_as_written() {
    let (data, store) = Postgres::fresh().await;
    store.ready().await.unwrap();
    let mut conn = raw(&Postgres::location(&data)).await;
    let schema_error = |result: Result<(), StoreError>| match result {
        Err(StoreError::Schema(why)) => why,
        other => panic!("{other:?}"),
    };

    let (first, checksum): (i64, Vec<u8>) =
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations ORDER BY version LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = $1")
        .bind(first)
        .execute(&mut conn)
        .await
        .unwrap();
    let why = schema_error(store.ready().await);
    assert_eq!(
        why,
        format!("migration {first} was applied from different SQL than this build's")
    );
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $2 WHERE version = $1")
        .bind(first)
        .bind(&checksum)
        .execute(&mut conn)
        .await
        .unwrap();
    store.ready().await.unwrap();

    let last: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(last)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        schema_error(store.ready().await),
        format!("migration {last} is not applied")
    );

    Postgres::close(store.clone()).await;
    assert!(matches!(store.ready().await, Err(StoreError::Backend(_))));
}

/// `url` with `parameters` added to its query.
fn with_parameters(url: &str, parameters: &str) -> String {
    match url.contains('?') {
        true => format!("{url}&{parameters}"),
        false => format!("{url}?{parameters}"),
    }
}

fn test_ca() -> String {
    pg_server_ca().expect(
        "the PostgreSQL test server has no TLS CA: scripts/pg-test-cluster makes one when \
         openssl is installed; with ROLEPLANE_TEST_PG_URL, set ROLEPLANE_TEST_PG_CA too",
    )
}

#[tokio::test]
async fn tls_verify_full_connects_with_the_servers_ca_and_only_with_it() {
    let (data, _store) = Postgres::fresh().await;
    let url = Postgres::location(&data);
    let ca = test_ca();

    let verified = with_parameters(&url, &format!("sslmode=verify-full&sslrootcert={ca}"));
    let store = PgStore::connect(&DatabaseUrl::new(&verified))
        .await
        .unwrap();
    store
        .create_role(ACCOUNT, NewRole::new("over-tls", TRUST))
        .await
        .unwrap();
    let mut conn = raw(&verified).await;
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(encrypted, "sslmode=verify-full must encrypt");

    // Without the CA the server's certificate chains to no trusted root.
    let unverifiable = with_parameters(&url, "sslmode=verify-full");
    let refused = PgStore::connect(&DatabaseUrl::new(&unverifiable)).await;
    assert!(refused.is_err(), "verify-full trusted an unknown CA");

    // `require` encrypts without verifying.
    let required = with_parameters(&url, "sslmode=require");
    PgStore::connect(&DatabaseUrl::new(&required))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_password_is_never_shown() {
    let (data, store) = Postgres::fresh().await;
    let url = Postgres::location(&data);
    let password = url::Url::parse(&url)
        .unwrap()
        .password()
        .expect("the test server's URL has a password")
        .to_owned();
    assert!(!format!("{store:?}").contains(&password));
    assert!(
        !format!("{:?} {}", DatabaseUrl::new(&url), DatabaseUrl::new(&url)).contains(&password)
    );

    // A wrong password: the error says what failed, not what was tried.
    let mut wrong = url::Url::parse(&url).unwrap();
    wrong.set_password(Some("not-the-Secret-42")).unwrap();
    let error = PgStore::connect(&DatabaseUrl::new(wrong.as_str()))
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("not-the-Secret-42"), "{shown}");
    assert!(!shown.contains(&password), "{shown}");
}

/// Every table and column of the SQLite schema exists on PostgreSQL: a SQLite migration without
/// its PostgreSQL twin fails here, by name, before any query does.
#[tokio::test]
async fn the_schema_has_every_table_and_column_sqlites_has() {
    let (dir, sqlite) = Sqlite::fresh().await;
    Sqlite::close(sqlite).await;
    let file = dir.path().join(store::DATABASE_FILE);
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let sqlite_columns = columns(rows);

    let (data, _store) = Postgres::fresh().await;
    let mut conn = raw(&Postgres::location(&data)).await;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let pg_columns = columns(rows);

    for (table, wanted) in &sqlite_columns {
        let Some(present) = pg_columns.get(table) else {
            panic!("table {table} is missing from migrations/postgres");
        };
        let missing: Vec<_> = wanted.difference(present).collect();
        assert!(
            missing.is_empty(),
            "{table}: columns {missing:?} are missing from migrations/postgres"
        );
    }
}

fn columns(rows: Vec<(String, String)>) -> BTreeMap<String, BTreeSet<String>> {
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in rows {
        tables.entry(table).or_default().insert(column);
    }
    tables
}

/// PostgreSQL cannot keep U+0000 in text (SQLite can): such a value is the caller's invalid
/// input, which services answer with a 4xx, not a backend failure (a 500). Nothing is written.
#[tokio::test]
async fn a_nul_character_is_invalid_input_not_a_backend_failure() {
    let (_data, store) = Postgres::fresh().await;
    let mut role = NewRole::new("nul", TRUST);
    role.path = "/a\u{0}b/".to_owned();
    match store.create_role(ACCOUNT, role).await {
        Err(StoreError::InvalidInput(message)) => {
            assert_eq!(message, store::NUL_REFUSED)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.role_by_name(ACCOUNT, "nul").await,
        Err(StoreError::NotFound { .. })
    ));
}
