//! The load benchmark's baseline (`scripts/bench/imds.sh`): a minimal hyper 1.x server answering
//! every request with the same fixed `text/plain` body, sized like a credentials document. It
//! does no parsing, lookup or signing, so it shows what the machine and the HTTP stack allow;
//! IMDS is reported as a fraction of it.
//!
//! Usage: `cargo run --release -p imds --example static_baseline -- ADDR BODY_BYTES`

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(size)) = (args.next(), args.next()) else {
        return Err("usage: static_baseline ADDR BODY_BYTES".into());
    };
    let addr: SocketAddr = addr.parse()?;
    let body = Bytes::from(vec![b'x'; size.parse()?]);
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        // IMDS sets this on every connection too.
        stream.set_nodelay(true)?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                let response = Response::builder()
                    .header("content-type", "text/plain")
                    .header("server", "EC2ws")
                    .body(Full::new(body.clone()));
                async move { Ok::<_, Infallible>(response.unwrap_or_default()) }
            });
            // A client that leaves mid-request is not the benchmark's concern.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
