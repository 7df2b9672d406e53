//! IMDS host mode across Linux network namespaces (`scripts/netns/host_mode.sh`): attribution by
//! source address, one namespace unable to use another's token or role, and the token PUT's hop
//! limit across a router namespace.
//!
//! The script builds its own namespaces and veth pairs (root and iproute2 needed; it installs
//! iproute2 when `ip` is missing) and removes them on exit. It skips, saying why, only when the
//! kernel refuses a namespace or a veth pair.

/// Checks the script makes; fewer passing would mean some silently did not run.
const CHECKS: u32 = 26;

#[test]
fn host_mode_attributes_by_source_address_across_namespaces() {
    e2e::netns::run_script("host_mode.sh", CHECKS);
}
