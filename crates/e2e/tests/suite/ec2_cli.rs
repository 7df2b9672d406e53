//! The seed document's EC2 steps driven by the real AWS CLI (`scripts/cli/seed_ec2.sh`).

use std::path::Path;
use std::process::Command;

#[test]
fn seed_ec2_steps_with_the_aws_cli() {
    if Command::new("aws").arg("--version").output().is_err() {
        eprintln!("skipped: the AWS CLI (`aws`) is not installed; scripts/test installs it");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new("bash")
        .arg(root.join("scripts/cli/seed_ec2.sh"))
        .env("ROLEPLANE_BIN", e2e::binary())
        .output()
        .expect("run scripts/cli/seed_ec2.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "seed_ec2.sh failed\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
