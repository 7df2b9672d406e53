//! S3 through the real AWS CLI: the high-level `aws s3` commands (mb, ls, cp, mv, sync, rm, rb,
//! presign) and `aws s3api` with its JSON output and error codes.

use std::path::Path;
use std::process::Command;

use e2e::Server;
use e2e::s3::{AwsCli, Noise, aws_cli, md5_hex};
use serde_json::Value;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `aws s3 ls s3://BUCKET/PREFIX --recursive` as (key, size) pairs.
fn ls_recursive(cli: &AwsCli, cwd: &Path, url: &str) -> Vec<(String, u64)> {
    let out = cli.run(cwd, &["s3", "ls", url, "--recursive"]);
    // `aws s3 ls` exits 1 when nothing matches.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|line| {
            // "2024-01-01 00:00:00       1234 key with spaces"
            let word = |s: &str| {
                let s = s.trim_start();
                let end = s.find(' ')?;
                Some((s[..end].to_owned(), s[end..].to_owned()))
            };
            let (_, rest) = word(line)?;
            let (_, rest) = word(&rest)?;
            let (size, rest) = word(&rest)?;
            Some((rest.trim_start().to_owned(), size.parse().ok()?))
        })
        .collect()
}

fn curl(args: &[&str]) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    let mut stdout = out.stdout;
    let newline = stdout.iter().rposition(|&b| b == b'\n').expect("a status");
    let status = String::from_utf8_lossy(&stdout[newline + 1..])
        .trim()
        .parse()
        .expect("a status code");
    stdout.truncate(newline);
    (status, stdout)
}

