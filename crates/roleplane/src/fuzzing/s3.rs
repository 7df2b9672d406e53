//! Target `s3_request`: any request head and body through roleplane's S3 (s3s's routing and
//! parsers, the access check, the operations) as an unsigned caller against a bucket that
//! exists. A success or an S3 error with a 4xx status is fine; a panic, a 500 or an error outside
//! S3's shape is not (501 stays S3's answer for an operation roleplane does not serve).

use std::path::Path;
use std::sync::Arc;

use s3s::service::S3Service;
use store::{SqliteStore, Store};

use crate::audit::CallRecord;
use crate::credentials::{KeyRing, SealingKey};
use crate::request::App;
use crate::s3;

/// The bucket every fuzzed request finds.
pub const BUCKET: &str = "fuzz-bucket";

/// A store and S3 service in a directory the caller owns (and removes).
pub struct S3Target {
    runtime: tokio::runtime::Runtime,
    service: S3Service,
}

impl S3Target {
    pub fn new(dir: &Path) -> S3Target {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let service = runtime.block_on(async {
            let store = SqliteStore::open(dir).await.expect("store");
            store.create_account("123456789012").await.expect("account");
            store
                .create_bucket("123456789012", BUCKET, "us-east-1")
                .await
                .expect("bucket");
            let master = SealingKey::from_bytes([1; 32]);
            let ring = KeyRing::new(1, SealingKey::from_bytes([2; 32]));
            let app = Arc::new(App::new(store, master, ring, "us-east-1".into()));
            let blobs = s3::blobs::DirBlobs::open(&dir.join("s3")).expect("blobs");
            s3::service(app, Arc::new(blobs), None)
        });
        S3Target { runtime, service }
    }

    /// The input: `METHOD TARGET\n`, then `name: value` lines, a blank line, then the body.
    pub fn request(&self, data: &[u8]) {
        let Some(request) = request(data) else {
            return;
        };
        let arrival = s3::Arrival {
            peer: "127.0.0.1:1".parse().expect("address"),
            now: 1_800_000_000,
            request_id: "FUZZ".into(),
            signer: None,
        };
        let (response, _) = self.runtime.block_on(s3::serve(
            &self.service,
            request,
            arrival,
            CallRecord::off(),
        ));
        let status = response.status().as_u16();
        assert!(status < 500 || status == 501, "status {status}");
    }
}

fn request(data: &[u8]) -> Option<s3s::HttpRequest> {
    let split = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let body = body.get(2..).unwrap_or_default();
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let (method, uri) = lines.next()?.split_once(' ')?;
    let mut builder = axum::http::Request::builder().method(method).uri(uri);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name.trim(), value.trim());
    }
    builder
        .header("host", "localhost")
        .body(s3s::Body::from(bytes::Bytes::copy_from_slice(body)))
        .ok()
}
