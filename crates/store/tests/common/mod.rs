#![allow(dead_code)] // each test binary uses a different subset

//! One contract suite, two backends: each case is an `async fn case<B: Backend>()` written
//! against the `Store` trait, and [`contract_tests!`] runs it once on SQLite and once on
//! PostgreSQL (`sqlite::case`, `postgres::case` in the test names).
//!
//! PostgreSQL: `ROLEPLANE_TEST_PG_URL` names a server where the tests may create databases
//! (`scripts/test` starts one for the whole run); unset, the first case that needs it starts a
//! throwaway cluster with `scripts/pg-test-cluster`, which stops when this test binary exits.
//! Each case gets a database of its own, dropped when the case ends, so cases run in parallel.
//! A case that cannot reach PostgreSQL fails, saying why: nothing is skipped.

use std::future::Future;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;
use store::{DatabaseUrl, PgStore, SqliteStore, Store};
use tempfile::TempDir;

pub const ACCOUNT: &str = "123456789012";
pub const OTHER_ACCOUNT: &str = "210987654321";

pub const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// A backend as the contract tests use it.
pub trait Backend: 'static {
    /// `sqlite` or `postgres`, as the test names say.
    const NAME: &str;
    type Store: Store;
    /// Keeps a store's data alive while a case runs (a directory, a database) and says where
    /// it is.
    type Data: Send + Sync;

    /// A new place for data, with no store open on it.
    fn data() -> impl Future<Output = Self::Data>;

    /// A store with no data: the data, and a first handle on it.
    fn empty() -> impl Future<Output = (Self::Data, Self::Store)> {
        async {
            let data = Self::data().await;
            let store = Self::open(&data).await;
            (data, store)
        }
    }

    /// Closes every connection of `store` (as a process ends).
    fn close(store: Self::Store) -> impl Future<Output = ()>;

    /// Where the data is, as [`Backend::open_at`] takes it: for a child process.
    fn location(data: &Self::Data) -> String;

    /// Another handle on the data at `location`: a reopened store, another process's, another
    /// replica's.
    fn open_at(location: String) -> impl Future<Output = Self::Store>;

    /// Another handle on `data`.
    fn open(data: &Self::Data) -> impl Future<Output = Self::Store> {
        Self::open_at(Self::location(data))
    }

    /// A store with [`ACCOUNT`] created.
    fn fresh() -> impl Future<Output = (Self::Data, Self::Store)> {
        async {
            let (data, store) = Self::empty().await;
            store.create_account(ACCOUNT).await.unwrap();
            (data, store)
        }
    }
}

/// Runs each named `async fn name<B: Backend>()` on both backends, as `sqlite::name` and
/// `postgres::name`. Arguments in parentheses after a name go to `#[tokio::test(…)]`.
#[macro_export]
macro_rules! contract_tests {
    ($($name:ident $(($($test_args:tt)*))?),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test $(($($test_args)*))?]
                async fn $name() {
                    super::$name::<$crate::common::Sqlite>().await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test $(($($test_args)*))?]
                async fn $name() {
                    super::$name::<$crate::common::Postgres>().await
                }
            )*
        }
    };
}

// ---- SQLite ------------------------------------------------------------------------------

pub struct Sqlite;

impl Backend for Sqlite {
    const NAME: &str = "sqlite";
    type Store = SqliteStore;
    type Data = TempDir;

    async fn data() -> TempDir {
        tempfile::tempdir().unwrap()
    }

    async fn close(store: SqliteStore) {
        store.close().await;
    }

    fn location(dir: &TempDir) -> String {
        dir.path().to_str().unwrap().to_owned()
    }

    async fn open_at(location: String) -> SqliteStore {
        SqliteStore::open(std::path::Path::new(&location))
            .await
            .unwrap()
    }
}

// ---- PostgreSQL --------------------------------------------------------------------------

pub struct Postgres;

/// A database of its own for one case, dropped with it.
pub struct PgDatabase {
    url: String,
    name: String,
}

impl Backend for Postgres {
    const NAME: &str = "postgres";
    type Store = PgStore;
    type Data = PgDatabase;

    async fn data() -> PgDatabase {
        PgDatabase::create().await
    }

    async fn close(store: PgStore) {
        store.close().await;
    }

    fn location(database: &PgDatabase) -> String {
        database.url.clone()
    }

    async fn open_at(location: String) -> PgStore {
        PgStore::connect(&DatabaseUrl::new(location))
            .await
            .unwrap_or_else(|e| panic!("connecting to the test database: {e}"))
    }
}

/// The test server's URL (a database the tests may connect to in order to create theirs).
pub fn pg_server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("ROLEPLANE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => cluster_var("ROLEPLANE_TEST_PG_URL"),
    })
}

/// The CA certificate the test server's TLS certificate is signed by, if it has one.
pub fn pg_server_ca() -> Option<String> {
    pg_server_url();
    match std::env::var("ROLEPLANE_TEST_PG_CA") {
        Ok(ca) if !ca.is_empty() => Some(ca),
        _ => Some(cluster_var("ROLEPLANE_TEST_PG_CA")).filter(|ca| !ca.is_empty()),
    }
}

/// A variable `scripts/pg-test-cluster start` printed, starting the cluster on first use.
fn cluster_var(name: &str) -> String {
    static EXPORTS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    let exports = EXPORTS.get_or_init(start_cluster);
    exports
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

fn start_cluster() -> Vec<(String, String)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster");
    let output = Command::new(script)
        .args(["start", "--watch-pid", &std::process::id().to_string()])
        .output()
        .unwrap_or_else(|e| panic!("running {script}: {e}"));
    if !output.status.success() {
        panic!(
            "PostgreSQL could not be started for the store's contract tests (or set \
             ROLEPLANE_TEST_PG_URL to a server where they may create databases):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (key, value) = line.strip_prefix("export ")?.split_once('=')?;
            Some((key.to_owned(), value.trim_matches('\'').to_owned()))
        })
        .collect()
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (server, query) = match url.split_once('?') {
        Some((server, query)) => (server, Some(query)),
        None => (url, None),
    };
    let after_scheme = server.find("://").map_or(0, |at| at + 3);
    let server = match server[after_scheme..].find('/') {
        Some(slash) => &server[..after_scheme + slash],
        None => server,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

impl PgDatabase {
    async fn create() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "roleplane_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(pg_server_url())
            .await
            .unwrap_or_else(|e| panic!("connecting to the PostgreSQL test server: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        admin.close().await.unwrap();
        Self {
            url: with_database(pg_server_url(), &name),
            name,
        }
    }
}

impl Drop for PgDatabase {
    /// Drops the database (and its connections) from a thread of its own: `Drop` cannot await,
    /// and the case's runtime may be ending.
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(pg_server_url()).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await
            })
        })
        .join();
        if !std::thread::panicking() {
            dropped.unwrap().unwrap();
        }
    }
}