#[test]
fn aws_s3_mb_ls_cp_mv_sync_rm_rb() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let Some(cli) = aws_cli(&server, work.path()) else {
        return;
    };
    let dir = work.path();
    let mut noise = Noise::new(3);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", b"alpha\n".to_vec()),
        ("sub/b.txt", b"bravo\n".to_vec()),
        ("sub/deeper/c.bin", noise.bytes(100_000)),
        ("with space/ünïcödé+plus&amp.txt", b"odd names\n".to_vec()),
    ];
    // Above the 5 MiB multipart threshold of the CLI config: uploaded in parts, downloaded in
    // ranges, copied with UploadPartCopy.
    let large = noise.bytes(6 * 1024 * 1024);
    write(&dir.join("large.bin"), &large);
    // An hour old, so that `sync` sees every copy it made as newer than its source.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for (name, bytes) in &files {
        let path = dir.join("src").join(name);
        write(&path, bytes);
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(old).unwrap();
    }

    let out = cli.ok(dir, &["s3", "mb", "s3://cli-bucket"]);
    assert!(out.contains("make_bucket: cli-bucket"), "{out}");
    let out = cli.ok(dir, &["s3", "ls"]);
    assert!(out.lines().any(|l| l.ends_with(" cli-bucket")), "{out}");

    // cp up and down.
    let out = cli.ok(dir, &["s3", "cp", "src/a.txt", "s3://cli-bucket/a.txt"]);
    assert!(
        out.contains("upload: src/a.txt to s3://cli-bucket/a.txt"),
        "{out}"
    );
    cli.ok(dir, &["s3", "cp", "s3://cli-bucket/a.txt", "down/a.txt"]);
    assert_eq!(read(&dir.join("down/a.txt")), b"alpha\n");
    cli.ok(dir, &["s3", "cp", "large.bin", "s3://cli-bucket/large.bin"]);
    cli.ok(
        dir,
        &["s3", "cp", "s3://cli-bucket/large.bin", "down/large.bin"],
    );
    assert_eq!(
        md5_hex(&read(&dir.join("down/large.bin"))),
        md5_hex(&large),
        "a multipart upload and ranged download"
    );

    // From stdin and to stdout.
    let mut upload = cli
        .command(dir, &["s3", "cp", "-", "s3://cli-bucket/from-stdin.txt"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run aws s3 cp -");
    {
        use std::io::Write as _;
        let mut stdin = upload.stdin.take().unwrap();
        stdin.write_all(b"streamed through a pipe\n").unwrap();
    }
    assert!(upload.wait().unwrap().success(), "aws s3 cp - failed");
    let out = cli.ok(dir, &["s3", "cp", "s3://cli-bucket/from-stdin.txt", "-"]);
    assert_eq!(out, "streamed through a pipe\n");
    cli.ok(dir, &["s3", "rm", "s3://cli-bucket/from-stdin.txt"]);

    // A large object copied between buckets (UploadPartCopy).
    cli.ok(dir, &["s3", "mb", "s3://cli-other"]);
    cli.ok(
        dir,
        &[
            "s3",
            "cp",
            "s3://cli-bucket/large.bin",
            "s3://cli-other/large.bin",
        ],
    );
    cli.ok(
        dir,
        &["s3", "cp", "s3://cli-other/large.bin", "down/copied.bin"],
    );
    assert_eq!(
        md5_hex(&read(&dir.join("down/copied.bin"))),
        md5_hex(&large),
        "a multipart copy"
    );
    cli.ok(dir, &["s3", "rb", "s3://cli-other", "--force"]);

    // cp --recursive up and down.
    let out = cli.ok(
        dir,
        &["s3", "cp", "src", "s3://cli-bucket/tree/", "--recursive"],
    );
    assert_eq!(out.matches("upload:").count(), 4, "{out}");
    let mut listed = ls_recursive(&cli, dir, "s3://cli-bucket/tree/");
    listed.sort();
    let mut expected: Vec<(String, u64)> = files
        .iter()
        .map(|(n, b)| (format!("tree/{n}"), b.len() as u64))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    cli.ok(
        dir,
        &["s3", "cp", "s3://cli-bucket/tree/", "copy", "--recursive"],
    );
    for (name, bytes) in &files {
        assert_eq!(&read(&dir.join("copy").join(name)), bytes, "{name}");
    }
    // Non-recursive ls shows prefixes.
    let out = cli.ok(dir, &["s3", "ls", "s3://cli-bucket/tree/"]);
    assert!(out.contains("PRE sub/"), "{out}");
    assert!(out.contains(" a.txt"), "{out}");

    // mv: server-side, and from a local file.
    let out = cli.ok(
        dir,
        &[
            "s3",
            "mv",
            "s3://cli-bucket/a.txt",
            "s3://cli-bucket/moved.txt",
        ],
    );
    assert!(out.contains("move:"), "{out}");
    write(&dir.join("local-mv.txt"), b"moving\n");
    cli.ok(
        dir,
        &["s3", "mv", "local-mv.txt", "s3://cli-bucket/local-mv.txt"],
    );
    assert!(!dir.join("local-mv.txt").exists(), "mv removes the source");
    let top: Vec<String> = ls_recursive(&cli, dir, "s3://cli-bucket/")
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !k.starts_with("tree/"))
        .collect();
    assert_eq!(top, ["large.bin", "local-mv.txt", "moved.txt"]);

    // sync: the first uploads everything, the second nothing, a changed file alone.
    let out = cli.ok(dir, &["s3", "sync", "src", "s3://cli-bucket/synced"]);
    assert_eq!(out.matches("upload:").count(), 4, "{out}");
    let out = cli.ok(dir, &["s3", "sync", "src", "s3://cli-bucket/synced"]);
    assert_eq!(out.trim(), "", "a second sync is a no-op");
    write(&dir.join("src/a.txt"), b"alpha, changed\n");
    let out = cli.ok(dir, &["s3", "sync", "src", "s3://cli-bucket/synced"]);
    assert_eq!(out.matches("upload:").count(), 1, "{out}");
    assert!(out.contains("synced/a.txt"), "{out}");
    // --delete removes what the source no longer has.
    std::fs::remove_file(dir.join("src/sub/b.txt")).unwrap();
    let out = cli.ok(
        dir,
        &["s3", "sync", "src", "s3://cli-bucket/synced", "--delete"],
    );
    assert_eq!(out.matches("delete:").count(), 1, "{out}");
    assert!(out.contains("synced/sub/b.txt"), "{out}");
    // And down again.
    cli.ok(
        dir,
        &["s3", "sync", "s3://cli-bucket/synced", "synced-down"],
    );
    assert_eq!(read(&dir.join("synced-down/a.txt")), b"alpha, changed\n");
    assert_eq!(
        read(&dir.join("synced-down/sub/deeper/c.bin")),
        files[2].1,
        "sync down"
    );
    assert_eq!(
        read(&dir.join("synced-down/with space/ünïcödé+plus&amp.txt")),
        b"odd names\n"
    );

    // rm --recursive.
    let out = cli.ok(dir, &["s3", "rm", "s3://cli-bucket/synced/", "--recursive"]);
    assert_eq!(out.matches("delete:").count(), 3, "{out}");
    assert!(ls_recursive(&cli, dir, "s3://cli-bucket/synced/").is_empty());
    cli.ok(dir, &["s3", "rm", "s3://cli-bucket/moved.txt"]);

    // rb refuses a bucket with objects; --force empties it first.
    let err = cli.fails(dir, &["s3", "rb", "s3://cli-bucket"]);
    assert!(err.contains("BucketNotEmpty"), "{err}");
    let out = cli.ok(dir, &["s3", "rb", "s3://cli-bucket", "--force"]);
    assert!(out.contains("remove_bucket: cli-bucket"), "{out}");
    let out = cli.ok(dir, &["s3", "ls"]);
    assert!(!out.contains("cli-bucket"), "{out}");
}

