//! Hostile or broken clients: a clean 4xx or a close, never a panic or unbounded memory.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn quick() -> Fixture {
    fixture(&[("i-0aaaaaaaaaaaaaaaa", "127.0.0.41")], |c| {
        c.limits.header_timeout = Duration::from_millis(300);
        c.limits.idle_timeout = Duration::from_millis(500);
        c.limits.max_connections_per_listener = 4;
    })
}

/// Reads until the server closes; returns what it sent.
async fn until_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut all))
        .await
        .expect("server closed in time")
        .ok();
    all
}

#[tokio::test]
async fn malformed_request_lines_get_400_and_close() {
    let f = quick();
    for junk in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET /latest HTTP/9.9\r\n\r\n",
        b"GET /latest HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET /latest HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(f.addrs[0]).await.unwrap();
        stream.write_all(junk).await.unwrap();
        let reply = until_close(&mut stream).await;
        assert!(
            reply.starts_with(b"HTTP/1.1 400 Bad Request\r\n"),
            "{:?} -> {:?}",
            String::from_utf8_lossy(junk),
            String::from_utf8_lossy(&reply)
        );
    }
}

#[tokio::test]
async fn oversized_heads_get_431_and_close() {
    let f = quick();
    let mut stream = TcpStream::connect(f.addrs[0]).await.unwrap();
    let mut req = b"GET /latest/meta-data/ HTTP/1.1\r\nX-Big: ".to_vec();
    req.extend(std::iter::repeat_n(b'a', 64 * 1024));
    let _ = stream.write_all(&req).await; // the server may close before reading it all
    let reply = until_close(&mut stream).await;
    assert!(
        reply.starts_with(b"HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );

    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..100 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let r = raw(f.addrs[0], &many).await;
    assert_eq!(r.status, 431);
}

#[tokio::test]
async fn bodies_are_discarded_or_refused() {
    let f = quick();
    let mut stream = TcpStream::connect(f.addrs[0]).await.unwrap();
    stream
        .write_all(b"PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 5\r\nContent-Length: 5\r\n\r\nhello")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream, false).await.unwrap().status, 200);
    stream
        .write_all(b"GET /latest/meta-data/ami-id HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_response(&mut stream, false).await.unwrap().text(),
        "ami-0123456789abcdef0"
    );

    let r = raw(
        f.addrs[0],
        b"PUT /latest/api/token HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn slowloris_is_cut_off_by_the_header_timeout() {
    let f = quick();
    let mut stream = TcpStream::connect(f.addrs[0]).await.unwrap();
    let started = std::time::Instant::now();
    stream
        .write_all(b"GET /latest/meta-data/ HTTP/1.1\r\n")
        .await
        .unwrap();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break;
        }
    }
    let reply = until_close(&mut stream).await;
    assert!(reply.is_empty());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let f = quick();
    let mut stream = TcpStream::connect(f.addrs[0]).await.unwrap();
    assert!(until_close(&mut stream).await.is_empty());
}

#[tokio::test]
async fn connection_cap_queues_extra_clients_without_failing_them() {
    let f = quick();
    // Hold every slot with idle connections, then check a fifth client waits and is served
    // once the idle ones time out.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(f.addrs[0]).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    let r = get(f.addrs[0], "/latest/meta-data/ami-id").await;
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "served before a slot was free"
    );
    drop(held);
}

#[tokio::test]
async fn random_bytes_never_kill_the_server() {
    let f = quick();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200 {
        let mut junk = Vec::new();
        let len = (seed % 300) as usize;
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            junk.push(match seed % 4 {
                0 => b"\r\n"[(seed >> 8) as usize % 2],
                1 => b"GET /latest/api/token HTTP/1.1:%"[(seed >> 8) as usize % 32],
                _ => (seed >> 16) as u8,
            });
        }
        if round % 2 == 0 {
            junk.extend_from_slice(b"\r\n\r\n");
        }
        let mut stream = TcpStream::connect(f.addrs[0]).await.unwrap();
        let _ = stream.write_all(&junk).await;
        let _ = stream.shutdown().await;
        let reply = until_close(&mut stream).await;
        assert!(
            reply.is_empty() || reply.starts_with(b"HTTP/1.1 "),
            "{:?}",
            String::from_utf8_lossy(&reply)
        );
    }
    assert_eq!(
        get(f.addrs[0], "/latest/meta-data/ami-id").await.status,
        200
    );
}
