//! IMDS over IPv6 in host mode across Linux network namespaces (`scripts/netns/ipv6.sh`): two
//! endpoints (`169.254.169.254:80` and `[fd00:ec2::254]:80`, given as the comma-separated
//! `ROLEPLANE_IMDS_LISTEN`), attribution by IPv6 source address, `HttpProtocolIpv6` deciding
//! whether an instance is answered over IPv6 (and modify-instance-metadata-options changing
//! it), `meta-data/ipv6`, DescribeInstances' `ipv6Address`, and the token PUT's IPv6 hop limit
//! across a router namespace, with IPv4 on the same server still working.
//!
//! The script builds its own namespaces and veth pairs (root and iproute2 needed; it installs
//! iproute2 when `ip` is missing) and removes them on exit. It skips, saying why, only when the
//! kernel refuses a namespace, a veth pair or IPv6.

/// Checks the script makes; fewer passing would mean some silently did not run.
const CHECKS: u32 = 38;

#[test]
fn ipv6_host_mode_attributes_by_source_address_across_namespaces() {
    e2e::netns::run_script("ipv6.sh", CHECKS);
}