#[test]
fn aws_s3_presign_works_with_curl_and_expires() {
    if !e2e::installed("curl") {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let Some(cli) = aws_cli(&server, work.path()) else {
        return;
    };
    let dir = work.path();
    write(&dir.join("hello.txt"), b"hello, presigned world\n");
    cli.ok(dir, &["s3", "mb", "s3://presign-bucket"]);
    cli.ok(
        dir,
        &["s3", "cp", "hello.txt", "s3://presign-bucket/dir/hello.txt"],
    );

    let url = cli.ok(
        dir,
        &[
            "s3",
            "presign",
            "s3://presign-bucket/dir/hello.txt",
            "--expires-in",
            "300",
        ],
    );
    let url = url.trim();
    assert!(
        url.starts_with(&format!(
            "{}/presign-bucket/dir/hello.txt?",
            server.endpoint
        )),
        "{url}"
    );
    let (status, body) = curl(&[url]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, b"hello, presigned world\n");

    // A presigned URL is for its object only.
    let other = url.replace("/dir/hello.txt?", "/dir/other.txt?");
    let (status, body) = curl(&[&other]);
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );

    let url = cli.ok(
        dir,
        &[
            "s3",
            "presign",
            "s3://presign-bucket/dir/hello.txt",
            "--expires-in",
            "1",
        ],
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (status, body) = curl(&[url.trim()]);
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("Request has expired"), "{body}");
}

