//! What S3 calls leave in the audit trail, through the real seam with recording on: names only
//! (never an object's bytes or a session token), object-level calls as data events, and
//! unsigned calls on an existing bucket recorded for its owner as S3 records them.

use std::net::SocketAddr;
use std::time::SystemTime;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sigv4::{HttpRequest, SigningIdentity};
use store::audit::NewEvent;

use super::recognize::Signer;
use super::tests::{ACCOUNT, KEY_ID, SECRET, Setup, now, session, setup};
use crate::audit::CallRecord;

/// Whose keys sign a request; `None` sends it unsigned.
struct Keys<'a> {
    key_id: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
}

const ADMIN: Keys<'static> = Keys {
    key_id: KEY_ID,
    secret: SECRET,
    token: None,
};

const PEER: &str = "127.0.0.1:50001";

/// `method path` carrying `body`, signed by `keys` (SigV4 in the header, the payload's hash
/// signed too) or not at all, served as the pipeline serves it with a live record: the status and the
/// finished record, if one is written.
async fn call(
    setup: &Setup,
    keys: Option<&Keys<'_>>,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, Option<NewEvent>) {
    let length = body.len().to_string();
    let hash = hex::encode(Sha256::digest(body));
    let unsigned = [
        ("host", "localhost"),
        ("x-amz-content-sha256", hash.as_str()),
        ("content-length", length.as_str()),
    ];
    let now = now();
    let (added, signer) = match keys {
        Some(keys) => {
            let request = HttpRequest {
                method,
                path,
                query: "",
                headers: &unsigned,
                body,
            };
            let identity = SigningIdentity {
                access_key_id: keys.key_id,
                secret_access_key: keys.secret,
                session_token: keys.token,
                region: "us-east-1",
                service: "s3",
            };
            let signer = Signer {
                access_key_id: keys.key_id.to_owned(),
                region: "us-east-1".to_owned(),
            };
            (sigv4::sign(&request, &identity, now), Some(signer))
        }
        None => (Vec::new(), None),
    };
    let mut http = axum::http::Request::builder().method(method).uri(path);
    for (name, value) in unsigned
        .iter()
        .copied()
        .chain(added.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    {
        http = http.header(name, value);
    }
    let http = http.body(s3s::Body::from(body.to_vec())).unwrap();
    let peer: SocketAddr = PEER.parse().unwrap();
    let arrival = super::Arrival {
        peer,
        now,
        request_id: "REQ".into(),
        signer,
    };
    let record = CallRecord::new(SystemTime::now(), peer.ip(), Some("record-tests"));
    let (response, record) = super::serve(&setup.service, http, arrival, record).await;
    (response.status().as_u16(), record.finish("REQ", ACCOUNT))
}

fn json(event: &NewEvent) -> Value {
    serde_json::from_str(&event.record).unwrap()
}

#[tokio::test]
async fn an_object_put_is_a_data_event_that_names_the_object_and_holds_none_of_its_bytes() {
    let setup = setup().await;
    let (status, created) = call(&setup, Some(&ADMIN), "PUT", "/records", b"").await;
    assert_eq!(status, 200, "{created:?}");
    let created = created.expect("CreateBucket is recorded");
    assert!(created.management);
    assert_eq!(json(&created)["eventCategory"], "Management");

    let (claims, token) = session(&setup.app, now(), 3600);
    let keys = Keys {
        key_id: &claims.access_key_id,
        secret: &claims.secret_access_key,
        token: Some(&token),
    };
    const BODY: &[u8] = b"RECOGNISABLE-OBJECT-CONTENTS-4f1c9a";
    let (status, put) = call(&setup, Some(&keys), "PUT", "/records/app/one.txt", BODY).await;
    assert_eq!(status, 200);
    let put = put.expect("PutObject is recorded");
    let record = json(&put);
    assert_eq!(
        (
            put.management,
            put.event_name.as_str(),
            put.event_source.as_str()
        ),
        (false, "PutObject", "s3.amazonaws.com")
    );
    assert_eq!(record["eventCategory"], "Data");
    assert_eq!(record["managementEvent"], false);
    assert_eq!(
        record["requestParameters"],
        serde_json::json!({"bucketName": "records", "key": "app/one.txt"})
    );
    assert_eq!(
        record["resources"][0]["ARN"],
        "arn:aws:s3:::records/app/one.txt"
    );
    assert_eq!(
        put.access_key_id.as_deref(),
        Some(claims.access_key_id.as_str())
    );
    let written = format!("{put:?}");
    for secret in [
        std::str::from_utf8(BODY).unwrap(),
        token.as_str(),
        claims.secret_access_key.as_str(),
    ] {
        assert!(!written.contains(secret), "{secret} reached the record");
    }
}

#[tokio::test]
async fn an_unsigned_call_on_a_bucket_is_recorded_for_its_owner_as_anonymous() {
    let setup = setup().await;
    call(&setup, Some(&ADMIN), "PUT", "/owned", b"").await;
    let (status, denied) = call(&setup, None, "GET", "/owned/private.txt", b"").await;
    assert_eq!(status, 403);
    let denied = denied.expect("an anonymous call on an existing bucket is recorded");
    let record = json(&denied);
    assert_eq!(
        record["userIdentity"],
        serde_json::json!({"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"})
    );
    assert_eq!(record["recipientAccountId"], ACCOUNT);
    assert_eq!(record["awsRegion"], "us-east-1");
    assert_eq!(record["errorCode"], "AccessDenied");
    assert_eq!(record["eventCategory"], "Data");
    assert_eq!(
        (
            denied.account_id.as_str(),
            denied.access_key_id.as_deref(),
            denied.principal_arn.as_deref()
        ),
        (ACCOUNT, None, None)
    );

    // No bucket, no owner to deliver it to.
    let (status, nobody) = call(&setup, None, "GET", "/nobody-owns-this/x", b"").await;
    assert_eq!((status, nobody), (404, None));
}
