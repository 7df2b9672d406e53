//! Hand-made tampering and malformed input: every change to a signed part must be caught, with
//! AWS's error; nothing may panic.

mod common;

use common::{Payload, Spec, Wire, iam_post, sign_with_oracle};
use proptest::prelude::*;
use sigv4::{ErrorDialect, HttpRequest, SigV4Error};

/// 2024-01-01T00:00:00Z.
const T: u64 = 1_704_067_200;

fn spec() -> Spec {
    let mut spec = iam_post(T);
    spec.query = "a=1&b=two&empty=".into();
    spec.session_token = Some("FwoGZXIvYXdzEXAMPLETOKEN".into());
    spec
}

fn signed() -> (Spec, Wire) {
    let spec = spec();
    let wire = sign_with_oracle(&spec);
    assert_eq!(
        wire.verify(&spec.secret, T),
        Ok(()),
        "untampered request must verify"
    );
    (spec, wire)
}

fn assert_mismatch(secret: &str, wire: &Wire, what: &str) {
    assert_eq!(
        wire.verify(secret, T),
        Err(SigV4Error::SignatureDoesNotMatch),
        "{what}"
    );
}

#[test]
fn any_change_to_a_signed_part_is_a_mismatch() {
    let (spec, wire) = signed();
    let secret = spec.secret.as_str();
    let tampered = |change: &dyn Fn(&mut Wire)| {
        let mut copy = wire.clone();
        change(&mut copy);
        copy
    };
    let auth = wire.header("authorization").unwrap().to_owned();
    let cases: Vec<(&str, Wire)> = vec![
        ("method", tampered(&|w| w.method = "PUT".into())),
        ("path", tampered(&|w| w.path = "/x".into())),
        (
            "query value",
            tampered(&|w| w.query = "a=2&b=two&empty=".into()),
        ),
        ("query param added", tampered(&|w| w.query.push_str("&c=3"))),
        (
            "query param removed",
            tampered(&|w| w.query = "a=1&b=two".into()),
        ),
        (
            "empty query value filled",
            tampered(&|w| w.query = "a=1&b=two&empty=x".into()),
        ),
        (
            "signed header",
            tampered(&|w| w.set_header("content-type", "text/plain")),
        ),
        (
            "host",
            tampered(&|w| w.set_header("host", "sts.amazonaws.com")),
        ),
        (
            "session token",
            tampered(&|w| w.set_header("x-amz-security-token", "other")),
        ),
        ("body", tampered(&|w| w.body[0] ^= 1)),
        (
            "body truncated",
            tampered(&|w| {
                w.body.pop();
            }),
        ),
        (
            "date within the window",
            tampered(&|w| w.set_header("x-amz-date", "20240101T000001Z")),
        ),
        (
            "region",
            tampered(&|w| {
                w.set_header("authorization", &auth.replace("/us-east-1/", "/us-west-2/"))
            }),
        ),
        (
            "service",
            tampered(&|w| w.set_header("authorization", &auth.replace("/iam/", "/sts/"))),
        ),
        // (The access key id is not in the string to sign: changing it changes which secret the
        // server looks up, which is what fails.)
        (
            "signature digit",
            tampered(&|w| {
                let last = auth.chars().last().unwrap();
                let flipped = if last == '0' { '1' } else { '0' };
                w.set_header(
                    "authorization",
                    &format!("{}{flipped}", &auth[..auth.len() - 1]),
                );
            }),
        ),
        (
            "signature truncated",
            tampered(&|w| w.set_header("authorization", &auth[..auth.len() - 2])),
        ),
        (
            "signature not hex",
            tampered(&|w| w.set_header("authorization", &format!("{}zz", &auth[..auth.len() - 2]))),
        ),
        (
            "signature uppercased",
            tampered(&|w| {
                let (head, sig) = auth.split_once("Signature=").unwrap();
                w.set_header(
                    "authorization",
                    &format!("{head}Signature={}", sig.to_uppercase()),
                );
            }),
        ),
    ];
    for (what, wire) in &cases {
        assert_mismatch(secret, wire, what);
    }
    assert_mismatch("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", &wire, "secret");
}

