//! Issue 17's acceptance across Linux network namespaces (`scripts/netns/agents.sh`): two
//! control-plane replicas on PostgreSQL, two hosts each with a `roleplane agent` on
//! 169.254.169.254:80 and instance namespaces routed to it (one behind a router); own role
//! sessions, no instance or host reaching another's credentials or tokens, the hop limit, a
//! replica stopped, every replica stopped (one-minute credentials: served until their expiry,
//! never after), and a replica's return, with no agent restarted.
//!
//! The script builds its own namespaces and veth pairs and a throwaway PostgreSQL cluster
//! (`scripts/pg-test-cluster`), and removes them on exit. It skips, saying why, only when the
//! kernel refuses a namespace or a veth pair.

/// Checks the script makes; fewer passing would mean some silently did not run.
const CHECKS: u32 = 32;

#[test]
fn agents_serve_their_hosts_across_namespaces_through_an_outage() {
    e2e::netns::run_script("agents.sh", CHECKS);
}
