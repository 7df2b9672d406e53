//! S3 under SIGKILL: while four clients PUT objects of random content, delete some and complete
//! small multipart uploads, the server is killed; after a restart on the same data dir every
//! acknowledged write reads back byte for byte and every acknowledged delete stays deleted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use e2e::Server;
use e2e::s3::{Noise, md5_hex};

const CLIENTS: u64 = 4;
const BUCKET: &str = "durable";

/// An S3 client that does not retry: after the kill, calls fail at once.
async fn client(server: &Server) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&server.admin_config().await)
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// What a key holds: the MD5 of its bytes, or `None` once deleted.
type State = Option<String>;

/// One write: PUT (or a one-part multipart upload) of `body` to `key`, or DELETE of `key`.
async fn write(
    s3: &aws_sdk_s3::Client,
    key: &str,
    body: Option<Vec<u8>>,
    multipart: bool,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Debug| format!("{e:?}");
    let Some(body) = body else {
        s3.delete_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .map_err(|e| err(&e))?;
        return Ok(());
    };
    let md5 = md5_hex(&body);
    if !multipart {
        let put = s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| err(&e))?;
        assert_eq!(put.e_tag(), Some(format!("\"{md5}\"").as_str()));
        return Ok(());
    }
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .map_err(|e| err(&e))?;
    let upload = upload.upload_id().expect("an upload ID").to_owned();
    let part = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&upload)
        .part_number(1)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| err(&e))?;
    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&upload)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().expect("ETag"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| err(&e))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start_on(&data);
    let s3 = client(&server).await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");

    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let s3 = s3.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                // Each client writes its own keys, in order: the last acknowledged write of a
                // key is what it must hold (or the interrupted one's, had it landed).
                let mut acknowledged: Vec<(String, State)> = Vec::new();
                let mut in_flight = None;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let mut noise = Noise::new(client * 1_000_000 + n);
                    let key = format!("c{client}/{}", n % 16);
                    // 1 KiB to 256 KiB.
                    let mut size = [0u8; 4];
                    noise.fill(&mut size);
                    let size = 1024 + (u32::from_le_bytes(size) as usize % (255 * 1024));
                    let (body, multipart) = match n % 6 {
                        4 => (None, false),
                        5 => (Some(noise.bytes(size)), true),
                        _ => (Some(noise.bytes(size)), false),
                    };
                    let state = body.as_deref().map(md5_hex);
                    match write(&s3, &key, body, multipart).await {
                        Ok(()) => acknowledged.push((key, state)),
                        Err(_) => {
                            in_flight = Some((key, state));
                            break; // the server is gone
                        }
                    }
                }
                (acknowledged, in_flight)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill();
    stop.store(true, Ordering::Relaxed);
    let mut latest: BTreeMap<String, State> = BTreeMap::new();
    let mut maybe: BTreeMap<String, State> = BTreeMap::new();
    let mut count = 0;
    for task in tasks {
        let (acknowledged, in_flight) = task.await.expect("a client task");
        for (key, state) in acknowledged {
            count += 1;
            latest.insert(key, state);
        }
        if let Some((key, state)) = in_flight {
            maybe.insert(key, state);
        }
    }
    assert!(count > 20, "too little load: {count} acknowledged writes");

    let server = Server::start_on(&data);
    let s3 = client(&server).await;
    let mut problems = Vec::new();
    for (key, state) in &latest {
        let read: State = match s3.get_object().bucket(BUCKET).key(key).send().await {
            Ok(got) => Some(md5_hex(
                &got.body.collect().await.expect("read the body").to_vec(),
            )),
            Err(err) => {
                let status = err.raw_response().map(|r| r.status().as_u16());
                assert_eq!(status, Some(404), "GetObject {key}: {err:?}");
                None
            }
        };
        if &read != state && maybe.get(key) != Some(&read) {
            problems.push(format!(
                "{key}: acknowledged {state:?}, reads {read:?} (in flight: {:?})",
                maybe.get(key)
            ));
        }
    }
    // The listing agrees with the reads.
    let listed: Vec<String> = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListObjectsV2")
        .iter()
        .flat_map(|p| {
            p.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned)
        })
        .collect();
    for (key, state) in &latest {
        if state.is_some() && maybe.get(key) != Some(&None) && !listed.contains(key) {
            problems.push(format!("{key} is not listed"));
        }
    }
    assert!(
        problems.is_empty(),
        "after SIGKILL ({count} acknowledged writes):\n{}",
        problems.join("\n")
    );
    eprintln!(
        "durability: {count} acknowledged writes over {} keys survived SIGKILL",
        latest.len()
    );
}