#[test]
fn unsigned_amz_headers_and_host_are_refused() {
    let (spec, wire) = signed();
    let mut extra = wire.clone();
    extra
        .headers
        .push(("X-Amz-Meta-Injected".into(), "1".into()));
    assert_eq!(
        extra.verify(&spec.secret, T),
        Err(SigV4Error::HeaderNotSigned {
            name: "x-amz-meta-injected".into()
        })
    );

    // Non-amz headers may travel unsigned (proxies add them).
    let mut proxy = wire.clone();
    proxy
        .headers
        .push(("x-forwarded-for".into(), "10.0.0.1".into()));
    assert_eq!(proxy.verify(&spec.secret, T), Ok(()));

    let mut no_host = wire.clone();
    let auth = wire.header("authorization").unwrap().replace(";host;", ";");
    no_host.set_header("authorization", &auth);
    let err = no_host.verify(&spec.secret, T).unwrap_err();
    assert_eq!(
        err,
        SigV4Error::HeaderNotSigned {
            name: "host".into()
        }
    );
    assert_eq!(
        (
            err.code(ErrorDialect::Query),
            err.status(ErrorDialect::Query)
        ),
        ("AccessDenied", 403)
    );
}

#[test]
fn clock_skew_window_is_fifteen_minutes() {
    let (spec, wire) = signed();
    assert_eq!(wire.verify(&spec.secret, T + 900), Ok(()));
    assert_eq!(wire.verify(&spec.secret, T - 900), Ok(()));

    let stale = wire.verify(&spec.secret, T + 901).unwrap_err();
    assert_eq!(
        stale,
        SigV4Error::SignatureExpired {
            signed_at: T,
            now: T + 901
        }
    );
    assert_eq!(
        stale.message(ErrorDialect::Query),
        "Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z \
         (20240101T001501Z - 15 min.)"
    );
    assert_eq!(stale.code(ErrorDialect::Query), "SignatureDoesNotMatch");
    assert_eq!(stale.code(ErrorDialect::Ec2), "RequestExpired");
    assert_eq!(stale.message(ErrorDialect::Ec2), "Request has expired.");

    let future = wire.verify(&spec.secret, T - 901).unwrap_err();
    assert_eq!(
        future.to_string(),
        "Signature not yet current: 20240101T000000Z is still later than 20231231T235959Z \
         (20231231T234459Z + 15 min.)"
    );
}

