//! A full disk fails closed (issue 12): the server runs on a 256 MiB tmpfs of its own (a mount
//! namespace made by `unshare -m`, so nothing outside sees it), a ballast file fills it, and
//! once the audit journal cannot take another record every call, S3's included, is answered
//! 503 `ServiceUnavailable` and does nothing. Deleting the ballast brings service back by
//! itself, and every call answered 200 has its record in the journal, which reads back whole.
//! The metadata service issues no credential set it cannot record: an instance whose set was
//! recorded before the disk filled keeps it, one that never had a set gets none until space
//! returns.
//!
//! Needs root (mounts); skips, saying why, where the kernel refuses a mount namespace.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use e2e::Server;
use e2e::raw::{RawResponse, Signer};

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

/// Runs its arguments with a fresh tmpfs mounted on `$0`, in a mount namespace of their own.
const MOUNT_THEN_RUN: &str = "mount -t tmpfs -o size=256m tmpfs \"$0\" && exec \"$@\"";

fn can_mount() -> Result<(), String> {
    let probe = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"])
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if probe.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&probe.stderr).trim().to_owned())
    }
}

fn code(response: &RawResponse) -> &str {
    response
        .body
        .split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
}

fn caller_identity(server: &Server) -> RawResponse {
    Signer::new("sts", (e2e::ADMIN_KEY_ID, e2e::ADMIN_SECRET)).post(
        &server.endpoint,
        "application/x-www-form-urlencoded",
        &[],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
}

/// Fills the file system holding `path` with one file; returns its size.
fn fill(path: &Path) -> u64 {
    let mut ballast = std::fs::File::create(path).expect("ballast file");
    let chunk = vec![0xA5u8; 1 << 20];
    let mut written = 0;
    while ballast.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    // The last partial chunk may have landed in part: whatever remains is under a MiB.
    written
}

/// `(records of successful GetCallerIdentity calls, lines that are not valid JSON, AssumeRole
/// records EC2 made for `instance`)` in the journal segments under `audit`.
fn journal_census(audit: &Path, instance: &str) -> (usize, usize, usize) {
    let mut ok_calls = 0;
    let mut broken = 0;
    let mut issues = 0;
    for entry in std::fs::read_dir(audit)
        .expect("audit dir")
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("journal-") && name.ends_with(".jsonl")) {
            continue;
        }
        let bytes = std::fs::read(entry.path()).expect("segment");
        let data = &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())];
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<serde_json::Value>(line) {
                Ok(value) => {
                    let text = value.to_string();
                    if text.contains(r#""eventName":"GetCallerIdentity""#)
                        && !text.contains(r#""errorCode""#)
                    {
                        ok_calls += 1;
                    }
                    if text.contains(r#""invokedBy":"ec2.amazonaws.com""#)
                        && text.contains(&format!(r#""roleSessionName":"{instance}""#))
                    {
                        issues += 1;
                    }
                }
                Err(_) => broken += 1,
            }
        }
    }
    (ok_calls, broken, issues)
}

/// The status of a GET of `role`'s credentials from the instance at `ip` (IMDSv1).
fn credentials_status(server: &Server, ip: &str, role: &str) -> u16 {
    let path = format!("/latest/meta-data/iam/security-credentials/{role}");
    e2e::imds::get(ip, server.imds_port, &path, None).status
}

#[test]
fn a_full_disk_answers_503_until_space_returns_and_loses_no_acknowledged_record() {
    if let Err(why) = can_mount() {
        eprintln!("skipped: the kernel refused a mount namespace with a tmpfs ({why})");
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let mount = temp.path().join("fs");
    std::fs::create_dir(&mount).expect("mount point");
    let mount_arg = mount.to_string_lossy().into_owned();
    let server = Server::start_wrapped(
        &["unshare", "-m", "sh", "-c", MOUNT_THEN_RUN, &mount_arg],
        &mount.join("data"),
        &["--audit-segment-mib", "1", "--body-min-rate", "0"],
    );
    // The server's own view of its file system.
    let inside = |path: &Path| -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", server.pid())).join(path.strip_prefix("/").unwrap())
    };
    let ballast = inside(&mount.join("ballast"));
    assert_eq!(caller_identity(&server).status, 200);
    let mut acknowledged = 1;
    // Two instances of one role: `served` gets its first set now, `unserved` none yet.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (served, unserved) = runtime.block_on(async {
        server
            .instance_role("full-disk-role", "full-disk-profile", READ_ONLY)
            .await;
        let served = server.launch(Some("full-disk-profile")).await;
        let unserved = server.launch(Some("full-disk-profile")).await;
        (served, unserved)
    });
    let served_set = e2e::imds::credentials(&served.1, server.imds_port, "full-disk-role", false);
    let filled = fill(&ballast);
    assert!(
        filled > 64 << 20,
        "only {filled} bytes of ballast: not the server's tmpfs?"
    );

    // Calls succeed while the journal's current and prepared segments have room, then fail
    // closed.
    let first_refusal = loop {
        let response = caller_identity(&server);
        match response.status {
            200 => acknowledged += 1,
            _ => break response,
        }
        assert!(acknowledged < 20_000, "the journal never filled");
    };
    assert_eq!(first_refusal.status, 503, "{}", first_refusal.body);
    assert_eq!(code(&first_refusal), "ServiceUnavailable");
    assert!(
        acknowledged > 100,
        "only {acknowledged} calls before the first refusal"
    );

    // Every call now: reads, writes and S3, each 503 and none doing anything.
    let refused = caller_identity(&server);
    assert_eq!(
        (refused.status, code(&refused)),
        (503, "ServiceUnavailable")
    );
    let iam = Signer::new("iam", (e2e::ADMIN_KEY_ID, e2e::ADMIN_SECRET));
    let create = iam.post(
        &server.endpoint,
        "application/x-www-form-urlencoded",
        &[],
        format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=during-full-disk&AssumeRolePolicyDocument={}",
            e2e::raw::percent_encode(e2e::EC2_TRUST)
        )
        .as_bytes(),
    );
    assert_eq!(
        (create.status, code(&create)),
        (503, "ServiceUnavailable"),
        "{}",
        create.body
    );
    let s3 = Signer::new("s3", (e2e::ADMIN_KEY_ID, e2e::ADMIN_SECRET)).s3(
        &server.endpoint,
        "PUT",
        "/full-disk-bucket",
        &[],
        b"",
    );
    assert_eq!(
        (s3.status, code(&s3)),
        (503, "ServiceUnavailable"),
        "{}",
        s3.body
    );

    // IMDS: the recorded set is still served; a new one cannot be recorded, so none is issued.
    let still = e2e::imds::credentials(&served.1, server.imds_port, "full-disk-role", false);
    assert_eq!(still["AccessKeyId"], served_set["AccessKeyId"]);
    assert_eq!(
        credentials_status(&server, &unserved.1, "full-disk-role"),
        404,
        "a credential set was issued that the trail could not record"
    );

    // Space returns: service resumes by itself.
    std::fs::remove_file(&ballast).expect("remove ballast");
    let resumed = Instant::now();
    loop {
        let response = caller_identity(&server);
        if response.status == 200 {
            acknowledged += 1;
            break;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(30),
            "still refused 30 s after space returned: {}",
            response.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let get_role = iam.post(
        &server.endpoint,
        "application/x-www-form-urlencoded",
        &[],
        b"Action=GetRole&Version=2010-05-08&RoleName=during-full-disk",
    );
    assert_eq!(
        code(&get_role),
        "NoSuchEntity",
        "a refused CreateRole created the role"
    );

    assert_eq!(
        credentials_status(&server, &unserved.1, "full-disk-role"),
        200
    );

    // Nothing acknowledged went unrecorded, and the journal reads back whole.
    let (recorded, broken, issues) =
        journal_census(&inside(&mount.join("data/audit")), &unserved.0);
    assert_eq!(issues, 1, "records of the set issued once space returned");
    assert_eq!(broken, 0, "journal lines that do not parse");
    assert_eq!(
        recorded, acknowledged,
        "acknowledged GetCallerIdentity calls vs their records"
    );
}
