//! Verifying a signed IAM CreateRole POST (the server's hot path), with and without the
//! signing-key cache.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sigv4::SigningKeyCache;

fn verify(c: &mut Criterion) {
    let now = 1_704_067_200;
    let spec = common::iam_post(now);
    let wire = common::sign_with_oracle(&spec);
    let pairs = wire.header_pairs();
    let req = wire.request(&pairs);
    let secret = spec.secret.as_bytes();
    let cache = SigningKeyCache::default();

    c.bench_function("parse+verify IAM POST, no cache", |b| {
        b.iter(|| {
            let claim = sigv4::parse(black_box(&req)).unwrap();
            claim.verify(&req, secret, now, None).unwrap();
        })
    });
    c.bench_function("parse+verify IAM POST, key cache", |b| {
        b.iter(|| {
            let claim = sigv4::parse(black_box(&req)).unwrap();
            claim.verify(&req, secret, now, Some(&cache)).unwrap();
        })
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
