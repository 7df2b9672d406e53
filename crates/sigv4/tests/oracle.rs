//! Randomized requests signed by `aws-sigv4` must verify; with any other secret they must not.

mod common;

use common::{HOST, Payload, Spec, sign_with_oracle};
use proptest::prelude::*;
use sigv4::{SigV4Error, SignatureLocation};

/// Percent-encodes one char the way a client might: upper- or lowercase hex.
fn escaped(c: char, lowercase: bool) -> String {
    let mut buf = [0; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| {
            if lowercase {
                format!("%{b:02x}")
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A token of a path or query component, as it may appear raw on the wire.
fn token(extra_raw: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9_.~-]{1,6}",
        1 => proptest::sample::select(extra_raw.chars().collect::<Vec<_>>()).prop_map(String::from),
        1 => (any::<char>(), any::<bool>()).prop_map(|(c, lower)| escaped(c, lower)),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        6 => prop::collection::vec(token("!$&'()*+,;=:@"), 1..4).prop_map(|t| t.concat()),
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(String::new()),
    ];
    (prop::collection::vec(segment, 0..5), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = format!("/{}", segments.join("/"));
        if trailing && !path.ends_with('/') {
            path.push('/');
        }
        path
    })
}

fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => proptest::sample::select(vec!["Action", "Version", "a", "A", "b", "dup"]).prop_map(String::from),
        2 => prop::collection::vec(token("!$'()*+,;:@/?"), 1..3).prop_map(|t| t.concat()),
    ];
    let value = prop::collection::vec(token("!$'()*+,;:@/?="), 0..4).prop_map(|t| t.concat());
    let pair = prop_oneof![
        4 => (name.clone(), value).prop_map(|(n, v)| format!("{n}={v}")),
        1 => name,
    ];
    prop::collection::vec(pair, 0..6).prop_map(|pairs| pairs.join("&"))
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        "[a-z][a-z0-9-]{0,10}",
        "x-amz-meta-[a-z]{1,5}",
        Just("content-type".to_owned()),
        Just("X-Custom".to_owned()),
    ]
    .prop_filter("reserved by the signer or the transport", |n| {
        ![
            "host",
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
            "user-agent",
            "x-amzn-trace-id",
            "transfer-encoding",
            "x-amz-user-agent",
            "x-amz-checksum-mode",
        ]
        .contains(&n.to_ascii_lowercase().as_str())
    });
    // Visible ASCII and spaces, including leading, trailing and repeated ones.
    let value = "[ -~]{0,20}";
    prop::collection::vec((name, value), 0..5)
}

prop_compose! {
    fn spec()(
        method in proptest::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
        path in path(),
        query in query(),
        extra_headers in headers(),
        body in prop::collection::vec(any::<u8>(), 0..300),
        access_key_id in "(AKIA|ASIA)[A-Z2-7]{16}",
        secret in "[A-Za-z0-9/+]{40}",
        session_token in proptest::option::of("[A-Za-z0-9/+=]{20,200}"),
        region in proptest::sample::select(vec!["us-east-1", "eu-west-3", "ap-southeast-2"]),
        service in proptest::sample::select(vec!["iam", "sts", "ec2", "execute-api"]),
        // 2001 to 2100.
        time in 978_307_200u64..4_102_444_800,
        presign_expires in proptest::option::of(1u64..=604_800),
        payload in proptest::sample::select(vec![Payload::Hashed, Payload::HashedWithHeader, Payload::Unsigned]),
    ) -> Spec {
        // A presigned URL for a non-S3 service signs the body's hash; UNSIGNED-PAYLOAD would
        // need the x-amz-content-sha256 header, which the presigner does not send.
        let payload = if presign_expires.is_some() && payload == Payload::Unsigned { Payload::Hashed } else { payload };
        let mut headers = vec![("host".to_owned(), HOST.to_owned())];
        headers.extend(extra_headers);
        Spec {
            method: method.into(), path, query, headers, body, access_key_id, secret,
            session_token, region: region.into(), service: service.into(), time,
            presign_expires, payload,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn oracle_signed_requests_verify(spec in spec(), skew in -900i64..=900) {
        // http::Uri refuses some byte sequences outright; those never reach a server.
        let uri = format!("https://{HOST}{}?{}", spec.path, spec.query);
        prop_assume!(uri.parse::<http::Uri>().is_ok());
        let wire = sign_with_oracle(&spec);
        let pairs = wire.header_pairs();
        let req = wire.request(&pairs);

        let claim = sigv4::parse(&req).map_err(|e| TestCaseError::fail(format!("{e:?}\n{wire:#?}")))?;
        prop_assert_eq!(claim.access_key_id(), spec.access_key_id.as_str());
        prop_assert_eq!(claim.scope().region, spec.region.as_str());
        prop_assert_eq!(claim.scope().service, spec.service.as_str());
        prop_assert_eq!(claim.session_token(), spec.session_token.as_deref());
        prop_assert_eq!(claim.signed_at(), spec.time);
        let expected_location = match spec.presign_expires {
            Some(expires_secs) => SignatureLocation::Query { expires_secs },
            None => SignatureLocation::Header,
        };
        prop_assert_eq!(claim.location(), expected_location);

        // Anywhere inside the validity window.
        let window_end = spec.presign_expires.map_or(900, |e| e as i64);
        let now = spec.time.saturating_add_signed(skew.min(window_end));
        let verified = claim.verify(&req, spec.secret.as_bytes(), now, None);
        prop_assert_eq!(verified, Ok(()), "canonical request:\n{}\n{:#?}",
            claim.canonical_request(&req).unwrap_or_default(), wire);

        let cache = sigv4::SigningKeyCache::default();
        prop_assert_eq!(claim.verify(&req, spec.secret.as_bytes(), now, Some(&cache)), Ok(()));
        prop_assert_eq!(claim.verify(&req, spec.secret.as_bytes(), now, Some(&cache)), Ok(()));

        let wrong = format!("{}x", spec.secret);
        prop_assert_eq!(claim.verify(&req, wrong.as_bytes(), now, None), Err(SigV4Error::SignatureDoesNotMatch));
        prop_assert_eq!(claim.verify(&req, wrong.as_bytes(), now, Some(&cache)), Err(SigV4Error::SignatureDoesNotMatch));
    }
}
