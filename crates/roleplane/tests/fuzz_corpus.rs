//! The fuzz targets' inputs as plain tests: every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the function the target calls, and none may panic.

use std::path::{Path, PathBuf};

use roleplane::fuzzing::{self, S3Target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    let mut replayed = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
            assert!(outcome.is_ok(), "{} panics", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus for {target}");
}

#[test]
fn query_input_corpus() {
    replay("query_input", fuzzing::query_input);
}

#[test]
fn agent_answers_corpus() {
    replay("agent_answers", fuzzing::agent_answers);
}

/// The seeds must reach the cache's serving rules, or the fuzzer explores only refusals: a
/// listed instance is served the set its seed's answer holds.
#[test]
fn agent_answers_corpus_holds_a_listing_and_a_set_the_agent_serves() {
    use roleplane::agent::cache::{Cache, Lookup};
    use roleplane::agent_api::wire::{HostInstances, InstanceCredentials};
    let seed = std::fs::read_to_string(fuzz_dir().join("corpus/agent_answers/listing_issued"))
        .expect("the seed");
    let (listing, answer) = seed.split_once('\n').expect("two documents");
    let listing: HostInstances = serde_json::from_str(listing).expect("a listing");
    let answer: InstanceCredentials = serde_json::from_str(answer).expect("an answer");
    let cache = Cache::default();
    cache.list(listing.version, listing.instances.expect("instances"));
    let now = 1_731_600_000;
    let due = cache.due(now);
    assert!(!due.is_empty(), "nothing due");
    for (key, role) in &due {
        cache.install(key, role, answer.clone(), now);
    }
    let (key, _) = &due[0];
    assert!(
        matches!(
            cache.lookup(&key.0, key.1, now),
            Lookup::Serve(imds::CredentialsResult::Issued(_))
        ),
        "the seed's set is not served"
    );
}

#[test]
fn lookup_events_corpus() {
    replay("lookup_events", fuzzing::lookup_events);
}

#[test]
fn validate_policy_corpus() {
    replay("validate_policy", fuzzing::validate_policy);
}

#[test]
fn web_identity_token_corpus() {
    replay("web_identity_token", fuzzing::web_identity_token);
}

/// The corpus must reach past the signature, or the fuzzer explores only refusals.
#[test]
fn web_identity_corpus_holds_a_token_sts_would_accept() {
    use roleplane::web_identity::token;
    let dir = fuzz_dir().join("corpus/web_identity_token");
    let accepted = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(|entry| std::fs::read(entry.expect("entry").path()).ok())
        .filter(|data| {
            let text = String::from_utf8_lossy(data);
            let Some((jwt, jwks)) = text.split_once('\n') else {
                return false;
            };
            let Ok(keys) = serde_json::from_str(jwks) else {
                return false;
            };
            token::read(jwt).is_ok_and(|unverified| {
                token::verify_signature(jwt, &unverified, &keys).is_ok()
                    && token::check_claims(
                        &unverified.claims,
                        &[fuzzing::WEB_IDENTITY_CLIENT_ID.to_owned()],
                        fuzzing::WEB_IDENTITY_NOW,
                    )
                    .is_ok()
            })
        })
        .count();
    assert!(
        accepted > 0,
        "no input of {} passes STS's checks",
        dir.display()
    );
}

#[test]
fn s3_request_corpus() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = S3Target::new(dir.path());
    replay("s3_request", |data| target.request(data));
}

/// Writes the named seeds of `s3_request`. (`query_input`, `lookup_events` and
/// `validate_policy` read the input layouts of the `protocol` crate's `query`, `aws_json` and
/// `rest_json` targets, whose seeds they started from.) `cargo test -p roleplane --test
/// fuzz_corpus -- --ignored`
#[test]
#[ignore = "regenerates committed seeds"]
fn write_seeds() {
    let dir = fuzz_dir().join("corpus/s3_request");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    for (name, text) in S3_REQUESTS {
        std::fs::write(dir.join(name), text).expect("write seed");
    }
}

