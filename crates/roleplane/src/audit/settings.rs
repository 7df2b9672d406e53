//! `roleplane serve`'s audit flags, each with its `ROLEPLANE_*` twin.

use clap::{Args, ValueEnum};
use store::audit::AuditSync;

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Days an audit record is kept before background pruning removes it (LookupEvents'
    /// own window is 90 days).
    #[arg(
        long,
        env = "ROLEPLANE_AUDIT_RETENTION_DAYS",
        default_value_t = 90,
        value_parser = clap::value_parser!(u32).range(1..=36_500)
    )]
    pub audit_retention_days: u32,

    /// Benchmark knob only: `off` stops recording API calls so the cost of auditing can be
    /// measured against the same build. Never run a real deployment with it.
    #[arg(long = "audit", env = "ROLEPLANE_AUDIT", value_enum, default_value_t = AuditMode::On)]
    pub mode: AuditMode,

    /// How far a call's record goes before the call is answered. `normal`: written to the
    /// audit journal (survives the process being killed; a power loss may lose what the
    /// kernel had not written back). `full`: also fdatasync'd, grouped across concurrent
    /// calls (survives power loss). See docs/decisions/0003-audit-durability.md.
    #[arg(long, env = "ROLEPLANE_AUDIT_SYNC", value_enum, default_value_t = SyncLevel::Normal)]
    pub audit_sync: SyncLevel,

    /// Size of each audit journal segment in MiB, allocated whole when it is started (so a
    /// record never meets a full disk mid-segment).
    #[arg(long, env = "ROLEPLANE_AUDIT_SEGMENT_MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub audit_segment_mib: u64,
}

impl AuditArgs {
    pub fn segment_bytes(&self) -> u64 {
        self.audit_segment_mib << 20
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncLevel {
    Normal,
    Full,
}

impl From<SyncLevel> for AuditSync {
    fn from(level: SyncLevel) -> Self {
        match level {
            SyncLevel::Normal => AuditSync::Normal,
            SyncLevel::Full => AuditSync::Full,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditMode {
    On,
    Off,
}

impl Default for AuditArgs {
    fn default() -> Self {
        Self {
            audit_retention_days: 90,
            mode: AuditMode::On,
            audit_sync: SyncLevel::Normal,
            audit_segment_mib: 64,
        }
    }
}