#[test]
fn presigned_urls_expire() {
    let mut spec = spec();
    spec.method = "GET".into();
    spec.body.clear();
    spec.presign_expires = Some(60);
    let wire = sign_with_oracle(&spec);
    assert!(wire.header("authorization").is_none());
    assert_eq!(wire.verify(&spec.secret, T), Ok(()));
    assert_eq!(wire.verify(&spec.secret, T + 60), Ok(()));
    assert_eq!(
        wire.verify(&spec.secret, T + 61),
        Err(SigV4Error::PresignedUrlExpired)
    );
    assert_eq!(wire.verify(&spec.secret, T - 900), Ok(()));
    assert!(matches!(
        wire.verify(&spec.secret, T - 901),
        Err(SigV4Error::SignatureNotYetCurrent { .. })
    ));
    let err = SigV4Error::PresignedUrlExpired;
    assert_eq!(
        (
            err.code(ErrorDialect::Query),
            err.status(ErrorDialect::Query)
        ),
        ("RequestExpired", 400)
    );

    // Tampering with the query of a presigned URL, including its own parameters.
    for (from, to) in [
        ("X-Amz-Expires=60", "X-Amz-Expires=600"),
        ("a=1", "a=9"),
        ("X-Amz-Security-Token=FwoG", "X-Amz-Security-Token=GwoG"),
    ] {
        let mut tampered = wire.clone();
        assert!(
            tampered.query.contains(from),
            "{from} in {}",
            tampered.query
        );
        tampered.query = tampered.query.replace(from, to);
        assert_eq!(
            tampered.verify(&spec.secret, T),
            Err(SigV4Error::SignatureDoesNotMatch),
            "{to}"
        );
    }
    for (expires, message) in [
        ("0", "X-Amz-Expires must be non-negative"),
        (
            "604801",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ),
        ("-5", "X-Amz-Expires should be a number, not '-5'."),
    ] {
        let mut bad = wire.clone();
        bad.query = bad
            .query
            .replace("X-Amz-Expires=60", &format!("X-Amz-Expires={expires}"));
        assert_eq!(
            bad.verify(&spec.secret, T),
            Err(SigV4Error::IncompleteSignature(message.into()))
        );
    }
    let mut incomplete = wire.clone();
    incomplete.query = incomplete
        .query
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Credential=") && !p.starts_with("X-Amz-Signature="))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(
        incomplete.verify(&spec.secret, T),
        Err(SigV4Error::IncompleteSignature(
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string \
             parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters."
                .into()
        ))
    );

    // The presigned query wins over a (here: garbage) Authorization header.
    let mut both = wire.clone();
    both.headers
        .push(("Authorization".into(), "Basic Zm9vOmJhcg==".into()));
    assert_eq!(both.verify(&spec.secret, T), Ok(()));
}

#[test]
fn scope_must_match_the_request() {
    let (spec, wire) = signed();
    let mut next_day = wire.clone();
    next_day.set_header("x-amz-date", "20240102T000000Z");
    let err = next_day.verify(&spec.secret, T + 86_400).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20240101' != '20240102', from '20240102T000000Z'."
    );
    assert_eq!(err.code(ErrorDialect::Query), "SignatureDoesNotMatch");

    let mut terminator = wire.clone();
    let auth = wire
        .header("authorization")
        .unwrap()
        .replace("/aws4_request", "/aws4_reques");
    terminator.set_header("authorization", &auth);
    assert_eq!(
        terminator.verify(&spec.secret, T).unwrap_err().to_string(),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'."
    );

    let mut short = wire.clone();
    let auth = wire
        .header("authorization")
        .unwrap()
        .replace("/iam/aws4_request", "/aws4_request");
    short.set_header("authorization", &auth);
    assert!(matches!(
        short.verify(&spec.secret, T),
        Err(SigV4Error::IncompleteSignature(_))
    ));
}

#[test]
fn payload_hash_header_must_be_honest() {
    let mut spec = spec();
    spec.payload = Payload::HashedWithHeader;
    let wire = sign_with_oracle(&spec);
    assert_eq!(wire.verify(&spec.secret, T), Ok(()));
    let mut swapped = wire.clone();
    swapped.body = b"Action=DeleteRole&RoleName=web".to_vec();
    assert_eq!(
        swapped.verify(&spec.secret, T),
        Err(SigV4Error::ContentSha256Mismatch)
    );

    spec.payload = Payload::Unsigned;
    let wire = sign_with_oracle(&spec);
    assert_eq!(
        wire.header("x-amz-content-sha256"),
        Some("UNSIGNED-PAYLOAD")
    );
    let mut other_body = wire.clone();
    other_body.body = b"anything".to_vec();
    // UNSIGNED-PAYLOAD means exactly that: the body is not covered.
    assert_eq!(other_body.verify(&spec.secret, T), Ok(()));
}

