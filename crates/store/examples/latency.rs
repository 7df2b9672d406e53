//! Measures per-call latency of durable writes and hot-path reads on a real file.
//!
//! `cargo run --release -p store --example latency [DIR]` (DIR defaults to a temp dir; pass a
//! path on the disk you will deploy on, since fsync cost is the disk's).

use std::time::{Duration, Instant};

use store::{
    InlinePolicy, NewAccessKey, NewPolicy, NewRole, NewUser, Principal, SqliteStore, Store, ids,
};

const ACCOUNT: &str = "123456789012";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!(
        "{what:<28} n={:<6} p50={:>8.1}µs p90={:>8.1}µs p99={:>8.1}µs",
        samples.len(),
        pick(0.5),
        pick(0.9),
        pick(0.99)
    );
}

async fn time<T>(samples: &mut Vec<Duration>, call: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = call.await;
    samples.push(start.elapsed());
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let temp = tempfile::tempdir()?;
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or(temp.path().to_owned());
    let store = SqliteStore::open(&dir).await?;
    store.create_account(ACCOUNT).await?;

    let mut writes = Vec::new();
    let mut roles = Vec::new();
    for i in 0..500 {
        roles.push(
            time(
                &mut writes,
                store.create_role(ACCOUNT, NewRole::new(format!("role{i}"), TRUST)),
            )
            .await?,
        );
    }
    report("create_role (durable)", writes);

    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("m", TRUST))
        .await?;
    let mut writes = Vec::new();
    for i in 0..200 {
        let role = format!("role{i}");
        time(
            &mut writes,
            store.attach_policy(ACCOUNT, Principal::Role(&role), &policy.arn),
        )
        .await?;
        let inline = InlinePolicy {
            name: "i".into(),
            document: TRUST.into(),
            size: 100,
        };
        store
            .put_inline_policy(ACCOUNT, Principal::Role(&role), inline, 10_240)
            .await?;
    }
    report("attach_policy (durable)", writes);

    store.create_user(ACCOUNT, NewUser::new("admin")).await?;
    let key_id = ids::access_key_id();
    let key = NewAccessKey {
        access_key_id: key_id.clone(),
        secret_ciphertext: vec![0; 56],
    };
    store.create_access_key(ACCOUNT, "admin", key).await?;

    const READS: usize = 5000;
    let (mut by_name, mut by_id, mut keys, mut policies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..READS {
        let role = &roles[i % 200];
        time(&mut by_name, store.role_by_name(ACCOUNT, &role.name)).await?;
        time(&mut by_id, store.role_by_id(&role.id)).await?;
        time(&mut keys, store.access_key(&key_id)).await?;
        time(&mut policies, store.identity_policies(&role.id)).await?;
    }
    report("role_by_name", by_name);
    report("role_by_id", by_id);
    report("access_key (+user, tags)", keys);
    report("identity_policies", policies);
    store.close().await;
    Ok(())
}
