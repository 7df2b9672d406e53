//! The API listener's bounds on slow, idle and lingering clients (`server::connections`,
//! `request::min_rate`), driven by raw TCP clients against servers started with small limits:
//! a head or body sent a byte at a time is cut off, a slow but steady body is not, an idle
//! keep-alive connection is closed, the connection cap holds new connections back until one
//! closes, and SIGTERM completes with a stuck client within its grace period.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use e2e::Server;
use e2e::raw::Signer;

/// A server with the given `serve` flags, on a data dir that lives as long as it does.
fn server(flags: &[&str]) -> (tempfile::TempDir, Server) {
    let temp = tempfile::tempdir().expect("temp dir");
    let server = Server::start_with(&temp.path().join("data"), flags);
    (temp, server)
}

fn connect(server: &Server) -> TcpStream {
    let stream =
        TcpStream::connect(server.endpoint.trim_start_matches("http://")).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// What a read within `wait` finds.
#[derive(Debug, PartialEq)]
enum Seen {
    Bytes(Vec<u8>),
    Closed,
    Nothing,
}

fn read_for(stream: &mut TcpStream, wait: Duration) -> Seen {
    stream.set_read_timeout(Some(wait)).expect("read timeout");
    let mut buf = vec![0; 64 * 1024];
    match stream.read(&mut buf) {
        Ok(0) => Seen::Closed,
        Ok(n) => Seen::Bytes(buf[..n].to_vec()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Seen::Nothing,
        Err(_) => Seen::Closed,
    }
}

/// Sends `first`, then one byte of `dribble` every 1.5 s (the issue's attacker), until the
/// server answers or closes; what it answered and after how long.
fn dribble(stream: &mut TcpStream, first: &[u8], dribble: &[u8]) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    stream.write_all(first).expect("first bytes");
    let mut answer = Vec::new();
    for byte in dribble {
        match read_for(stream, Duration::from_millis(1500)) {
            Seen::Bytes(bytes) => {
                answer.extend(bytes);
                // Read what follows until the server closes.
                while let Seen::Bytes(more) = read_for(stream, Duration::from_secs(2)) {
                    answer.extend(more);
                }
                return (answer, started.elapsed());
            }
            Seen::Closed => return (answer, started.elapsed()),
            Seen::Nothing => {}
        }
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            return (answer, started.elapsed());
        }
    }
    panic!("the server let a client dribble {} bytes", dribble.len());
}

#[test]
fn a_request_head_sent_a_byte_every_1_5_s_is_cut_off_after_the_header_timeout() {
    let (_dir, server) = server(&["--header-timeout", "3"]);
    let mut stream = connect(&server);
    // 40 bytes would take 60 s.
    let (answer, after) = dribble(
        &mut stream,
        b"POST / HTTP/1.1\r\n",
        b"host: 127.0.0.1\r\nx-dribble: aaaaaaaaaaaaaaaaaaa",
    );
    assert!(answer.is_empty() || String::from_utf8_lossy(&answer).contains(" 408 "));
    assert!(after < Duration::from_secs(20), "cut after {after:?}");
}

#[test]
fn a_request_body_sent_a_byte_every_1_5_s_is_answered_request_timeout() {
    let (_dir, server) = server(&["--body-min-rate", "100", "--body-rate-window", "3"]);
    let mut stream = connect(&server);
    let head = b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\nAction=";
    let (answer, after) = dribble(&mut stream, head, &[b'x'; 40]);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("<Code>RequestTimeout</Code>"), "{answer}");
    assert!(after < Duration::from_secs(20), "cut after {after:?}");
}

#[test]
fn a_slow_but_steady_signed_body_completes() {
    let (_dir, server) = server(&["--body-min-rate", "100", "--body-rate-window", "2"]);
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let body = format!(
        "Action=CreatePolicy&Version=2010-05-08&PolicyName=steady&PolicyDocument={}&Description={}",
        e2e::raw::percent_encode(document),
        "d".repeat(900)
    );
    let bytes = Signer::new("iam", (e2e::ADMIN_KEY_ID, e2e::ADMIN_SECRET)).request_bytes(
        &server.endpoint,
        "POST",
        "/",
        &[("content-type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    let head_len = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head")
        + 4;
    let mut stream = connect(&server);
    stream.write_all(&bytes[..head_len]).expect("head");
    // ~330 B/s, well above the 100 B/s rule, for over two windows.
    for piece in bytes[head_len..].chunks(50) {
        std::thread::sleep(Duration::from_millis(150));
        stream.write_all(piece).expect("body piece");
    }
    let mut answer = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(
        answer.contains("<PolicyName>steady</PolicyName>"),
        "{answer}"
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let (_dir, server) = server(&["--header-timeout", "2"]);
    let mut stream = connect(&server);
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .expect("request");
    let Seen::Bytes(answer) = read_for(&mut stream, Duration::from_secs(10)) else {
        panic!("no answer");
    };
    assert!(answer.starts_with(b"HTTP/1.1 4"));
    assert!(
        !String::from_utf8_lossy(&answer)
            .to_ascii_lowercase()
            .contains("connection: close")
    );
    // The connection stays usable for a moment, then the server closes it.
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(20) {
        if read_for(&mut stream, Duration::from_millis(500)) == Seen::Closed {
            closed = true;
            break;
        }
    }
    assert!(closed, "an idle connection was kept open");
}

#[test]
fn at_the_connection_cap_a_new_connection_waits_until_one_closes() {
    let (_dir, server) = server(&["--max-connections", "2", "--header-timeout", "60"]);
    let first = connect(&server);
    let _second = connect(&server);
    // Both are accepted (and hold the server's two places) before the third arrives.
    std::thread::sleep(Duration::from_millis(500));
    let mut third = connect(&server);
    third
        .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .expect("request");
    assert_eq!(read_for(&mut third, Duration::from_secs(2)), Seen::Nothing);
    drop(first);
    let Seen::Bytes(answer) = read_for(&mut third, Duration::from_secs(10)) else {
        panic!("the third connection was not served after the first closed");
    };
    assert!(answer.starts_with(b"HTTP/1.1 "));
}

#[test]
fn sigterm_with_a_stuck_client_completes_within_the_grace_period() {
    let (_dir, mut server) = server(&[
        "--shutdown-grace",
        "2",
        "--body-min-rate",
        "0",
        "--header-timeout",
        "600",
    ]);
    // One request in flight whose body never comes, one idle connection.
    let mut stuck = connect(&server);
    stuck
        .write_all(b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000\r\n\r\nAction=")
        .expect("stuck request");
    let _idle = connect(&server);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.stop_within(Duration::from_secs(20)),
        "the server did not exit cleanly within 20 s of SIGTERM"
    );
}
