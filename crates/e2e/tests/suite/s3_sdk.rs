//! S3 through the Rust SDK (`aws-sdk-s3`, path-style): buckets and their settings, objects,
//! listings, tagging, policies, range and conditional reads, multipart uploads, and a 128 MiB
//! object streamed through a server whose memory must stay bounded.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    BucketCannedAcl, CompletedMultipartUpload, CompletedPart, Delete, MetadataDirective,
    ObjectCannedAcl, ObjectIdentifier, ObjectOwnership, PublicAccessBlockConfiguration,
    ServerSideEncryption, Tag, Tagging,
};
use e2e::s3::{Md5Stream, Noise, md5, md5_hex, peak_rss_kib};
use e2e::{ACCOUNT_ID, Server, failure};

const MIB: usize = 1024 * 1024;

/// Creates a bucket; the test fails if S3 refuses.
async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: impl Into<String>) {
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
}

/// An object's bytes; the test fails if S3 refuses.
async fn read_object(
    s3: &aws_sdk_s3::Client,
    bucket: impl Into<String>,
    key: impl Into<String>,
) -> Vec<u8> {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("GetObject");
    body_of(got).await
}

/// Puts an object; the test fails if S3 refuses.
async fn put_object(
    s3: &aws_sdk_s3::Client,
    bucket: impl Into<String>,
    key: impl Into<String>,
    body: ByteStream,
) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .send()
        .await
        .expect("PutObject");
}

fn tagging(pairs: &[(&str, &str)]) -> Tagging {
    Tagging::builder()
        .set_tag_set(Some(
            pairs
                .iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
                .collect(),
        ))
        .build()
        .unwrap()
}

fn tag_pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// Why `result` is not a 304 Not Modified the SDK reads as such (a service error, not a
/// malformed response, which it would retry), if it is not.
fn not_modified<T: std::fmt::Debug, E: std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    what: &str,
) -> Option<String> {
    match result {
        Err(SdkError::ServiceError(err)) if err.raw().status().as_u16() == 304 => None,
        other => Some(format!("{what}: not a 304 service error: {other:?}")),
    }
}

fn quoted(hex: &str) -> String {
    format!("\"{hex}\"")
}

async fn body_of(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body.collect().await.expect("read the body").to_vec()
}

