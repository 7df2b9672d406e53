//! Durability: everything survives a reopen, and every acknowledged write survives SIGKILL.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{ACCOUNT, ALLOW_ALL, TRUST, fresh};
use store::{
    InlinePolicy, ListQuery, NewAccessKey, NewInstanceProfile, NewPolicy, NewRole, NewUser,
    Principal, SqliteStore, Store, Tag, Taggable,
};

#[tokio::test]
async fn everything_is_there_after_reopening() {
    let (dir, store) = fresh().await;
    let mut new_role = NewRole::new("web", TRUST);
    new_role.tags = vec![Tag::new("k", "v")];
    let role = store.create_role(ACCOUNT, new_role).await.unwrap();
    let profile = store
        .create_instance_profile(ACCOUNT, NewInstanceProfile::new("web"))
        .await
        .unwrap();
    store
        .add_role_to_instance_profile(ACCOUNT, "web", "web")
        .await
        .unwrap();
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("m", ALLOW_ALL))
        .await
        .unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Role("web"), &policy.arn)
        .await
        .unwrap();
    let inline = InlinePolicy {
        name: "i".into(),
        document: ALLOW_ALL.into(),
        size: 50,
    };
    store
        .put_inline_policy(ACCOUNT, Principal::Role("web"), inline, 10_240)
        .await
        .unwrap();
    let user = store
        .create_user(ACCOUNT, NewUser::new("admin"))
        .await
        .unwrap();
    let key = NewAccessKey {
        access_key_id: store::ids::access_key_id(),
        secret_ciphertext: vec![9; 40],
    };
    store
        .create_access_key(ACCOUNT, "admin", key.clone())
        .await
        .unwrap();
    store.add_token_key(ACCOUNT, "k1", b"sealed").await.unwrap();
    store.put_setting(ACCOUNT, "s", "v").await.unwrap();
    let before = store.identity_policies(&role.id).await.unwrap();
    store.close().await;
    drop(store);

    let store = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(store.role_by_name(ACCOUNT, "web").await.unwrap(), role);
    let reopened = store.instance_profile(ACCOUNT, "web").await.unwrap();
    assert_eq!(
        (reopened.id.as_str(), reopened.roles.len()),
        (profile.id.as_str(), 1)
    );
    assert_eq!(
        store
            .policy(&policy.account_id, &policy.arn)
            .await
            .unwrap()
            .attachment_count,
        1
    );
    assert_eq!(store.identity_policies(&role.id).await.unwrap(), before);
    let (found, owner) = store.access_key(&key.access_key_id).await.unwrap();
    assert_eq!(
        (found.secret_ciphertext, owner),
        (key.secret_ciphertext, user)
    );
    assert_eq!(
        store.token_keys(ACCOUNT).await.unwrap()[0].ciphertext,
        b"sealed"
    );
    assert_eq!(
        store.setting(ACCOUNT, "s").await.unwrap().as_deref(),
        Some("v")
    );
    assert_eq!(
        store.tags(ACCOUNT, Taggable::Role("web")).await.unwrap(),
        vec![Tag::new("k", "v")]
    );
}

/// Set in the child process: the data directory to write into.
const CRASH_DIR_VAR: &str = "STORE_CRASH_TEST_DIR";
const ACK: &str = "ACK ";

/// The child half of [`acknowledged_writes_survive_sigkill`]: creates roles until killed,
/// printing each name only after `create_role` returned. A no-op when run normally.
#[tokio::test]
async fn crash_writer() {
    let Some(dir) = std::env::var_os(CRASH_DIR_VAR) else {
        return;
    };
    let store = SqliteStore::open(std::path::Path::new(&dir)).await.unwrap();
    store.create_account(ACCOUNT).await.unwrap();
    for i in 0.. {
        let name = format!("role{i:06}");
        store
            .create_role(ACCOUNT, NewRole::new(&name, TRUST))
            .await
            .unwrap();
        // Rust's stdout is line-buffered even into a pipe, so each line leaves at once.
        println!("{ACK}{name}");
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_writer", "--nocapture", "--test-threads=1"])
        .env(CRASH_DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    // Kill it mid-stream, after a good number of writes.
    while acknowledged.len() < 150 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(name) = line.strip_prefix(ACK) {
            acknowledged.push(name.to_owned());
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no WAL checkpoint.
    // Acknowledgements already in the pipe count too.
    for line in lines {
        if let Some(name) = line.unwrap().strip_prefix(ACK) {
            acknowledged.push(name.to_owned());
        }
    }
    child.wait().unwrap();

    let store = SqliteStore::open(dir.path()).await.unwrap();
    let mut stored = Vec::new();
    let mut marker = None;
    loop {
        let query = ListQuery::max_items(1000).after(marker.take());
        let page = store.list_roles(ACCOUNT, &query).await.unwrap();
        stored.extend(page.items.into_iter().map(|role| role.name));
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    for name in &acknowledged {
        assert!(
            stored.contains(name),
            "acknowledged {name} lost after SIGKILL"
        );
    }
    // At most the one write in flight at the kill may be there unacknowledged.
    assert!(
        stored.len() <= acknowledged.len() + 1,
        "{} stored, {} acknowledged",
        stored.len(),
        acknowledged.len()
    );
}
