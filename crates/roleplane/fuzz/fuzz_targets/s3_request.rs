//! Any request head and body through roleplane's S3 (s3s's routing and parsers, the access
//! check, the operations) as an unsigned caller against a bucket that exists: a success or an
//! S3 error with a 4xx status are fine; a panic, a 500 or an error outside S3's shape is not.
//! (501 stays S3's answer for an operation roleplane does not serve.)

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use roleplane::audit::CallRecord;
use roleplane::credentials::{KeyRing, SealingKey};
use roleplane::request::App;
use roleplane::s3;
use s3s::service::S3Service;
use store::{SqliteStore, Store};

struct Target {
    runtime: tokio::runtime::Runtime,
    service: S3Service,
    _dir: tempfile::TempDir,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let service = runtime.block_on(async {
            let store = SqliteStore::open(dir.path()).await.expect("store");
            store.create_account("123456789012").await.expect("account");
            store
                .create_bucket("123456789012", "fuzz-bucket", "us-east-1")
                .await
                .expect("bucket");
            let master = SealingKey::generate().expect("key");
            let ring = KeyRing::new(1, SealingKey::generate().expect("key"));
            let app = Arc::new(App::new(store, master, ring, "us-east-1".into()));
            let blobs = s3::blobs::DirBlobs::open(&dir.path().join("s3")).expect("blobs");
            s3::service(app, Arc::new(blobs), None)
        });
        Target {
            runtime,
            service,
            _dir: dir,
        }
    })
}

/// The input: `METHOD TARGET\n` then `name: value` lines, a blank line, then the body.
fn request(data: &[u8]) -> Option<http::Request<s3s::Body>> {
    let split = data.windows(2).position(|w| w == b"\n\n").unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let body = body.get(2..).unwrap_or_default();
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let (method, uri) = lines.next()?.split_once(' ')?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name.trim(), value.trim());
    }
    builder
        .header("host", "localhost")
        .body(s3s::Body::from(bytes::Bytes::copy_from_slice(body)))
        .ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else {
        return;
    };
    let target = target();
    let arrival = s3::Arrival {
        peer: "127.0.0.1:1".parse().expect("address"),
        now: 1_800_000_000,
        request_id: "FUZZ".into(),
        signer: None,
    };
    let (response, _) = target.runtime.block_on(s3::serve(
        &target.service,
        request,
        arrival,
        CallRecord::off(),
    ));
    let status = response.status().as_u16();
    assert!(status < 500 || status == 501, "status {status}");
});
