//! The seam end to end: a real App on a temporary SQLite store, requests signed with
//! `sigv4::sign` for service `s3`, served through s3s by [`super::serve`]. s3s checks the
//! signature date against the real clock, so these sign at the current time.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use s3s::service::S3Service;
use sigv4::{HttpRequest, SigningIdentity};
use store::SqliteStore;

use crate::credentials::{KeyRing, SealingKey, SessionClaims, SessionPrincipal};
use crate::request::App;
use crate::server::test_support::app_with_admin;
use crate::sts::credentials::{new_claims, seal};

pub(super) const ACCOUNT: &str = "123456789012";
pub(super) const KEY_ID: &str = "AKIAS3SEAMS3SEAM0001";
pub(super) const SECRET: &str = "s3/seam/secret/s3/seam/secret/s3/seam/00";
/// SHA-256 of the empty body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(super) struct Setup {
    pub(super) app: Arc<App<SqliteStore>>,
    pub(super) service: S3Service,
    _dir: tempfile::TempDir,
}

pub(super) async fn setup() -> Setup {
    let (app, dir) = app_with_admin(ACCOUNT, (KEY_ID, SECRET)).await;
    let app = Arc::new(app);
    let blobs = super::blobs::DirBlobs::open(&dir.path().join("s3")).unwrap();
    let service = super::service(app.clone(), Arc::new(blobs), None);
    Setup {
        app,
        service,
        _dir: dir,
    }
}

/// Temporary credentials as GetSessionToken mints them for the account's root, lasting
/// `duration` seconds from `issued`.
pub(super) fn session(
    app: &App<SqliteStore>,
    issued: u64,
    duration: u32,
) -> (SessionClaims, String) {
    let claims = new_claims(ACCOUNT, SessionPrincipal::RootSession, issued, duration).unwrap();
    let token = seal(app, &claims).unwrap();
    (claims, token)
}

struct Signer<'a> {
    key_id: &'a str,
    secret: &'a str,
    /// Signed as `x-amz-security-token`.
    token: Option<&'a str>,
}

/// `GET path` signed by `who` now, served through the seam.
async fn signed_get(setup: &Setup, who: &Signer<'_>, path: &str) -> s3s::HttpResponse {
    let unsigned = [
        ("host", "localhost"),
        ("x-amz-content-sha256", EMPTY_SHA256),
    ];
    let request = HttpRequest {
        method: "GET",
        path,
        query: "",
        headers: &unsigned,
        body: b"",
    };
    let identity = SigningIdentity {
        access_key_id: who.key_id,
        secret_access_key: who.secret,
        session_token: who.token,
        region: "us-east-1",
        service: "s3",
    };
    let now = now();
    let added = sigv4::sign(&request, &identity, now);
    let mut http = axum::http::Request::builder().method("GET").uri(path);
    for (name, value) in unsigned
        .iter()
        .copied()
        .chain(added.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    {
        http = http.header(name, value);
    }
    let http = http.body(s3s::Body::empty()).unwrap();
    serve_at(&setup.service, http, now).await
}

/// ListBuckets (`GET /`) signed by `who`: (status, body).
async fn list_buckets(setup: &Setup, who: &Signer<'_>) -> (u16, String) {
    let response = signed_get(setup, who, "/").await;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .store_all_limited(1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Serves `http` as the pipeline does, from a loopback peer.
async fn serve_at(service: &S3Service, http: s3s::HttpRequest, now: u64) -> s3s::HttpResponse {
    let arrival = super::Arrival {
        peer: "127.0.0.1:50000".parse().unwrap(),
        now,
        request_id: "TESTREQUEST".into(),
        signer: None,
    };
    let (response, _record) =
        super::serve(service, http, arrival, crate::audit::CallRecord::off()).await;
    response
}

fn code(body: &str) -> &str {
    body.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or("", |(code, _)| code)
}

const ADMIN: Signer<'static> = Signer {
    key_id: KEY_ID,
    secret: SECRET,
    token: None,
};

#[tokio::test]
async fn a_long_term_key_lists_buckets_as_its_account() {
    let setup = setup().await;
    let (status, body) = list_buckets(&setup, &ADMIN).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<ListAllMyBucketsResult"), "{body}");
    assert!(
        body.contains(&format!(
            "<ID>{}</ID>",
            super::ops::headers::canonical_id(ACCOUNT)
        )),
        "{body}"
    );
}

#[tokio::test]
async fn temporary_credentials_sign_with_the_secret_in_their_token() {
    let setup = setup().await;
    let (claims, token) = session(&setup.app, now(), 3600);
    assert!(claims.access_key_id.starts_with("ASIA"));
    let who = Signer {
        key_id: &claims.access_key_id,
        secret: &claims.secret_access_key,
        token: Some(&token),
    };
    let (status, body) = list_buckets(&setup, &who).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(
            "<ID>{}</ID>",
            super::ops::headers::canonical_id(ACCOUNT)
        )),
        "{body}"
    );
}

