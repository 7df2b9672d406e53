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