#[test]
fn malformed_authorization_headers_get_aws_texts() {
    let (spec, wire) = signed();
    let with_auth = |value: &str| {
        let mut copy = wire.clone();
        copy.set_header("authorization", value);
        copy.verify(&spec.secret, T)
    };
    let incomplete = |text: &str| Err(SigV4Error::IncompleteSignature(text.into()));
    // The text of brendanhay/amazonka#316 (SES), byte for byte.
    assert_eq!(
        with_auth("AWS4-HMAC-SHA256 Credential=ABCDEF"),
        incomplete(
            "Authorization header requires 'Signature' parameter. Authorization header requires \
             'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
        )
    );
    assert_eq!(
        with_auth("Basic Zm9vOmJhcg=="),
        incomplete(
            "Authorization header requires 'Credential' parameter. Authorization header requires \
             'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
             Authorization=Basic Zm9vOmJhcg=="
        )
    );
    // As in aws/aws-sdk-go#289: a stray space inside the credential.
    let spaced = "AWS4-HMAC-SHA256 Credential=AKIAXXXXXXXXXX /20150620/us-east-1/cloudformation/aws4_request, SignedHeaders=host;x-amz-date, Signature=240c";
    assert_eq!(
        with_auth(spaced),
        incomplete(&format!(
            "'/20150620/us-east-1/cloudformation/aws4_request' not a valid key=value pair \
             (missing equal-sign) in Authorization header: '{spaced}'."
        ))
    );
    assert_eq!(
        with_auth("AWS4-HMAC-SHA512 Credential=a"),
        incomplete("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'")
    );

    let mut no_date = wire.clone();
    no_date
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("x-amz-date"));
    let Err(SigV4Error::IncompleteSignature(text)) = no_date.verify(&spec.secret, T) else {
        panic!("missing date accepted");
    };
    assert!(text.starts_with(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS4-HMAC-SHA256 Credential="
    ));

    let mut bad_date = wire.clone();
    bad_date.set_header("x-amz-date", "2024-01-01T00:00:00Z");
    assert!(matches!(
        bad_date.verify(&spec.secret, T),
        Err(SigV4Error::IncompleteSignature(_))
    ));

    let mut anonymous = wire.clone();
    anonymous
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
    let err = anonymous.verify(&spec.secret, T).unwrap_err();
    assert_eq!(err, SigV4Error::MissingAuthenticationToken);
    assert_eq!(err.to_string(), "Request is missing Authentication Token");
    assert_eq!(err.status(ErrorDialect::Query), 403);
}

fn verify_raw(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(), SigV4Error> {
    let req = HttpRequest {
        method,
        path,
        query,
        headers,
        body,
    };
    sigv4::parse(&req)?.verify(&req, b"secret", T, None)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_authorization_headers_never_panic(value in any::<String>()) {
        let headers = [("host", "h"), ("x-amz-date", "20240101T000000Z"), ("authorization", value.as_str())];
        prop_assert!(verify_raw("POST", "/", "", &headers, b"").is_err());
    }

    #[test]
    fn structured_garbage_never_panics(
        credential in "[ -~]{0,60}",
        signed_headers in "[ -~]{0,30}",
        signature in "[ -~]{0,70}",
        date in "[0-9TZ]{0,17}",
        query in any::<String>(),
        path in any::<String>(),
    ) {
        let auth = format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}");
        let headers = [("host", "h"), ("x-amz-date", date.as_str()), ("authorization", auth.as_str())];
        prop_assert!(verify_raw("GET", &path, &query, &headers, b"x").is_err());
        let presigned = format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}&X-Amz-Date={date}&X-Amz-Expires={signature}&X-Amz-SignedHeaders={signed_headers}&X-Amz-Signature={signature}&{query}");
        prop_assert!(verify_raw("GET", &path, &presigned, &[("host", "h")], b"").is_err());
    }

    #[test]
    fn a_well_formed_claim_over_arbitrary_paths_and_queries_never_panics(
        path in any::<String>(),
        query in any::<String>(),
        header_value in any::<String>(),
    ) {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date;x-odd, Signature=00";
        let headers = [("host", "h"), ("x-amz-date", "20240101T000000Z"), ("x-odd", header_value.as_str()), ("authorization", auth)];
        prop_assert_eq!(verify_raw("GET", &path, &query, &headers, b""), Err(SigV4Error::SignatureDoesNotMatch));
    }
}