/// The regular files under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn a_streamed_get_reads_the_whole_object_while_it_is_replaced_and_deleted() {
    let server = Server::start();
    let s3 = server.s3().await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    // Far more than the socket buffers hold: the server is still reading the blob afterwards.
    let original = Noise::new(42).bytes(24 * 1024 * 1024);
    s3.put_object()
        .bucket(BUCKET)
        .key("moving")
        .body(ByteStream::from(original.clone()))
        .customize()
        .disable_payload_signing()
        .send()
        .await
        .expect("PutObject");
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("moving")
        .send()
        .await
        .expect("GetObject");
    let mut body = got.body;
    let mut read = Vec::with_capacity(original.len());
    let first = body
        .try_next()
        .await
        .expect("a chunk")
        .expect("a first chunk");
    read.extend_from_slice(&first);

    s3.put_object()
        .bucket(BUCKET)
        .key("moving")
        .body(ByteStream::from_static(b"replacement"))
        .send()
        .await
        .expect("PutObject (replace)");
    s3.delete_object()
        .bucket(BUCKET)
        .key("moving")
        .send()
        .await
        .expect("DeleteObject");

    while let Some(chunk) = body.try_next().await.expect("read a chunk") {
        read.extend_from_slice(&chunk);
    }
    assert_eq!(read.len(), original.len());
    assert!(
        read == original,
        "the GET reads the object it started on, whole"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_to_one_key_leave_one_whole_object() {
    let server = Server::start();
    let s3 = server.s3().await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    let bodies: Vec<Vec<u8>> = (0..6)
        .map(|n| Noise::new(100 + n).bytes(1024 * 1024))
        .collect();
    let md5s: Vec<String> = bodies.iter().map(|b| md5_hex(b)).collect();
    let puts: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let s3 = s3.clone();
            tokio::spawn(async move {
                s3.put_object()
                    .bucket(BUCKET)
                    .key("contended")
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .expect("PutObject")
            })
        })
        .collect();
    for put in puts {
        put.await.expect("a PUT task");
    }
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("contended")
        .send()
        .await
        .expect("GetObject");
    let etag = got.e_tag().expect("ETag").to_owned();
    let bytes = got.body.collect().await.expect("read").to_vec();
    let md5 = md5_hex(&bytes);
    assert!(
        md5s.contains(&md5),
        "the object is one of the bodies PUT, whole"
    );
    assert_eq!(etag, format!("\"{md5}\""), "its ETag is its bytes'");
}

