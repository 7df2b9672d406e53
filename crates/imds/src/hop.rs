//! The IP TTL (IPv6 hop limit) of a connection's outgoing packets.
//!
//! EC2 sends the token PUT response with the instance's `HttpPutResponseHopLimit`, so a token
//! cannot be fetched through a router or a container bridge the owner did not allow for. The
//! kernel stamps the socket's *current* TTL on a segment when it transmits it, including
//! retransmissions. So the TTL may only change when nothing sent earlier is still unacknowledged:
//! raising it early would let a retransmitted token escape the hop limit.

use std::io;
use std::net::SocketAddr;

use socket2::SockRef;
use tokio::net::TcpStream;

/// Which socket option carries the TTL for this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// IPv4 traffic, including v4-mapped peers on a dual-stack socket, uses `IP_TTL`.
    pub fn of(local: SocketAddr) -> Self {
        match local {
            SocketAddr::V4(_) => Family::V4,
            SocketAddr::V6(v6) if v6.ip().to_ipv4_mapped().is_some() => Family::V4,
            SocketAddr::V6(_) => Family::V6,
        }
    }
}

pub fn get(stream: &TcpStream, family: Family) -> io::Result<u32> {
    let sock = SockRef::from(stream);
    match family {
        Family::V4 => sock.ttl_v4(),
        Family::V6 => sock.unicast_hops_v6(),
    }
}

pub fn set(stream: &TcpStream, family: Family, ttl: u32) -> io::Result<()> {
    let sock = SockRef::from(stream);
    match family {
        Family::V4 => sock.set_ttl_v4(ttl),
        Family::V6 => sock.set_unicast_hops_v6(ttl),
    }
}

/// Whether every byte written so far has been acknowledged by the peer.
#[cfg(target_os = "linux")]
pub fn all_acknowledged(stream: &TcpStream) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) on a TCP socket writes one c_int: the bytes sent but not yet
    // acknowledged plus the bytes not yet sent. The fd is borrowed from a live stream.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(queued == 0)
}

/// Without a way to ask the kernel, never claim the queue is empty: the connection then closes
/// instead of changing its TTL.
#[cfg(not(target_os = "linux"))]
pub fn all_acknowledged(_stream: &TcpStream) -> io::Result<bool> {
    Ok(false)
}
