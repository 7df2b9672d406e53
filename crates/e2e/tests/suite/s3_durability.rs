//! S3 under SIGKILL: while four clients PUT objects of random content, the server is killed;
//! after a restart on the same data dir every acknowledged object reads back byte for byte.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::primitives::ByteStream;
use e2e::Server;
use e2e::s3::{Noise, md5_hex};

const CLIENTS: u64 = 4;

/// An S3 client that does not retry: after the kill, calls fail at once.
async fn client(server: &Server) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&server.admin_config().await)
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_puts_loses_no_acknowledged_object() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start_on(&data);
    let s3 = client(&server).await;
    s3.create_bucket()
        .bucket("durable")
        .send()
        .await
        .expect("CreateBucket");

    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let s3 = s3.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                // The PUT the kill interrupted: it may or may not have landed.
                let mut in_flight = None;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let mut noise = Noise::new(client * 1_000_000 + n);
                    // 1 KiB to 256 KiB; some keys are written twice (the second write wins).
                    let mut size = [0u8; 4];
                    noise.fill(&mut size);
                    let size = 1024 + (u32::from_le_bytes(size) as usize % (255 * 1024));
                    let body = noise.bytes(size);
                    let key = format!("c{client}/{}", n % 40);
                    let md5 = md5_hex(&body);
                    match s3
                        .put_object()
                        .bucket("durable")
                        .key(&key)
                        .body(ByteStream::from(body))
                        .send()
                        .await
                    {
                        Ok(put) => {
                            assert_eq!(put.e_tag(), Some(format!("\"{md5}\"").as_str()));
                            acknowledged.push((key, md5));
                        }
                        Err(_) => {
                            in_flight = Some((key, md5));
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
    let mut latest = std::collections::BTreeMap::new();
    let mut maybe = std::collections::BTreeMap::new();
    let mut count = 0;
    for task in tasks {
        // Each client writes its own keys in order, so the last acknowledgement is the value
        // (or the interrupted PUT's, had it landed unacknowledged).
        let (acknowledged, in_flight) = task.await.expect("a client task");
        for (key, md5) in acknowledged {
            count += 1;
            latest.insert(key, md5);
        }
        if let Some((key, md5)) = in_flight {
            maybe.insert(key, md5);
        }
    }
    assert!(count > 20, "too little load: {count} acknowledged PUTs");

    let server = Server::start_on(&data);
    let s3 = client(&server).await;
    for (key, md5) in &latest {
        let got = s3
            .get_object()
            .bucket("durable")
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("acknowledged {key} is gone after the kill: {e:?}"));
        let bytes = got.body.collect().await.expect("read the body").to_vec();
        let read = md5_hex(&bytes);
        assert!(
            &read == md5 || maybe.get(key) == Some(&read),
            "{key} reads back as acknowledged ({count} acknowledged PUTs)"
        );
    }
    // The listing agrees: no acknowledged key is missing.
    let listed: Vec<String> = s3
        .list_objects_v2()
        .bucket("durable")
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
    for key in latest.keys() {
        assert!(listed.contains(key), "{key} is not listed");
    }
    eprintln!(
        "durability: {count} acknowledged PUTs over {} keys survived SIGKILL",
        latest.len()
    );
}
