//! The network-namespace scripts under `scripts/netns/`: each builds its own namespaces, checks
//! what crosses them, prints `N passed, M failed`, and exits 77 (automake's skip code, with the
//! reason) only when the kernel refuses a namespace, a veth pair or IPv6.

use std::path::Path;
use std::process::Command;

/// The scripts' exit code for "the kernel refused" (automake's skip code).
const SKIPPED: i32 = 77;

/// Runs `scripts/netns/{script}` against this build's server and asserts that exactly `checks`
/// passed and none failed (fewer passing would mean some silently did not run); a skip is
/// reported, not failed.
pub fn run_script(script: &str, checks: u32) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/netns")
        .join(script);
    let output = Command::new("bash")
        .arg(&path)
        .env("ROLEPLANE_BIN", crate::binary())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(SKIPPED) {
        eprintln!("skipped: {}", stdout.trim());
        return;
    }
    assert!(
        output.status.success(),
        "{script} failed\n{stdout}\n{stderr}"
    );
    let summary = format!("{checks} passed, 0 failed");
    assert!(
        stdout.lines().any(|line| line == summary),
        "expected `{summary}`\n{stdout}\n{stderr}"
    );
}
