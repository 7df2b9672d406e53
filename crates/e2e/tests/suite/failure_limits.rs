//! The failure limits (`request::failure_limits`) and the small records of unauthenticated
//! calls: a flood of bad-key requests with large bodies is answered `Throttling` (S3:
//! `SlowDown`) past its burst and grows the audit trail by a bounded amount, while valid
//! signatures from the same address keep working.

use std::path::Path;

use e2e::Server;
use e2e::raw::Signer;

/// Bytes of audit records in both journals, authenticated calls' and unauthenticated ones'
/// (segments are preallocated: the data ends at the first NUL).
fn journal_bytes(data_dir: &Path) -> usize {
    let audit = data_dir.join("audit");
    [audit.clone(), audit.join("unauthenticated")]
        .iter()
        .map(|dir| segment_bytes(dir))
        .sum()
}

fn segment_bytes(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("journal-") && name.ends_with(".jsonl")
        })
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())
        })
        .sum()
}

#[test]
fn a_flood_of_bad_key_requests_with_large_bodies_is_throttled_and_leaves_a_bounded_trail() {
    let server = Server::start();
    let before = journal_bytes(&server.data_dir);
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
        "x".repeat(244 * 1024)
    );
    let body = format!(
        "Action=CreatePolicy&Version=2010-05-08&PolicyName=flood&PolicyDocument={}",
        e2e::raw::percent_encode(&document)
    );
    let bad = Signer::new("iam", ("AKIAFLOODFLOODFLOOD1", "not-the-secret"));
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    let started = std::time::Instant::now();
    for _ in 0..200 {
        let response = bad.post(
            &server.endpoint,
            "application/x-www-form-urlencoded",
            &[],
            body.as_bytes(),
        );
        let code = response
            .body
            .split("<Code>")
            .nth(1)
            .and_then(|rest| rest.split("</Code>").next())
            .unwrap_or("none")
            .to_owned();
        *codes
            .entry(format!("{} {code}", response.status))
            .or_default() += 1;
    }
    // The burst (ten seconds at 5/s) and 5/s since are answered as they are, the rest
    // throttled.
    let refill = (started.elapsed().as_secs_f64() * 5.0).ceil() as usize;
    let answered = codes.get("403 InvalidClientTokenId").copied().unwrap_or(0);
    let throttled = codes.get("400 Throttling").copied().unwrap_or(0);
    assert!(
        (50..=50 + refill).contains(&answered),
        "{codes:?}, refill {refill}"
    );
    assert_eq!(answered + throttled, 200, "{codes:?}");
    let grown = journal_bytes(&server.data_dir) - before;
    // 200 requests carried 50 MB; the trail holds only the answered ones, each small.
    assert!(grown > 0, "the answered calls left no records");
    assert!(
        grown <= answered * 2048,
        "the trail grew by {grown} bytes for {answered} records"
    );

    // A valid signature from the same address is never counted.
    let admin = Signer::new("sts", (e2e::ADMIN_KEY_ID, e2e::ADMIN_SECRET));
    for _ in 0..5 {
        let response = admin.post(
            &server.endpoint,
            "application/x-www-form-urlencoded",
            &[],
            b"Action=GetCallerIdentity&Version=2011-06-15",
        );
        assert_eq!(response.status, 200, "{}", response.body);
    }
}

#[test]
fn bad_key_s3_requests_past_the_burst_are_answered_slow_down() {
    let server = Server::start();
    let bad = Signer::new("s3", ("AKIAFLOODFLOODFLOOD2", "not-the-secret"));
    let mut slow_down = 0;
    let mut refused = 0;
    let started = std::time::Instant::now();
    for _ in 0..80 {
        let response = bad.s3(&server.endpoint, "GET", "/some-bucket", &[], b"");
        match response.status {
            503 => {
                assert!(
                    response.body.contains("<Code>SlowDown</Code>"),
                    "{}",
                    response.body
                );
                slow_down += 1;
            }
            403 => refused += 1,
            other => panic!("unexpected {other}: {}", response.body),
        }
    }
    let refill = (started.elapsed().as_secs_f64() * 5.0).ceil() as usize;
    assert!(
        (50..=50 + refill).contains(&refused),
        "{refused} refused, {slow_down} slowed, refill {refill}"
    );
    assert_eq!(refused + slow_down, 80);
}
