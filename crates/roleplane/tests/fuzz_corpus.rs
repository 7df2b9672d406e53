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
fn lookup_events_corpus() {
    replay("lookup_events", fuzzing::lookup_events);
}

#[test]
fn validate_policy_corpus() {
    replay("validate_policy", fuzzing::validate_policy);
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
