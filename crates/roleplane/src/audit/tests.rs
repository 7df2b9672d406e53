//! The trail end to end inside one process: records appended by many request tasks are all
//! there for the very next lookup, and the background indexer gets there on its own.

use std::time::{Duration, Instant};

use store::audit::{EventQuery, Order};
use time::OffsetDateTime;

use super::*;

fn issue(n: u32) -> store::audit::NewEvent {
    // Recent: retention pruning, which runs at start, removes records older than 90 days.
    let at = OffsetDateTime::now_utc() - time::Duration::hours(1)
        + time::Duration::seconds(i64::from(n));
    InstanceCredentials {
        account_id: "123456789012",
        region: "us-east-1",
        role_arn: "arn:aws:iam::123456789012:role/web",
        instance_id: &format!("i-{n:017x}"),
        access_key_id: &format!("ASIA{n:016}"),
        issued_at: at,
        expires_at: at + time::Duration::hours(6),
    }
    .to_event()
}

async fn count(log: &AuditTrail) -> usize {
    log.lookup(&EventQuery {
        order: Order::OldestFirst,
        limit: 100_000,
        ..EventQuery::default()
    })
    .await
    .unwrap()
    .len()
}

/// The journal's data: each segment's bytes up to its first NUL (segments are preallocated),
/// prepared `.next` segments not counted.
fn written_bytes(journal: &std::path::Path) -> u64 {
    std::fs::read_dir(journal)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len()) as u64
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_are_all_looked_up_and_indexed_in_the_background() {
    for sync in [SyncLevel::Normal, SyncLevel::Full] {
        let dir = tempfile::tempdir().unwrap();
        let args = AuditArgs {
            audit_sync: sync,
            ..AuditArgs::default()
        };
        let audit = Arc::new(
            Audit::start(dir.path(), None, &args, "123456789012")
                .await
                .unwrap(),
        );
        let tasks: Vec<_> = (1..=400)
            .map(|n| {
                let audit = audit.clone();
                tokio::spawn(async move { audit.append(Caller::Authenticated, issue(n)).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // Read-your-writes: no waiting for the indexer.
        assert_eq!(count(audit.log()).await, 400, "{sync:?}");

        // A reader that never catches up itself still sees the indexer's work.
        for n in 401..=450 {
            audit.append(Caller::Authenticated, issue(n)).await.unwrap();
        }
        let started = Instant::now();
        loop {
            let AuditTrail::Files(log) = audit.log() else {
                panic!("the data dir's trail");
            };
            let (segment, offset) = log.position().await.unwrap();
            let end = written_bytes(&dir.path().join(store::audit::JOURNAL_DIR));
            if segment == 1 && offset == end {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "indexer stuck at {segment}/{offset} of {end}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
