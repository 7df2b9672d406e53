//! S3 through boto3 (`tests/scripts/s3_boto3.py`): put, get, list, copy, delete, a multipart
//! `upload_file`, and a presigned PUT sent with curl.

use std::path::Path;
use std::process::Command;

use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};

#[test]
fn boto3_objects_multipart_and_a_presigned_put() {
    let python = if e2e::installed("python3") {
        "python3"
    } else {
        "python"
    };
    let probe = Command::new(python).args(["-c", "import boto3"]).status();
    if !probe.is_ok_and(|s| s.success()) || !e2e::installed("curl") {
        eprintln!("skipped: boto3 or curl is not installed");
        return;
    }
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/s3_boto3.py");
    let out = Command::new(python)
        .arg(&script)
        .env("E2E_ENDPOINT", &server.endpoint)
        .env("E2E_KEY_ID", ADMIN_KEY_ID)
        .env("E2E_SECRET", ADMIN_SECRET)
        .env("E2E_WORK", work.path())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .output()
        .expect("run the boto3 script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "ok", "{stderr}");
}