#[tokio::test]
async fn a_signature_with_the_wrong_secret_does_not_match() {
    let setup = setup().await;
    let wrong = Signer {
        secret: "not/the/secret/not/the/secret/not/the/00",
        ..ADMIN
    };
    let (status, body) = list_buckets(&setup, &wrong).await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );

    let (claims, token) = session(&setup.app, now(), 3600);
    let (other, _) = session(&setup.app, now(), 3600);
    let who = Signer {
        key_id: &claims.access_key_id,
        secret: &other.secret_access_key,
        token: Some(&token),
    };
    let (status, body) = list_buckets(&setup, &who).await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );
}

#[tokio::test]
async fn a_temporary_key_with_another_sessions_token_is_refused() {
    let setup = setup().await;
    let (claims, _) = session(&setup.app, now(), 3600);
    let (_, other_token) = session(&setup.app, now(), 3600);
    let who = Signer {
        key_id: &claims.access_key_id,
        secret: &claims.secret_access_key,
        token: Some(&other_token),
    };
    let (status, body) = list_buckets(&setup, &who).await;
    assert_eq!((status, code(&body)), (403, "InvalidAccessKeyId"), "{body}");
}

#[tokio::test]
async fn a_temporary_key_without_a_token_is_refused() {
    let setup = setup().await;
    let (claims, _) = session(&setup.app, now(), 3600);
    let who = Signer {
        key_id: &claims.access_key_id,
        secret: &claims.secret_access_key,
        token: None,
    };
    let (status, body) = list_buckets(&setup, &who).await;
    assert_eq!((status, code(&body)), (403, "InvalidAccessKeyId"), "{body}");
}

#[tokio::test]
async fn an_unknown_long_term_key_is_an_invalid_access_key_id() {
    let setup = setup().await;
    let who = Signer {
        key_id: "AKIAS3SEAMUNKNOWN001",
        ..ADMIN
    };
    let (status, body) = list_buckets(&setup, &who).await;
    assert_eq!((status, code(&body)), (403, "InvalidAccessKeyId"), "{body}");
}

#[tokio::test]
async fn tokens_that_do_not_open_expired_or_beside_a_long_term_key_are_refused() {
    let setup = setup().await;
    let (claims, token) = session(&setup.app, now(), 3600);

    // Sealed under a key ring this app does not hold.
    let foreign_ring = KeyRing::new(1, SealingKey::generate().unwrap());
    let foreign = foreign_ring.seal(&claims).unwrap();
    let who = Signer {
        key_id: &claims.access_key_id,
        secret: &claims.secret_access_key,
        token: Some(&foreign),
    };
    let (status, body) = list_buckets(&setup, &who).await;
    assert_eq!((status, code(&body)), (400, "InvalidToken"), "{body}");

    let (expired, expired_token) = session(&setup.app, now() - 7200, 3600);
    let who = Signer {
        key_id: &expired.access_key_id,
        secret: &expired.secret_access_key,
        token: Some(&expired_token),
    };
    let (status, body) = list_buckets(&setup, &who).await;
    assert_eq!((status, code(&body)), (400, "ExpiredToken"), "{body}");

    let stale = Signer {
        token: Some(&token),
        ..ADMIN
    };
    let (status, body) = list_buckets(&setup, &stale).await;
    assert_eq!((status, code(&body)), (400, "InvalidToken"), "{body}");
}

#[tokio::test]
async fn a_bucket_that_does_not_exist_is_no_such_bucket() {
    let setup = setup().await;
    let response = signed_get(&setup, &ADMIN, "/bucket").await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.headers()["x-amz-request-id"], "TESTREQUEST");
}

#[test]
fn the_token_comes_from_the_header_or_the_presigned_query() {
    let header = axum::http::Request::builder()
        .uri("/")
        .header("x-amz-security-token", "a+b/c=")
        .body(s3s::Body::empty())
        .unwrap();
    assert_eq!(
        super::security_token(&header)
            .as_deref()
            .map(String::as_str),
        Some("a+b/c=")
    );
    let query = axum::http::Request::builder()
        .uri("/k?X-Amz-Credential=x&X-Amz-Security-Token=a%2Bb%2Fc%3D&X-Amz-Signature=s")
        .body(s3s::Body::empty())
        .unwrap();
    assert_eq!(
        super::security_token(&query).as_deref().map(String::as_str),
        Some("a+b/c=")
    );
    let none = axum::http::Request::builder()
        .uri("/k?x-amz-security-token-not=1")
        .body(s3s::Body::empty())
        .unwrap();
    assert!(super::security_token(&none).is_none());
}