#[test]
fn aws_s3_presign_virtual_hosted_under_the_s3_domain() {
    if !e2e::installed("curl") {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let Some(cli) = aws_cli(&server, work.path()) else {
        return;
    };
    let dir = work.path();
    write(&dir.join("v.txt"), b"virtually hosted\n");
    cli.ok(dir, &["s3", "mb", "s3://vh-cli-bucket"]);
    cli.ok(dir, &["s3", "cp", "v.txt", "s3://vh-cli-bucket/v.txt"]);

    // Presigned for http://vh-cli-bucket.s3.localhost:PORT/v.txt: curl resolves *.localhost to
    // the loopback address itself.
    let port = server.endpoint.rsplit(':').next().unwrap();
    let config = dir.join("virtual-config");
    std::fs::write(
        &config,
        "[default]\nregion = us-east-1\ns3 =\n    addressing_style = virtual\n    signature_version = s3v4\n",
    )
    .unwrap();
    let virtual_cli = cli.with_endpoint(&format!("http://s3.localhost:{port}"), &config);
    let url = virtual_cli.ok(dir, &["s3", "presign", "s3://vh-cli-bucket/v.txt"]);
    let url = url.trim();
    assert!(
        url.starts_with(&format!("http://vh-cli-bucket.s3.localhost:{port}/v.txt?")),
        "{url}"
    );
    let (status, body) = curl(&[url]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, b"virtually hosted\n");
}

fn s3api_error(cli: &AwsCli, dir: &Path, args: &[&str], code: &str) {
    let mut all = vec!["s3api"];
    all.extend_from_slice(args);
    let err = cli.fails(dir, &all);
    assert!(err.contains(&format!("({code})")), "{args:?}: {err}");
}

#[test]
fn aws_s3api_operations_and_their_output() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let Some(cli) = aws_cli(&server, work.path()) else {
        return;
    };
    let dir = work.path();
    let api = |args: &[&str]| {
        let mut all = vec!["s3api"];
        all.extend_from_slice(args);
        cli.json(dir, &all)
    };
    let b = "api-bucket";

    let created = api(&["create-bucket", "--bucket", b]);
    assert_eq!(created["Location"], "/api-bucket", "{created}");
    api(&["head-bucket", "--bucket", b]);
    let buckets = api(&["list-buckets"]);
    assert_eq!(buckets["Buckets"][0]["Name"], b, "{buckets}");
    assert!(buckets["Owner"]["ID"].is_string(), "{buckets}");
    let location = api(&["get-bucket-location", "--bucket", b]);
    assert_eq!(location["LocationConstraint"], Value::Null, "{location}");
    let versioning = api(&["get-bucket-versioning", "--bucket", b]);
    assert!(versioning.get("Status").is_none(), "{versioning}");
    let ownership = api(&["get-bucket-ownership-controls", "--bucket", b]);
    assert_eq!(
        ownership["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced",
        "{ownership}"
    );
    let block = api(&["get-public-access-block", "--bucket", b]);
    assert_eq!(
        block["PublicAccessBlockConfiguration"],
        serde_json::json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );

    // Objects.
    let body = Noise::new(9).bytes(4096);
    write(&dir.join("body.bin"), &body);
    let put = api(&[
        "put-object",
        "--bucket",
        b,
        "--key",
        "docs/one.bin",
        "--body",
        "body.bin",
        "--content-type",
        "application/x-one",
        "--metadata",
        "k1=v1",
    ]);
    assert_eq!(put["ETag"], format!("\"{}\"", md5_hex(&body)), "{put}");
    assert_eq!(put["ServerSideEncryption"], "AES256", "{put}");
    let head = api(&["head-object", "--bucket", b, "--key", "docs/one.bin"]);
    assert_eq!(head["ContentLength"], 4096, "{head}");
    assert_eq!(head["ContentType"], "application/x-one", "{head}");
    assert_eq!(head["Metadata"]["k1"], "v1", "{head}");
    assert_eq!(head["ServerSideEncryption"], "AES256", "{head}");
    let got = api(&[
        "get-object",
        "--bucket",
        b,
        "--key",
        "docs/one.bin",
        "out.bin",
    ]);
    assert_eq!(got["ContentLength"], 4096, "{got}");
    assert_eq!(read(&dir.join("out.bin")), body);
    let ranged = api(&[
        "get-object",
        "--bucket",
        b,
        "--key",
        "docs/one.bin",
        "--range",
        "bytes=0-9",
        "range.bin",
    ]);
    assert_eq!(ranged["ContentRange"], "bytes 0-9/4096", "{ranged}");
    assert_eq!(read(&dir.join("range.bin")), &body[..10]);
    let etag = put["ETag"].as_str().unwrap().to_owned();
    let err = cli.fails(
        dir,
        &[
            "s3api",
            "get-object",
            "--bucket",
            b,
            "--key",
            "docs/one.bin",
            "--if-none-match",
            &etag,
            "cond.bin",
        ],
    );
    assert!(err.contains("304"), "{err}");
    s3api_error(
        &cli,
        dir,
        &[
            "get-object",
            "--bucket",
            b,
            "--key",
            "docs/one.bin",
            "--if-match",
            "\"0123456789abcdef0123456789abcdef\"",
            "cond.bin",
        ],
        "PreconditionFailed",
    );
    let copied = api(&[
        "copy-object",
        "--bucket",
        b,
        "--key",
        "docs/two.bin",
        "--copy-source",
        "api-bucket/docs/one.bin",
    ]);
    assert_eq!(copied["CopyObjectResult"]["ETag"], etag, "{copied}");
    api(&[
        "put-object",
        "--bucket",
        b,
        "--key",
        "top.txt",
        "--body",
        "body.bin",
    ]);

    // Listings.
    let listed = api(&["list-objects-v2", "--bucket", b, "--delimiter", "/"]);
    assert_eq!(listed["Contents"][0]["Key"], "top.txt", "{listed}");
    assert_eq!(listed["CommonPrefixes"][0]["Prefix"], "docs/", "{listed}");
    let page = api(&[
        "list-objects-v2",
        "--bucket",
        b,
        "--max-keys",
        "1",
        "--no-paginate",
    ]);
    assert_eq!(page["IsTruncated"], true, "{page}");
    assert_eq!(page["Contents"][0]["Key"], "docs/one.bin", "{page}");
    let token = page["NextContinuationToken"].as_str().expect("a token");
    let page = api(&[
        "list-objects-v2",
        "--bucket",
        b,
        "--max-keys",
        "1",
        "--no-paginate",
        "--continuation-token",
        token,
    ]);
    assert_eq!(page["Contents"][0]["Key"], "docs/two.bin", "{page}");
    let after = api(&[
        "list-objects-v2",
        "--bucket",
        b,
        "--start-after",
        "docs/two.bin",
        "--no-paginate",
    ]);
    assert_eq!(after["Contents"][0]["Key"], "top.txt", "{after}");
    assert_eq!(after["KeyCount"], 1, "{after}");
    let v1 = api(&["list-objects", "--bucket", b, "--prefix", "docs/"]);
    assert_eq!(v1["Contents"].as_array().map(Vec::len), Some(2), "{v1}");
    // The CLI paginates by itself over small pages.
    let all = api(&["list-objects-v2", "--bucket", b, "--page-size", "1"]);
    assert_eq!(all["Contents"].as_array().map(Vec::len), Some(3), "{all}");

    // Tagging.
    api(&[
        "put-object-tagging",
        "--bucket",
        b,
        "--key",
        "top.txt",
        "--tagging",
        "TagSet=[{Key=k,Value=v}]",
    ]);
    let tags = api(&["get-object-tagging", "--bucket", b, "--key", "top.txt"]);
    assert_eq!(
        tags["TagSet"],
        serde_json::json!([{"Key": "k", "Value": "v"}])
    );
    api(&["delete-object-tagging", "--bucket", b, "--key", "top.txt"]);
    api(&[
        "put-bucket-tagging",
        "--bucket",
        b,
        "--tagging",
        "TagSet=[{Key=team,Value=s3}]",
    ]);
    let tags = api(&["get-bucket-tagging", "--bucket", b]);
    assert_eq!(
        tags["TagSet"],
        serde_json::json!([{"Key": "team", "Value": "s3"}])
    );
    api(&["delete-bucket-tagging", "--bucket", b]);
    s3api_error(
        &cli,
        dir,
        &["get-bucket-tagging", "--bucket", b],
        "NoSuchTagSet",
    );

    // ACLs.
    s3api_error(
        &cli,
        dir,
        &[
            "put-object-acl",
            "--bucket",
            b,
            "--key",
            "top.txt",
            "--acl",
            "public-read",
        ],
        "AccessControlListNotSupported",
    );

    // Policies and the public access block.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::api-bucket/*"}]}"#;
    api(&["put-bucket-policy", "--bucket", b, "--policy", policy]);
    let got = api(&["get-bucket-policy", "--bucket", b]);
    let got: Value = serde_json::from_str(got["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(got, serde_json::from_str::<Value>(policy).unwrap());
    let status = api(&["get-bucket-policy-status", "--bucket", b]);
    assert_eq!(status["PolicyStatus"]["IsPublic"], false, "{status}");
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::api-bucket/*"}]}"#;
    s3api_error(
        &cli,
        dir,
        &["put-bucket-policy", "--bucket", b, "--policy", public],
        "AccessDenied",
    );
    api(&["delete-bucket-policy", "--bucket", b]);
    s3api_error(
        &cli,
        dir,
        &["get-bucket-policy", "--bucket", b],
        "NoSuchBucketPolicy",
    );
    api(&["delete-public-access-block", "--bucket", b]);
    s3api_error(
        &cli,
        dir,
        &["get-public-access-block", "--bucket", b],
        "NoSuchPublicAccessBlockConfiguration",
    );
    api(&[
        "put-public-access-block",
        "--bucket",
        b,
        "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    ]);
    let block = api(&["get-public-access-block", "--bucket", b]);
    assert_eq!(
        block["PublicAccessBlockConfiguration"]["BlockPublicPolicy"],
        true
    );

    // Multipart.
    let part1 = Noise::new(10).bytes(5 * 1024 * 1024);
    write(&dir.join("part1"), &part1);
    write(&dir.join("part2"), b"the last part");
    let created = api(&["create-multipart-upload", "--bucket", b, "--key", "mp.bin"]);
    let upload = created["UploadId"].as_str().expect("UploadId").to_owned();
    let mut parts = Vec::new();
    for (n, file) in [(1, "part1"), (2, "part2")] {
        let n = n.to_string();
        let part = api(&[
            "upload-part",
            "--bucket",
            b,
            "--key",
            "mp.bin",
            "--upload-id",
            &upload,
            "--part-number",
            &n,
            "--body",
            file,
        ]);
        parts.push(
            serde_json::json!({"PartNumber": n.parse::<i64>().unwrap(), "ETag": part["ETag"]}),
        );
    }
    let listed = api(&[
        "list-parts",
        "--bucket",
        b,
        "--key",
        "mp.bin",
        "--upload-id",
        &upload,
    ]);
    assert_eq!(
        listed["Parts"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    assert_eq!(listed["Parts"][0]["Size"], 5 * 1024 * 1024, "{listed}");
    let uploads = api(&["list-multipart-uploads", "--bucket", b]);
    assert_eq!(
        uploads["Uploads"][0]["UploadId"],
        upload.as_str(),
        "{uploads}"
    );
    assert_eq!(uploads["Uploads"][0]["Key"], "mp.bin", "{uploads}");
    let done = api(&[
        "complete-multipart-upload",
        "--bucket",
        b,
        "--key",
        "mp.bin",
        "--upload-id",
        &upload,
        "--multipart-upload",
        &serde_json::json!({ "Parts": parts }).to_string(),
    ]);
    assert!(
        done["ETag"].as_str().is_some_and(|e| e.ends_with("-2\"")),
        "{done}"
    );
    assert_eq!(done["Key"], "mp.bin", "{done}");
    let head = api(&["head-object", "--bucket", b, "--key", "mp.bin"]);
    assert_eq!(head["ContentLength"], 5 * 1024 * 1024 + 13, "{head}");
    let second = api(&[
        "create-multipart-upload",
        "--bucket",
        b,
        "--key",
        "abandoned",
    ]);
    let second = second["UploadId"].as_str().unwrap().to_owned();
    api(&[
        "abort-multipart-upload",
        "--bucket",
        b,
        "--key",
        "abandoned",
        "--upload-id",
        &second,
    ]);
    s3api_error(
        &cli,
        dir,
        &[
            "list-parts",
            "--bucket",
            b,
            "--key",
            "abandoned",
            "--upload-id",
            &second,
        ],
        "NoSuchUpload",
    );

    // Errors.
    s3api_error(
        &cli,
        dir,
        &["get-object", "--bucket", b, "--key", "missing", "x.bin"],
        "NoSuchKey",
    );
    s3api_error(
        &cli,
        dir,
        &["delete-bucket", "--bucket", b],
        "BucketNotEmpty",
    );

    // delete-objects, delete-object, delete-bucket.
    let deleted = api(&[
        "delete-objects",
        "--bucket",
        b,
        "--delete",
        r#"{"Objects":[{"Key":"docs/one.bin"},{"Key":"docs/two.bin"},{"Key":"mp.bin"}]}"#,
    ]);
    assert_eq!(
        deleted["Deleted"].as_array().map(Vec::len),
        Some(3),
        "{deleted}"
    );
    api(&["delete-object", "--bucket", b, "--key", "top.txt"]);
    api(&["delete-bucket", "--bucket", b]);
    let buckets = api(&["list-buckets"]);
    assert_eq!(buckets["Buckets"], serde_json::json!([]), "{buckets}");
}

/// The seed scenario: a program on an instance whose role allows `s3:*` uses S3 with the
/// instance's credentials (`roleplane run`), nothing configured but the endpoint it is given.
#[tokio::test]
async fn aws_s3_on_an_instance_uses_its_role() {
    if !e2e::installed("aws") {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let server = Server::start();
    server
        .instance_role(
            "s3access",
            "s3access-profile",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}"#,
        )
        .await;
    let script = "set -e
echo 'from an instance' | aws s3 cp - s3://instance-bucket/hello.txt
aws s3 ls s3://instance-bucket/
aws s3 cp s3://instance-bucket/hello.txt -";
    let out = Command::new(e2e::binary())
        .args([
            "run",
            "--instance-profile",
            "s3access-profile",
            "--data-dir",
        ])
        .arg(&server.data_dir)
        .args(["--", "sh", "-c"])
        .arg(format!("aws s3 mb s3://instance-bucket\n{script}"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run roleplane run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("make_bucket: instance-bucket"), "{stdout}");
    assert!(stdout.contains(" hello.txt"), "{stdout}");
    assert!(stdout.ends_with("from an instance\n"), "{stdout}");
    // The bucket is the account's: the admin sees it and the object.
    let got = server
        .s3()
        .await
        .get_object()
        .bucket("instance-bucket")
        .key("hello.txt")
        .send()
        .await
        .expect("GetObject as the admin");
    let body = got.body.collect().await.expect("read").to_vec();
    assert_eq!(body, b"from an instance\n");
}
