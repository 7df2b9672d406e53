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

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster");

/// The shared cluster: never dropped, stopped by the script once this test binary exits.
fn start_cluster() -> String {
    let cluster = std::mem::ManuallyDrop::new(Cluster::start());
    cluster.url.clone()
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

/// A PostgreSQL cluster of one test's own, for a test that takes the server down and up again
/// (others' databases must not go with it); stopped and removed when dropped.
pub struct Cluster {
    /// The cluster's database `roleplane`.
    pub url: String,
    dir: String,
}

impl Cluster {
    pub fn start() -> Cluster {
        let output = Command::new(SCRIPT)
            .args(["start", "--watch-pid", &std::process::id().to_string()])
            .output()
            .unwrap_or_else(|e| panic!("running {SCRIPT}: {e}"));
        assert!(
            output.status.success(),
            "a PostgreSQL cluster could not be started:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let export = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(&format!("export {name}=")))
                .map(|value| value.trim_matches('\'').to_owned())
                .unwrap_or_else(|| panic!("the script prints {name}"))
        };
        Cluster {
            url: export("ROLEPLANE_TEST_PG_URL"),
            dir: export("ROLEPLANE_TEST_PG_DIR"),
        }
    }

    /// Shuts the server down (fast: sessions cut, commits kept).
    pub fn down(&self) {
        self.run("down");
    }

    /// Starts the server again on the same port.
    pub fn up(&self) {
        self.run("up");
    }

    fn run(&self, command: &str) {
        let output = Command::new(SCRIPT)
            .args([command, &self.dir])
            .output()
            .unwrap_or_else(|e| panic!("running {SCRIPT} {command}: {e}"));
        assert!(
            output.status.success(),
            "{SCRIPT} {command}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(SCRIPT).args(["stop", &self.dir]).output();
    }
}
