use std::io::Write as _;

use super::*;

fn event(n: i64, name: &str, principal: &str) -> NewEvent {
    NewEvent {
        event_id: format!("00000000-0000-4000-8000-{n:012}"),
        event_time_ms: 1_000_000 + n * 1000,
        account_id: "123456789012".into(),
        event_source: "iam.amazonaws.com".into(),
        event_name: name.into(),
        read_only: name.starts_with("Get"),
        access_key_id: Some(format!("AKIA{n:016}")),
        username: Some("alice".into()),
        principal_arn: Some(principal.into()),
        error_code: None,
        resources: format!(r#"[{{"ResourceType":"AWS::IAM::Role","ResourceName":"role{n}"}}]"#),
        management: true,
        record: format!(r#"{{"eventName":"{name}","n":{n}}}"#),
    }
}

async fn log_with(events: &[NewEvent]) -> (tempfile::TempDir, AuditLog) {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    log.append(events).await.unwrap();
    (dir, log)
}

fn names(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .map(|e| (e.event_time_ms - 1_000_000) / 1000)
        .collect()
}

const ROLE: &str = "arn:aws:iam::123456789012:role/r";
const USER: &str = "arn:aws:iam::123456789012:user/u";

#[tokio::test]
async fn pages_run_newest_first_and_continue_after_a_position() {
    let events: Vec<_> = (1..=7).map(|n| event(n, "GetRole", ROLE)).collect();
    let (_dir, log) = log_with(&events).await;
    let mut query = EventQuery {
        limit: 3,
        ..EventQuery::default()
    };
    let first = log.lookup(&query).await.unwrap();
    assert_eq!(names(&first), [7, 6, 5]);
    query.after = Some(first[2].position());
    let second = log.lookup(&query).await.unwrap();
    assert_eq!(names(&second), [4, 3, 2]);
    query.order = Order::OldestFirst;
    query.after = None;
    assert_eq!(names(&log.lookup(&query).await.unwrap()), [1, 2, 3]);
}

#[tokio::test]
async fn filters_and_time_bounds_select_exactly_their_events() {
    let mut events = vec![
        event(1, "GetRole", ROLE),
        event(2, "CreateRole", USER),
        event(3, "GetRole", USER),
        event(4, "DeleteRole", ROLE),
    ];
    events[3].account_id = "210987654321".into();
    let (_dir, log) = log_with(&events).await;
    let run = |filter, start, end| {
        let log = log.clone();
        async move {
            names(
                &log.lookup(&EventQuery {
                    account_id: Some("123456789012"),
                    filter,
                    start_ms: start,
                    end_ms: end,
                    ..EventQuery::default()
                })
                .await
                .unwrap(),
            )
        }
    };
    assert_eq!(
        run(None, None, None).await,
        [3, 2, 1],
        "other accounts stay out"
    );
    assert_eq!(
        run(Some(EventFilter::EventName("GetRole")), None, None).await,
        [3, 1]
    );
    assert_eq!(
        run(Some(EventFilter::ReadOnly(false)), None, None).await,
        [2]
    );
    assert_eq!(
        run(Some(EventFilter::PrincipalArn(USER)), None, None).await,
        [3, 2]
    );
    assert_eq!(
        run(Some(EventFilter::ResourceName("role2")), None, None).await,
        [2]
    );
    assert_eq!(
        run(
            Some(EventFilter::ResourceType("AWS::IAM::Role")),
            None,
            None
        )
        .await,
        [3, 2, 1]
    );
    assert_eq!(
        run(
            Some(EventFilter::EventId("00000000-0000-4000-8000-000000000003")),
            None,
            None
        )
        .await,
        [3]
    );
    assert_eq!(
        run(
            Some(EventFilter::AccessKeyId("AKIA0000000000000001")),
            None,
            None
        )
        .await,
        [1]
    );
    assert_eq!(run(None, Some(1_002_000), Some(1_003_000)).await, [3, 2]);
}

#[tokio::test]
async fn pruning_removes_only_older_events_and_survives_reopen() {
    let events: Vec<_> = (1..=5).map(|n| event(n, "GetRole", ROLE)).collect();
    let (dir, log) = log_with(&events).await;
    assert_eq!(log.prune_before(1_003_000).await.unwrap(), 2);
    log.close().await;
    let log = AuditLog::open_existing(dir.path()).await.unwrap();
    let left = log
        .lookup(&EventQuery {
            order: Order::OldestFirst,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&left), [3, 4, 5]);
    assert_eq!(left[0].record, r#"{"eventName":"GetRole","n":3}"#);
}

/// A page longer than a block reads on into the next ones.
#[tokio::test]
async fn a_page_spans_blocks() {
    let events: Vec<_> = (1..=6000).map(|n| event(n, "GetRole", ROLE)).collect();
    let (_dir, log) = log_with(&events).await;
    let page = log
        .lookup(&EventQuery {
            limit: 10_000,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 6000);
}

/// A segment's data: up to its first NUL (a segment may be preallocated past its data).
fn written_part(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    assert!(bytes[end..].iter().all(|&b| b == 0), "data after the end");
    bytes[..end].to_vec()
}

fn written_len(path: &std::path::Path) -> u64 {
    written_part(&std::fs::read(path).unwrap()).len() as u64
}

fn segments(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    journal::segment_numbers(&dir.join(JOURNAL_DIR))
        .unwrap()
        .into_iter()
        .map(|n| journal::segment_path(&dir.join(JOURNAL_DIR), n))
        .collect()
}

async fn all(log: &AuditLog) -> Vec<Event> {
    log.lookup(&EventQuery {
        order: Order::OldestFirst,
        limit: 1_000_000,
        ..EventQuery::default()
    })
    .await
    .unwrap()
}

/// Many threads appending at once, across page boundaries and segment rotations: every line
/// of every segment is one whole record, and each record is there exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let journal = std::sync::Arc::new(log.journal_with(256 * 1024).await.unwrap());
    const THREADS: i64 = 8;
    const EACH: i64 = 1500;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let n = t * EACH + i;
                    let mut e = event(n, "GetRole", ROLE);
                    // 100 B to 9 KB: many lines straddle a 4 KiB page.
                    let pad = "x".repeat(((n * 37) % 9000) as usize);
                    e.record = format!(r#"{{"n":{n},"pad":"{pad}"}}"#);
                    journal.append(&e).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let files = segments(dir.path());
    assert!(files.len() > 10, "rotated: {} segments", files.len());
    let mut seen = std::collections::HashSet::new();
    for file in &files {
        let bytes = written_part(&std::fs::read(file).unwrap());
        assert_eq!(bytes.last(), Some(&b'\n'));
        for raw in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let decoded = line::decode(raw).unwrap();
            let n: serde_json::Value = serde_json::from_str(&decoded.record).unwrap();
            assert!(seen.insert(n["n"].as_i64().unwrap()), "twice: {n}");
        }
    }
    assert_eq!(seen.len() as i64, THREADS * EACH);
    assert_eq!(log.catch_up().await.unwrap(), (THREADS * EACH) as u64);
    assert_eq!(all(&log).await.len() as i64, THREADS * EACH);
}

/// The journal line round-trips every column, nulls and escapes included.
#[test]
fn a_journal_line_holds_the_whole_event() {
    let mut e = event(3, "GetRole", ROLE);
    e.username = Some("quote\" \\ tab\t ünï".into());
    e.access_key_id = None;
    e.error_code = Some("AccessDenied".into());
    let mut out = Vec::new();
    line::encode(&e, &mut out);
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
    assert_eq!(line::decode(&out[..out.len() - 1]).unwrap(), e);
}

/// The position is committed with the rows: a new indexer (a restarted server) continues at
/// it. Rows pruned after indexing stay gone (a re-read from the start would bring them back),
/// later records all arrive once, and a torn tail left by a killed writer is skipped.
#[tokio::test]
async fn a_restarted_indexer_resumes_at_the_recorded_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let journal = log.journal().await.unwrap();
    for n in 1..=100 {
        journal.append(&event(n, "GetRole", ROLE)).unwrap();
    }
    assert_eq!(log.catch_up().await.unwrap(), 100);
    let first = segments(dir.path());
    let first_len = written_len(&first[0]);
    assert_eq!(log.position().await.unwrap(), (1, first_len));
    for n in 101..=120 {
        journal.append(&event(n, "GetRole", ROLE)).unwrap();
    }
    assert_eq!(
        log.prune_before(1_000_000 + 100 * 1000 + 1).await.unwrap(),
        100
    );
    // The writer dies mid-line.
    drop(journal);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&first[0])
        .unwrap()
        .write_all(br#"["00000000-0000-4000-8000-000000000999",10"#)
        .unwrap();
    log.close().await;

    let log = AuditLog::open(dir.path()).await.unwrap();
    let journal = log.journal().await.unwrap();
    assert_eq!(journal.active_segment(), 2);
    for n in 121..=130 {
        journal.append(&event(n, "GetRole", ROLE)).unwrap();
    }
    // 101..=120 were indexed by the pruning's catch-up; only the new segment is left.
    assert_eq!(log.catch_up().await.unwrap(), 10);
    let seqs: Vec<i64> = all(&log).await.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(names(&all(&log).await), (101..=130).collect::<Vec<_>>());
    let second_len = written_len(&segments(dir.path())[1]);
    assert_eq!(log.position().await.unwrap(), (2, second_len));
}

/// Read-your-writes: a lookup right after an append sees it, through this log and through a
/// reader opened beside it (another process's `open_existing`).
#[tokio::test]
async fn a_lookup_sees_every_record_appended_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let journal = log.journal().await.unwrap();
    let reader = AuditLog::open_existing(dir.path()).await.unwrap();
    for n in 1..=20 {
        journal.append(&event(n, "GetRole", ROLE)).unwrap();
        let newest = |log: AuditLog| async move {
            log.lookup(&EventQuery {
                limit: 1,
                ..EventQuery::default()
            })
            .await
            .unwrap()
        };
        let on = if n % 2 == 0 {
            log.clone()
        } else {
            reader.clone()
        };
        assert_eq!(names(&newest(on).await), [n]);
    }
    assert_eq!(all(&reader).await.len(), 20);
}

/// Segments roll at the size limit; pruning removes only segments the indexer has passed
/// and last written before the cut-off, and their blocks.
#[tokio::test]
async fn segments_rotate_and_indexed_old_ones_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let journal = log.journal_with(1024).await.unwrap();
    for n in 1..=20 {
        journal.append(&event(n, "GetRole", ROLE)).unwrap();
    }
    let written = segments(dir.path());
    assert!(written.len() >= 5, "{} segments", written.len());
    for file in &written {
        assert!(std::fs::metadata(file).unwrap().len() <= 1024);
    }
    let future = i64::MAX / 2;
    assert_eq!(log.position().await.unwrap(), (0, 0), "nothing indexed yet");
    // A cut-off before every write removes nothing (pruning indexes the journal first).
    assert_eq!(log.prune_before(0).await.unwrap(), 0);
    assert_eq!(log.catch_up().await.unwrap(), 0);
    assert_eq!(segments(dir.path()), written);
    assert_eq!(log.prune_before(future).await.unwrap(), 20);
    let left = segments(dir.path());
    assert_eq!(
        left,
        written[written.len() - 1..],
        "the segment being read stays"
    );
    // Appends continue where they were, and are indexed.
    journal.append(&event(21, "GetRole", ROLE)).unwrap();
    assert_eq!(names(&all(&log).await), [21]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fully_synced_appends_from_many_threads_all_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open_with(dir.path(), AuditSync::Full)
        .await
        .unwrap();
    let journal = std::sync::Arc::new(log.journal_with(4096).await.unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    journal.append(&event(t * 25 + i, "GetRole", ROLE)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(all(&log).await.len(), 100);
}

/// Retention hides the older records of a block straddling the cut-off, and only those: a
/// record appended afterwards is visible even if its time is older (as a row inserted after a
/// DELETE would be).
#[tokio::test]
async fn pruning_a_straddling_block_hides_only_what_was_there() {
    let events: Vec<_> = (1..=5).map(|n| event(n, "GetRole", ROLE)).collect();
    let (_dir, log) = log_with(&events).await;
    assert_eq!(log.prune_before(1_003_000).await.unwrap(), 2);
    assert_eq!(
        log.prune_before(1_003_000).await.unwrap(),
        0,
        "already gone"
    );
    let mut late = event(6, "GetRole", ROLE);
    late.event_time_ms = 1_001_500;
    log.append(&[late]).await.unwrap();
    let left = all(&log).await;
    assert_eq!(
        left.iter().map(|e| e.event_time_ms).collect::<Vec<_>>(),
        [1_003_000, 1_004_000, 1_005_000, 1_001_500]
    );
    assert_eq!(log.prune_before(1_004_500).await.unwrap(), 3);
    assert_eq!(names(&all(&log).await), [5]);
}

/// The journal is the record; the index can be thrown away and is rebuilt from the segments on
/// disk, wherever their numbering starts.
#[tokio::test]
async fn a_lost_index_is_rebuilt_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let journal = log.journal_with(2048).await.unwrap();
    for n in 1..=30 {
        journal.append(&event(n, "GetRole", ROLE)).unwrap();
    }
    drop(journal);
    assert_eq!(log.catch_up().await.unwrap(), 30);
    log.close().await;
    let first = segments(dir.path()).remove(0);
    std::fs::remove_file(&first).unwrap();
    for file in ["audit.db", "audit.db-wal", "audit.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    let log = AuditLog::open(dir.path()).await.unwrap();
    let rebuilt = names(&all(&log).await);
    assert!(!rebuilt.is_empty() && rebuilt.len() < 30, "{rebuilt:?}");
    assert_eq!(
        rebuilt,
        (31 - rebuilt.len() as i64..=30).collect::<Vec<_>>()
    );
}

/// Each LookupEvents attribute selects through the blocks' summaries across many blocks: the
/// answer equals a plain filter over everything appended.
#[tokio::test]
async fn attribute_lookups_across_blocks_match_a_plain_filter() {
    let events: Vec<_> = (1..=9000)
        .map(|n| {
            let mut e = event(
                n,
                ["GetRole", "CreateRole", "ListRoles"][(n % 3) as usize],
                ROLE,
            );
            if n % 1000 == 7 {
                e.principal_arn = Some(USER.into());
                e.username = Some("bob".into());
            }
            e
        })
        .collect();
    let (_dir, log) = log_with(&events).await;
    type Wanted = Box<dyn Fn(&NewEvent) -> bool>;
    let cases: Vec<(EventFilter<'_>, Wanted)> = vec![
        (
            EventFilter::PrincipalArn(USER),
            Box::new(|e| e.principal_arn.as_deref() == Some(USER)),
        ),
        (
            EventFilter::Username("bob"),
            Box::new(|e| e.username.as_deref() == Some("bob")),
        ),
        (
            EventFilter::EventName("CreateRole"),
            Box::new(|e| e.event_name == "CreateRole"),
        ),
        (
            EventFilter::ResourceName("role4321"),
            Box::new(|e| e.resources.contains("\"role4321\"")),
        ),
        (EventFilter::ReadOnly(true), Box::new(|e| e.read_only)),
    ];
    for (filter, wanted) in cases {
        let expected: Vec<i64> = events
            .iter()
            .rev()
            .filter(|e| wanted(e))
            .map(|e| e.event_time_ms)
            .collect();
        let mut got = Vec::new();
        let mut query = EventQuery {
            filter: Some(filter),
            limit: 777,
            ..EventQuery::default()
        };
        loop {
            let page = log.lookup(&query).await.unwrap();
            got.extend(page.iter().map(|e| e.event_time_ms));
            match page.last() {
                Some(last) if page.len() == 777 => query.after = Some(last.position()),
                _ => break,
            }
        }
        assert_eq!(got, expected, "{filter:?}");
    }
}

/// S3's object-level calls, as CloudTrail marks them: data events.
fn data_event(n: i64) -> NewEvent {
    NewEvent {
        event_source: "s3.amazonaws.com".into(),
        management: false,
        ..event(n, "GetObject", ROLE)
    }
}

/// LookupEvents' view leaves data events out inside the lookup: pages are full, whole blocks
/// of data events are skipped, and continuing after a position misses nothing.
#[tokio::test]
async fn management_only_pages_are_full_and_hold_no_data_event() {
    // A long run of data events (whole blocks of them), then a mix.
    let events: Vec<_> = (1..=6000)
        .map(|n| match n {
            1..=3000 => data_event(n),
            _ if n % 3 == 0 => event(n, "GetRole", ROLE),
            _ => data_event(n),
        })
        .collect();
    let (_dir, log) = log_with(&events).await;
    let expected: Vec<i64> = events
        .iter()
        .rev()
        .filter(|e| e.management)
        .map(|e| e.event_time_ms)
        .collect();
    for filter in [None, Some(EventFilter::PrincipalArn(ROLE))] {
        let mut query = EventQuery {
            filter,
            limit: 101,
            management_only: true,
            ..EventQuery::default()
        };
        let mut got = Vec::new();
        loop {
            let page = log.lookup(&query).await.unwrap();
            assert!(
                page.iter()
                    .all(|e| e.management && e.event_source == "iam.amazonaws.com")
            );
            got.extend(page.iter().map(|e| e.event_time_ms));
            match page.last() {
                Some(last) if page.len() == 101 => query.after = Some(last.position()),
                _ => break,
            }
        }
        assert_eq!(got, expected, "{filter:?}");
    }
    // Without the restriction both kinds come back, each as it was written.
    let everything = all(&log).await;
    assert_eq!(everything.len(), 6000);
    assert_eq!(everything.iter().filter(|e| !e.management).count(), 5000);
}

/// A journal written before the management column existed is still read, its records as
/// management events.
#[tokio::test]
async fn an_old_journal_without_the_management_column_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = dir.path().join(JOURNAL_DIR);
    std::fs::create_dir_all(&journal_dir).unwrap();
    let old = concat!(
        r#"["00000000-0000-4000-8000-000000000001",1001000,"123456789012","iam.amazonaws.com","#,
        r#""GetRole",true,"AKIA1","alice","arn:aws:iam::123456789012:role/r",null,"#,
        r#"[{"ResourceType":"AWS::IAM::Role","ResourceName":"r"}],{"eventName":"GetRole"}]"#,
        "\n"
    );
    std::fs::write(journal::segment_path(&journal_dir, 1), old).unwrap();
    let log = AuditLog::open(dir.path()).await.unwrap();
    let found = log
        .lookup(&EventQuery {
            management_only: true,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].management);
    assert_eq!(found[0].record, r#"{"eventName":"GetRole"}"#);
    // New records go on beside it in a new segment, in the new form.
    log.append(&[data_event(2)]).await.unwrap();
    let everything = all(&log).await;
    assert_eq!(
        everything.iter().map(|e| e.management).collect::<Vec<_>>(),
        [true, false]
    );
}
