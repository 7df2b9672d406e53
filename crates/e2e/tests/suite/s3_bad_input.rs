//! S3 requests no SDK sends, made by hand and signed with `aws-sigv4`: malformed XML, invalid
//! bucket names, bodies shorter than their Content-Length, truncated aws-chunked bodies,
//! signatures over another payload; plus virtual-hosted addressing through `--s3-domain`. Every
//! refusal is a 4xx S3 XML error, never a 5xx, and leaves no object behind.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::sign::v4::calculate_signature;

use e2e::raw::{Payload, RawResponse, Signer, send};
use e2e::s3::{assert_s3_error, crc32_base64, md5_base64, s3_error_problem, sha256_hex, xml_field};
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};

fn admin() -> Signer<'static> {
    Signer::new("s3", (ADMIN_KEY_ID, ADMIN_SECRET))
}

fn host(server: &Server) -> String {
    server.endpoint.trim_start_matches("http://").to_owned()
}

fn create_bucket(server: &Server, bucket: &str) {
    let r = admin().s3(&server.endpoint, "PUT", &format!("/{bucket}"), &[], b"");
    assert_eq!(r.status, 200, "CreateBucket {bucket}: {}", r.body);
}

/// The status of HEAD /bucket/key.
fn head_status(server: &Server, bucket: &str, key: &str) -> u16 {
    admin()
        .s3(
            &server.endpoint,
            "HEAD",
            &format!("/{bucket}/{key}"),
            &[],
            b"",
        )
        .status
}

