//! The size cap's rules on a real log with small segments: strangers' records go first, then
//! (`evict`) the oldest authenticated ones or (`fail-closed`) the trail closes until space is
//! freed; the metrics follow.

use std::path::Path;

use store::audit::{EventQuery, NewEvent, Order, UNAUTHENTICATED_DIR};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::cap::{self, Cap, Keeper};
use super::*;
use crate::metrics::JournalLabel;

const SEGMENT: u64 = 4096;

fn event(n: i64, stranger: bool) -> NewEvent {
    NewEvent {
        event_id: format!("00000000-0000-4000-8000-{n:012}"),
        event_time_ms: 1_000_000 + n * 1000,
        account_id: "123456789012".into(),
        event_source: "iam.amazonaws.com".into(),
        event_name: "GetUser".into(),
        read_only: true,
        access_key_id: Some(format!("AKIA{n:016}")),
        username: None,
        principal_arn: (!stranger).then(|| "arn:aws:iam::123456789012:user/u".into()),
        error_code: stranger.then(|| "InvalidClientTokenId".into()),
        resources: "[]".into(),
        management: true,
        record: format!(r#"{{"n":{n},"padding":"{}"}}"#, "x".repeat(300)),
    }
}

/// A log with 100 authenticated and 100 strangers' records, interleaved, in 4 KiB segments.
async fn filled(dir: &Path) -> (AuditLog, Arc<Journal>, Arc<Journal>) {
    let log = AuditLog::open(dir).await.unwrap();
    let main = log
        .journal_for(Caller::Authenticated, SEGMENT)
        .await
        .unwrap();
    let strangers = log
        .journal_for(Caller::Unauthenticated, SEGMENT)
        .await
        .unwrap();
    for n in 1..=200 {
        let journal = if n % 2 == 1 { &strangers } else { &main };
        journal.append(&event(n, n % 2 == 1)).unwrap();
    }
    (log, main, strangers)
}

fn keeper(log: &AuditLog, max_bytes: u64, at_cap: AtCap) -> Keeper {
    Keeper {
        space: cap::Space::Files(log.clone()),
        cap: Some(Cap {
            max_bytes,
            at_cap,
            slack_bytes: SEGMENT,
        }),
        metrics: AuditMetrics::default(),
        closed: Arc::new(AtomicBool::new(false)),
    }
}

async fn left(log: &AuditLog) -> (Vec<i64>, Vec<i64>) {
    let events = log
        .lookup(&EventQuery {
            order: Order::OldestFirst,
            limit: 1000,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    let numbers = events.iter().map(|e| (e.event_time_ms - 1_000_000) / 1000);
    numbers.partition(|n| n % 2 == 0)
}

fn stranger_segments(dir: &Path) -> usize {
    let dir = dir
        .join(store::audit::JOURNAL_DIR)
        .join(UNAUTHENTICATED_DIR);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_str().unwrap().ends_with(".jsonl")
        })
        .count()
}

type Counters = Family<JournalLabel, Counter>;

fn counted(metric: &Counters, unauthenticated: bool) -> u64 {
    metric
        .get_or_create(&crate::metrics::journal_label(unauthenticated))
        .get()
}

#[tokio::test]
async fn under_the_cap_nothing_goes() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _main, _strangers) = filled(dir.path()).await;
    let before = log.disk_use().unwrap().total();
    let keeper = keeper(&log, 1 << 30, AtCap::Evict);
    keeper.look().unwrap();
    let (authenticated, strangers) = left(&log).await;
    assert_eq!((authenticated.len(), strangers.len()), (100, 100));
    // In the background, segments a rotation left are cut to their data (the trail shrinks)
    // and each journal prepares its next segment (one segment more each): the gauge measured
    // after `before` lies within that.
    let gauge = keeper.metrics.trail_bytes.get();
    let most = before + 2 * SEGMENT;
    assert!(gauge > 0 && gauge <= most as i64, "{gauge} {before}");
}

#[tokio::test]
async fn evict_takes_strangers_records_first_then_the_oldest_authenticated() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _main, _strangers) = filled(dir.path()).await;
    let total = log.disk_use().unwrap().total();
    // Just under: the strangers' old segments are enough.
    let keeper_a = keeper(&log, total - SEGMENT, AtCap::Evict);
    keeper_a.look().unwrap();
    let (authenticated, strangers) = left(&log).await;
    assert_eq!(authenticated.len(), 100, "no authenticated record went");
    assert!(strangers.len() < 100);
    assert!(counted(&keeper_a.metrics.evicted_bytes, true) > 0);
    assert_eq!(counted(&keeper_a.metrics.evicted_bytes, false), 0);
    assert_eq!(
        counted(&keeper_a.metrics.evicted_records, true),
        100 - strangers.len() as u64
    );

    // Far under: every stranger segment but the active one, then the oldest authenticated.
    let cap = total / 3;
    let keeper_b = keeper(&log, cap, AtCap::Evict);
    keeper_b.look().unwrap();
    assert_eq!(
        stranger_segments(dir.path()),
        1,
        "only the active segment is left"
    );
    let (authenticated, _) = left(&log).await;
    assert!(authenticated.len() < 100 && authenticated.contains(&200));
    assert!(
        !authenticated.contains(&2),
        "the oldest went: {authenticated:?}"
    );
    assert!(counted(&keeper_b.metrics.evicted_records, false) > 0);
    let total = log.disk_use().unwrap().total();
    assert!(total <= cap, "{total} > {cap}");
    assert!(keeper_b.metrics.trail_bytes.get() <= cap as i64);
    assert!(!keeper_b.closed.load(Ordering::Relaxed));
}

#[tokio::test]
async fn fail_closed_evicts_strangers_then_closes_until_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _main, _strangers) = filled(dir.path()).await;
    let total = log.disk_use().unwrap().total();
    let cap = total / 3;
    let keeper = keeper(&log, cap, AtCap::FailClosed);
    keeper.look().unwrap();
    assert_eq!(stranger_segments(dir.path()), 1);
    let (authenticated, _) = left(&log).await;
    assert_eq!(authenticated.len(), 100, "no authenticated record went");
    assert_eq!(counted(&keeper.metrics.evicted_bytes, false), 0);
    assert!(keeper.closed.load(Ordering::Relaxed), "closed at the cap");
    keeper.look().unwrap();
    assert!(keeper.closed.load(Ordering::Relaxed), "still closed");

    // An operator removes the oldest authenticated segments.
    let journal = dir.path().join(store::audit::JOURNAL_DIR);
    let mut segments: Vec<_> = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    segments.sort();
    for path in &segments[..segments.len() - 1] {
        std::fs::remove_file(path).unwrap();
    }
    keeper.look().unwrap();
    assert!(!keeper.closed.load(Ordering::Relaxed), "open again");
}

#[test]
fn a_cap_below_eight_segments_is_refused() {
    let args = AuditArgs {
        audit_segment_mib: 64,
        audit_max_mib: 511,
        ..AuditArgs::default()
    };
    assert!(args.max_bytes().is_err());
    let args = AuditArgs {
        audit_max_mib: 512,
        ..args
    };
    assert_eq!(args.max_bytes(), Ok(Some(512 << 20)));
    let args = AuditArgs {
        audit_max_mib: 0,
        ..args
    };
    assert_eq!(args.max_bytes(), Ok(None));
}
