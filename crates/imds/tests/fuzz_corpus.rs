//! The fuzz target's inputs as plain tests: every file of `fuzz/corpus/request/` and
//! `fuzz/regressions/request/` goes through the function the target calls, and none may panic.

use std::path::{Path, PathBuf};

use imds::fuzzing;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

#[test]
fn request_corpus() {
    let mut replayed = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join("request")) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            let outcome = std::panic::catch_unwind(|| fuzzing::request(&data));
            assert!(outcome.is_ok(), "{} panics", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus for request");
}

fn get(path: &str, token: Option<&str>) -> Vec<u8> {
    let token = token.map_or(String::new(), |t| {
        format!("X-aws-ec2-metadata-token: {t}\r\n")
    });
    format!("GET {path} HTTP/1.1\r\nHost: 169.254.169.254\r\n{token}Accept: */*\r\n\r\n")
        .into_bytes()
}

/// The body of a single 200 answer, or `None`.
fn body_of(response: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// Writes the seeds of `request`: a GET of every path of the fuzz instance's tree (found by
/// walking its listings from `/`), token PUTs, token-bearing, HEAD, pipelined and refused
/// requests. `cargo test -p imds --test fuzz_corpus -- --ignored`
#[test]
#[ignore = "regenerates committed seeds"]
fn write_seeds() {
    let dir = fuzz_dir().join("corpus/request");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let mut pending = vec!["/".to_owned()];
    while let Some(path) = pending.pop() {
        let request = get(&path, None);
        let listing = body_of(&fuzzing::responses(&request)).filter(|_| path.ends_with('/'));
        if let Some(body) = listing {
            for line in body.lines() {
                let entry = line.split_once('=').map_or(line, |(index, _)| index);
                let child = format!("{path}{entry}");
                // Every version serves the same tree: walk `latest` only.
                if path == "/" && entry != "latest" {
                    continue;
                }
                // The version level lists its directories without a `/`.
                let version_dir = path == "/latest/" && entry != "user-data";
                let is_dir =
                    line.ends_with('/') || path == "/" || version_dir || line.contains('=');
                pending.push(if is_dir {
                    format!("{}/", child.trim_end_matches('/'))
                } else {
                    child
                });
            }
        }
        let name = format!("get{}", path.replace(['/', ':'], "_"));
        seeds.push((name, request));
    }
    let token = fuzzing::token(21_600);
    let credentials = "/latest/meta-data/iam/security-credentials/web";
    seeds.extend([
        (
            "put-token".to_owned(),
            b"PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n".to_vec(),
        ),
        ("v2-credentials".to_owned(), get(credentials, Some(&token))),
        ("v2-bad-token".to_owned(), get(credentials, Some("AAAA"))),
        (
            "head-user-data".to_owned(),
            b"HEAD /latest/user-data HTTP/1.0\r\nHost: localhost\r\n\r\n".to_vec(),
        ),
        (
            "pipelined-with-body".to_owned(),
            [
                &b"GET /latest/meta-data/ HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"[..],
                &get("/latest/dynamic/instance-identity/document", Some(&token)),
                b"PUT /2021-03-23/api/token HTTP/1.1\r\n\r\n",
            ]
            .concat(),
        ),
        (
            "forwarded-token-put".to_owned(),
            b"PUT /latest/api/token HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n".to_vec(),
        ),
        (
            "rebinding-host".to_owned(),
            b"GET /latest/meta-data/ HTTP/1.1\r\nHost: attacker.example:80\r\n\r\n".to_vec(),
        ),
        (
            "chunked".to_owned(),
            b"POST /latest/meta-data/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        ),
    ]);
    for (name, request) in seeds {
        std::fs::write(dir.join(name), request).expect("write seed");
    }
}
