//! PostgreSQL for tests of `roleplane serve --store`: `ROLEPLANE_TEST_PG_URL` names a server
//! where tests may create databases (`scripts/test` starts one for the whole run); unset, the
//! first test that needs one starts a throwaway cluster with `scripts/pg-test-cluster`, stopped
//! when this test binary exits. A test that cannot get PostgreSQL fails, saying why.

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection as _;

/// The test server's URL.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("ROLEPLANE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_cluster(),
    })
}

fn start_cluster() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster");
    let output = Command::new(script)
        .args(["start", "--watch-pid", &std::process::id().to_string()])
        .output()
        .unwrap_or_else(|e| panic!("running {script}: {e}"));
    assert!(
        output.status.success(),
        "PostgreSQL could not be started for the --store tests (or set ROLEPLANE_TEST_PG_URL \
         to a server where they may create databases):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("export ROLEPLANE_TEST_PG_URL="))
        .map(|url| url.trim_matches('\'').to_owned())
        .expect("the script prints ROLEPLANE_TEST_PG_URL")
}

/// A database of its own for one test; the cluster (or the server's owner) removes it.
pub struct Database {
    pub url: String,
}

impl Database {
    pub async fn create() -> Database {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "roleplane_e2e_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let server = server_url();
        let mut admin = sqlx::PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("connecting to the PostgreSQL test server: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = admin.close().await;
        let (base, query) = match server.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (server, String::new()),
        };
        let base = &base[..base.rfind('/').expect("the URL names a database")];
        Database {
            url: format!("{base}/{name}{query}"),
        }
    }
}
