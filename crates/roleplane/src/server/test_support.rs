//! For in-process tests: an `App` on a fresh embedded store, with one account and its admin key.

use store::{SqliteStore, Store};

use super::bootstrap::create_admin;
use crate::credentials::{KeyRing, SealingKey};
use crate::request::App;

/// An app whose store holds `account` with an administrator signing with `key` (id, secret).
/// Keep the directory alive as long as the app.
pub async fn app_with_admin(
    account: &str,
    key: (&str, &str),
) -> (App<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    store.create_account(account).await.unwrap();
    let master = SealingKey::generate().unwrap();
    create_admin(&store, &master, account, (key.0.into(), key.1.into()))
        .await
        .unwrap();
    let ring = KeyRing::new(1, SealingKey::generate().unwrap());
    (App::new(store, master, ring, "us-east-1".into()), dir)
}