#[tokio::test]
async fn replaced_deleted_aborted_and_failed_writes_leave_no_bytes_behind() {
    let server = Server::start();
    let s3 = server.s3().await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    let put = |key: &'static str, seed: u64, size: usize| {
        let s3 = s3.clone();
        async move {
            s3.put_object()
                .bucket(BUCKET)
                .key(key)
                .body(ByteStream::from(Noise::new(seed).bytes(size)))
                .send()
                .await
                .expect("PutObject")
        }
    };
    // Replaced twice, then kept.
    for seed in 0..3 {
        put("kept", seed, 100_000).await;
    }
    // Copied, then the source deleted: the copy keeps its bytes.
    put("source", 10, 100_000).await;
    s3.copy_object()
        .bucket(BUCKET)
        .key("copy")
        .copy_source(format!("{BUCKET}/source"))
        .send()
        .await
        .expect("CopyObject");
    s3.delete_object()
        .bucket(BUCKET)
        .key("source")
        .send()
        .await
        .expect("DeleteObject");
    let copy = s3
        .get_object()
        .bucket(BUCKET)
        .key("copy")
        .send()
        .await
        .expect("GetObject (copy)");
    let copy = copy.body.collect().await.expect("read").to_vec();
    assert!(
        copy == Noise::new(10).bytes(100_000),
        "the copy outlives its source"
    );
    // An aborted upload and a completed one.
    for (key, complete) in [("aborted", false), ("completed", true)] {
        let upload = s3
            .create_multipart_upload()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .expect("CreateMultipartUpload");
        let upload = upload.upload_id().expect("an upload ID").to_owned();
        let mut parts = CompletedMultipartUpload::builder();
        for n in 1..=2 {
            let size = if n == 1 { 5 * 1024 * 1024 } else { 1000 };
            let part = s3
                .upload_part()
                .bucket(BUCKET)
                .key(key)
                .upload_id(&upload)
                .part_number(n)
                .body(ByteStream::from(Noise::new(n as u64).bytes(size)))
                .send()
                .await
                .expect("UploadPart");
            parts = parts.parts(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(part.e_tag().expect("ETag"))
                    .build(),
            );
        }
        if complete {
            s3.complete_multipart_upload()
                .bucket(BUCKET)
                .key(key)
                .upload_id(&upload)
                .multipart_upload(parts.build())
                .send()
                .await
                .expect("CompleteMultipartUpload");
        } else {
            s3.abort_multipart_upload()
                .bucket(BUCKET)
                .key(key)
                .upload_id(&upload)
                .send()
                .await
                .expect("AbortMultipartUpload");
        }
    }
    // A PUT whose body never fully arrives.
    let host = server.endpoint.trim_start_matches("http://").to_owned();
    let head = e2e::raw::Signer::new("s3", (e2e::ADMIN_KEY_ID, e2e::ADMIN_SECRET)).s3_head(
        &host,
        "PUT",
        &format!("/{BUCKET}/never"),
        &[],
        e2e::raw::Payload::Literal("UNSIGNED-PAYLOAD"),
        1_000_000,
    );
    {
        use std::io::Write as _;
        let mut stream = std::net::TcpStream::connect(&host).expect("connect");
        stream.write_all(&head).unwrap();
        stream.write_all(&[7; 300_000]).unwrap();
    }

    // Live objects: kept, copy, completed. Their blobs alone stay, and no temporary.
    let s3_dir = server.data_dir.join("s3");
    let mut blobs = Vec::new();
    let mut temporaries = Vec::new();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        blobs = files_under(&s3_dir.join("blobs"));
        temporaries = files_under(&s3_dir.join("tmp"));
        if blobs.len() == 3 && temporaries.is_empty() {
            break;
        }
    }
    assert_eq!(blobs.len(), 3, "blobs of 3 live objects: {blobs:?}");
    assert!(temporaries.is_empty(), "temporaries left: {temporaries:?}");
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect("ListObjectsV2");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["completed", "copy", "kept"]);
}

/// Read-after-write under concurrency: every client sees its own PUTs, DELETEs and tag changes
/// at once, whatever the others write meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_is_read_back_at_once_under_concurrency() {
    let server = Server::start();
    let s3 = server.s3().await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let s3 = s3.clone();
            tokio::spawn(async move {
                let deadline = std::time::Instant::now() + Duration::from_millis(2000);
                let mut rounds = 0;
                while std::time::Instant::now() < deadline {
                    rounds += 1;
                    let key = format!("c{client}/{}", rounds % 3);
                    let body = format!("client {client} round {rounds}");
                    s3.put_object()
                        .bucket(BUCKET)
                        .key(&key)
                        .body(ByteStream::from(body.clone().into_bytes()))
                        .send()
                        .await
                        .expect("PutObject");
                    let got = s3
                        .get_object()
                        .bucket(BUCKET)
                        .key(&key)
                        .send()
                        .await
                        .expect("GetObject after PutObject");
                    let read = got.body.collect().await.expect("read").to_vec();
                    assert_eq!(read, body.as_bytes(), "{key} after its PUT");
                    let listed = s3
                        .list_objects_v2()
                        .bucket(BUCKET)
                        .prefix(&key)
                        .send()
                        .await
                        .expect("ListObjectsV2");
                    assert_eq!(listed.contents().len(), 1, "{key} listed after its PUT");
                    assert_eq!(listed.contents()[0].size(), Some(body.len() as i64));
                    if rounds % 2 == 0 {
                        s3.delete_object()
                            .bucket(BUCKET)
                            .key(&key)
                            .send()
                            .await
                            .expect("DeleteObject");
                        let gone = s3.head_object().bucket(BUCKET).key(&key).send().await;
                        let status = gone
                            .as_ref()
                            .err()
                            .and_then(|e| e.raw_response())
                            .map(|r| r.status().as_u16());
                        assert_eq!(status, Some(404), "{key} after its DELETE: {gone:?}");
                    }
                }
                rounds
            })
        })
        .collect();
    let mut rounds = 0;
    for task in tasks {
        rounds += task.await.expect("a client task");
    }
    assert!(rounds > 20, "too little load: {rounds} rounds");
}

