//! One client connection: read a request head, answer it, repeat while keep-alive allows.
//!
//! A small HTTP/1.1 server of its own rather than hyper: the hop limit must apply to exactly the
//! bytes of the token response (see [`crate::hop`]), which needs to know when each response is
//! handed to the kernel. Owning the loop also makes every bound explicit: head size, header
//! time, idle time, body size, and one reusable buffer per direction.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout, timeout_at};

use crate::config::Mode;
use crate::handler::{self, Context};
use crate::hop::{self, Family};
use crate::request::{self, Method, Parsed};
use crate::response::{self, Head, Status};
use crate::server::Shared;
use crate::source::MetadataSource;

const READ_CHUNK: usize = 4096;
/// How long to wait for earlier responses to be acknowledged before changing the TTL.
const ACK_WAIT_STEPS: u32 = 20;
const ACK_WAIT_STEP: Duration = Duration::from_millis(1);

/// Serves `stream` until the client leaves, a limit is hit, or the listener stops.
pub async fn serve<S: MetadataSource>(
    shared: &Shared<S>,
    stream: TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let _ = stream.set_nodelay(true);
    let attributed: IpAddr = match shared.mode {
        Mode::Local => local.ip(),
        Mode::Host => peer.ip(),
    }
    .to_canonical();
    let family = Family::of(local);
    let Ok(default_ttl) = hop::get(&stream, family) else {
        return;
    };
    let mut conn = Connection {
        stream,
        peer,
        family,
        default_ttl,
        current_ttl: default_ttl,
        sent_anything: false,
        read_buf: Vec::with_capacity(READ_CHUNK),
        body: Vec::with_capacity(2048),
        out: Vec::with_capacity(4096),
    };
    let limits = &shared.limits;
    let cx = Context {
        source: &shared.source,
        tokens: &shared.tokens,
        clock: shared.clock.as_ref(),
    };
    loop {
        match conn.read_head(limits, &mut stop).await {
            HeadRead::Ready => {}
            HeadRead::Invalid(status) => {
                let _ = conn.send_error(shared, status).await;
                return;
            }
            HeadRead::Closed => return,
        }
        // The head is complete; parse it again in place (cheap) to borrow from the buffer.
        let head = match request::parse(&conn.read_buf) {
            Parsed::Complete(head) => head,
            Parsed::Partial => return,
            Parsed::Invalid(status) => {
                let _ = conn.send_error(shared, status).await;
                return;
            }
        };
        if head.content_length > limits.max_body_bytes as u64 {
            let _ = conn.send_error(shared, Status::PayloadTooLarge).await;
            return;
        }
        let keep_alive = head.keep_alive && !limits.close_after_response && !*stop.borrow();
        let consumed = head.head_len;
        let body_len = head.content_length;
        let head_only = head.method == Method::Head;

        conn.body.clear();
        let answer = handler::handle(&cx, attributed, &head, &mut conn.body).await;
        if conn
            .respond(shared, &answer, head_only, !keep_alive)
            .await
            .is_err()
            || !keep_alive
        {
            return;
        }
        if conn
            .discard(consumed, body_len, limits.header_timeout)
            .await
            .is_err()
        {
            return;
        }
    }
}

enum HeadRead {
    Ready,
    Invalid(Status),
    Closed,
}

struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    family: Family,
    default_ttl: u32,
    current_ttl: u32,
    sent_anything: bool,
    read_buf: Vec<u8>,
    body: Vec<u8>,
    out: Vec<u8>,
}

