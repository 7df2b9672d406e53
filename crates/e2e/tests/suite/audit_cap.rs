//! The audit trail's size cap (issue 12, decision 0017) on a real server with 1 MiB segments
//! and an 8 MiB cap, failure limits off so a flood of bad-key calls reaches the trail:
//! - `evict`: strangers' records go first (their oldest are gone from LookupEvents while the
//!   authenticated calls from before the flood are all still there), then the oldest
//!   authenticated ones; the trail stays within the cap plus one segment; `/metrics` and the
//!   log say what went; a kill -9 leaves both journals readable.
//! - `fail-closed`: strangers' records still go first and calls are served; once only
//!   authenticated records are left at the cap, calls answer 503 `ServiceUnavailable` until an
//!   operator removes old segments, then service resumes by itself.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use e2e::raw::{FORM, RawResponse, Signer, send};
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};
use serde_json::{Value, json};

const SEGMENT: u64 = 1 << 20;
const CAP: u64 = 8 << 20;
const TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";
const IDENTITY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";
const FIRST_STRANGER: &str = "AKIAFIRSTSTRANGER001";
const FLOOD_KEY: &str = "AKIAFLOODFLOODFLOOD1";

/// A long user agent (the record keeps up to 1 KiB of it): fewer calls fill a segment.
fn user_agent() -> String {
    format!("e2e-audit-cap/{}", "u".repeat(1000))
}

struct Capped {
    server: Server,
    admin: String,
    flags: Vec<String>,
}

