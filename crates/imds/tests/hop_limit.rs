//! The token PUT response leaves with the instance's hop limit as IP TTL; other responses do not.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

type Seen = Arc<Mutex<Vec<(u16, u32)>>>;

fn observed(instances: &[(&str, &str)]) -> (Fixture, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let f = fixture(instances, move |c| {
        c.ttl_observer = Some(Arc::new(move |_peer, status, ttl| {
            sink.lock().unwrap().push((status, ttl))
        }))
    });
    (f, seen)
}

async fn exchange(stream: &mut TcpStream, request: &str) -> Response {
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(stream, false).await.unwrap()
}

const PUT: &str =
    "PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n";
const GET: &str = "GET /latest/meta-data/ami-id HTTP/1.1\r\n\r\n";

async fn check_sequence(f: &Fixture, addr: SocketAddr, seen: &Seen, hop: u8) {
    f.source
        .edit(addr.ip(), |v| v.options.put_response_hop_limit = hop);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    assert_eq!(exchange(&mut stream, GET).await.status, 200);
    assert_eq!(exchange(&mut stream, PUT).await.status, 200);
    assert_eq!(exchange(&mut stream, GET).await.status, 200);
    assert_eq!(exchange(&mut stream, PUT).await.status, 200);
    let default: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_default_ttl")
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(64);
    let hop = u32::from(hop);
    assert_eq!(
        *seen.lock().unwrap(),
        [(200, default), (200, hop), (200, default), (200, hop)]
    );
    seen.lock().unwrap().clear();
}

#[tokio::test]
async fn ipv4_ttl_is_set_only_for_the_token_put() {
    let (f, seen) = observed(&[("i-0aaaaaaaaaaaaaaaa", "127.0.0.31")]);
    let addr = f.addrs[0];
    check_sequence(&f, addr, &seen, 1).await;
    check_sequence(&f, addr, &seen, 3).await;
    check_sequence(&f, addr, &seen, 64).await;
}

#[tokio::test]
async fn ipv6_hop_limit_is_set_for_the_token_put() {
    let (f, seen) = observed(&[]);
    let ip: std::net::IpAddr = "::1".parse().unwrap();
    f.source.put(ip, instance("i-0dddddddddddddddd", "::1"));
    let Ok(addr) = f.imds.add_listener(SocketAddr::new(ip, 0)) else {
        println!("skipped: IPv6 loopback unavailable");
        return;
    };
    f.source.edit(ip, |v| {
        v.options.put_response_hop_limit = 2;
        v.options.http_protocol_ipv6 = true;
    });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    assert_eq!(exchange(&mut stream, PUT).await.status, 200);
    assert_eq!(exchange(&mut stream, GET).await.status, 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0], (200, 2));
    assert_ne!(seen[1].1, 2);
}

/// Captures the server's packets on `lo` (needs CAP_NET_RAW) and reads the TTL off the wire.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn ttl_on_the_wire() {
    let f = fixture(&[("i-0aaaaaaaaaaaaaaaa", "127.0.0.32")], |_| {});
    let addr = f.addrs[0];
    f.source
        .edit(addr.ip(), |v| v.options.put_response_hop_limit = 5);
    let Some(capture) = Capture::open() else {
        println!("skipped: no raw packet socket (needs CAP_NET_RAW)");
        return;
    };
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let put = exchange(&mut stream, PUT).await;
    let get = exchange(&mut stream, GET).await;
    assert_eq!((put.status, get.status), (200, 200));
    let port = addr.port();
    let token = put.body.clone();
    let ttls = tokio::task::spawn_blocking(move || {
        let put_ttl = capture.ttl_of(port, &token);
        let get_ttl = capture.ttl_of(port, b"ami-0123456789abcdef0");
        (put_ttl, get_ttl)
    })
    .await
    .unwrap();
    assert_eq!(ttls.0, Some(5));
    assert!(matches!(ttls.1, Some(ttl) if ttl > 5), "{ttls:?}");
}

#[cfg(target_os = "linux")]
struct Capture {
    fd: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl Capture {
    fn open() -> Option<Self> {
        use std::os::fd::FromRawFd;
        let proto = (libc::ETH_P_IP as u16).to_be() as i32;
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK,
                proto,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: fd is a fresh, owned descriptor.
        Some(Self {
            fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) },
        })
    }

    /// TTL of the first captured IPv4/TCP packet from `port` whose payload contains `needle`.
    fn ttl_of(&self, port: u16, needle: &[u8]) -> Option<u8> {
        use std::os::fd::AsRawFd;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let mut buf = [0u8; 65536];
        while std::time::Instant::now() < deadline {
            // SAFETY: buf is valid for writes of its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            }
            let packet = &buf[..n as usize];
            if packet.len() < 40 || packet[0] >> 4 != 4 || packet[9] != 6 {
                continue;
            }
            let ihl = usize::from(packet[0] & 0x0f) * 4;
            let tcp = &packet[ihl..];
            if u16::from_be_bytes([tcp[0], tcp[1]]) != port {
                continue;
            }
            let payload = &tcp[usize::from(tcp[12] >> 4) * 4..];
            if payload.windows(needle.len()).any(|w| w == needle) {
                return Some(packet[8]);
            }
        }
        None
    }
}