impl Connection {
    /// Reads until `read_buf` holds a complete request head.
    async fn read_head(
        &mut self,
        limits: &crate::config::Limits,
        stop: &mut watch::Receiver<bool>,
    ) -> HeadRead {
        let mut deadline = None;
        loop {
            if head_complete(&self.read_buf) {
                return HeadRead::Ready;
            }
            if self.read_buf.len() >= limits.max_header_bytes {
                return HeadRead::Invalid(Status::HeadersTooLarge);
            }
            let read = if self.read_buf.is_empty() {
                // Idle between requests: the listener may stop us, or the client may leave.
                if *stop.borrow() {
                    return HeadRead::Closed;
                }
                tokio::select! {
                    read = timeout(limits.idle_timeout, read_some(&mut self.stream, &mut self.read_buf)) => read,
                    _ = stop.changed() => return HeadRead::Closed,
                }
            } else {
                // Mid-head: the whole head must arrive within the header timeout (slowloris).
                let deadline =
                    *deadline.get_or_insert_with(|| Instant::now() + limits.header_timeout);
                timeout_at(deadline, read_some(&mut self.stream, &mut self.read_buf)).await
            };
            match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return HeadRead::Closed,
                Ok(Ok(_)) => {
                    if deadline.is_none() {
                        deadline = Some(Instant::now() + limits.header_timeout);
                    }
                }
            }
        }
    }

    /// Drops the answered request (head and body) from the read buffer, reading and discarding
    /// any body bytes still in flight.
    async fn discard(&mut self, head_len: usize, body_len: u64, wait: Duration) -> io::Result<()> {
        let in_buffer = self.read_buf.len();
        let total = head_len as u64 + body_len;
        if total <= in_buffer as u64 {
            self.read_buf.drain(..total as usize);
            return Ok(());
        }
        let mut remaining = total - in_buffer as u64;
        self.read_buf.clear();
        let mut sink = [0u8; 1024];
        while remaining > 0 {
            let want = remaining.min(sink.len() as u64) as usize;
            let n = match timeout(wait, self.stream.read(&mut sink[..want])).await {
                Ok(Ok(0)) | Err(_) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(e),
            };
            remaining -= n as u64;
        }
        Ok(())
    }

    async fn send_error<S>(&mut self, shared: &Shared<S>, status: Status) -> io::Result<()> {
        self.body.clear();
        status.write_error_page(&mut self.body);
        self.respond(shared, &Head::new(status), false, true).await
    }

    /// Formats the whole response into one buffer and writes it with the TTL it calls for.
    async fn respond<S>(
        &mut self,
        shared: &Shared<S>,
        head: &Head,
        head_only: bool,
        close: bool,
    ) -> io::Result<()> {
        let ttl = head.hop_limit.map_or(self.default_ttl, u32::from);
        if ttl != self.current_ttl {
            self.change_ttl(ttl).await?;
        }
        if let Some(observe) = &shared.ttl_observer {
            observe(
                self.peer,
                head.status.code(),
                hop::get(&self.stream, self.family)?,
            );
        }
        self.out.clear();
        let html = head.status != Status::Ok;
        let now = shared.clock.now();
        response::write_head(&mut self.out, head, html, self.body.len(), now, close);
        if !head_only {
            self.out.extend_from_slice(&self.body);
        }
        timeout(shared.limits.idle_timeout, self.stream.write_all(&self.out))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        self.sent_anything = true;
        Ok(())
    }

    /// Changes the socket TTL once everything sent under the old one has been acknowledged.
    async fn change_ttl(&mut self, ttl: u32) -> io::Result<()> {
        if self.sent_anything {
            let mut steps = 0;
            // Clients read a response before sending the next request, whose segments carry the
            // acknowledgement, so this normally succeeds at once.
            while !hop::all_acknowledged(&self.stream)? {
                steps += 1;
                if steps > ACK_WAIT_STEPS {
                    return Err(io::Error::other("earlier response still unacknowledged"));
                }
                sleep(ACK_WAIT_STEP).await;
            }
        }
        hop::set(&self.stream, self.family, ttl)?;
        self.current_ttl = ttl;
        Ok(())
    }
}

async fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.reserve(READ_CHUNK);
    stream.read_buf(buf).await
}

/// A request head ends at the first empty line (`\n\n` or `\n\r\n`; httparse accepts bare LF).
fn head_complete(buf: &[u8]) -> bool {
    buf.windows(2).any(|w| w == b"\n\n") || buf.windows(3).any(|w| w == b"\n\r\n")
}