/// A restart keeps everything: an upload in progress resumes, and buckets keep their settings
/// and objects their headers and tags.
#[tokio::test]
async fn a_restart_keeps_uploads_settings_headers_and_tags() {
    use aws_sdk_s3::types::{Tag, Tagging};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start_on(&data);
    let s3 = server.s3().await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    let tag = Tagging::builder()
        .tag_set(Tag::builder().key("k").value("v").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging()
        .bucket(BUCKET)
        .tagging(tag.clone())
        .send()
        .await
        .expect("PutBucketTagging");
    s3.delete_public_access_block()
        .bucket(BUCKET)
        .send()
        .await
        .expect("DeletePublicAccessBlock");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::durable/public/*"}]}"#;
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(policy)
        .send()
        .await
        .expect("PutBucketPolicy");
    s3.put_object()
        .bucket(BUCKET)
        .key("public/doc")
        .content_type("text/x-kept")
        .metadata("m", "kept")
        .tagging("k=v")
        .body(ByteStream::from_static(b"kept across restarts"))
        .send()
        .await
        .expect("PutObject");
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("resumed")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload = upload.upload_id().expect("an upload ID").to_owned();
    let part1 = Noise::new(1).bytes(5 * 1024 * 1024);
    let etag1 = s3
        .upload_part()
        .bucket(BUCKET)
        .key("resumed")
        .upload_id(&upload)
        .part_number(1)
        .body(ByteStream::from(part1.clone()))
        .send()
        .await
        .expect("UploadPart 1")
        .e_tag()
        .expect("ETag")
        .to_owned();
    server.stop();

    let server = Server::start_on(&data);
    let s3 = server.s3().await;
    let etag2 = s3
        .upload_part()
        .bucket(BUCKET)
        .key("resumed")
        .upload_id(&upload)
        .part_number(2)
        .body(ByteStream::from_static(b"after the restart"))
        .send()
        .await
        .expect("UploadPart 2 after the restart")
        .e_tag()
        .expect("ETag")
        .to_owned();
    let parts = s3
        .list_parts()
        .bucket(BUCKET)
        .key("resumed")
        .upload_id(&upload)
        .send()
        .await
        .expect("ListParts");
    assert_eq!(parts.parts().len(), 2);
    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key("resumed")
        .upload_id(&upload)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(etag1).build())
                .parts(CompletedPart::builder().part_number(2).e_tag(etag2).build())
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("resumed")
        .send()
        .await
        .expect("GetObject");
    let whole = got.body.collect().await.expect("read").to_vec();
    assert!(whole[..part1.len()] == part1[..] && &whole[part1.len()..] == b"after the restart");

    let tags = s3
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .expect("GetBucketTagging");
    assert_eq!(tags.tag_set().len(), 1);
    let (code, _, status) = e2e::failure(s3.get_public_access_block().bucket(BUCKET).send().await);
    assert_eq!(
        (code.as_str(), status),
        ("NoSuchPublicAccessBlockConfiguration", 404)
    );
    let kept: serde_json::Value = serde_json::from_str(
        s3.get_bucket_policy()
            .bucket(BUCKET)
            .send()
            .await
            .expect("GetBucketPolicy")
            .policy()
            .expect("a policy"),
    )
    .unwrap();
    assert_eq!(
        kept,
        serde_json::from_str::<serde_json::Value>(policy).unwrap()
    );
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("public/doc")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_type(), Some("text/x-kept"));
    assert_eq!(
        head.metadata().and_then(|m| m.get("m")).map(String::as_str),
        Some("kept")
    );
    let tags = s3
        .get_object_tagging()
        .bucket(BUCKET)
        .key("public/doc")
        .send()
        .await
        .expect("GetObjectTagging");
    assert_eq!(tags.tag_set().len(), 1);
    // The public policy still lets anyone read.
    let anonymous = e2e::raw::unsigned(&server.endpoint, "GET", "/durable/public/doc", &[], b"");
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (200, "kept across restarts")
    );
}
