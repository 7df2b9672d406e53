//! The seed's retrieval commands, verbatim apart from the endpoint, against a test listener.

mod common;

use std::process::Command;

use common::*;

fn curl(args: &[&str]) -> Option<String> {
    let output = match Command::new("curl").args(args).output() {
        Ok(output) => output,
        Err(e) => {
            println!("skipped: curl not runnable ({e})");
            return None;
        }
    };
    assert!(output.status.success(), "curl {args:?}: {output:?}");
    Some(String::from_utf8(output.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_commands_work_with_curl() {
    let f = fixture(&[("i-0aaaaaaaaaaaaaaaa", "127.0.0.51")], |_| {});
    let base = format!("http://{}", f.addrs[0]);
    let result = tokio::task::spawn_blocking(move || {
        // TOKEN=`curl -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"`
        let token = curl(&[
            "-s",
            "-X",
            "PUT",
            &format!("{base}/latest/api/token"),
            "-H",
            "X-aws-ec2-metadata-token-ttl-seconds: 21600",
        ])?;
        // curl -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/s3access
        let v2 = curl(&[
            "-s",
            "-H",
            &format!("X-aws-ec2-metadata-token: {token}"),
            &format!("{base}/latest/meta-data/iam/security-credentials/s3access"),
        ])?;
        // curl http://169.254.169.254/latest/meta-data/iam/security-credentials/s3access
        let v1 = curl(&[
            "-s",
            &format!("{base}/latest/meta-data/iam/security-credentials/s3access"),
        ])?;
        Some((token, v2, v1))
    })
    .await
    .unwrap();
    let Some((token, v2, v1)) = result else {
        return;
    };
    assert_eq!(token.len(), 56);
    assert!(v2.starts_with("{\n  \"Code\" : \"Success\",\n"), "{v2}");
    assert!(v2.contains("\"AccessKeyId\" : \"ASIAFAKEV2\""), "{v2}");
    assert!(v1.contains("\"AccessKeyId\" : \"ASIAFAKEV1\""), "{v1}");
}
