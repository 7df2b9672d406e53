//! Durability: everything survives a reopen, and every acknowledged write survives SIGKILL of
//! the process that made it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{ACCOUNT, ALLOW_ALL, Backend, TRUST};
use store::{
    InlinePolicy, ListQuery, NewAccessKey, NewInstanceProfile, NewPolicy, NewRole, NewUser,
    Principal, Store, Tag, Taggable,
};

async fn everything_is_there_after_reopening<B: Backend>() {
    let (dir, store) = B::fresh().await;
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
    B::close(store).await;

    let store = B::open(&dir).await;
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

/// Set in the child process: where the data to write into is (`Backend::location`).
const CRASH_LOCATION_VAR: &str = "STORE_CRASH_TEST_LOCATION";
const ACK: &str = "ACK ";

/// The child half of [`acknowledged_writes_survive_sigkill`]: creates roles until killed,
/// printing each name only after `create_role` returned. A no-op when run normally.
async fn crash_writer<B: Backend>() {
    let Ok(location) = std::env::var(CRASH_LOCATION_VAR) else {
        return;
    };
    let store = B::open_at(location).await;
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

/// The role a line of the child acknowledges, wherever in the line: libtest prints `test
/// sqlite::crash_writer ... ` without a line break before the test runs, so the first
/// acknowledgement shares its line (as in `ec2.rs`).
fn acknowledgement(line: &str) -> Option<&str> {
    line.find(ACK).map(|at| &line[at + ACK.len()..])
}

async fn acknowledged_writes_survive_sigkill<B: Backend>() {
    // No store open here while the child writes: what the parent reads is what survived.
    let data = B::data().await;
    let child_test = format!("{}::crash_writer", B::NAME);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &child_test, "--nocapture", "--test-threads=1"])
        .env(CRASH_LOCATION_VAR, B::location(&data))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    // Kill it mid-stream, after a good number of writes.
    while acknowledged.len() < 150 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(name) = acknowledgement(&line) {
            acknowledged.push(name.to_owned());
        }
    }
    // SIGKILL on Unix: no destructors, no WAL checkpoint, a transaction perhaps half sent.
    child.kill().unwrap();
    // Acknowledgements already in the pipe count too.
    for line in lines {
        if let Some(name) = acknowledgement(&line.unwrap()) {
            acknowledged.push(name.to_owned());
        }
    }
    child.wait().unwrap();

    let store = B::open(&data).await;
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

contract_tests! {
    everything_is_there_after_reopening,
    crash_writer,
    acknowledged_writes_survive_sigkill,
}