#[tokio::test]
async fn buckets_their_defaults_and_settings() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "settings-bucket";

    create_bucket(&s3, bucket).await;
    // Creating a bucket one already owns in us-east-1 succeeds again, as on AWS.
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket of an owned bucket");
    s3.head_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("HeadBucket");

    let listed = s3.list_buckets().send().await.expect("ListBuckets");
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [bucket]);
    assert!(listed.buckets()[0].creation_date().is_some());
    assert_eq!(
        listed.owner().and_then(|o| o.id()).map(str::is_empty),
        Some(false),
        "an owner ID"
    );

    let location = s3
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketLocation");
    // us-east-1 is the empty (null) location constraint.
    assert!(
        location
            .location_constraint()
            .is_none_or(|l| l.as_str().is_empty()),
        "{location:?}"
    );

    let versioning = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketVersioning");
    assert_eq!(versioning.status(), None, "never versioned");

    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketOwnershipControls");
    let rules = ownership.ownership_controls().expect("controls").rules();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );

    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .expect("GetPublicAccessBlock");
    let block = block.public_access_block_configuration().expect("a block");
    assert_eq!(block.block_public_acls(), Some(true));
    assert_eq!(block.ignore_public_acls(), Some(true));
    assert_eq!(block.block_public_policy(), Some(true));
    assert_eq!(block.restrict_public_buckets(), Some(true));

    // ACLs are disabled (BucketOwnerEnforced).
    let (code, _, status) = failure(
        s3.put_bucket_acl()
            .bucket(bucket)
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("AccessControlListNotSupported", 400)
    );

    // Bucket tags.
    let (code, _, status) = failure(s3.get_bucket_tagging().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("NoSuchTagSet", 404));
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging(&[("team", "core"), ("env", "test")]))
        .send()
        .await
        .expect("PutBucketTagging");
    let tags = s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketTagging");
    let mut tags = tag_pairs(tags.tag_set());
    tags.sort();
    assert_eq!(
        tags,
        [
            ("env".to_owned(), "test".to_owned()),
            ("team".to_owned(), "core".to_owned())
        ]
    );
    s3.delete_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .expect("DeleteBucketTagging");
    let (code, _, status) = failure(s3.get_bucket_tagging().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("NoSuchTagSet", 404));

    // Bucket policies.
    let (code, _, status) = failure(s3.get_bucket_policy().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucketPolicy", 404));
    let private = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Mine","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(&private)
        .send()
        .await
        .expect("PutBucketPolicy");
    let got = s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketPolicy");
    let got: serde_json::Value = serde_json::from_str(got.policy().expect("a policy")).unwrap();
    let put: serde_json::Value = serde_json::from_str(&private).unwrap();
    assert_eq!(got, put);
    let policy_status = s3
        .get_bucket_policy_status()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketPolicyStatus");
    assert_eq!(
        policy_status.policy_status().and_then(|s| s.is_public()),
        Some(false)
    );

    let (code, _, status) = failure(
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy("{not a policy")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("MalformedPolicy", 400));

    // A public policy is refused while BlockPublicPolicy is on …
    let public = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    let (code, _, status) = failure(
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(&public)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));

    // … and accepted, and public, once the block is gone.
    s3.delete_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .expect("DeletePublicAccessBlock");
    let (code, _, status) = failure(s3.get_public_access_block().bucket(bucket).send().await);
    assert_eq!(
        (code.as_str(), status),
        ("NoSuchPublicAccessBlockConfiguration", 404)
    );
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(&public)
        .send()
        .await
        .expect("PutBucketPolicy (public, unblocked)");
    let policy_status = s3
        .get_bucket_policy_status()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketPolicyStatus");
    assert_eq!(
        policy_status.policy_status().and_then(|s| s.is_public()),
        Some(true)
    );
    s3.delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .expect("DeleteBucketPolicy");
    let (code, _, status) = failure(s3.get_bucket_policy().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucketPolicy", 404));

    // Put a partial block back; Get answers what was put.
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(false)
                .block_public_policy(true)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .expect("PutPublicAccessBlock");
    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .expect("GetPublicAccessBlock");
    let block = block.public_access_block_configuration().expect("a block");
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(false), Some(true), Some(false))
    );

    // A bucket with an object cannot be deleted.
    put_object(&s3, bucket, "k", ByteStream::from_static(b"x")).await;
    let (code, _, status) = failure(s3.delete_bucket().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("BucketNotEmpty", 409));
    s3.delete_object()
        .bucket(bucket)
        .key("k")
        .send()
        .await
        .expect("DeleteObject");
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("DeleteBucket");
    let (_, _, status) = failure(s3.head_bucket().bucket(bucket).send().await);
    assert_eq!(status, 404, "HeadBucket of a deleted bucket");
    let (code, _, status) = failure(s3.delete_bucket().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
    let (code, _, status) = failure(s3.get_bucket_versioning().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
    let listed = s3.list_buckets().send().await.expect("ListBuckets");
    assert!(listed.buckets().is_empty(), "{listed:?}");
}

#[tokio::test]
async fn bucket_names_are_global_and_buckets_private_to_their_account() {
    let server = Server::start();
    let s3 = server.s3().await;
    create_bucket(&s3, "taken-name").await;
    put_object(
        &s3,
        "taken-name",
        "secret",
        ByteStream::from_static(b"mine"),
    )
    .await;

    let (key_id, secret) = server.second_account("210987654321");
    let other = e2e::s3_client(&server.config(&key_id, &secret, None).await);
    let (code, _, status) = failure(other.create_bucket().bucket("taken-name").send().await);
    assert_eq!((code.as_str(), status), ("BucketAlreadyExists", 409));
    let (code, _, status) = failure(
        other
            .get_object()
            .bucket("taken-name")
            .key("secret")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(
        other
            .put_object()
            .bucket("taken-name")
            .key("planted")
            .body(ByteStream::from_static(b"theirs"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(other.list_objects_v2().bucket("taken-name").send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(other.delete_bucket().bucket("taken-name").send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let listed = other.list_buckets().send().await.expect("ListBuckets");
    assert!(
        listed.buckets().is_empty(),
        "another account's buckets: {listed:?}"
    );

    // The other account's own bucket works for it.
    other
        .create_bucket()
        .bucket("their-bucket")
        .send()
        .await
        .expect("CreateBucket");
    let listed = s3.list_buckets().send().await.expect("ListBuckets");
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["taken-name"]);
}

#[tokio::test]
async fn bucket_policies_grant_other_accounts_and_deny_this_one() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "policed";
    create_bucket(&s3, bucket).await;
    for key in ["shared/doc", "private/doc", "denied/doc"] {
        put_object(&s3, bucket, key, ByteStream::from_static(b"content")).await;
    }
    let other_account = "210987654321";
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"ShareWithPartner","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{other_account}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/shared/*"}},
            {{"Sid":"NobodyReadsDenied","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/denied/*"}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(&policy)
        .send()
        .await
        .expect("PutBucketPolicy");

    // The bucket policy's Deny binds the owner's own principals.
    let (code, _, status) = failure(
        s3.get_object()
            .bucket(bucket)
            .key("denied/doc")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    s3.get_object()
        .bucket(bucket)
        .key("private/doc")
        .send()
        .await
        .expect("the owner reads the rest");

    // Its Allow lets the other account (whose admin may do anything) read shared/ only.
    let (key_id, secret) = server.second_account(other_account);
    let other = e2e::s3_client(&server.config(&key_id, &secret, None).await);
    let got = other
        .get_object()
        .bucket(bucket)
        .key("shared/doc")
        .send()
        .await
        .expect("GetObject granted by the bucket policy");
    assert_eq!(body_of(got).await, b"content");
    let (code, _, status) = failure(
        other
            .get_object()
            .bucket(bucket)
            .key("private/doc")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(other.list_objects_v2().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(
        other
            .put_object()
            .bucket(bucket)
            .key("shared/planted")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));

    // Without the policy, the grant is gone.
    s3.delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .expect("DeleteBucketPolicy");
    let (code, _, status) = failure(
        other
            .get_object()
            .bucket(bucket)
            .key("shared/doc")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    s3.get_object()
        .bucket(bucket)
        .key("denied/doc")
        .send()
        .await
        .expect("the Deny went with the policy");
}

#[tokio::test]
async fn iam_policies_decide_what_a_user_may_do() {
    let server = Server::start();
    let s3 = server.s3().await;
    create_bucket(&s3, "guarded").await;
    put_object(&s3, "guarded", "readable/a", ByteStream::from_static(b"a")).await;

    let key = server.user_with_key("reader").await;
    server
        .iam()
        .await
        .put_user_policy()
        .user_name("reader")
        .policy_name("read")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::guarded/readable/*"}]}"#,
        )
        .send()
        .await
        .expect("PutUserPolicy");
    let reader = e2e::s3_client(&server.key_config(&key).await);
    let got = reader
        .get_object()
        .bucket("guarded")
        .key("readable/a")
        .send()
        .await
        .expect("GetObject allowed by the user's policy");
    assert_eq!(body_of(got).await, b"a");
    let (code, _, status) = failure(
        reader
            .put_object()
            .bucket("guarded")
            .key("readable/b")
            .body(ByteStream::from_static(b"b"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(reader.list_buckets().send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(
        reader
            .get_object()
            .bucket("guarded")
            .key("other")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));

    // Bad credentials.
    let unknown = e2e::s3_client(
        &server
            .config("AKIAUNKNOWNKEY000000", "whatever-secret", None)
            .await,
    );
    let (code, _, status) = failure(unknown.list_buckets().send().await);
    assert_eq!((code.as_str(), status), ("InvalidAccessKeyId", 403));
    let wrong = e2e::s3_client(
        &server
            .config(e2e::ADMIN_KEY_ID, "not-the-admin-secret", None)
            .await,
    );
    let (code, _, status) = failure(wrong.list_buckets().send().await);
    assert_eq!((code.as_str(), status), ("SignatureDoesNotMatch", 403));

    // Temporary credentials sign S3 requests too.
    let session = server
        .sts()
        .await
        .get_session_token()
        .send()
        .await
        .expect("GetSessionToken");
    let temporary = e2e::s3_client(
        &server
            .session_config(session.credentials().expect("credentials"))
            .await,
    );
    let listed = temporary
        .list_objects_v2()
        .bucket("guarded")
        .send()
        .await
        .expect("ListObjectsV2 with a session");
    assert_eq!(listed.key_count(), Some(1));
}

#[tokio::test]
async fn objects_round_trip_with_their_headers_tags_and_copies() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "objects";
    create_bucket(&s3, bucket).await;
    let body = Noise::new(1).bytes(100_000);

    let put = s3
        .put_object()
        .bucket(bucket)
        .key("dir/file.bin")
        .body(ByteStream::from(body.clone()))
        .content_type("application/x-test")
        .cache_control("max-age=60")
        .content_disposition("attachment")
        .content_encoding("identity")
        .content_language("en-GB")
        .expires(DateTime::from_secs(4_102_444_800))
        .metadata("colour", "blue")
        .send()
        .await
        .expect("PutObject");
    assert_eq!(put.e_tag(), Some(quoted(&md5_hex(&body)).as_str()));
    assert_eq!(
        put.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );

    let got = s3
        .get_object()
        .bucket(bucket)
        .key("dir/file.bin")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.content_length(), Some(body.len() as i64));
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.content_disposition(), Some("attachment"));
    assert_eq!(got.content_encoding(), Some("identity"));
    assert_eq!(got.content_language(), Some("en-GB"));
    assert_eq!(
        got.expires_string(),
        Some("Fri, 01 Jan 2100 00:00:00 GMT"),
        "Expires as it was sent"
    );
    assert_eq!(got.e_tag(), Some(quoted(&md5_hex(&body)).as_str()));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("colour"))
            .map(String::as_str),
        Some("blue")
    );
    assert_eq!(
        got.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert!(got.last_modified().is_some());
    assert_eq!(body_of(got).await, body);

    let head = s3
        .head_object()
        .bucket(bucket)
        .key("dir/file.bin")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.e_tag(), Some(quoted(&md5_hex(&body)).as_str()));
    assert_eq!(head.content_type(), Some("application/x-test"));
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );

    // An empty object.
    let put = s3
        .put_object()
        .bucket(bucket)
        .key("empty")
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .expect("PutObject (empty)");
    assert_eq!(put.e_tag(), Some("\"d41d8cd98f00b204e9800998ecf8427e\""));
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("empty")
        .send()
        .await
        .expect("GetObject (empty)");
    assert_eq!(got.content_length(), Some(0));
    assert!(body_of(got).await.is_empty());

    // Overwriting replaces the object.
    s3.put_object()
        .bucket(bucket)
        .key("empty")
        .body(ByteStream::from_static(b"now full"))
        .send()
        .await
        .expect("PutObject (overwrite)");
    assert_eq!(read_object(&s3, bucket, "empty").await, b"now full");

    // Keys with characters that need encoding.
    let odd = "odd key/with spaces+plus=eq&amp;ü.txt";
    s3.put_object()
        .bucket(bucket)
        .key(odd)
        .body(ByteStream::from_static(b"odd"))
        .send()
        .await
        .expect("PutObject (odd key)");
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(odd)
        .send()
        .await
        .expect("GetObject (odd key)");
    assert_eq!(body_of(got).await, b"odd");

    // CopyObject keeps the metadata, or replaces it.
    let copied = s3
        .copy_object()
        .bucket(bucket)
        .key("copy/kept")
        .copy_source(format!("{bucket}/dir/file.bin"))
        .send()
        .await
        .expect("CopyObject");
    assert_eq!(
        copied.copy_object_result().and_then(|r| r.e_tag()),
        Some(quoted(&md5_hex(&body)).as_str())
    );
    let head = s3
        .head_object()
        .bucket(bucket)
        .key("copy/kept")
        .send()
        .await
        .expect("HeadObject (copy)");
    assert_eq!(head.content_type(), Some("application/x-test"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("colour"))
            .map(String::as_str),
        Some("blue")
    );
    s3.copy_object()
        .bucket(bucket)
        .key("copy/replaced")
        .copy_source(format!("{bucket}/dir/file.bin"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/plain")
        .metadata("colour", "red")
        .send()
        .await
        .expect("CopyObject (REPLACE)");
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("copy/replaced")
        .send()
        .await
        .expect("GetObject (copy)");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("colour"))
            .map(String::as_str),
        Some("red")
    );
    assert_eq!(body_of(got).await, body);
    // Copying an object onto itself without changing anything is refused, as on AWS.
    let (code, _, status) = failure(
        s3.copy_object()
            .bucket(bucket)
            .key("dir/file.bin")
            .copy_source(format!("{bucket}/dir/file.bin"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidRequest", 400));
    let (code, _, status) = failure(
        s3.copy_object()
            .bucket(bucket)
            .key("copy/none")
            .copy_source(format!("{bucket}/no/such/key"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));

    // Object tags.
    s3.put_object_tagging()
        .bucket(bucket)
        .key("dir/file.bin")
        .tagging(tagging(&[("class", "test")]))
        .send()
        .await
        .expect("PutObjectTagging");
    let tags = s3
        .get_object_tagging()
        .bucket(bucket)
        .key("dir/file.bin")
        .send()
        .await
        .expect("GetObjectTagging");
    assert_eq!(
        tag_pairs(tags.tag_set()),
        [("class".to_owned(), "test".to_owned())]
    );
    s3.delete_object_tagging()
        .bucket(bucket)
        .key("dir/file.bin")
        .send()
        .await
        .expect("DeleteObjectTagging");
    let tags = s3
        .get_object_tagging()
        .bucket(bucket)
        .key("dir/file.bin")
        .send()
        .await
        .expect("GetObjectTagging");
    assert!(tags.tag_set().is_empty(), "{tags:?}");
    // Tags given with the PUT.
    s3.put_object()
        .bucket(bucket)
        .key("tagged")
        .tagging("a=1&b=2")
        .body(ByteStream::from_static(b"t"))
        .send()
        .await
        .expect("PutObject with tags");
    let tags = s3
        .get_object_tagging()
        .bucket(bucket)
        .key("tagged")
        .send()
        .await
        .expect("GetObjectTagging");
    let mut tags = tag_pairs(tags.tag_set());
    tags.sort();
    assert_eq!(
        tags,
        [
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned())
        ]
    );

    // ACLs: only the owner-enforced ones are accepted.
    let (code, _, status) = failure(
        s3.put_object_acl()
            .bucket(bucket)
            .key("tagged")
            .acl(ObjectCannedAcl::PublicRead)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("AccessControlListNotSupported", 400)
    );
    let (code, _, status) = failure(
        s3.put_object()
            .bucket(bucket)
            .key("public")
            .acl(ObjectCannedAcl::PublicRead)
            .body(ByteStream::from_static(b"p"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("AccessControlListNotSupported", 400)
    );
    s3.put_object()
        .bucket(bucket)
        .key("owner-acl")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(ByteStream::from_static(b"o"))
        .send()
        .await
        .expect("PutObject with bucket-owner-full-control");

    // Missing objects and buckets.
    let (code, _, status) = failure(s3.get_object().bucket(bucket).key("nope").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));
    let (_, _, status) = failure(s3.head_object().bucket(bucket).key("nope").send().await);
    assert_eq!(status, 404);
    let (code, _, status) = failure(s3.get_object().bucket("no-bucket").key("k").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
    let (code, _, status) = failure(
        s3.put_object()
            .bucket("no-bucket")
            .key("k")
            .body(ByteStream::from_static(b"k"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
    let (code, _, status) = failure(
        s3.get_object_tagging()
            .bucket(bucket)
            .key("nope")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));

    // DeleteObject of a missing key succeeds (204), as on AWS; deleting makes it 404.
    s3.delete_object()
        .bucket(bucket)
        .key("nope")
        .send()
        .await
        .expect("DeleteObject (missing)");
    s3.delete_object()
        .bucket(bucket)
        .key("dir/file.bin")
        .send()
        .await
        .expect("DeleteObject");
    let (code, _, status) = failure(
        s3.get_object()
            .bucket(bucket)
            .key("dir/file.bin")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));

    // DeleteObjects: found and missing keys are both "deleted"; quiet mode lists none.
    let ids = |keys: &[&str]| {
        keys.iter()
            .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
            .collect::<Vec<_>>()
    };
    let deleted = s3
        .delete_objects()
        .bucket(bucket)
        .delete(
            Delete::builder()
                .set_objects(Some(ids(&["copy/kept", "copy/replaced", "never-there"])))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DeleteObjects");
    let mut keys: Vec<_> = deleted.deleted().iter().filter_map(|d| d.key()).collect();
    keys.sort();
    assert_eq!(keys, ["copy/kept", "copy/replaced", "never-there"]);
    assert!(deleted.errors().is_empty(), "{deleted:?}");
    let quiet = s3
        .delete_objects()
        .bucket(bucket)
        .delete(
            Delete::builder()
                .set_objects(Some(ids(&["empty", odd])))
                .quiet(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DeleteObjects (quiet)");
    assert!(quiet.deleted().is_empty(), "{quiet:?}");
    let left = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("ListObjectsV2");
    let keys: Vec<_> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["owner-acl", "tagged"]);
}

#[tokio::test]
async fn listings_page_and_group_like_s3() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "listings";
    create_bucket(&s3, bucket).await;
    let keys = [
        "a.txt",
        "b/1.txt",
        "b/2.txt",
        "b/c/3.txt",
        "d/4.txt",
        "e.txt",
        "f/5.txt",
    ];
    for (n, key) in keys.iter().enumerate() {
        put_object(&s3, bucket, *key, ByteStream::from(vec![b'x'; n + 1])).await;
    }

    // Everything, in key order, with sizes and ETags.
    let all = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("ListObjectsV2");
    let listed: Vec<_> = all.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, keys);
    assert_eq!(all.key_count(), Some(7));
    assert_eq!(all.is_truncated(), Some(false));
    assert_eq!(all.contents()[2].size(), Some(3));
    assert_eq!(
        all.contents()[2].e_tag(),
        Some(quoted(&md5_hex(b"xxx")).as_str())
    );
    assert!(all.contents()[2].last_modified().is_some());
    assert!(all.contents()[2].owner().is_none(), "no owner unless asked");
    let owned = s3
        .list_objects_v2()
        .bucket(bucket)
        .max_keys(1)
        .fetch_owner(true)
        .send()
        .await
        .expect("ListObjectsV2 fetch-owner");
    assert!(
        owned.contents()[0]
            .owner()
            .and_then(|o| o.id())
            .is_some_and(|id| !id.is_empty()),
        "{owned:?}"
    );

    // Prefix.
    let b = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("b/")
        .send()
        .await
        .expect("ListObjectsV2 prefix");
    let listed: Vec<_> = b.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, ["b/1.txt", "b/2.txt", "b/c/3.txt"]);

    // Delimiter: common prefixes.
    let top = s3
        .list_objects_v2()
        .bucket(bucket)
        .delimiter("/")
        .send()
        .await
        .expect("ListObjectsV2 delimiter");
    let files: Vec<_> = top.contents().iter().filter_map(|o| o.key()).collect();
    let dirs: Vec<_> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(files, ["a.txt", "e.txt"]);
    assert_eq!(dirs, ["b/", "d/", "f/"]);
    assert_eq!(top.key_count(), Some(5), "objects and prefixes count");
    let nested = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("b/")
        .delimiter("/")
        .send()
        .await
        .expect("ListObjectsV2 prefix+delimiter");
    let files: Vec<_> = nested.contents().iter().filter_map(|o| o.key()).collect();
    let dirs: Vec<_> = nested
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(files, ["b/1.txt", "b/2.txt"]);
    assert_eq!(dirs, ["b/c/"]);

    // Pages of 3 with continuation tokens.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(3)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("ListObjectsV2 page");
        pages += 1;
        assert_eq!(page.max_keys(), Some(3));
        assert!(page.contents().len() <= 3);
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
        if page.is_truncated() == Some(true) {
            token = Some(
                page.next_continuation_token()
                    .expect("a token when truncated")
                    .to_owned(),
            );
        } else {
            assert_eq!(page.next_continuation_token(), None);
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, keys);

    // The SDK's paginator gets the same.
    let paged: Vec<String> = s3
        .list_objects_v2()
        .bucket(bucket)
        .max_keys(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate")
        .iter()
        .flat_map(|p| {
            p.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(paged, keys);

    // StartAfter.
    let after = s3
        .list_objects_v2()
        .bucket(bucket)
        .start_after("b/c/3.txt")
        .send()
        .await
        .expect("ListObjectsV2 start-after");
    let listed: Vec<_> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, ["d/4.txt", "e.txt", "f/5.txt"]);

    // max-keys 0: no keys.
    let none = s3
        .list_objects_v2()
        .bucket(bucket)
        .max_keys(0)
        .send()
        .await
        .expect("ListObjectsV2 max-keys 0");
    assert!(none.contents().is_empty());

    // Delimited pages: a common prefix counts as one key.
    let page = s3
        .list_objects_v2()
        .bucket(bucket)
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .expect("ListObjectsV2 delimited page");
    let files: Vec<_> = page.contents().iter().filter_map(|o| o.key()).collect();
    let dirs: Vec<_> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!((files, dirs), (vec!["a.txt"], vec!["b/"]));
    assert_eq!(page.is_truncated(), Some(true));
    let rest = s3
        .list_objects_v2()
        .bucket(bucket)
        .delimiter("/")
        .continuation_token(page.next_continuation_token().expect("token"))
        .send()
        .await
        .expect("ListObjectsV2 next delimited page");
    let files: Vec<_> = rest.contents().iter().filter_map(|o| o.key()).collect();
    let dirs: Vec<_> = rest
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!((files, dirs), (vec!["e.txt"], vec!["d/", "f/"]));

    // ListObjects (v1): markers.
    let v1 = s3
        .list_objects()
        .bucket(bucket)
        .max_keys(4)
        .send()
        .await
        .expect("ListObjects");
    let listed: Vec<_> = v1.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, &keys[..4]);
    assert_eq!(v1.is_truncated(), Some(true));
    let v1 = s3
        .list_objects()
        .bucket(bucket)
        .marker("b/c/3.txt")
        .send()
        .await
        .expect("ListObjects marker");
    let listed: Vec<_> = v1.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, &keys[4..]);
    assert_eq!(v1.is_truncated(), Some(false));
    let v1 = s3
        .list_objects()
        .bucket(bucket)
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .expect("ListObjects delimiter");
    assert_eq!(v1.is_truncated(), Some(true));
    assert_eq!(
        v1.next_marker(),
        Some("b/"),
        "NextMarker is the last key or prefix"
    );

    let (code, _, status) = failure(s3.list_objects_v2().bucket("no-such").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
}

#[tokio::test]
async fn range_and_conditional_reads() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "ranges";
    create_bucket(&s3, bucket).await;
    let body: Vec<u8> = (0..100u8).collect();
    let put = s3
        .put_object()
        .bucket(bucket)
        .key("k")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject");
    let etag = put.e_tag().expect("ETag").to_owned();
    // The 304s are collected, so the checks after them still run.
    let mut problems = Vec::new();

    for (range, from, to) in [
        ("bytes=0-9", 0usize, 9usize),
        ("bytes=-5", 95, 99),
        ("bytes=10-", 10, 99),
        ("bytes=90-200", 90, 99),
    ] {
        let got = s3
            .get_object()
            .bucket(bucket)
            .key("k")
            .range(range)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {range}: {e:?}"));
        assert_eq!(
            got.content_range(),
            Some(format!("bytes {from}-{to}/100").as_str()),
            "{range}"
        );
        assert_eq!(
            got.content_length(),
            Some((to - from + 1) as i64),
            "{range}"
        );
        assert_eq!(body_of(got).await, &body[from..=to], "{range}");
    }
    let head = s3
        .head_object()
        .bucket(bucket)
        .key("k")
        .range("bytes=0-9")
        .send()
        .await
        .expect("HeadObject range");
    assert_eq!(head.content_length(), Some(10));
    for range in ["bytes=100-", "bytes=200-300"] {
        let (code, _, status) = failure(
            s3.get_object()
                .bucket(bucket)
                .key("k")
                .range(range)
                .send()
                .await,
        );
        assert_eq!((code.as_str(), status), ("InvalidRange", 416), "{range}");
    }

    // Conditional GET.
    problems.extend(not_modified(
        s3.get_object()
            .bucket(bucket)
            .key("k")
            .if_none_match(&etag)
            .send()
            .await,
        "If-None-Match with the ETag",
    ));
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("k")
        .if_none_match("\"0123456789abcdef0123456789abcdef\"")
        .send()
        .await
        .expect("If-None-Match another ETag");
    assert_eq!(body_of(got).await, body);
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .expect("If-Match the ETag");
    assert_eq!(body_of(got).await, body);
    let (code, _, status) = failure(
        s3.get_object()
            .bucket(bucket)
            .key("k")
            .if_match("\"0123456789abcdef0123456789abcdef\"")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
    let hour = 3600;
    let now = DateTime::from_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    );
    let past = DateTime::from_secs(now.secs() - hour);
    let future = DateTime::from_secs(now.secs() + hour);
    problems.extend(not_modified(
        s3.get_object()
            .bucket(bucket)
            .key("k")
            .if_modified_since(future)
            .send()
            .await,
        "If-Modified-Since after the write",
    ));
    s3.get_object()
        .bucket(bucket)
        .key("k")
        .if_modified_since(past)
        .send()
        .await
        .expect("If-Modified-Since before the write");
    let (code, _, status) = failure(
        s3.get_object()
            .bucket(bucket)
            .key("k")
            .if_unmodified_since(past)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
    s3.get_object()
        .bucket(bucket)
        .key("k")
        .if_unmodified_since(future)
        .send()
        .await
        .expect("If-Unmodified-Since after the write");
    // If-Match wins over If-Unmodified-Since, as RFC 7232 and S3 say.
    s3.get_object()
        .bucket(bucket)
        .key("k")
        .if_match(&etag)
        .if_unmodified_since(past)
        .send()
        .await
        .expect("If-Match true and If-Unmodified-Since false");

    // Conditional HEAD.
    problems.extend(not_modified(
        s3.head_object()
            .bucket(bucket)
            .key("k")
            .if_none_match(&etag)
            .send()
            .await,
        "HEAD If-None-Match with the ETag",
    ));
    let (_, _, status) = failure(
        s3.head_object()
            .bucket(bucket)
            .key("k")
            .if_match("\"0123456789abcdef0123456789abcdef\"")
            .send()
            .await,
    );
    assert_eq!(status, 412, "HEAD If-Match another ETag");
    s3.head_object()
        .bucket(bucket)
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .expect("HEAD If-Match the ETag");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn multipart_uploads_follow_s3_rules() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "multipart";
    create_bucket(&s3, bucket).await;
    let mut noise = Noise::new(7);
    let part1 = noise.bytes(5 * MIB);
    let part2 = noise.bytes(1000);

    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("big")
        .content_type("application/x-big")
        .metadata("origin", "parts")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload = created.upload_id().expect("an upload ID").to_owned();
    let upload_part = |n: i32, body: Vec<u8>| {
        s3.upload_part()
            .bucket(bucket)
            .key("big")
            .upload_id(&upload)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
    };
    let etag1 = upload_part(1, part1.clone())
        .await
        .expect("UploadPart 1")
        .e_tag()
        .expect("ETag")
        .to_owned();
    let etag2 = upload_part(2, part2.clone())
        .await
        .expect("UploadPart 2")
        .e_tag()
        .expect("ETag")
        .to_owned();
    assert_eq!(etag1, quoted(&md5_hex(&part1)));
    assert_eq!(etag2, quoted(&md5_hex(&part2)));
    for bad in [0, 10001] {
        let (code, _, status) = failure(upload_part(bad, b"x".to_vec()).await);
        assert_eq!(
            (code.as_str(), status),
            ("InvalidArgument", 400),
            "part {bad}"
        );
    }

    let parts = s3
        .list_parts()
        .bucket(bucket)
        .key("big")
        .upload_id(&upload)
        .send()
        .await
        .expect("ListParts");
    let listed: Vec<_> = parts
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size(), p.e_tag().map(str::to_owned)))
        .collect();
    assert_eq!(
        listed,
        [
            (Some(1), Some(5 * MIB as i64), Some(etag1.clone())),
            (Some(2), Some(1000), Some(etag2.clone()))
        ]
    );
    let uploads = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("ListMultipartUploads");
    let listed: Vec<_> = uploads
        .uploads()
        .iter()
        .map(|u| (u.key(), u.upload_id()))
        .collect();
    assert_eq!(listed, [(Some("big"), Some(upload.as_str()))]);

    // Not an object until completed.
    let (code, _, status) = failure(s3.get_object().bucket(bucket).key("big").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));

    // ListParts in pages of one.
    let first = s3
        .list_parts()
        .bucket(bucket)
        .key("big")
        .upload_id(&upload)
        .max_parts(1)
        .send()
        .await
        .expect("ListParts max-parts 1");
    assert_eq!(first.parts().len(), 1);
    assert_eq!(first.is_truncated(), Some(true));
    assert_eq!(first.next_part_number_marker(), Some("1"));
    let second = s3
        .list_parts()
        .bucket(bucket)
        .key("big")
        .upload_id(&upload)
        .part_number_marker("1")
        .send()
        .await
        .expect("ListParts after part 1");
    let numbers: Vec<_> = second.parts().iter().map(|p| p.part_number()).collect();
    assert_eq!(numbers, [Some(2)]);
    assert_eq!(second.is_truncated(), Some(false));

    // Uploading a part number again replaces that part.
    let replaced = upload_part(2, b"a stale second part".to_vec())
        .await
        .expect("UploadPart 2 (stale)");
    assert_ne!(replaced.e_tag(), Some(etag2.as_str()));
    let etag2 = upload_part(2, part2.clone())
        .await
        .expect("UploadPart 2 again")
        .e_tag()
        .expect("ETag")
        .to_owned();

    let complete = |parts: Vec<(i32, &str)>| {
        s3.complete_multipart_upload()
            .bucket(bucket)
            .key("big")
            .upload_id(&upload)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(
                        parts
                            .into_iter()
                            .map(|(n, e)| CompletedPart::builder().part_number(n).e_tag(e).build())
                            .collect(),
                    ))
                    .build(),
            )
            .send()
    };
    let (code, _, status) = failure(
        complete(vec![
            (1, "\"0123456789abcdef0123456789abcdef\""),
            (2, &etag2),
        ])
        .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidPart", 400));
    let (code, _, status) = failure(complete(vec![(2, &etag2), (1, &etag1)]).await);
    assert_eq!((code.as_str(), status), ("InvalidPartOrder", 400));

    let done = complete(vec![(1, &etag1), (2, &etag2)])
        .await
        .expect("CompleteMultipartUpload");
    let mut digests = Vec::new();
    for part in [&part1, &part2] {
        digests.extend_from_slice(&md5(part));
    }
    let multipart_etag = quoted(&format!("{}-2", md5_hex(&digests)));
    assert_eq!(done.e_tag(), Some(multipart_etag.as_str()));
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("big")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.e_tag(), Some(multipart_etag.as_str()));
    assert_eq!(got.content_type(), Some("application/x-big"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("parts")
    );
    assert_eq!(
        got.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    let whole = body_of(got).await;
    assert_eq!(whole.len(), part1.len() + part2.len());
    assert!(whole[..part1.len()] == part1[..] && whole[part1.len()..] == part2[..]);
    // A range across the parts' boundary.
    let (from, to) = (part1.len() - 10, part1.len() + 9);
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("big")
        .range(format!("bytes={from}-{to}"))
        .send()
        .await
        .expect("GetObject across parts");
    assert_eq!(
        got.content_range(),
        Some(format!("bytes {from}-{to}/{}", whole.len()).as_str())
    );
    assert_eq!(body_of(got).await, &whole[from..=to]);

    // UploadPartCopy: a new object from ranges of this one (parts swapped).
    let copy = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("copied")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let copy_id = copy.upload_id().expect("an upload ID").to_owned();
    let mut copied_parts = Vec::new();
    for (n, range) in [
        (1, format!("bytes={}-{}", part1.len(), whole.len() - 1)),
        (2, format!("bytes=0-{}", part1.len() - 1)),
    ] {
        let part = s3
            .upload_part_copy()
            .bucket(bucket)
            .key("copied")
            .upload_id(&copy_id)
            .part_number(n)
            .copy_source(format!("{bucket}/big"))
            .copy_source_range(range)
            .send()
            .await
            .unwrap_or_else(|e| panic!("UploadPartCopy {n}: {e:?}"));
        let etag = part
            .copy_part_result()
            .and_then(|r| r.e_tag())
            .expect("an ETag")
            .to_owned();
        copied_parts.push(CompletedPart::builder().part_number(n).e_tag(etag).build());
    }
    let (code, _, status) = failure(
        s3.complete_multipart_upload()
            .bucket(bucket)
            .key("copied")
            .upload_id(&copy_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(copied_parts.clone()))
                    .build(),
            )
            .send()
            .await,
    );
    // Part 1 is the 1000-byte tail: not the last part, so too small.
    assert_eq!((code.as_str(), status), ("EntityTooSmall", 400));
    let swapped = s3
        .upload_part_copy()
        .bucket(bucket)
        .key("copied")
        .upload_id(&copy_id)
        .part_number(3)
        .copy_source(format!("{bucket}/big"))
        .copy_source_range(format!("bytes={}-{}", part1.len(), whole.len() - 1))
        .send()
        .await
        .expect("UploadPartCopy 3");
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key("copied")
        .upload_id(&copy_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(copied_parts[1].clone())
                .parts(
                    CompletedPart::builder()
                        .part_number(3)
                        .e_tag(
                            swapped
                                .copy_part_result()
                                .and_then(|r| r.e_tag())
                                .expect("an ETag"),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload of copied parts");
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("copied")
        .send()
        .await
        .expect("GetObject (copied)");
    assert!(
        body_of(got).await == whole,
        "parts 2 and 3 are the original's halves in order"
    );
    let (code, _, status) = failure(
        s3.list_parts()
            .bucket(bucket)
            .key("big")
            .upload_id(&upload)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchUpload", 404), "completed");

    // A part below 5 MiB that is not the last: EntityTooSmall.
    let small = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("small")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let small_id = small.upload_id().expect("an upload ID").to_owned();
    let mut etags = Vec::new();
    for n in 1..=2 {
        let part = s3
            .upload_part()
            .bucket(bucket)
            .key("small")
            .upload_id(&small_id)
            .part_number(n)
            .body(ByteStream::from(vec![b'a' + n as u8; 1024]))
            .send()
            .await
            .expect("UploadPart");
        etags.push(part.e_tag().expect("ETag").to_owned());
    }
    let (code, _, status) = failure(
        s3.complete_multipart_upload()
            .bucket(bucket)
            .key("small")
            .upload_id(&small_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .parts(
                        CompletedPart::builder()
                            .part_number(1)
                            .e_tag(&etags[0])
                            .build(),
                    )
                    .parts(
                        CompletedPart::builder()
                            .part_number(2)
                            .e_tag(&etags[1])
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("EntityTooSmall", 400));
    // A single small part is fine: it is the last.
    let one = s3
        .complete_multipart_upload()
        .bucket(bucket)
        .key("small")
        .upload_id(&small_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(2)
                        .e_tag(&etags[1])
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload with one small part");
    assert!(one.e_tag().is_some_and(|e| e.ends_with("-1\"")), "{one:?}");
    assert_eq!(read_object(&s3, bucket, "small").await, vec![b'c'; 1024]);

    // Abort: the upload is gone.
    let aborted = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("aborted")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let aborted_id = aborted.upload_id().expect("an upload ID").to_owned();
    s3.upload_part()
        .bucket(bucket)
        .key("aborted")
        .upload_id(&aborted_id)
        .part_number(1)
        .body(ByteStream::from_static(b"gone"))
        .send()
        .await
        .expect("UploadPart");
    s3.abort_multipart_upload()
        .bucket(bucket)
        .key("aborted")
        .upload_id(&aborted_id)
        .send()
        .await
        .expect("AbortMultipartUpload");
    let (code, _, status) = failure(
        s3.list_parts()
            .bucket(bucket)
            .key("aborted")
            .upload_id(&aborted_id)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchUpload", 404));
    let (code, _, status) = failure(
        s3.upload_part()
            .bucket(bucket)
            .key("aborted")
            .upload_id(&aborted_id)
            .part_number(2)
            .body(ByteStream::from_static(b"late"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchUpload", 404));
    let uploads = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("ListMultipartUploads");
    assert!(uploads.uploads().is_empty(), "{uploads:?}");
    let (code, _, status) = failure(
        s3.abort_multipart_upload()
            .bucket(bucket)
            .key("aborted")
            .upload_id("no-such-upload")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchUpload", 404));
    let (code, _, status) = failure(s3.get_object().bucket(bucket).key("aborted").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));
}

/// 128 MiB in 16 parts of 8 MiB, each generated when sent, then read back as a stream: the
/// server must stream both ways, so its peak RSS stays far below the object's size.
#[tokio::test]
async fn a_128_mib_object_streams_through_bounded_server_memory() {
    const PARTS: usize = 16;
    const PART: usize = 8 * MIB;
    // Less than the object: a server holding it in memory cannot pass (measured: ~78 MiB, the
    // same with signed payloads).
    const RSS_BOUND_KIB: u64 = 128 * 1024;
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "large";
    create_bucket(&s3, bucket).await;
    let upload = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("big.bin")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload = upload.upload_id().expect("an upload ID").to_owned();

    let started = std::time::Instant::now();
    let mut noise = Noise::new(128);
    let mut whole = Md5Stream::default();
    let mut parts = Vec::new();
    for n in 1..=PARTS {
        let part = noise.bytes(PART);
        whole.update(&part);
        let sent = s3
            .upload_part()
            .bucket(bucket)
            .key("big.bin")
            .upload_id(&upload)
            .part_number(n as i32)
            .body(ByteStream::from(part))
            // UNSIGNED-PAYLOAD, as clients send over TLS: hashing 128 MiB with SHA-256 in a
            // debug build, on both sides, would take the test from ~7 s to ~20 s.
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .unwrap_or_else(|e| panic!("UploadPart {n}: {e:?}"));
        parts.push(
            CompletedPart::builder()
                .part_number(n as i32)
                .e_tag(sent.e_tag().expect("ETag"))
                .build(),
        );
    }
    let expected_md5 = whole.hex();
    let done = s3
        .complete_multipart_upload()
        .bucket(bucket)
        .key("big.bin")
        .upload_id(&upload)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    assert!(
        done.e_tag().is_some_and(|e| e.ends_with("-16\"")),
        "{done:?}"
    );
    let uploaded = started.elapsed();

    let got = s3
        .get_object()
        .bucket(bucket)
        .key("big.bin")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.content_length(), Some((PARTS * PART) as i64));
    let mut body = got.body;
    let mut read = Md5Stream::default();
    let mut length = 0usize;
    while let Some(chunk) = body.try_next().await.expect("read a chunk") {
        length += chunk.len();
        read.update(&chunk);
    }
    assert_eq!(length, PARTS * PART);
    assert_eq!(read.hex(), expected_md5, "the object reads back as written");

    let peak = peak_rss_kib(server.pid());
    eprintln!(
        "128 MiB: upload {uploaded:?}, total {:?}, server VmHWM {} MiB",
        started.elapsed(),
        peak / 1024
    );
    assert!(
        peak < RSS_BOUND_KIB,
        "the server's peak RSS is {} MiB for a 128 MiB object: it buffers bodies",
        peak / 1024
    );
}

#[tokio::test]
async fn bucket_listing_order_region_and_location_constraints() {
    let server = Server::start();
    let s3 = server.s3().await;
    for name in ["zeta-bucket", "alpha-bucket", "mid.bucket"] {
        create_bucket(&s3, name).await;
    }
    let listed = s3.list_buckets().send().await.expect("ListBuckets");
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["alpha-bucket", "mid.bucket", "zeta-bucket"]);
    let head = s3
        .head_bucket()
        .bucket("mid.bucket")
        .send()
        .await
        .expect("HeadBucket");
    assert_eq!(head.bucket_region(), Some("us-east-1"));

    // us-east-1 is the absence of a constraint; naming it is refused, as is another region.
    let constraint = |region: &str| {
        aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
            .build()
    };
    let (code, _, status) = failure(
        s3.create_bucket()
            .bucket("explicit-east")
            .create_bucket_configuration(constraint("us-east-1"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidLocationConstraint", 400));
    let (code, _, status) = failure(
        s3.create_bucket()
            .bucket("elsewhere")
            .create_bucket_configuration(constraint("eu-west-1"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("IllegalLocationConstraintException", 400)
    );
    let listed = s3.list_buckets().send().await.expect("ListBuckets");
    assert_eq!(listed.buckets().len(), 3);
}

#[tokio::test]
async fn digests_and_conditional_writes_are_checked() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "digests";
    create_bucket(&s3, bucket).await;
    let body = b"digest me".to_vec();

    s3.put_object()
        .bucket(bucket)
        .key("right-md5")
        .content_md5(e2e::s3::md5_base64(&body))
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject with its Content-MD5");
    let (code, _, status) = failure(
        s3.put_object()
            .bucket(bucket)
            .key("wrong-md5")
            .content_md5(e2e::s3::md5_base64(b"other bytes"))
            .body(ByteStream::from(body.clone()))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadDigest", 400));
    // Conditional writes: If-None-Match * creates only.
    s3.put_object()
        .bucket(bucket)
        .key("once")
        .if_none_match("*")
        .body(ByteStream::from_static(b"first"))
        .send()
        .await
        .expect("PutObject If-None-Match * of a new key");
    let (code, _, status) = failure(
        s3.put_object()
            .bucket(bucket)
            .key("once")
            .if_none_match("*")
            .body(ByteStream::from_static(b"second"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
    assert_eq!(read_object(&s3, bucket, "once").await, b"first");
    // If-Match: replaces only the version named.
    let first = quoted(&md5_hex(b"first"));
    let (code, _, status) = failure(
        s3.put_object()
            .bucket(bucket)
            .key("once")
            .if_match("\"0123456789abcdef0123456789abcdef\"")
            .body(ByteStream::from_static(b"third"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("PreconditionFailed", 412));
    s3.put_object()
        .bucket(bucket)
        .key("once")
        .if_match(&first)
        .body(ByteStream::from_static(b"fourth"))
        .send()
        .await
        .expect("PutObject If-Match the current ETag");
    assert_eq!(read_object(&s3, bucket, "once").await, b"fourth");
    let (code, _, status) = failure(
        s3.put_object()
            .bucket(bucket)
            .key("absent")
            .if_match(&first)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("NoSuchKey", 404),
        "If-Match of no object"
    );

    // Last: a Content-MD5 that is not 16 bytes in base64.
    let (code, _, status) = failure(
        s3.put_object()
            .bucket(bucket)
            .key("bad-md5")
            .content_md5("not base64 at all!")
            .body(ByteStream::from(body.clone()))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidDigest", 400));
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("ListObjectsV2");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["once", "right-md5"], "refused bodies are not stored");
}

#[tokio::test]
async fn keys_are_literal_and_responses_overridable() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "literal";
    create_bucket(&s3, bucket).await;
    let keys = [
        "double//slash",
        "dots/../up",
        "trailing/",
        "question?mark",
        "%41",
    ];
    for key in keys {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"));
    }
    for key in keys {
        let got = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {key}: {e:?}"));
        assert_eq!(body_of(got).await, key.as_bytes(), "{key}");
    }
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("ListObjectsV2");
    let mut expected = keys.to_vec();
    expected.sort();
    let listed: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, expected, "keys are stored as given");
    let (code, _, status) = failure(s3.get_object().bucket(bucket).key("up").send().await);
    assert_eq!(
        (code.as_str(), status),
        ("NoSuchKey", 404),
        "no path normalization"
    );
    // A "folder" marker is listed as itself under its own prefix, not as a common prefix.
    let marker = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("trailing/")
        .delimiter("/")
        .send()
        .await
        .expect("ListObjectsV2 of a folder marker");
    let listed: Vec<_> = marker.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, ["trailing/"]);
    assert!(marker.common_prefixes().is_empty(), "{marker:?}");
    let top = s3
        .list_objects_v2()
        .bucket(bucket)
        .delimiter("/")
        .send()
        .await
        .expect("ListObjectsV2 delimiter");
    let prefixes: Vec<_> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["dots/", "double/", "trailing/"]);

    // response-* query parameters override the stored headers.
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("%41")
        .response_content_type("text/x-override")
        .response_content_disposition("attachment; filename=\"a.txt\"")
        .response_cache_control("no-store")
        .send()
        .await
        .expect("GetObject with response overrides");
    assert_eq!(got.content_type(), Some("text/x-override"));
    assert_eq!(
        got.content_disposition(),
        Some("attachment; filename=\"a.txt\"")
    );
    assert_eq!(got.cache_control(), Some("no-store"));
}

/// Records a problem unless `result` failed with S3 error `code` and `status`.
fn expect_error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    problems: &mut Vec<String>,
    what: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    status: u16,
) {
    match result {
        Ok(out) => problems.push(format!("{what}: succeeded: {out:?}")),
        Err(err) => {
            let got = (
                err.code().unwrap_or("<no code>").to_owned(),
                err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0),
            );
            if got != (code.to_owned(), status) {
                problems.push(format!("{what}: expected {status} {code}, got {got:?}"));
            }
        }
    }
}

#[tokio::test]
async fn s3_limits_on_keys_metadata_tags_and_batches() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "limits";
    create_bucket(&s3, bucket).await;
    let mut problems = Vec::new();
    let put = |key: String| {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from_static(b"x"))
    };

    // Keys up to 1024 bytes.
    put("k".repeat(1024))
        .send()
        .await
        .expect("PutObject with a 1024-byte key");
    expect_error(
        &mut problems,
        "a 1025-byte key",
        put("k".repeat(1025)).send().await,
        "KeyTooLongError",
        400,
    );
    // User metadata up to 2 KB.
    expect_error(
        &mut problems,
        "3 KB of metadata",
        put("meta".into())
            .metadata("big", "m".repeat(3000))
            .send()
            .await,
        "MetadataTooLarge",
        400,
    );
    // Ten tags per object, keys unique.
    let eleven: Vec<(String, String)> = (0..11).map(|n| (format!("k{n}"), "v".into())).collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    put("tagged".into()).send().await.expect("PutObject");
    expect_error(
        &mut problems,
        "11 object tags",
        s3.put_object_tagging()
            .bucket(bucket)
            .key("tagged")
            .tagging(tagging(&eleven))
            .send()
            .await,
        "BadRequest",
        400,
    );
    expect_error(
        &mut problems,
        "a repeated tag key",
        s3.put_object_tagging()
            .bucket(bucket)
            .key("tagged")
            .tagging(tagging(&[("same", "1"), ("same", "2")]))
            .send()
            .await,
        "InvalidTag",
        400,
    );
    s3.put_object_tagging()
        .bucket(bucket)
        .key("tagged")
        .tagging(tagging(&eleven[..10]))
        .send()
        .await
        .expect("PutObjectTagging with 10 tags");
    // DeleteObjects takes up to 1000 keys.
    let ids = |n: usize| {
        (0..n)
            .map(|i| {
                ObjectIdentifier::builder()
                    .key(format!("d{i}"))
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    expect_error(
        &mut problems,
        "DeleteObjects of 1001 keys",
        s3.delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids(1001)))
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "MalformedXML",
        400,
    );
    let deleted = s3
        .delete_objects()
        .bucket(bucket)
        .delete(
            Delete::builder()
                .set_objects(Some(ids(1000)))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DeleteObjects of 1000 keys");
    if deleted.deleted().len() != 1000 {
        problems.push(format!("1000 keys deleted: {}", deleted.deleted().len()));
    }
    // A CompleteMultipartUpload naming no part; ListParts with another key.
    let upload = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("mp")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload = upload.upload_id().expect("an upload ID").to_owned();
    expect_error(
        &mut problems,
        "CompleteMultipartUpload of no parts",
        s3.complete_multipart_upload()
            .bucket(bucket)
            .key("mp")
            .upload_id(&upload)
            .multipart_upload(CompletedMultipartUpload::builder().build())
            .send()
            .await,
        "MalformedXML",
        400,
    );
    expect_error(
        &mut problems,
        "ListParts of the upload under another key",
        s3.list_parts()
            .bucket(bucket)
            .key("not-mp")
            .upload_id(&upload)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    expect_error(
        &mut problems,
        "UploadPart with another body's Content-MD5",
        s3.upload_part()
            .bucket(bucket)
            .key("mp")
            .upload_id(&upload)
            .part_number(1)
            .content_md5(e2e::s3::md5_base64(b"other"))
            .body(ByteStream::from_static(b"part"))
            .send()
            .await,
        "BadDigest",
        400,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn multipart_upload_listings_page_and_group() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "uploads";
    create_bucket(&s3, bucket).await;
    let mut ids = Vec::new();
    for key in ["a", "a", "b/1", "b/2", "c"] {
        let upload = s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("CreateMultipartUpload");
        ids.push((key, upload.upload_id().expect("an upload ID").to_owned()));
    }
    let all = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("ListMultipartUploads");
    let keys: Vec<_> = all.uploads().iter().filter_map(|u| u.key()).collect();
    assert_eq!(keys, ["a", "a", "b/1", "b/2", "c"]);

    // Pages of two, resumed by key and upload ID markers.
    let mut seen = Vec::new();
    let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
    for page in 0.. {
        assert!(page < 5, "paging does not end");
        let out = s3
            .list_multipart_uploads()
            .bucket(bucket)
            .max_uploads(2)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await
            .expect("ListMultipartUploads page");
        seen.extend(out.uploads().iter().map(|u| {
            (
                u.key().unwrap().to_owned(),
                u.upload_id().unwrap().to_owned(),
            )
        }));
        if out.is_truncated() != Some(true) {
            break;
        }
        key_marker = out.next_key_marker().map(str::to_owned);
        id_marker = out.next_upload_id_marker().map(str::to_owned);
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let mut seen_sorted = seen.clone();
    seen_sorted.sort();
    let mut all_ids: Vec<(String, String)> = ids
        .iter()
        .map(|(k, id)| (k.to_string(), id.clone()))
        .collect();
    all_ids.sort();
    assert_eq!(seen_sorted, all_ids, "every upload once");

    // Prefix.
    let under_b = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .prefix("b/")
        .send()
        .await
        .expect("ListMultipartUploads prefix");
    let keys: Vec<_> = under_b.uploads().iter().filter_map(|u| u.key()).collect();
    assert_eq!(keys, ["b/1", "b/2"]);
    // Delimiter.
    let grouped = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .delimiter("/")
        .send()
        .await
        .expect("ListMultipartUploads delimiter");
    let keys: Vec<_> = grouped.uploads().iter().filter_map(|u| u.key()).collect();
    let prefixes: Vec<_> = grouped
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!((keys, prefixes), (vec!["a", "a", "c"], vec!["b/"]));
}

#[tokio::test]
async fn checksums_are_verified() {
    use aws_sdk_s3::types::ChecksumAlgorithm;
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "checksums";
    create_bucket(&s3, bucket).await;
    let body = Noise::new(5).bytes(300_000);

    for algorithm in [
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Crc32C,
    ] {
        let key = format!("with-{}", algorithm.as_str());
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .checksum_algorithm(algorithm)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"));
        assert_eq!(read_object(&s3, bucket, &key).await, body);
    }

    // A file body streams as aws-chunked with a trailing checksum.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &body).unwrap();
    s3.put_object()
        .bucket(bucket)
        .key("from-file")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from_path(file.path()).await.unwrap())
        .send()
        .await
        .expect("PutObject of a file");
    assert_eq!(read_object(&s3, bucket, "from-file").await, body);

    // A checksum of other bytes is refused, and nothing stored.
    let (code, _, status) = failure(
        s3.put_object()
            .bucket(bucket)
            .key("wrong")
            .checksum_crc32(e2e::s3::crc32_base64(b"other bytes"))
            .body(ByteStream::from(body.clone()))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadDigest", 400));
    let (_, _, status) = failure(s3.head_object().bucket(bucket).key("wrong").send().await);
    assert_eq!(status, 404);
}

/// AWS keeps the checksum an object was uploaded with and returns it to a GET or HEAD in
/// checksum mode (the SDK then validates the body against it).
#[tokio::test]
async fn an_uploaded_checksum_is_returned_in_checksum_mode() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "checksum-mode";
    create_bucket(&s3, bucket).await;
    let body = Noise::new(6).bytes(100_000);
    let put = s3
        .put_object()
        .bucket(bucket)
        .key("sha")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject with a SHA-256 checksum");
    let sent = put
        .checksum_sha256()
        .expect("the checksum echoed")
        .to_owned();
    let head = s3
        .head_object()
        .bucket(bucket)
        .key("sha")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("HeadObject with checksum mode");
    assert_eq!(head.checksum_sha256(), Some(sent.as_str()), "HEAD");
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("sha")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("GetObject with checksum mode");
    assert_eq!(got.checksum_sha256(), Some(sent.as_str()), "GET");
    assert_eq!(body_of(got).await, body);
}

#[tokio::test]
async fn copies_take_conditions_tags_and_encoded_sources() {
    use aws_sdk_s3::types::TaggingDirective;
    let server = Server::start();
    let s3 = server.s3().await;
    for bucket in ["copy-from", "copy-to"] {
        create_bucket(&s3, bucket).await;
    }
    let key = "sp ace+plus&ü.txt";
    let put = s3
        .put_object()
        .bucket("copy-from")
        .key(key)
        .tagging("team=core")
        .content_type("text/plain")
        .body(ByteStream::from_static(b"copy me"))
        .send()
        .await
        .expect("PutObject");
    let etag = put.e_tag().expect("ETag").to_owned();
    // x-amz-copy-source is URL-encoded.
    let encoded: String = key
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let source = format!("copy-from/{encoded}");
    let mut problems = Vec::new();

    // Across buckets; tags are copied by default.
    s3.copy_object()
        .bucket("copy-to")
        .key("plain")
        .copy_source(&source)
        .send()
        .await
        .expect("CopyObject across buckets");
    let tags = s3
        .get_object_tagging()
        .bucket("copy-to")
        .key("plain")
        .send()
        .await
        .expect("GetObjectTagging");
    if tag_pairs(tags.tag_set()) != [("team".to_owned(), "core".to_owned())] {
        problems.push(format!("copied tags: {:?}", tags.tag_set()));
    }
    // Or replaced.
    s3.copy_object()
        .bucket("copy-to")
        .key("retagged")
        .copy_source(&source)
        .tagging_directive(TaggingDirective::Replace)
        .tagging("team=edge")
        .send()
        .await
        .expect("CopyObject with new tags");
    let tags = s3
        .get_object_tagging()
        .bucket("copy-to")
        .key("retagged")
        .send()
        .await
        .expect("GetObjectTagging");
    if tag_pairs(tags.tag_set()) != [("team".to_owned(), "edge".to_owned())] {
        problems.push(format!("replaced tags: {:?}", tags.tag_set()));
    }

    // Conditions on the source.
    let other = "\"0123456789abcdef0123456789abcdef\"";
    expect_error(
        &mut problems,
        "x-amz-copy-source-if-match another ETag",
        s3.copy_object()
            .bucket("copy-to")
            .key("cond")
            .copy_source(&source)
            .copy_source_if_match(other)
            .send()
            .await,
        "PreconditionFailed",
        412,
    );
    expect_error(
        &mut problems,
        "x-amz-copy-source-if-none-match its ETag",
        s3.copy_object()
            .bucket("copy-to")
            .key("cond")
            .copy_source(&source)
            .copy_source_if_none_match(&etag)
            .send()
            .await,
        "PreconditionFailed",
        412,
    );
    if let Err(e) = s3
        .copy_object()
        .bucket("copy-to")
        .key("cond")
        .copy_source(&source)
        .copy_source_if_match(&etag)
        .send()
        .await
    {
        problems.push(format!("x-amz-copy-source-if-match its ETag: {e:?}"));
    }

    // Onto itself with new metadata: allowed.
    if let Err(e) = s3
        .copy_object()
        .bucket("copy-from")
        .key(key)
        .copy_source(&source)
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/markdown")
        .send()
        .await
    {
        problems.push(format!("CopyObject onto itself with REPLACE: {e:?}"));
    }
    let head = s3
        .head_object()
        .bucket("copy-from")
        .key(key)
        .send()
        .await
        .expect("HeadObject");
    if head.content_type() != Some("text/markdown") || head.content_length() != Some(7) {
        problems.push(format!("after the self-copy: {head:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_bucket_name_freed_and_taken_by_another_account_starts_empty() {
    let server = Server::start();
    let first = server.s3().await;
    let bucket = "reused-name";
    first
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    first
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging(&[("owner", "first")]))
        .send()
        .await
        .expect("PutBucketTagging");
    for key in ["k", "other"] {
        first
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from_static(b"the first account's"))
            .send()
            .await
            .expect("PutObject");
        // Read, so any cache holds it.
        first
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("GetObject");
        first
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("DeleteObject");
    }
    first
        .delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("DeleteBucket");

    let (key_id, secret) = server.second_account("210987654321");
    let second = e2e::s3_client(&server.config(&key_id, &secret, None).await);
    second
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket of the freed name");
    let listed = second
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("ListObjectsV2");
    assert_eq!(listed.key_count(), Some(0), "{listed:?}");
    let (code, _, status) = failure(second.get_object().bucket(bucket).key("k").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchKey", 404));
    let (code, _, status) = failure(second.get_bucket_tagging().bucket(bucket).send().await);
    assert_eq!(
        (code.as_str(), status),
        ("NoSuchTagSet", 404),
        "no tags inherited"
    );
    let block = second
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .expect("GetPublicAccessBlock");
    assert_eq!(
        block
            .public_access_block_configuration()
            .and_then(|c| c.block_public_policy()),
        Some(true)
    );
    second
        .put_object()
        .bucket(bucket)
        .key("k")
        .body(ByteStream::from_static(b"the second account's"))
        .send()
        .await
        .expect("PutObject");
    // The first account has no say over the name any more.
    let (code, _, status) = failure(first.get_object().bucket(bucket).key("k").send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, status) = failure(first.create_bucket().bucket(bucket).send().await);
    assert_eq!((code.as_str(), status), ("BucketAlreadyExists", 409));
    assert_eq!(
        read_object(&second, bucket, "k").await,
        b"the second account's"
    );
}

#[tokio::test]
async fn every_object_response_says_aes256() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "encrypted";
    create_bucket(&s3, bucket).await;
    let aes = Some(&ServerSideEncryption::Aes256);
    let mut problems = Vec::new();
    let mut check = |what: &str, sse: Option<&ServerSideEncryption>| {
        if sse != aes {
            problems.push(format!("{what}: {sse:?}"));
        }
    };
    let put = s3
        .put_object()
        .bucket(bucket)
        .key("k")
        .body(ByteStream::from_static(b"k"))
        .send()
        .await
        .expect("PutObject");
    check("PutObject", put.server_side_encryption());
    // Asking for what every object gets anyway, and the standard storage class, is fine.
    let asked = s3
        .put_object()
        .bucket(bucket)
        .key("asked")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .storage_class(aws_sdk_s3::types::StorageClass::Standard)
        .body(ByteStream::from_static(b"k"))
        .send()
        .await
        .expect("PutObject asking for AES256 and STANDARD");
    check("PutObject (asked)", asked.server_side_encryption());
    let copy = s3
        .copy_object()
        .bucket(bucket)
        .key("copy")
        .copy_source(format!("{bucket}/k"))
        .send()
        .await
        .expect("CopyObject");
    check("CopyObject", copy.server_side_encryption());
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("mp")
        .send()
        .await
        .expect("CreateMultipartUpload");
    check("CreateMultipartUpload", created.server_side_encryption());
    let upload = created.upload_id().expect("an upload ID");
    let part = s3
        .upload_part()
        .bucket(bucket)
        .key("mp")
        .upload_id(upload)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .expect("UploadPart");
    check("UploadPart", part.server_side_encryption());
    let copied_part = s3
        .upload_part_copy()
        .bucket(bucket)
        .key("mp")
        .upload_id(upload)
        .part_number(2)
        .copy_source(format!("{bucket}/k"))
        .send()
        .await
        .expect("UploadPartCopy");
    check("UploadPartCopy", copied_part.server_side_encryption());
    let done = s3
        .complete_multipart_upload()
        .bucket(bucket)
        .key("mp")
        .upload_id(upload)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().expect("ETag"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    check("CompleteMultipartUpload", done.server_side_encryption());
    let head = s3
        .head_object()
        .bucket(bucket)
        .key("mp")
        .send()
        .await
        .expect("HeadObject");
    check("HeadObject", head.server_side_encryption());
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("copy")
        .range("bytes=0-0")
        .send()
        .await
        .expect("GetObject range");
    check("GetObject (range)", got.server_side_encryption());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn bucket_policies_are_validated_as_s3_does() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "validated";
    create_bucket(&s3, bucket).await;
    let principal = format!(r#"{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}}"#);
    let doc = |principal: Option<&str>, action: &str, resource: &str| {
        let principal = principal
            .map(|p| format!(r#""Principal":{p},"#))
            .unwrap_or_default();
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",{principal}"Action":"{action}","Resource":"{resource}"}}]}}"#
        )
    };
    let mut problems = Vec::new();
    for (what, policy) in [
        (
            "a resource in another bucket",
            doc(
                Some(&principal),
                "s3:GetObject",
                "arn:aws:s3:::other-bucket/*",
            ),
        ),
        (
            "an action that does not exist",
            doc(
                Some(&principal),
                "s3:FlyAway",
                &format!("arn:aws:s3:::{bucket}/*"),
            ),
        ),
        (
            "no principal",
            doc(None, "s3:GetObject", &format!("arn:aws:s3:::{bucket}/*")),
        ),
    ] {
        expect_error(
            &mut problems,
            what,
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(policy)
                .send()
                .await,
            "MalformedPolicy",
            400,
        );
    }
    // The bucket itself and its objects are both fine resources.
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(doc(
            Some(&principal),
            "s3:ListBucket",
            &format!("arn:aws:s3:::{bucket}"),
        ))
        .send()
        .await
        .expect("PutBucketPolicy on the bucket's ARN");
    let (code, _, status) = failure(s3.get_bucket_policy().bucket("no-such-bucket").send().await);
    if (code.as_str(), status) != ("NoSuchBucket", 404) {
        problems.push(format!("GetBucketPolicy of no bucket: {code} {status}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `?partNumber=N` reads one part of a multipart object (transfer managers download so).
#[tokio::test]
async fn a_multipart_object_is_read_part_by_part() {
    let server = Server::start();
    let s3 = server.s3().await;
    let bucket = "by-part";
    create_bucket(&s3, bucket).await;
    let part1 = Noise::new(11).bytes(5 * MIB);
    let part2 = Noise::new(12).bytes(777);
    let upload = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("parts")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload = upload.upload_id().expect("an upload ID").to_owned();
    let mut completed = CompletedMultipartUpload::builder();
    for (n, body) in [(1, &part1), (2, &part2)] {
        let part = s3
            .upload_part()
            .bucket(bucket)
            .key("parts")
            .upload_id(&upload)
            .part_number(n)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("UploadPart");
        completed = completed.parts(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(part.e_tag().expect("ETag"))
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key("parts")
        .upload_id(&upload)
        .multipart_upload(completed.build())
        .send()
        .await
        .expect("CompleteMultipartUpload");

    let head = s3
        .head_object()
        .bucket(bucket)
        .key("parts")
        .part_number(1)
        .send()
        .await
        .expect("HeadObject partNumber=1");
    assert_eq!(head.content_length(), Some(part1.len() as i64));
    assert_eq!(head.parts_count(), Some(2));
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("parts")
        .part_number(2)
        .send()
        .await
        .expect("GetObject partNumber=2");
    let total = part1.len() + part2.len();
    assert_eq!(
        got.content_range(),
        Some(format!("bytes {}-{}/{total}", part1.len(), total - 1).as_str())
    );
    assert_eq!(got.parts_count(), Some(2));
    assert_eq!(body_of(got).await, part2);
    let (code, _, status) = failure(
        s3.get_object()
            .bucket(bucket)
            .key("parts")
            .part_number(3)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidPartNumber", 416));
}