fn start(data_dir: &Path, at_cap: &str) -> Capped {
    let admin = format!("127.0.0.1:{}", e2e::free_port());
    let flags: Vec<String> = [
        "--audit-segment-mib",
        "1",
        "--audit-max-mib",
        "8",
        "--audit-at-cap",
        at_cap,
        "--auth-failure-rate",
        "0",
        "--admin-addr",
        &admin,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    Capped {
        server: Server::start_with(data_dir, &args),
        admin,
        flags,
    }
}

/// Bytes of both journals' files on disk (segments and prepared spares).
fn trail_bytes(data_dir: &Path) -> u64 {
    let audit = data_dir.join("audit");
    [audit.clone(), audit.join("unauthenticated")]
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("journal-"))
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn metrics(admin: &str) -> String {
    let response = send(
        admin,
        format!("GET /metrics HTTP/1.1\r\nhost: {admin}\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(response.status, 200, "{}", response.head);
    assert!(response.head.to_lowercase().contains("openmetrics-text"));
    response.body
}

/// The value of the series `series` (name and labels, as printed).
fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{series} in {text}")) as u64
}

fn evicted(text: &str, what: &str, journal: &str) -> u64 {
    metric(
        text,
        &format!("roleplane_audit_evicted_{what}_total{{journal=\"{journal}\"}}"),
    )
}

fn call(endpoint: &str, key: (&str, &str), user_agent: &str) -> RawResponse {
    Signer::new("sts", key).post(endpoint, FORM, &[("user-agent", user_agent)], IDENTITY)
}

fn code(response: &RawResponse) -> &str {
    response
        .body
        .split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
}

/// `calls` calls with `key` from four threads; every answer must have `status`. Meanwhile the
/// trail's size is sampled; returns the largest seen.
fn flood(capped: &Capped, key: (&str, &str), calls: usize, status: u16) -> u64 {
    flood_until(capped, key, calls, |response| {
        assert_eq!(response.status, status, "{}", response.body);
        false
    })
    .0
}

/// [`flood`] that stops once `stop` says so; (largest trail seen, calls made).
fn flood_until(
    capped: &Capped,
    key: (&str, &str),
    calls: usize,
    stop: impl Fn(&RawResponse) -> bool + Sync,
) -> (u64, u64) {
    let endpoint = capped.server.endpoint.as_str();
    let largest = AtomicU64::new(0);
    let made = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let user_agent = user_agent();
    std::thread::scope(|scope| {
        let callers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    while !done.load(Ordering::Relaxed)
                        && made.fetch_add(1, Ordering::Relaxed) < calls as u64
                    {
                        if stop(&call(endpoint, key, &user_agent)) {
                            done.store(true, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let bytes = trail_bytes(&capped.server.data_dir);
                largest.fetch_max(bytes, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        for caller in callers {
            if let Err(panic) = caller.join() {
                done.store(true, Ordering::Relaxed);
                std::panic::resume_unwind(panic);
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    (
        largest.load(Ordering::Relaxed),
        made.load(Ordering::Relaxed).min(calls as u64),
    )
}

/// Every LookupEvents event for `AccessKeyId` `key`, following NextToken.
fn lookup_key(endpoint: &str, key: &str) -> Vec<Value> {
    let admin = Signer::new("cloudtrail", (ADMIN_KEY_ID, ADMIN_SECRET));
    let mut input = json!({
        "MaxResults": 50,
        "LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": key}],
    });
    let mut events = Vec::new();
    loop {
        let response = admin.post(
            endpoint,
            "application/x-amz-json-1.1",
            &[("x-amz-target", TARGET)],
            input.to_string().as_bytes(),
        );
        assert_eq!(response.status, 200, "{}", response.body);
        let body: Value = serde_json::from_str(&response.body).unwrap();
        events.extend(body["Events"].as_array().unwrap().iter().cloned());
        match body.get("NextToken").and_then(Value::as_str) {
            Some(token) => input["NextToken"] = token.into(),
            None => return events,
        }
    }
}

/// Waits (at most 30 s) until the trail is within the cap plus one segment, on disk and in
/// `/metrics`; returns the metrics text then.
fn settled(capped: &Capped) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = metrics(&capped.admin);
        let on_disk = trail_bytes(&capped.server.data_dir);
        let gauge = metric(&text, "roleplane_audit_trail_bytes");
        if on_disk <= CAP + SEGMENT && gauge <= CAP + SEGMENT {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the trail stays over its cap: {on_disk} bytes on disk, gauge {gauge}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn at_the_cap_strangers_records_go_first_then_the_oldest_authenticated() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let mut capped = start(&data_dir, "evict");
    let endpoint = capped.server.endpoint.clone();
    let early = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(capped.server.user_with_key("early"));
    let early = (
        early.access_key_id().to_owned(),
        early.secret_access_key().to_owned(),
    );
    let ua = user_agent();
    for _ in 0..20 {
        assert_eq!(call(&endpoint, (&early.0, &early.1), &ua).status, 200);
    }
    let first = call(&endpoint, (FIRST_STRANGER, "wrong"), &ua);
    assert_eq!(code(&first), "InvalidClientTokenId");
    assert_eq!(lookup_key(&endpoint, &early.0).len(), 20);
    assert_eq!(lookup_key(&endpoint, FIRST_STRANGER).len(), 1);
    let text = metrics(&capped.admin);
    assert_eq!(evicted(&text, "bytes", "unauthenticated"), 0);

    // ~1.7 KB a record: about twice the cap of strangers' records.
    let largest = flood(&capped, (FLOOD_KEY, "wrong"), 10_000, 403);
    let text = settled(&capped);
    eprintln!(
        "strangers' flood: largest trail seen {largest} bytes; after: {} bytes",
        metric(&text, "roleplane_audit_trail_bytes")
    );
    assert!(evicted(&text, "bytes", "unauthenticated") > 0, "{text}");
    assert!(evicted(&text, "records", "unauthenticated") > 0, "{text}");
    assert_eq!(evicted(&text, "bytes", "authenticated"), 0, "{text}");
    assert_eq!(
        lookup_key(&endpoint, &early.0).len(),
        20,
        "authenticated records from before the flood are all there"
    );
    assert!(
        lookup_key(&endpoint, FIRST_STRANGER).is_empty(),
        "the oldest strangers' records are gone"
    );
    let lines = capped
        .server
        .logged("evicted the oldest records of calls without an authenticated caller");
    assert!(!lines.is_empty(), "an eviction log line");
    assert!(
        lines[0].contains("bytes=")
            && lines[0].contains("records=")
            && lines[0].contains("oldest="),
        "{}",
        lines[0]
    );

    // Then authenticated calls fill the trail: the oldest authenticated records go.
    let largest = flood(&capped, (ADMIN_KEY_ID, ADMIN_SECRET), 10_000, 200);
    let text = settled(&capped);
    eprintln!(
        "authenticated flood: largest trail seen {largest} bytes; after: {} bytes",
        metric(&text, "roleplane_audit_trail_bytes")
    );
    assert!(evicted(&text, "bytes", "authenticated") > 0, "{text}");
    assert!(
        lookup_key(&endpoint, &early.0).is_empty(),
        "the oldest authenticated records went"
    );
    assert!(
        !capped
            .server
            .logged("evicted the oldest records of authenticated calls")
            .is_empty()
    );
    assert!(
        lookup_key(&endpoint, FLOOD_KEY).len() > 50,
        "recent strangers' records stay"
    );

    // A kill -9 leaves both journals readable by the next start.
    capped.server.kill();
    let args: Vec<&str> = capped.flags.iter().map(String::as_str).collect();
    let server = Server::start_with(&data_dir, &args);
    // (The killed server's strangers' segment is now the oldest of its journal, so the cap
    // may take it first: the check is on records written after the restart.)
    assert_eq!(
        call(&server.endpoint, (FIRST_STRANGER, "wrong"), &ua).status,
        403
    );
    assert_eq!(lookup_key(&server.endpoint, FIRST_STRANGER).len(), 1);
    assert!(lookup_key(&server.endpoint, ADMIN_KEY_ID).len() > 50);
    assert_eq!(
        call(&server.endpoint, (ADMIN_KEY_ID, ADMIN_SECRET), &ua).status,
        200
    );
}

#[test]
fn fail_closed_answers_503_at_the_cap_until_space_is_freed() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let capped = start(&data_dir, "fail-closed");
    let endpoint = capped.server.endpoint.clone();
    // Strangers alone never close the trail: their records make room.
    flood(&capped, (FLOOD_KEY, "wrong"), 8_000, 403);
    let text = settled(&capped);
    assert!(evicted(&text, "bytes", "unauthenticated") > 0, "{text}");
    assert_eq!(metric(&text, "roleplane_audit_refused_total"), 0);

    let (_, made) =
        flood_until(
            &capped,
            (ADMIN_KEY_ID, ADMIN_SECRET),
            20_000,
            |response| match response.status {
                200 => false,
                503 => {
                    assert_eq!(code(response), "ServiceUnavailable", "{}", response.body);
                    true
                }
                other => panic!("{other}: {}", response.body),
            },
        );
    assert!(made < 20_000, "no 503 after {made} calls");
    let refused = call(&endpoint, (ADMIN_KEY_ID, ADMIN_SECRET), &user_agent());
    assert_eq!(refused.status, 503);
    assert_eq!(code(&refused), "ServiceUnavailable");
    let text = metrics(&capped.admin);
    assert!(metric(&text, "roleplane_audit_refused_total") > 0, "{text}");
    assert_eq!(evicted(&text, "bytes", "authenticated"), 0, "{text}");
    assert!(trail_bytes(&data_dir) <= CAP + SEGMENT);
    assert!(!capped.server.logged("fail-closed").is_empty());
    // Not ready while every call is refused, though alive.
    let probe = |path: &str| {
        let admin = &capped.admin;
        send(
            admin,
            format!("GET {path} HTTP/1.1\r\nhost: {admin}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
    };
    let not_ready = probe("/readyz");
    assert_eq!(not_ready.status, 503, "{}", not_ready.body);
    assert!(
        not_ready.body.starts_with("audit trail: "),
        "{}",
        not_ready.body
    );
    assert_eq!(probe("/healthz").status, 200);

    // An operator removes the oldest segments of the authenticated journal.
    let journal = data_dir.join("audit");
    let mut segments: Vec<_> = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    segments.sort();
    for path in &segments[..segments.len() - 2] {
        std::fs::remove_file(path).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while call(&endpoint, (ADMIN_KEY_ID, ADMIN_SECRET), &user_agent()).status != 200 {
        assert!(
            Instant::now() < deadline,
            "still refused after space was freed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!capped.server.logged("below its size cap again").is_empty());
    assert_eq!(probe("/readyz").status, 200);
}
