//! The audit trail in PostgreSQL (`PgAuditLog`, decision 0027): what is appended is read back
//! by every attribute LookupEvents filters on, in pages that continue where they stopped;
//! concurrent appends share commits; two handles (two replicas) see each other's records at
//! once; retention and the size cap delete the oldest rows, strangers' first when asked, one
//! replica at a time; a record that cannot be committed is an error, never a silent success.

mod common;

use std::collections::BTreeSet;

use common::{Backend, Postgres};
use sqlx::{Connection, PgConnection};
use store::audit::{Caller, CommitError, EventFilter, EventQuery, NewEvent, Order};
use store::{DatabaseUrl, PgAuditLog, PgStore, StoreError};

const ACCOUNT: &str = "123456789012";
const OTHER: &str = "210987654321";
const ROLE: &str = "arn:aws:iam::123456789012:role/app";
const USER: &str = "arn:aws:iam::123456789012:user/alice";

/// Record `n`: at 1,000,000 + n seconds (ms), its ID a UUIDv7 of that time.
fn event(n: i64, name: &str, principal: &str) -> NewEvent {
    let ms = 1_000_000_000 + n * 1000;
    NewEvent {
        event_id: format!("{:08x}-{:04x}-7000-8000-{n:012}", ms >> 16, ms & 0xffff),
        event_time_ms: ms,
        account_id: ACCOUNT.into(),
        event_source: "iam.amazonaws.com".into(),
        event_name: name.into(),
        read_only: name.starts_with("Get"),
        access_key_id: Some(format!("AKIA{n:016}")),
        username: Some(
            if principal == USER {
                "alice"
            } else {
                "session"
            }
            .into(),
        ),
        principal_arn: Some(principal.into()),
        error_code: None,
        resources: format!(r#"[{{"ResourceType":"AWS::IAM::Role","ResourceName":"role{n}"}}]"#),
        management: true,
        record: format!(
            r#"{{"eventName":"{name}","n":{n},"padding":"{}"}}"#,
            "x".repeat(200)
        ),
    }
}

fn number(e: &store::audit::Event) -> i64 {
    (e.event_time_ms - 1_000_000_000) / 1000
}

fn numbers(events: &[store::audit::Event]) -> Vec<i64> {
    events.iter().map(number).collect()
}

/// A migrated database and a trail handle on it.
async fn trail() -> (common::PgDatabase, PgStore, PgAuditLog) {
    let (data, store) = Postgres::empty().await;
    let log = connect(&data).await;
    (data, store, log)
}

async fn connect(data: &common::PgDatabase) -> PgAuditLog {
    PgAuditLog::connect(&DatabaseUrl::new(Postgres::location(data)))
        .await
        .unwrap()
}

async fn lookup(log: &PgAuditLog, query: EventQuery<'_>) -> Vec<i64> {
    numbers(&log.lookup(&query).await.unwrap())
}

#[tokio::test]
async fn every_lookup_attribute_selects_exactly_its_records() {
    let (_data, _store, log) = trail().await;
    let mut events = vec![
        event(1, "GetRole", ROLE),
        event(2, "CreateRole", USER),
        event(3, "GetRole", USER),
        event(4, "DeleteRole", ROLE),
        event(5, "PutObject", ROLE),
        event(6, "ListRoles", USER),
    ];
    events[3].account_id = OTHER.into();
    events[4].management = false;
    events[4].event_source = "s3.amazonaws.com".into();
    events[5].access_key_id = None;
    events[5].username = None;
    events[5].resources = "[]".into();
    events[5].error_code = Some("AccessDenied".into());
    log.append_all(Caller::Authenticated, &events)
        .await
        .unwrap();

    let in_account = |filter| EventQuery {
        account_id: Some(ACCOUNT),
        filter,
        ..EventQuery::default()
    };
    let id_of_3 = events[2].event_id.clone();
    let cases: Vec<(EventQuery<'_>, Vec<i64>)> = vec![
        (in_account(None), vec![6, 5, 3, 2, 1]),
        (EventQuery::default(), vec![6, 5, 4, 3, 2, 1]),
        (
            EventQuery {
                management_only: true,
                ..in_account(None)
            },
            vec![6, 3, 2, 1],
        ),
        (
            in_account(Some(EventFilter::EventName("GetRole"))),
            vec![3, 1],
        ),
        (in_account(Some(EventFilter::ReadOnly(true))), vec![3, 1]),
        (
            in_account(Some(EventFilter::ReadOnly(false))),
            vec![6, 5, 2],
        ),
        (in_account(Some(EventFilter::Username("alice"))), vec![3, 2]),
        (
            in_account(Some(EventFilter::PrincipalArn(ROLE))),
            vec![5, 1],
        ),
        (
            in_account(Some(EventFilter::ResourceType("AWS::IAM::Role"))),
            vec![5, 3, 2, 1],
        ),
        (
            in_account(Some(EventFilter::ResourceName("role2"))),
            vec![2],
        ),
        (
            in_account(Some(EventFilter::EventSource("s3.amazonaws.com"))),
            vec![5],
        ),
        (
            in_account(Some(EventFilter::AccessKeyId("AKIA0000000000000003"))),
            vec![3],
        ),
        (in_account(Some(EventFilter::EventId(&id_of_3))), vec![3]),
        (in_account(Some(EventFilter::EventName("Nothing"))), vec![]),
        (
            EventQuery {
                start_ms: Some(events[1].event_time_ms),
                end_ms: Some(events[2].event_time_ms),
                ..in_account(None)
            },
            vec![3, 2],
        ),
        (
            EventQuery {
                order: Order::OldestFirst,
                ..in_account(Some(EventFilter::PrincipalArn(USER)))
            },
            vec![2, 3, 6],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(lookup(&log, query).await, expected, "{query:?}");
    }
    // Keys are per account: another account's records stay out, and its own are found.
    let in_other = |filter| EventQuery {
        account_id: Some(OTHER),
        filter: Some(filter),
        ..EventQuery::default()
    };
    assert_eq!(
        lookup(&log, in_other(EventFilter::EventName("DeleteRole"))).await,
        [4]
    );
    assert_eq!(
        lookup(&log, in_account(Some(EventFilter::EventName("DeleteRole")))).await,
        Vec::<i64>::new()
    );
    // Across accounts (no LookupEvents asks so), each attribute filters on the row's columns.
    let across = |filter| EventQuery {
        filter: Some(filter),
        ..EventQuery::default()
    };
    let key_of_4 = "AKIA0000000000000004";
    for (filter, expected) in [
        (EventFilter::EventName("DeleteRole"), vec![4]),
        (EventFilter::EventSource("s3.amazonaws.com"), vec![5]),
        (EventFilter::Username("alice"), vec![3, 2]),
        (EventFilter::AccessKeyId(key_of_4), vec![4]),
        (EventFilter::ResourceName("role4"), vec![4]),
        (
            EventFilter::ResourceType("AWS::IAM::Role"),
            vec![5, 4, 3, 2, 1],
        ),
        (EventFilter::ReadOnly(true), vec![3, 1]),
        (EventFilter::PrincipalArn(USER), vec![6, 3, 2]),
        (EventFilter::EventId(&id_of_3), vec![3]),
    ] {
        assert_eq!(lookup(&log, across(filter)).await, expected, "{filter:?}");
    }

    // Each record comes back whole.
    let found = log
        .lookup(&in_account(Some(EventFilter::EventId(&id_of_3))))
        .await
        .unwrap();
    let back = &found[0];
    let sent = &events[2];
    assert_eq!(
        (
            &back.event_id,
            &back.event_source,
            &back.access_key_id,
            &back.username,
            &back.principal_arn,
            &back.resources,
            &back.record,
            back.read_only,
            back.management,
        ),
        (
            &sent.event_id,
            &sent.event_source,
            &sent.access_key_id,
            &sent.username,
            &sent.principal_arn,
            &sent.resources,
            &sent.record,
            sent.read_only,
            sent.management,
        )
    );
    let denied = log
        .lookup(&in_account(Some(EventFilter::EventName("ListRoles"))))
        .await
        .unwrap();
    assert_eq!(denied[0].error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(denied[0].access_key_id, None);
}

#[tokio::test]
async fn pages_continue_after_their_last_record_in_both_orders() {
    let (_data, _store, log) = trail().await;
    let mut events: Vec<_> = (1..=7).map(|n| event(n, "GetRole", ROLE)).collect();
    // Two records in the same millisecond: the row's id orders them.
    events[6].event_time_ms = events[5].event_time_ms;
    log.append_all(Caller::Authenticated, &events)
        .await
        .unwrap();

    for order in [Order::NewestFirst, Order::OldestFirst] {
        let mut query = EventQuery {
            order,
            limit: 3,
            ..EventQuery::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = log.lookup(&query).await.unwrap();
            seen.extend(page.iter().map(|e| e.event_id.clone()));
            match page.last() {
                Some(last) if page.len() == 3 => query.after = Some(last.position()),
                _ => break,
            }
        }
        let mut expected: Vec<_> = events.iter().map(|e| e.event_id.clone()).collect();
        if order == Order::NewestFirst {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order:?}");
    }

    // Newest first, a page never shows what is newer than the page before it.
    let mut query = EventQuery {
        limit: 2,
        ..EventQuery::default()
    };
    let first = log.lookup(&query).await.unwrap();
    log.append(Caller::Authenticated, event(50, "CreateRole", ROLE))
        .await
        .unwrap();
    query.after = Some(first[1].position());
    let second = lookup(&log, query).await;
    assert_eq!(second, [5, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_commits_and_every_one_is_visible() {
    let (data, _store, log) = trail().await;
    let other_replica = connect(&data).await;
    const APPENDS: i64 = 200;
    let tasks: Vec<_> = (0..APPENDS)
        .map(|n| {
            // Half through each handle, as two replicas' calls.
            let log = if n % 2 == 0 {
                log.clone()
            } else {
                other_replica.clone()
            };
            let caller = if n % 10 == 0 {
                Caller::Unauthenticated
            } else {
                Caller::Authenticated
            };
            tokio::spawn(async move { log.append(caller, event(n, "GetRole", ROLE)).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Acknowledged means committed: both handles see all of them, whoever wrote them.
    for reader in [&log, &other_replica] {
        let all = reader
            .lookup(&EventQuery {
                order: Order::OldestFirst,
                limit: 1000,
                ..EventQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(numbers(&all), (0..APPENDS).collect::<Vec<_>>());
    }
    let (commits, records) = [&log, &other_replica].iter().fold((0, 0), |(c, r), log| {
        let counts = log.commit_counts();
        (c + counts.commits(), r + counts.records())
    });
    assert_eq!(records, APPENDS as u64);
    assert!(
        commits < records,
        "{commits} commits for {records} records: none was shared"
    );
    let usage = log.usage().await.unwrap();
    assert!(usage.unauthenticated > 0 && usage.authenticated > 8 * usage.unauthenticated);
}

#[tokio::test]
async fn retention_deletes_what_is_older_than_the_cutoff_and_its_bytes() {
    let (data, _store, log) = trail().await;
    let events: Vec<_> = (1..=10).map(|n| event(n, "GetRole", ROLE)).collect();
    log.append_all(Caller::Authenticated, &events[..6])
        .await
        .unwrap();
    log.append_all(Caller::Unauthenticated, &events[6..])
        .await
        .unwrap();
    let before = log.usage().await.unwrap().total();

    // While another replica prunes (holds the lock), this one leaves it to it.
    let mut other = PgConnection::connect(&Postgres::location(&data))
        .await
        .unwrap();
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(5, 0)")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert!(held);
    assert_eq!(
        log.prune_before(events[3].event_time_ms).await.unwrap(),
        None
    );
    other.close().await.unwrap();

    // Records 1-3 are older than record 4.
    let pruned = log.prune_before(events[3].event_time_ms).await.unwrap();
    assert_eq!(pruned, Some(3));
    let left = lookup(
        &log,
        EventQuery {
            order: Order::OldestFirst,
            ..EventQuery::default()
        },
    )
    .await;
    assert_eq!(left, (4..=10).collect::<Vec<_>>());
    let after = log.usage().await.unwrap().total();
    let per_record = before / 10;
    assert!(
        (before - after).abs_diff(3 * per_record) < 3 * 16,
        "{before} -> {after}"
    );
    assert_eq!(log.prune_before(0).await.unwrap(), Some(0));
}

#[tokio::test]
async fn the_size_cap_takes_strangers_records_oldest_first_then_authenticated_ones() {
    let (_data, _store, log) = trail().await;
    // Interleaved: odd numbers are strangers'.
    for n in 1..=40 {
        let caller = if n % 2 == 1 {
            Caller::Unauthenticated
        } else {
            Caller::Authenticated
        };
        log.append(caller, event(n, "GetRole", ROLE)).await.unwrap();
    }
    let usage = log.usage().await.unwrap();
    let per_record = usage.unauthenticated / 20;
    assert!(per_record > 200, "{usage:?}");

    // Room for five records' bytes: the five oldest strangers' records go, nothing else.
    let evicted = log
        .evict(Caller::Unauthenticated, 5 * per_record - 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(evicted.records, 5);
    assert!(evicted.bytes >= 5 * per_record - 10);
    assert_eq!(
        (evicted.oldest_ms, evicted.newest_ms),
        (
            Some(event(1, "", ROLE).event_time_ms),
            Some(event(9, "", ROLE).event_time_ms)
        )
    );
    let all = |log: PgAuditLog| async move {
        lookup(
            &log,
            EventQuery {
                order: Order::OldestFirst,
                limit: 100,
                ..EventQuery::default()
            },
        )
        .await
    };
    let left: BTreeSet<i64> = all(log.clone()).await.into_iter().collect();
    let gone: BTreeSet<i64> = [1, 3, 5, 7, 9].into();
    assert_eq!(left, (1..=40).filter(|n| !gone.contains(n)).collect());
    let after = log.usage().await.unwrap();
    assert_eq!(after.authenticated, usage.authenticated);
    assert_eq!(after.unauthenticated, usage.unauthenticated - evicted.bytes);

    // More than the strangers hold: all of theirs, and no authenticated one.
    let evicted = log
        .evict(Caller::Unauthenticated, u64::MAX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(evicted.records, 15);
    assert_eq!(log.usage().await.unwrap().unauthenticated, 0);
    // Then authenticated ones, oldest first.
    let evicted = log
        .evict(Caller::Authenticated, 2 * per_record - 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(evicted.records, 2);
    assert_eq!(
        all(log.clone()).await,
        (6..=40).step_by(2).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_record_that_cannot_be_committed_is_an_error() {
    let (data, _store, log) = trail().await;
    log.append(Caller::Authenticated, event(1, "GetRole", ROLE))
        .await
        .unwrap();
    // A NUL from a request is kept (as U+FFFD): one such record must not fail its batch.
    let mut odd = event(2, "GetRole", ROLE);
    odd.access_key_id = Some("AKIA\0".into());
    log.append(Caller::Unauthenticated, odd).await.unwrap();
    let back = log
        .lookup(&EventQuery {
            filter: Some(EventFilter::AccessKeyId("AKIA\u{fffd}")),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(numbers(&back), [2]);

    // The database goes away under the trail.
    let name = Postgres::location(&data)
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let mut admin = PgConnection::connect(common::pg_server_url())
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let refused = log
        .append(Caller::Authenticated, event(3, "GetRole", ROLE))
        .await;
    assert!(
        matches!(refused, Err(CommitError::Database(_))),
        "{refused:?}"
    );
    assert!(log.probe().await.is_err());
}

#[tokio::test]
async fn a_database_without_the_trail_is_refused() {
    let data = Postgres::data().await;
    let refused = PgAuditLog::connect(&DatabaseUrl::new(Postgres::location(&data))).await;
    assert!(
        matches!(&refused, Err(StoreError::Schema(message)) if message.contains("no audit trail")),
        "{refused:?}"
    );
}