/// Writes the seeds of `web_identity_token`: tokens signed by a fresh RSA key, each followed by
/// a key set holding its public half, so the fuzzer starts past the signature. `cargo test -p
/// roleplane --test fuzz_corpus write_web_identity_seeds -- --ignored`
#[test]
#[ignore = "regenerates committed seeds"]
fn write_web_identity_seeds() {
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use serde_json::json;

    let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA key");
    let der = private.to_pkcs1_der().expect("PKCS#1");
    let key = EncodingKey::from_rsa_der(der.as_bytes());
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("JWK");
    jwk.common.key_id = Some("seed".to_owned());
    let keys = serde_json::to_string(&JwkSet { keys: vec![jwk] }).expect("key set");
    let sign = |kid: Option<&str>, claims: &serde_json::Value| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    };
    let now = fuzzing::WEB_IDENTITY_NOW;
    let aud = fuzzing::WEB_IDENTITY_CLIENT_ID;
    let base = json!({"iss": "https://issuer.example", "sub": "system:serviceaccount:ci:build",
                      "aud": aud, "iat": now - 60, "exp": now + 3600});
    let with = |extra: serde_json::Value| {
        let mut claims = base.clone();
        for (k, v) in extra.as_object().expect("object") {
            claims[k] = v.clone();
        }
        claims
    };
    let tags = json!({"https://aws.amazon.com/tags": {
        "principal_tags": {"team": ["ci"], "env": ["test"]},
        "transitive_tag_keys": ["team"]},
        "https://aws.amazon.com/source_identity": "builder"});
    let seeds = [
        ("valid", sign(Some("seed"), &base)),
        ("valid-no-kid", sign(None, &base)),
        (
            "aud-list-azp-amr",
            sign(
                Some("seed"),
                &with(json!({"aud": ["other", aud], "azp": "client", "amr": ["pwd", "mfa"]})),
            ),
        ),
        ("session-tags", sign(Some("seed"), &with(tags))),
        (
            "expired",
            sign(Some("seed"), &with(json!({"exp": now - 3600}))),
        ),
        (
            "not-yet",
            sign(
                Some("seed"),
                &with(json!({"nbf": now + 3600, "exp": now + 7200})),
            ),
        ),
        (
            "fractional-exp",
            sign(Some("seed"), &with(json!({"exp": (now + 60) as f64 + 0.5}))),
        ),
        ("unknown-kid", sign(Some("other"), &base)),
        (
            "no-issuer",
            sign(
                Some("seed"),
                &json!({"sub": "x", "aud": aud, "exp": now + 60}),
            ),
        ),
    ];
    let dir = fuzz_dir().join("corpus/web_identity_token");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    for (name, token) in seeds {
        std::fs::write(dir.join(name), format!("{token}\n{keys}")).expect("write seed");
    }
    // Unsigned and shared-secret tokens STS refuses by algorithm; a token with no key set.
    let b64 = |v: serde_json::Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let claims = b64(base.clone());
    for (name, alg) in [("alg-none", "none"), ("alg-hs256", "HS256")] {
        let token = format!("{}.{claims}.", b64(json!({"alg": alg, "typ": "JWT"})));
        std::fs::write(dir.join(name), format!("{token}\n{keys}")).expect("write seed");
    }
    std::fs::write(dir.join("no-keys"), sign(Some("seed"), &base)).expect("write seed");
}

const S3_REQUESTS: &[(&str, &str)] = &[
    (
        "list-v2",
        "GET /fuzz-bucket?list-type=2&prefix=a%2F&delimiter=%2F&max-keys=2&encoding-type=url&start-after=a\n\n",
    ),
    (
        "list-v2-continuation",
        "GET /fuzz-bucket?list-type=2&continuation-token=cnAxAHBob3Rvcy8yMDI2L2NhdC5qcGc%3D\n\n",
    ),
    ("list-v1-marker", "GET /fuzz-bucket?marker=a&max-keys=1\n\n"),
    (
        "put-object",
        "PUT /fuzz-bucket/photos/cat.jpg\ncontent-type: image/jpeg\nx-amz-meta-owner: alice\ncontent-md5: 1B2M2Y8AsgTpgAmY7PhCfg==\n\n",
    ),
    (
        "get-object-range",
        "GET /fuzz-bucket/photos/cat.jpg\nrange: bytes=0-10\nif-none-match: \"abc\"\n\n",
    ),
    ("head-object", "HEAD /fuzz-bucket/photos/cat.jpg\n\n"),
    (
        "copy-object",
        "PUT /fuzz-bucket/copy.jpg\nx-amz-copy-source: /fuzz-bucket/photos/cat.jpg\nx-amz-metadata-directive: REPLACE\n\n",
    ),
    (
        "delete-objects",
        "POST /fuzz-bucket?delete\ncontent-type: application/xml\n\n<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>null</VersionId></Object></Delete>",
    ),
    ("create-multipart", "POST /fuzz-bucket/big?uploads\n\n"),
    (
        "upload-part",
        "PUT /fuzz-bucket/big?partNumber=1&uploadId=XYZ\n\nhello",
    ),
    (
        "complete-multipart",
        "POST /fuzz-bucket/big?uploadId=XYZ\n\n<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"5d41402abc4b2a76b9719d911017c592\"</ETag></Part></CompleteMultipartUpload>",
    ),
    (
        "list-uploads",
        "GET /fuzz-bucket?uploads&key-marker=a&upload-id-marker=b&max-uploads=1\n\n",
    ),
    (
        "list-parts",
        "GET /fuzz-bucket/big?uploadId=XYZ&part-number-marker=1&max-parts=2\n\n",
    ),
    (
        "put-tagging",
        "PUT /fuzz-bucket/photos/cat.jpg?tagging\n\n<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>",
    ),
    (
        "put-bucket-policy",
        "PUT /fuzz-bucket?policy\n\n{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::fuzz-bucket/*\"}]}",
    ),
    (
        "put-public-access-block",
        "PUT /fuzz-bucket?publicAccessBlock\n\n<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>",
    ),
    ("get-location", "GET /fuzz-bucket?location\n\n"),
    ("get-versioning", "GET /fuzz-bucket?versioning\n\n"),
    (
        "create-bucket",
        "PUT /new-bucket\n\n<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
    ),
    ("list-buckets", "GET /\n\n"),
    (
        "post-policy-form",
        "POST /fuzz-bucket\ncontent-type: multipart/form-data; boundary=xx\n\n--xx\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nup.txt\r\n--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"up.txt\"\r\n\r\nhi\r\n--xx--\r\n",
    ),
];
