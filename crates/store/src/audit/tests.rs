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

#[tokio::test]
async fn an_event_id_is_recorded_once() {
    let (_dir, log) = log_with(&[event(1, "GetRole", ROLE)]).await;
    assert!(log.append(&[event(1, "GetRole", ROLE)]).await.is_err());
}

/// A batch larger than one statement's variable limit is split, and still one transaction.
#[tokio::test]
async fn large_batches_split_across_statements() {
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

/// The writer thread's path: records appended through an [`Appender`] read back like any
/// others, and a batch is one transaction (a duplicate ID anywhere in it leaves none of it).
#[tokio::test]
async fn the_appender_commits_whole_batches() {
    let (_dir, log) = log_with(&[event(1, "GetRole", ROLE)]).await;
    let mut appender = log.appender().unwrap();
    let batch: Vec<_> = (2..=4).map(|n| event(n, "CreateRole", USER)).collect();
    appender.append(&batch).unwrap();
    let rejected = [event(5, "GetRole", ROLE), event(1, "GetRole", ROLE)];
    assert!(appender.append(&rejected).is_err());
    let all = log
        .lookup(&EventQuery {
            order: Order::OldestFirst,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&all), [1, 2, 3, 4]);
    let stored = &all[1];
    let first = &batch[0];
    assert_eq!(
        (
            &stored.event_id,
            stored.event_time_ms,
            &stored.principal_arn,
            &stored.resources
        ),
        (
            &first.event_id,
            first.event_time_ms,
            &first.principal_arn,
            &first.resources
        )
    );
    assert_eq!(
        (stored.read_only, &stored.access_key_id, &stored.record),
        (first.read_only, &first.access_key_id, &first.record)
    );
    // The appender still works after a failed batch.
    appender.append(&[event(5, "GetRole", ROLE)]).unwrap();
    let checkpointer = log.checkpointer().unwrap();
    assert!(
        checkpointer.checkpoint().unwrap() > 0,
        "the batches' frames are copied"
    );
}

#[tokio::test]
async fn the_sync_level_reaches_the_writer_connection() {
    for (sync, level) in [(AuditSync::Normal, 1), (AuditSync::Full, 2)] {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open_with(dir.path(), sync).await.unwrap();
        assert_eq!(log.appender().unwrap().synchronous().unwrap(), level);
    }
}
