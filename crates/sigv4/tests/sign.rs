//! Our signer agrees with the `aws-sigv4` oracle byte for byte, and our verifier accepts it.

mod common;

use common::{Payload, iam_post, sign_with_oracle};
use sigv4::{HttpRequest, SigningIdentity, sign};

#[test]
fn signatures_match_the_oracle_and_verify() {
    let time = 1_700_000_000;
    for token in [None, Some("FwoGZXIvYXdzEXAMPLETOKEN")] {
        let mut spec = iam_post(time);
        spec.session_token = token.map(str::to_owned);
        spec.payload = Payload::Hashed;
        let oracle = sign_with_oracle(&spec);

        let headers: Vec<(&str, &str)> = spec
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = HttpRequest {
            method: &spec.method,
            path: &spec.path,
            query: &spec.query,
            headers: &headers,
            body: &spec.body,
        };
        let who = SigningIdentity {
            access_key_id: &spec.access_key_id,
            secret_access_key: &spec.secret,
            session_token: token,
            region: &spec.region,
            service: &spec.service,
        };
        let added = sign(&req, &who, time);
        let ours = added
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.clone())
            .unwrap();
        assert_eq!(
            Some(ours.as_str()),
            oracle.header("authorization"),
            "token {token:?}"
        );

        let mut wire: Vec<(&str, &str)> = headers.clone();
        wire.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let signed = HttpRequest {
            headers: &wire,
            ..req
        };
        let claim = sigv4::parse(&signed).unwrap();
        claim
            .verify(&signed, spec.secret.as_bytes(), time + 60, None)
            .unwrap();
        assert!(
            claim
                .verify(&signed, b"another secret", time + 60, None)
                .is_err()
        );
    }
}
