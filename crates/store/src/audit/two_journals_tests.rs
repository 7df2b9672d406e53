//! The two journals read as one, and the size cap's eviction.

use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

/// Event `n` at second `n`; `stranger` ones carry no principal, as a failed call's record.
fn event(n: i64, stranger: bool) -> NewEvent {
    NewEvent {
        event_id: format!("00000000-0000-4000-8000-{n:012}"),
        event_time_ms: 1_000_000 + n * 1000,
        account_id: "123456789012".into(),
        event_source: "iam.amazonaws.com".into(),
        event_name: "GetRole".into(),
        read_only: true,
        access_key_id: Some(format!("AKIA{n:016}")),
        username: (!stranger).then(|| "alice".into()),
        principal_arn: (!stranger).then(|| ROLE.into()),
        error_code: stranger.then(|| "InvalidClientTokenId".into()),
        resources: "[]".into(),
        management: true,
        record: format!(r#"{{"n":{n},"padding":"{}"}}"#, "x".repeat(200)),
    }
}

fn numbers(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .map(|e| (e.event_time_ms - 1_000_000) / 1000)
        .collect()
}

/// Every event of `query`'s order, `page` at a time, following positions.
async fn paged(log: &AuditLog, order: Order, page: u32) -> Vec<i64> {
    let mut query = EventQuery {
        order,
        limit: page,
        ..EventQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let events = log.lookup(&query).await.unwrap();
        seen.extend(numbers(&events));
        match events.last() {
            Some(last) if events.len() == page as usize => query.after = Some(last.position()),
            _ => return seen,
        }
    }
}

/// Odd events are strangers', in their own journal.
async fn interleaved(log: &AuditLog, range: std::ops::RangeInclusive<i64>) {
    for n in range {
        let caller = if n % 2 == 1 {
            Caller::Unauthenticated
        } else {
            Caller::Authenticated
        };
        log.append_for(caller, &[event(n, n % 2 == 1)])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn both_journals_page_as_one_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    interleaved(&log, 1..=11).await;
    let newest: Vec<i64> = (1..=11).rev().collect();
    let oldest: Vec<i64> = (1..=11).collect();
    for page in [1, 2, 3, 5, 50] {
        assert_eq!(
            paged(&log, Order::NewestFirst, page).await,
            newest,
            "page {page}"
        );
        assert_eq!(
            paged(&log, Order::OldestFirst, page).await,
            oldest,
            "page {page}"
        );
    }
    // A filter that only one journal can answer still pages through it.
    let mut query = EventQuery {
        filter: Some(EventFilter::Username("alice")),
        limit: 2,
        ..EventQuery::default()
    };
    let first = log.lookup(&query).await.unwrap();
    assert_eq!(numbers(&first), [10, 8]);
    query.after = Some(first[1].position());
    assert_eq!(numbers(&log.lookup(&query).await.unwrap()), [6, 4]);
}

#[tokio::test]
async fn newest_first_pages_never_show_records_newer_than_the_first_page() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    // Only authenticated records so far: the first page takes nothing from the other journal.
    for n in [2, 4, 6] {
        log.append(&[event(n, false)]).await.unwrap();
    }
    let mut query = EventQuery {
        limit: 2,
        ..EventQuery::default()
    };
    let first = log.lookup(&query).await.unwrap();
    assert_eq!(numbers(&first), [6, 4]);
    // A stranger's record arrives between the pages, with an older event time (a slow call).
    log.append_for(Caller::Unauthenticated, &[event(3, true)])
        .await
        .unwrap();
    query.after = Some(first[1].position());
    assert_eq!(numbers(&log.lookup(&query).await.unwrap()), [2]);
}

/// Segment numbers of `caller`'s journal in `dir`.
fn segments(dir: &Path, caller: Caller) -> Vec<u64> {
    let mut journal = dir.join(JOURNAL_DIR);
    if caller == Caller::Unauthenticated {
        journal = journal.join(UNAUTHENTICATED_DIR);
    }
    journal::segment_numbers(&journal).unwrap()
}

#[tokio::test]
async fn eviction_takes_whole_old_segments_and_never_the_active_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let main = log.journal_for(Caller::Authenticated, 4096).await.unwrap();
    let strangers = log
        .journal_for(Caller::Unauthenticated, 4096)
        .await
        .unwrap();
    for n in 1..=200 {
        let journal = if n % 2 == 1 { &strangers } else { &main };
        journal.append(&event(n, n % 2 == 1)).unwrap();
    }
    // The journals' threads cut retired segments and prepare spares in the background: let
    // them finish, so both measurements below see the same files.
    main.settle();
    strangers.settle();
    let before = log.disk_use().unwrap();
    let on_disk = |caller| -> u64 {
        let mut journal = dir.path().join(JOURNAL_DIR);
        if caller == Caller::Unauthenticated {
            journal = journal.join(UNAUTHENTICATED_DIR);
        }
        std::fs::read_dir(journal)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_str().unwrap().starts_with("journal-"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    };
    assert_eq!(before.authenticated, on_disk(Caller::Authenticated));
    assert_eq!(before.unauthenticated, on_disk(Caller::Unauthenticated));
    let stranger_segments = segments(dir.path(), Caller::Unauthenticated);
    assert!(stranger_segments.len() >= 5, "{stranger_segments:?}");

    // Strangers' segments go first, oldest first, only as many as asked for.
    let one = log.evict_blocking(Caller::Unauthenticated, 1).unwrap();
    assert_eq!(one.segments, 1);
    assert_eq!(
        segments(dir.path(), Caller::Unauthenticated),
        stranger_segments[1..]
    );
    assert!(
        one.records > 0 && one.oldest_ms == Some(1_001_000),
        "{one:?}"
    );
    let rest = log
        .evict_blocking(Caller::Unauthenticated, u64::MAX)
        .unwrap();
    // The active segment stays, with the newest strangers' records in it.
    assert_eq!(
        segments(dir.path(), Caller::Unauthenticated),
        [strangers.active_segment()]
    );
    // Segments left by a rotation are cut to their data in the background, so the sizes are
    // compared with the disk, not with the first figure.
    let after = log.disk_use().unwrap();
    assert_eq!(after.unauthenticated, on_disk(Caller::Unauthenticated));
    assert!(after.unauthenticated < before.unauthenticated);
    assert!(one.bytes > 0 && one.bytes <= 4096, "{one:?}");
    assert_eq!(after.authenticated, on_disk(Caller::Authenticated));
    let left = paged(&log, Order::OldestFirst, 1000).await;
    let authenticated: Vec<i64> = (2..=200).step_by(2).collect();
    let strangers_left: Vec<i64> = left.iter().copied().filter(|n| n % 2 == 1).collect();
    assert_eq!(
        left.iter()
            .copied()
            .filter(|n| n % 2 == 0)
            .collect::<Vec<_>>(),
        authenticated,
        "no authenticated record went"
    );
    assert!(!strangers_left.is_empty() && strangers_left.len() < 100);
    assert_eq!(
        strangers_left.len() as u64,
        100 - one.records - rest.records,
        "the counts are the records that went"
    );

    // Then the authenticated journal's, oldest first.
    let old = log.evict_blocking(Caller::Authenticated, 1).unwrap();
    assert_eq!(old.segments, 1);
    let left = paged(&log, Order::NewestFirst, 7).await;
    assert_eq!(left.first(), Some(&200));
    assert!(!left.contains(&2), "the oldest authenticated records went");
    assert!(left.contains(&198));
}

#[tokio::test]
async fn eviction_leaves_what_the_indexer_has_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let strangers = log
        .journal_for(Caller::Unauthenticated, 1 << 20)
        .await
        .unwrap();
    for n in 1..=50 {
        strangers.append(&event(n, true)).unwrap();
    }
    // One segment, still active: nothing can go.
    let evicted = log
        .evict_blocking(Caller::Unauthenticated, u64::MAX)
        .unwrap();
    assert_eq!(evicted, Evicted::default());
    assert_eq!(paged(&log, Order::OldestFirst, 100).await.len(), 50);
}

#[tokio::test]
async fn rotations_are_signalled() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let strangers = log
        .journal_for(Caller::Unauthenticated, 1024)
        .await
        .unwrap();
    let growth = log.growth().clone();
    assert_eq!(growth.wait(0, std::time::Duration::ZERO), 0);
    for n in 1..=10 {
        strangers.append(&event(n, true)).unwrap();
    }
    assert!(growth.wait(0, std::time::Duration::from_secs(5)) > 0);
}

#[tokio::test]
async fn a_reader_of_a_directory_without_the_second_journal_reads_the_first() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = AuditLog::open(dir.path()).await.unwrap();
        log.append(&[event(2, false)]).await.unwrap();
        log.close().await;
    }
    std::fs::remove_file(dir.path().join(UNAUTHENTICATED_DATABASE_FILE)).unwrap();
    let reader = AuditLog::open_existing(dir.path()).await.unwrap();
    assert_eq!(paged(&reader, Order::NewestFirst, 10).await, [2]);
}
