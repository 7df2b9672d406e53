//! Malformed and hostile requests get AWS's error shape and a 4xx, never a panic or a 5xx; and a
//! SIGKILL during a stream of writes loses no acknowledged write.

use e2e::raw::{send, signed_post};
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};

const ADMIN: (&str, &str) = (ADMIN_KEY_ID, ADMIN_SECRET);

fn assert_aws_error(response: &e2e::raw::RawResponse, status: u16, code: &str) {
    assert_eq!(
        response.status, status,
        "{}\n{}",
        response.head, response.body
    );
    assert!(
        response.body.contains(&format!("<Code>{code}</Code>")),
        "expected {code}: {}",
        response.body
    );
    assert!(
        response
            .head
            .to_ascii_lowercase()
            .contains("x-amzn-requestid"),
        "{}",
        response.head
    );
}

#[test]
fn malformed_signed_requests_get_aws_errors() {
    let server = Server::start();
    let endpoint = server.endpoint.as_str();
    let cases: &[(&str, &str, &[u8], u16, &str)] = &[
        (
            "bad percent-encoding",
            "iam",
            b"Action=GetRole&Version=2010-05-08&RoleName=%zz",
            404,
            "MalformedQueryString",
        ),
        (
            "non-UTF-8",
            "iam",
            b"Action=GetRole&Version=2010-05-08&RoleName=%ff%fe",
            404,
            "MalformedQueryString",
        ),
        (
            "unknown IAM action",
            "iam",
            b"Action=LaunchRockets&Version=2010-05-08",
            400,
            "InvalidAction",
        ),
        (
            "unknown STS action",
            "sts",
            b"Action=LaunchRockets&Version=2011-06-15",
            400,
            "InvalidAction",
        ),
        (
            "missing required member",
            "iam",
            b"Action=CreateRole&Version=2010-05-08&AssumeRolePolicyDocument=%7B%7D",
            400,
            "ValidationError",
        ),
        (
            "out-of-range member",
            "iam",
            b"Action=ListRoles&Version=2010-05-08&MaxItems=0",
            400,
            "ValidationError",
        ),
        (
            "no Action at all",
            "iam",
            b"Version=2010-05-08",
            400,
            "MissingAction",
        ),
    ];
    for (name, service, body, status, code) in cases {
        let response = signed_post(endpoint, service, ADMIN, body);
        assert!(
            response.body.contains("<ErrorResponse"),
            "{name}: {}",
            response.body
        );
        assert_aws_error(&response, *status, code);
    }
}

#[test]
fn an_oversized_body_is_refused() {
    let server = Server::start();
    let mut body = b"Action=GetUser&Version=2010-05-08&Pad=".to_vec();
    body.resize(2 << 20, b'a');
    let response = signed_post(&server.endpoint, "iam", ADMIN, &body);
    assert_eq!(response.status, 413, "{}", response.head);
    assert!(
        response.body.contains("RequestEntityTooLarge"),
        "{}",
        response.body
    );
}

#[test]
fn unsigned_and_garbage_requests_never_take_the_server_down() {
    let server = Server::start();
    let host = server.endpoint.trim_start_matches("http://");
    let unsigned = send(
        host,
        b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 43\r\nconnection: close\r\n\r\nAction=GetCallerIdentity&Version=2011-06-15",
    );
    assert_aws_error(&unsigned, 403, "MissingAuthenticationToken");
    let forged = send(
        host,
        b"POST / HTTP/1.1\r\nhost: x\r\nauthorization: AWS4-HMAC-SHA256 garbage\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
    assert!((400..500).contains(&forged.status), "{}", forged.head);
    for garbage in [
        b"\x00\x01\x02\x03 not http at all\r\n\r\n".as_slice(),
        b"GET /\xff\xfe HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\ncontent-length: 99999999999999999999\r\n\r\n",
    ] {
        let response = send(host, garbage);
        assert!(
            response.status == 0 || (400..500).contains(&response.status),
            "{}",
            response.head
        );
    }
    let still_up = signed_post(
        &server.endpoint,
        "sts",
        ADMIN,
        b"Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(still_up.status, 200, "{}", still_up.body);
}

/// Every CreateRole the server acknowledged before a SIGKILL is there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_writes_loses_no_acknowledged_write() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let mut server = Server::start_on(&dir);
    let iam = server.iam().await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let writer = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        for i in 0.. {
            let name = format!("role-{i}");
            match iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(trust)
                .send()
                .await
            {
                Ok(_) => acknowledged.push(name),
                Err(_) => break,
            }
        }
        acknowledged
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server.kill();
    let acknowledged = writer.await.unwrap();
    assert!(
        acknowledged.len() > 5,
        "too few writes before the kill: {}",
        acknowledged.len()
    );

    let restarted = Server::start_on(&dir);
    let iam = restarted.iam().await;
    let mut stored = std::collections::HashSet::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_roles()
            .set_marker(marker.clone())
            .max_items(1000)
            .send()
            .await
            .unwrap();
        stored.extend(page.roles().iter().map(|r| r.role_name().to_owned()));
        marker = page.marker().map(str::to_owned);
        if !page.is_truncated() {
            break;
        }
    }
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|n| !stored.contains(*n))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after SIGKILL: {lost:?}"
    );
}
