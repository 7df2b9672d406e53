//! IMDS host mode across Linux network namespaces (`scripts/netns/host_mode.sh`): attribution by
//! source address, one namespace unable to use another's token or role, and the token PUT's hop
//! limit across a router namespace.
//!
//! The script builds its own namespaces and veth pairs (root and iproute2 needed; it installs
//! iproute2 when `ip` is missing) and removes them on exit. It skips, saying why, only when the
//! kernel refuses a namespace or a veth pair.

use std::path::Path;
use std::process::Command;

/// The script's exit code for "the kernel refused namespaces" (automake's skip code).
const SKIPPED: i32 = 77;
/// Checks the script makes; fewer passing would mean some silently did not run.
const CHECKS: u32 = 26;

#[test]
fn host_mode_attributes_by_source_address_across_namespaces() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new("bash")
        .arg(root.join("scripts/netns/host_mode.sh"))
        .env("ROLEPLANE_BIN", e2e::binary())
        .output()
        .expect("run scripts/netns/host_mode.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(SKIPPED) {
        eprintln!("skipped: {}", stdout.trim());
        return;
    }
    assert!(
        output.status.success(),
        "host_mode.sh failed\n{stdout}\n{stderr}"
    );
    let summary = format!("{CHECKS} passed, 0 failed");
    assert!(
        stdout.lines().any(|line| line == summary),
        "expected `{summary}`\n{stdout}\n{stderr}"
    );
}