/// The keys ListObjectsV2 answers for `bucket`.
fn keys(server: &Server, bucket: &str) -> Vec<String> {
    let r = admin().s3(
        &server.endpoint,
        "GET",
        &format!("/{bucket}?list-type=2"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>").map(|(k, _)| k.to_owned()))
        .collect()
}

/// Why `r` is not a refusal (a 4xx S3 XML error), if it is not one.
fn not_refused(r: &RawResponse, what: &str) -> Option<String> {
    let code = xml_field(&r.body, "Code");
    if !(400..500).contains(&r.status) || !r.body.contains("<Error>") || code.is_none() {
        return Some(format!(
            "{what}: not a 4xx S3 XML error: {}\n{}",
            r.head, r.body
        ));
    }
    None
}

fn assert_refused(r: &RawResponse, what: &str) {
    if let Some(why) = not_refused(r, what) {
        panic!("{why}");
    }
}

#[test]
fn malformed_xml_bodies_are_malformed_xml() {
    let server = Server::start();
    let mut problems = Vec::new();
    create_bucket(&server, "xml-bucket");
    let put = admin().s3(&server.endpoint, "PUT", "/xml-bucket/k", &[], b"present");
    assert_eq!(put.status, 200, "{}", put.body);

    for body in [
        &b"<Delete><Object><Key>k</Key></Object>"[..],
        b"not xml at all",
        b"<Delete><Object><Key>k</Key></Object></Remove>",
    ] {
        let md5 = md5_base64(body);
        let r = admin().s3(
            &server.endpoint,
            "POST",
            "/xml-bucket?delete",
            &[("content-md5", &md5), ("content-type", "application/xml")],
            body,
        );
        problems.extend(s3_error_problem(r.status, &r.body, 400, "MalformedXML"));
    }
    assert_eq!(keys(&server, "xml-bucket"), ["k"], "nothing was deleted");

    let created = admin().s3(&server.endpoint, "POST", "/xml-bucket/mp?uploads", &[], b"");
    assert_eq!(created.status, 200, "{}", created.body);
    let upload = xml_field(&created.body, "UploadId")
        .expect("an UploadId")
        .to_owned();
    let part = admin().s3(
        &server.endpoint,
        "PUT",
        &format!("/xml-bucket/mp?partNumber=1&uploadId={upload}"),
        &[],
        b"one small part",
    );
    assert_eq!(part.status, 200, "{}", part.body);
    for body in [
        &b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"[..],
        b"{\"Parts\": []}",
        b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber></Part></CompleteMultipartUpload>",
    ] {
        let r = admin().s3(
            &server.endpoint,
            "POST",
            &format!("/xml-bucket/mp?uploadId={upload}"),
            &[("content-type", "application/xml")],
            body,
        );
        problems.extend(s3_error_problem(r.status, &r.body, 400, "MalformedXML"));
    }
    assert_eq!(
        head_status(&server, "xml-bucket", "mp"),
        404,
        "not completed"
    );

    let body = b"<Tagging><TagSet><Tag><Key>k</Key>";
    let md5 = md5_base64(body);
    let r = admin().s3(
        &server.endpoint,
        "PUT",
        "/xml-bucket?tagging",
        &[("content-md5", &md5)],
        body,
    );
    problems.extend(s3_error_problem(r.status, &r.body, 400, "MalformedXML"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn invalid_bucket_names_are_invalid_bucket_name() {
    let server = Server::start();
    let mut problems = Vec::new();
    for name in ["AB", "a", "-abc", "a..b", "192.168.0.1", "abc-", "ab_c"] {
        let r = admin().s3(&server.endpoint, "PUT", &format!("/{name}"), &[], b"");
        problems.extend(s3_error_problem(
            r.status,
            &r.body,
            400,
            "InvalidBucketName",
        ));
    }
    let long = "a".repeat(64);
    let r = admin().s3(&server.endpoint, "PUT", &format!("/{long}"), &[], b"");
    problems.extend(s3_error_problem(
        r.status,
        &r.body,
        400,
        "InvalidBucketName",
    ));
    // The longest and shortest legal names are fine.
    create_bucket(&server, &"b".repeat(63));
    create_bucket(&server, "abc");
    create_bucket(&server, "a.b-c.1");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Writes `head` and `body` to the server, then half-closes (or drops) the connection; the
/// response, if the server sent one.
fn send_short(server: &Server, head: &[u8], body: &[u8], half_close: bool) -> RawResponse {
    let mut stream = TcpStream::connect(host(server)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(head);
    let _ = stream.write_all(body);
    if !half_close {
        drop(stream);
        return RawResponse {
            status: 0,
            head: String::new(),
            body: String::new(),
        };
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    RawResponse {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

#[test]
fn a_body_shorter_than_its_content_length_stores_nothing() {
    let server = Server::start();
    create_bucket(&server, "short-bucket");
    let host = host(&server);
    let full = vec![b'z'; 100_000];
    let sent = &full[..50_000];
    for (key, payload, half_close) in [
        (
            "unsigned-half-closed",
            Payload::Literal("UNSIGNED-PAYLOAD"),
            true,
        ),
        (
            "unsigned-dropped",
            Payload::Literal("UNSIGNED-PAYLOAD"),
            false,
        ),
        ("signed-half-closed", Payload::HashOf(&full), true),
        ("signed-dropped", Payload::HashOf(&full), false),
    ] {
        let head = admin().s3_head(
            &host,
            "PUT",
            &format!("/short-bucket/{key}"),
            &[],
            payload,
            full.len(),
        );
        let r = send_short(&server, &head, sent, half_close);
        assert!(
            r.status == 0 || (400..500).contains(&r.status),
            "{key}: no success and no 5xx for a short body: {} {}",
            r.head,
            r.body
        );
        if r.status != 0 {
            assert_refused(&r, key);
        }
    }
    // Give a server that would commit late the time to do it.
    std::thread::sleep(Duration::from_millis(1000));
    for key in [
        "unsigned-half-closed",
        "unsigned-dropped",
        "signed-half-closed",
        "signed-dropped",
    ] {
        assert_eq!(head_status(&server, "short-bucket", key), 404, "{key}");
    }
    assert!(keys(&server, "short-bucket").is_empty());
    let r = admin().s3(&server.endpoint, "GET", "/short-bucket?uploads", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("<Upload>"), "{}", r.body);
}

/// An aws-chunked body (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`) of `data` in one chunk with a
/// CRC-32 trailer.
fn aws_chunked(data: &[u8]) -> Vec<u8> {
    let mut body = format!("{:x}\r\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(
        format!(
            "\r\n0\r\nx-amz-checksum-crc32:{}\r\n\r\n",
            crc32_base64(data)
        )
        .as_bytes(),
    );
    body
}

fn put_chunked(server: &Server, key: &str, decoded_length: usize, body: &[u8]) -> RawResponse {
    let host = host(server);
    let length = decoded_length.to_string();
    let mut bytes = admin().s3_head(
        &host,
        "PUT",
        &format!("/chunked-bucket/{key}"),
        &[
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", &length),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ],
        Payload::Literal("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        body.len(),
    );
    bytes.extend_from_slice(body);
    send(&host, &bytes)
}

#[test]
fn a_truncated_aws_chunked_body_stores_nothing() {
    let server = Server::start();
    create_bucket(&server, "chunked-bucket");
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let whole = aws_chunked(&data);

    // The well-formed body is stored as its decoded bytes.
    let r = put_chunked(&server, "whole", data.len(), &whole);
    assert_eq!(r.status, 200, "{}\n{}", r.head, r.body);
    let got = admin().s3(&server.endpoint, "HEAD", "/chunked-bucket/whole", &[], b"");
    assert_eq!(got.status, 200);
    assert!(
        got.head
            .to_ascii_lowercase()
            .contains(&format!("content-length: {}", data.len())),
        "{}",
        got.head
    );

    // Cut inside the chunk's data, before the final chunk, and inside the trailer.
    let in_data = whole.iter().position(|&b| b == b'\n').unwrap() + 1 + 10_000;
    let before_last = whole.len() - whole.windows(3).rev().position(|w| w == b"\n0\r").unwrap() - 2;
    let mut wrong = whole.clone();
    let crc = crc32_base64(&data);
    let at = wrong
        .windows(crc.len())
        .position(|w| w == crc.as_bytes())
        .unwrap();
    wrong[at..at + crc.len()].copy_from_slice(crc32_base64(b"other").as_bytes());
    let mut failures = Vec::new();
    for (key, declared, body) in [
        ("cut-in-data", data.len(), &whole[..in_data]),
        ("cut-before-last-chunk", data.len(), &whole[..before_last]),
        ("cut-in-trailer", data.len(), &whole[..whole.len() - 10]),
        // A chunk longer than the decoded length declared.
        ("longer-than-declared", data.len() - 1, &whole[..]),
        // A trailer checksum of other bytes.
        ("wrong-checksum", data.len(), &wrong[..]),
    ] {
        let r = put_chunked(&server, key, declared, body);
        failures.extend(not_refused(&r, key));
    }

    std::thread::sleep(Duration::from_millis(300));
    let stored = keys(&server, "chunked-bucket");
    if stored != ["whole"] {
        failures.push(format!("objects stored: {stored:?}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An aws-chunked body with signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) of `data`
/// cut in chunks of `size`, as a PUT to `key` signed at `time`: the head for a body of
/// `body_length` bytes (the body sent may be cut), and the whole body.
fn signed_chunked(
    server: &Server,
    key: &str,
    data: &[u8],
    size: usize,
    time: SystemTime,
    body_length: impl Fn(usize) -> usize,
) -> (Vec<u8>, Vec<u8>) {
    let host = host(server);
    let signer = admin().at(time);
    let mut chunks: Vec<&[u8]> = data.chunks(size).collect();
    chunks.push(b"");
    let encoded: usize = chunks
        .iter()
        .map(|c| format!("{:x}", c.len()).len() + ";chunk-signature=".len() + 64 + 2 + c.len() + 2)
        .sum();
    let decoded = data.len().to_string();
    let head = signer.s3_head(
        &host,
        "PUT",
        &format!("/chunked-bucket/{key}"),
        &[
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", &decoded),
        ],
        Payload::Literal("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        body_length(encoded),
    );
    let text = String::from_utf8_lossy(&head).into_owned();
    let date = text
        .lines()
        .find_map(|l| l.strip_prefix("x-amz-date: "))
        .expect("an x-amz-date")
        .to_owned();
    let mut previous = text
        .split("Signature=")
        .nth(1)
        .expect("a seed signature")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let scope = format!("{}/{}", &date[..8], signer.scope_tail());
    let signing_key = signer.signing_key(time);
    let mut body = Vec::with_capacity(encoded);
    for chunk in chunks {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{date}\n{scope}\n{previous}\n{}\n{}",
            sha256_hex(b""),
            sha256_hex(chunk)
        );
        let signature = calculate_signature(signing_key.as_ref(), to_sign.as_bytes());
        body.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
        previous = signature;
    }
    assert_eq!(body.len(), encoded);
    (head, body)
}

/// How a test cuts or alters a request body.
type Cut<'a> = dyn Fn(&[u8]) -> Vec<u8> + 'a;

#[test]
fn a_truncated_signed_chunked_body_stores_nothing() {
    let server = Server::start();
    create_bucket(&server, "chunked-bucket");
    let host = host(&server);
    let data: Vec<u8> = (0..40_000u32).map(|i| (i % 253) as u8).collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let time = UNIX_EPOCH + Duration::from_secs(now);
    let put = |key: &str, cut: &Cut<'_>| {
        let (_, body) = signed_chunked(&server, key, &data, 16_384, time, |n| n);
        let body = cut(&body);
        let (mut bytes, _) = signed_chunked(&server, key, &data, 16_384, time, |_| body.len());
        bytes.extend_from_slice(&body);
        send(&host, &bytes)
    };

    // The whole body is stored as its decoded bytes.
    let r = put("whole", &|b| b.to_vec());
    assert_eq!(r.status, 200, "{}\n{}", r.head, r.body);
    let got = admin().s3(&server.endpoint, "HEAD", "/chunked-bucket/whole", &[], b"");
    assert!(
        got.head
            .to_ascii_lowercase()
            .contains(&format!("content-length: {}", data.len())),
        "{}",
        got.head
    );

    let final_chunk = |b: &[u8]| {
        b.windows(19)
            .rposition(|w| w == b"\r\n0;chunk-signature")
            .unwrap()
            + 2
    };
    let mut problems = Vec::new();
    let cases: [(&str, &Cut<'_>); 3] = [
        ("signed-cut-in-data", &|b| b[..20_000].to_vec()),
        ("signed-cut-before-final-chunk", &|b| {
            b[..final_chunk(b)].to_vec()
        }),
        ("signed-tampered", &|b| {
            let mut b = b.to_vec();
            b[30_000] ^= 0xff;
            b
        }),
    ];
    for (key, cut) in cases {
        let r = put(key, cut);
        problems.extend(not_refused(&r, key));
        if key == "signed-tampered" {
            problems.extend(s3_error_problem(
                r.status,
                &r.body,
                403,
                "SignatureDoesNotMatch",
            ));
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let stored = keys(&server, "chunked-bucket");
    if stored != ["whole"] {
        problems.push(format!("objects stored: {stored:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_signature_over_another_payload_stores_nothing() {
    let server = Server::start();
    create_bucket(&server, "hash-bucket");
    let host = host(&server);
    let body = b"the bytes actually sent";

    // Signed over the hash of other bytes, and that hash sent as x-amz-content-sha256.
    let mut bytes = admin().s3_head(
        &host,
        "PUT",
        "/hash-bucket/other-hash",
        &[],
        Payload::HashOf(b"some other bytes"),
        body.len(),
    );
    bytes.extend_from_slice(body);
    let r = send(&host, &bytes);
    let mut problems = Vec::new();
    let mismatch = s3_error_problem(r.status, &r.body, 400, "XAmzContentSHA256Mismatch");
    let signature = s3_error_problem(r.status, &r.body, 403, "SignatureDoesNotMatch");
    if let (Some(mismatch), Some(_)) = (mismatch, signature) {
        problems.push(format!("other-hash: {mismatch}"));
    }

    // Signed over the body, then x-amz-content-sha256 swapped for another hash.
    let head = admin().s3_head(
        &host,
        "PUT",
        "/hash-bucket/swapped-hash",
        &[],
        Payload::HashOf(body),
        body.len(),
    );
    let head = String::from_utf8(head)
        .unwrap()
        .replace(&sha256_hex(body), &sha256_hex(b"swapped"));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    let r = send(&host, &bytes);
    problems.extend(s3_error_problem(
        r.status,
        &r.body,
        403,
        "SignatureDoesNotMatch",
    ));

    // Unsigned payload: the body is whatever arrives (the control).
    let mut bytes = admin().s3_head(
        &host,
        "PUT",
        "/hash-bucket/unsigned",
        &[],
        Payload::Literal("UNSIGNED-PAYLOAD"),
        body.len(),
    );
    bytes.extend_from_slice(body);
    let r = send(&host, &bytes);
    assert_eq!(r.status, 200, "{}", r.body);

    std::thread::sleep(Duration::from_millis(300));
    let stored = keys(&server, "hash-bucket");
    if stored != ["unsigned"] {
        problems.push(format!("objects stored: {stored:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn errors_are_s3_xml_with_a_4xx_status() {
    let server = Server::start();
    let e = &server.endpoint;
    let h = host(&server);
    create_bucket(&server, "err-bucket");
    let r = admin().s3(e, "PUT", "/err-bucket/k", &[], b"0123456789");
    assert_eq!(r.status, 200, "{}", r.body);
    // Every problem, not only the first.
    let mut problems: Vec<String> = Vec::new();
    let mut expect = |what: &str, r: RawResponse, status: u16, code: &str| {
        if let Some(problem) = s3_error_problem(r.status, &r.body, status, code) {
            problems.push(format!("{what}: {problem}"));
        }
    };

    let r = admin().s3(e, "GET", "/no-such-bucket?list-type=2", &[], b"");
    expect("ListObjectsV2 of no bucket", r, 404, "NoSuchBucket");
    let r = admin().s3(e, "GET", "/err-bucket/missing", &[], b"");
    expect("GetObject of no key", r, 404, "NoSuchKey");
    let r = admin().s3(e, "DELETE", "/err-bucket", &[], b"");
    expect("DeleteBucket with an object", r, 409, "BucketNotEmpty");
    let r = admin().s3(e, "GET", "/err-bucket/k", &[("range", "bytes=20-30")], b"");
    expect("a range past the end", r, 416, "InvalidRange");
    let r = admin().s3(e, "GET", "/err-bucket/k", &[("if-match", "\"nope\"")], b"");
    expect("If-Match another ETag", r, 412, "PreconditionFailed");
    let r = admin().s3(
        e,
        "PUT",
        "/err-bucket/k?partNumber=1&uploadId=no-such-upload",
        &[],
        b"part",
    );
    expect("UploadPart to no upload", r, 404, "NoSuchUpload");
    let r = admin().s3(e, "PUT", "/err-bucket?policy", &[], b"{\"Version\": 1}");
    expect("a policy without statements", r, 400, "MalformedPolicy");
    let r = admin().s3(
        e,
        "PUT",
        "/err-bucket/k?acl",
        &[("x-amz-acl", "public-read")],
        b"",
    );
    expect(
        "PutObjectAcl public-read",
        r,
        400,
        "AccessControlListNotSupported",
    );
    let r = Signer::new("s3", ("AKIAUNKNOWNKEY000000", "secret")).s3(e, "GET", "/", &[], b"");
    expect("an unknown key", r, 403, "InvalidAccessKeyId");
    let r =
        Signer::new("s3", (ADMIN_KEY_ID, "not-the-secret")).s3(e, "GET", "/err-bucket/k", &[], b"");
    expect("a wrong secret", r, 403, "SignatureDoesNotMatch");
    let r = admin()
        .token("not-a-session-token")
        .s3(e, "GET", "/", &[], b"");
    expect("a garbage session token", r, 400, "InvalidToken");
    // Anonymous: the bucket is private.
    let r = send(
        &h,
        format!("GET /err-bucket/k HTTP/1.1\r\nhost: {h}\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    expect("an anonymous GET", r, 403, "AccessDenied");
    // A presigned URL for another method.
    let target = admin().s3_presigned(&h, "PUT", "/err-bucket/k", Duration::from_secs(60));
    let r = send(
        &h,
        format!("GET {target} HTTP/1.1\r\nhost: {h}\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    expect(
        "a presigned PUT used for GET",
        r,
        403,
        "SignatureDoesNotMatch",
    );

    // HEAD errors have no body.
    for (target, status) in [("/err-bucket/missing", 404), ("/no-such-bucket", 404)] {
        let r = admin().s3(e, "HEAD", target, &[], b"");
        if (r.status, r.body.as_str()) != (status, "") {
            problems.push(format!("HEAD {target}: {} {}", r.head, r.body));
        }
    }

    // 304: no body, and no Content-Length but the object's (10 bytes): clients check it.
    let etag = admin()
        .s3(e, "HEAD", "/err-bucket/k", &[], b"")
        .head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_owned())
        })
        .expect("an ETag");
    let r = admin().s3(e, "GET", "/err-bucket/k", &[("if-none-match", &etag)], b"");
    let length = r.head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().to_owned())
    });
    if r.status != 304
        || !r.body.is_empty()
        || !(length.is_none() || length.as_deref() == Some("10"))
    {
        problems.push(format!(
            "If-None-Match the ETag: a 304 with content-length {length:?}: {}",
            r.head
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn virtual_hosted_style_names_the_bucket_in_the_host() {
    let server = Server::start();
    let connect = host(&server);
    let port = connect.rsplit(':').next().unwrap();
    let vhost = format!("vh-bucket.s3.localhost:{port}");
    let call = |method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]| {
        let mut bytes = admin().s3_head(
            &vhost,
            method,
            target,
            headers,
            Payload::HashOf(body),
            body.len(),
        );
        bytes.extend_from_slice(body);
        send(&connect, &bytes)
    };

    let r = call("PUT", "/", &[], b"");
    assert_eq!(r.status, 200, "CreateBucket virtual-hosted: {}", r.body);
    let r = call("PUT", "/dir/key.txt", &[], b"virtually hosted");
    assert_eq!(r.status, 200, "PutObject virtual-hosted: {}", r.body);
    // The same object path-style.
    let r = admin().s3(&server.endpoint, "GET", "/vh-bucket/dir/key.txt", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "virtually hosted"));
    let r = call("GET", "/dir/key.txt", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "virtually hosted"));
    let r = call("GET", "/?list-type=2&prefix=dir/", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<Key>dir/key.txt</Key>"), "{}", r.body);
    let r = call("GET", "/missing", &[], b"");
    assert_s3_error(r.status, &r.body, 404, "NoSuchKey");

    // A presigned GET on the virtual host.
    let target = admin().s3_presigned(&vhost, "GET", "/dir/key.txt", Duration::from_secs(60));
    let r = send(
        &connect,
        format!("GET {target} HTTP/1.1\r\nhost: {vhost}\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "virtually hosted"),
        "{}",
        r.head
    );

    // Another domain is not S3's: the bucket is not taken from it.
    let other = format!("vh-bucket.example.test:{port}");
    let mut bytes = admin().s3_head(&other, "GET", "/dir/key.txt", &[], Payload::HashOf(b""), 0);
    bytes.extend_from_slice(b"");
    let r = send(&connect, &bytes);
    assert_ne!(r.status, 200, "{}", r.body);
    assert!(r.status < 500, "{} {}", r.status, r.body);
}

/// Sends only `head` and waits up to 5 s for an answer, the connection left open.
fn send_head_only(server: &Server, head: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(host(server)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(head).unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // Until the end of the first response (its body is small) or the timeout.
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if text.contains("</Error>") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    RawResponse {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

#[test]
fn requests_refused_before_their_bodies_are_read() {
    let server = Server::start();
    create_bucket(&server, "early-bucket");
    let h = host(&server);
    let mut problems = Vec::new();

    // More than 5 GiB in one PUT, or in one part: refused from the headers alone.
    let too_large = 5 * 1024 * 1024 * 1024 + 1;
    let head = admin().s3_head(
        &h,
        "PUT",
        "/early-bucket/huge",
        &[],
        Payload::Literal("UNSIGNED-PAYLOAD"),
        too_large,
    );
    let r = send_head_only(&server, &head);
    problems.extend(
        s3_error_problem(r.status, &r.body, 400, "EntityTooLarge")
            .map(|p| format!("a 5 GiB + 1 PutObject: {p}")),
    );
    let created = admin().s3(
        &server.endpoint,
        "POST",
        "/early-bucket/mp?uploads",
        &[],
        b"",
    );
    let upload = xml_field(&created.body, "UploadId")
        .expect("an UploadId")
        .to_owned();
    let head = admin().s3_head(
        &h,
        "PUT",
        &format!("/early-bucket/mp?partNumber=1&uploadId={upload}"),
        &[],
        Payload::Literal("UNSIGNED-PAYLOAD"),
        too_large,
    );
    let r = send_head_only(&server, &head);
    problems.extend(
        s3_error_problem(r.status, &r.body, 400, "EntityTooLarge")
            .map(|p| format!("a 5 GiB + 1 part: {p}")),
    );

    // A request signed 20 minutes ago.
    let then = SystemTime::now() - Duration::from_secs(20 * 60);
    let r = admin().at(then).s3(&server.endpoint, "GET", "/", &[], b"");
    problems.extend(
        s3_error_problem(r.status, &r.body, 403, "RequestTimeTooSkewed")
            .map(|p| format!("signed 20 minutes ago: {p}")),
    );

    // A presigned URL may live 7 days at most.
    let put = admin().s3(&server.endpoint, "PUT", "/early-bucket/k", &[], b"k");
    assert_eq!(put.status, 200, "{}", put.body);
    let target = admin().s3_presigned(
        &h,
        "GET",
        "/early-bucket/k",
        Duration::from_secs(7 * 24 * 3600 + 1),
    );
    let r = send(
        &h,
        format!("GET {target} HTTP/1.1\r\nhost: {h}\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    problems.extend(
        s3_error_problem(r.status, &r.body, 400, "AuthorizationQueryParametersError")
            .map(|p| format!("a presigned URL for 7 days + 1 s: {p}")),
    );
    let target = admin().s3_presigned(
        &h,
        "GET",
        "/early-bucket/k",
        Duration::from_secs(7 * 24 * 3600),
    );
    let r = send(
        &h,
        format!("GET {target} HTTP/1.1\r\nhost: {h}\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    if r.status != 200 {
        problems.push(format!(
            "a presigned URL for 7 days: {} {}",
            r.status, r.body
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn odd_ranges_and_bodies_without_a_length() {
    let server = Server::start();
    create_bucket(&server, "odd-bucket");
    let e = &server.endpoint;
    let put = admin().s3(e, "PUT", "/odd-bucket/k", &[], b"0123456789");
    assert_eq!(put.status, 200, "{}", put.body);
    let empty = admin().s3(e, "PUT", "/odd-bucket/empty", &[], b"");
    assert_eq!(empty.status, 200, "{}", empty.body);
    let mut problems = Vec::new();

    // Ranges S3 does not serve: S3 ignores them (the whole object, 200); s3s refuses them while
    // decoding the request, before any operation sees it, so roleplane answers 400
    // InvalidArgument (a known deviation: still a 4xx in S3's shape, never a partial body).
    for range in ["bytes=0-1,4-5", "bytes=abc", "bytes=5-2", "items=0-1"] {
        let r = admin().s3(e, "GET", "/odd-bucket/k", &[("range", range)], b"");
        let whole = (r.status, r.body.as_str()) == (200, "0123456789");
        if !whole && s3_error_problem(r.status, &r.body, 400, "InvalidArgument").is_some() {
            problems.push(format!("Range {range}: {} {}", r.status, r.body));
        }
    }
    // Suffix longer than the object: all of it, as a 206.
    let r = admin().s3(e, "GET", "/odd-bucket/k", &[("range", "bytes=-100")], b"");
    if (r.status, r.body.as_str()) != (206, "0123456789")
        || !r
            .head
            .to_ascii_lowercase()
            .contains("content-range: bytes 0-9/10")
    {
        problems.push(format!("Range bytes=-100: {}\n{}", r.head, r.body));
    }
    // Nothing is satisfiable in an empty object.
    let r = admin().s3(e, "GET", "/odd-bucket/empty", &[("range", "bytes=0-")], b"");
    problems.extend(
        s3_error_problem(r.status, &r.body, 416, "InvalidRange")
            .map(|p| format!("bytes=0- of an empty object: {p}")),
    );
    // HEAD of an unsatisfiable range: 416 without a body.
    let r = admin().s3(e, "HEAD", "/odd-bucket/k", &[("range", "bytes=50-")], b"");
    if (r.status, r.body.as_str()) != (416, "") {
        problems.push(format!("HEAD bytes=50-: {}\n{}", r.head, r.body));
    }

    // A PUT without Content-Length (HTTP chunked): S3 asks for the length.
    let h = host(&server);
    let head = admin().s3_head(
        &h,
        "PUT",
        "/odd-bucket/chunked",
        &[("transfer-encoding", "chunked")],
        Payload::Literal("UNSIGNED-PAYLOAD"),
        0,
    );
    let head = String::from_utf8(head)
        .unwrap()
        .replace("content-length: 0\r\n", "");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(b"5\r\nhello\r\n0\r\n\r\n");
    let r = send(&h, &bytes);
    problems.extend(
        s3_error_problem(r.status, &r.body, 411, "MissingContentLength")
            .map(|p| format!("a chunked PUT: {p}")),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn another_s3_domain_moves_virtual_hosting_to_it() {
    let temp = tempfile::tempdir().unwrap();
    let server = Server::start_with(&temp.path().join("data"), &["--s3-domain", "files.test"]);
    let connect = host(&server);
    let port = connect.rsplit(':').next().unwrap().to_owned();
    let call = |host: &str, method: &str, target: &str, body: &[u8]| {
        let mut bytes =
            admin().s3_head(host, method, target, &[], Payload::HashOf(body), body.len());
        bytes.extend_from_slice(body);
        send(&connect, &bytes)
    };
    let vhost = format!("dom-bucket.files.test:{port}");
    let r = call(&vhost, "PUT", "/", b"");
    assert_eq!(r.status, 200, "CreateBucket under files.test: {}", r.body);
    let r = call(&vhost, "PUT", "/k", b"under files.test");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = admin().s3(&server.endpoint, "GET", "/dom-bucket/k", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "under files.test"));
    // The default domain is not S3's any more: under it the request is path-style, so
    // /dom-bucket/k is bucket dom-bucket's key k (not key dom-bucket/k of the host's bucket).
    let r = call(
        &format!("dom-bucket.s3.localhost:{port}"),
        "GET",
        "/dom-bucket/k",
        b"",
    );
    assert_eq!((r.status, r.body.as_str()), (200, "under files.test"));
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let server = Server::start();
    create_bucket(&server, "expect-bucket");
    let h = host(&server);
    let body = vec![b'e'; 2 * 1024 * 1024];
    let head = admin().s3_head(
        &h,
        "PUT",
        "/expect-bucket/k",
        &[("expect", "100-continue")],
        Payload::Literal("UNSIGNED-PAYLOAD"),
        body.len(),
    );
    let mut stream = TcpStream::connect(&h).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(&head).unwrap();
    let mut interim = Vec::new();
    let mut buf = [0u8; 256];
    while !interim.ends_with(b"\r\n\r\n") {
        let n = stream
            .read(&mut buf)
            .expect("an interim response before the body");
        assert!(n > 0, "closed before an interim response");
        interim.extend_from_slice(&buf[..n]);
    }
    let interim = String::from_utf8_lossy(&interim).into_owned();
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
    stream.write_all(&body).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(head_status(&server, "expect-bucket", "k"), 200);

    // Refused on its headers (no such bucket): the answer comes without the body being sent.
    let head = admin().s3_head(
        &h,
        "PUT",
        "/no-such-bucket/k",
        &[("expect", "100-continue")],
        Payload::Literal("UNSIGNED-PAYLOAD"),
        body.len(),
    );
    let r = send_head_only(&server, &head);
    assert_s3_error(r.status, &r.body, 404, "NoSuchBucket");
}

#[test]
fn listing_parameters_are_checked() {
    let server = Server::start();
    let e = &server.endpoint;
    create_bucket(&server, "list-bucket");
    for key in ["a-1", "a-2", "b-1"] {
        let r = admin().s3(e, "PUT", &format!("/list-bucket/{key}"), &[], b"x");
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut problems = Vec::new();
    let list = |query: &str| admin().s3(e, "GET", &format!("/list-bucket?{query}"), &[], b"");

    // Another delimiter than "/".
    let r = list("list-type=2&delimiter=-");
    let prefixes: Vec<_> = r
        .body
        .split("<Prefix>")
        .skip(1)
        .filter_map(|p| p.split_once("</Prefix>").map(|(p, _)| p))
        .filter(|p| !p.is_empty())
        .collect();
    if r.status != 200 || prefixes != ["a-", "b-"] {
        problems.push(format!("delimiter '-': {prefixes:?} {}", r.body));
    }
    // Past every key: nothing, not truncated.
    let r = list("list-type=2&start-after=z");
    if r.status != 200 || r.body.contains("<Key>") || !r.body.contains("<IsTruncated>false") {
        problems.push(format!("start-after past the end: {}", r.body));
    }
    // A continuation token the server never gave.
    let r = list("list-type=2&continuation-token=bm90LWEtdG9rZW4%3D");
    problems.extend(
        s3_error_problem(r.status, &r.body, 400, "InvalidArgument")
            .map(|p| format!("a forged continuation token: {p}")),
    );
    for max_keys in ["-1", "abc"] {
        let r = list(&format!("list-type=2&max-keys={max_keys}"));
        problems.extend(
            s3_error_problem(r.status, &r.body, 400, "InvalidArgument")
                .map(|p| format!("max-keys={max_keys}: {p}")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
