//! The fuzz targets' inputs as plain tests: every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the function the target calls, and none may panic.

use std::path::{Path, PathBuf};

use sigv4::fuzzing::{self, SECRET};
use sigv4::{HttpRequest, SigningIdentity};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn replay(target: &str, run: fn(&[u8])) {
    let mut replayed = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} panics", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus for {target}");
}

#[test]
fn header_corpus() {
    replay("header", fuzzing::header);
}

#[test]
fn presigned_corpus() {
    replay("presigned", fuzzing::presigned);
}

struct SignerSeed {
    name: &'static str,
    method: &'static str,
    target: &'static str,
    service: &'static str,
    body: &'static [u8],
    token: Option<&'static str>,
}

/// Writes the `signer-*` seeds of `header`: requests signed by this crate's own signer, in the
/// target's input layout. `cargo test -p sigv4 --test fuzz_corpus -- --ignored`
#[test]
#[ignore = "regenerates committed seeds"]
fn write_signer_seeds() {
    let cases = [
        SignerSeed {
            name: "iam-create-role",
            method: "POST",
            target: "/",
            service: "iam",
            body:
                b"Action=CreateRole&Version=2010-05-08&RoleName=web&AssumeRolePolicyDocument=%7B%7D",
            token: None,
        },
        SignerSeed {
            name: "sts-caller-identity-session",
            method: "POST",
            target: "/",
            service: "sts",
            body: b"Action=GetCallerIdentity&Version=2011-06-15",
            token: Some("FwoGZXIvYXdzEBYaDOEXAMPLETOKEN"),
        },
        SignerSeed {
            name: "ec2-describe-query",
            method: "GET",
            target: "/?Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0",
            service: "ec2",
            body: b"",
            token: None,
        },
    ];
    let dir = fuzz_dir().join("corpus/header");
    for SignerSeed {
        name,
        method,
        target,
        service,
        body,
        token,
    } in cases
    {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let host = format!("{service}.amazonaws.com");
        let mut headers = vec![("host".to_owned(), host)];
        if !body.is_empty() {
            headers.push((
                "content-type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            ));
        }
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = HttpRequest {
            method,
            path,
            query,
            headers: &pairs,
            body,
        };
        let who = SigningIdentity {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            session_token: token,
            region: "us-east-1",
            service,
        };
        headers.extend(sigv4::sign(&request, &who, 1_800_000_000));
        let mut text = format!("{method} {target} HTTP/1.1\n").into_bytes();
        for (name, value) in &headers {
            text.extend_from_slice(format!("{name}:{value}\n").as_bytes());
        }
        text.push(b'\n');
        text.extend_from_slice(body);
        let raw = fuzzing::RawRequest::parse(&text).expect("seed layout");
        let http = raw.http();
        let claim = sigv4::parse(&http).expect("seed claim");
        claim
            .verify(&http, SECRET.as_bytes(), 1_800_000_000, None)
            .expect("seed verifies");
        std::fs::write(dir.join(format!("signer-{name}")), text).expect("write seed");
    }
}
