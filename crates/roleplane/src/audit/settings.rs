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
    /// calls (survives power loss). See docs/decisions/0003-audit-durability.md. With
    /// `--store postgres://…` a record is committed to the database, whatever this says.
    #[arg(long, env = "ROLEPLANE_AUDIT_SYNC", value_enum, default_value_t = SyncLevel::Normal)]
    pub audit_sync: SyncLevel,

    /// Size of each audit journal segment in MiB, allocated whole when it is started (so a
    /// record never meets a full disk mid-segment). No journal with `--store postgres://…`.
    #[arg(long, env = "ROLEPLANE_AUDIT_SEGMENT_MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub audit_segment_mib: u64,

    /// Most MiB the audit trail's journals may hold on disk; 0 for no size cap. At least
    /// `--audit-segment-mib` × 8. Records of calls without an authenticated caller are
    /// evicted first, whatever `--audit-at-cap` says. See docs/decisions/0017-audit-size-cap.md.
    /// With `--store postgres://…`: MiB of records (their text and columns) in the database,
    /// no minimum; its table and indexes take more on disk (decision 0027).
    #[arg(long, env = "ROLEPLANE_AUDIT_MAX_MIB", default_value_t = DEFAULT_MAX_MIB)]
    pub audit_max_mib: u64,

    /// What happens once only authenticated calls' records are left to make room for new ones
    /// at `--audit-max-mib`: `evict` the oldest, or `fail-closed` (every call answers 503
    /// ServiceUnavailable until retention or an operator frees space below the cap).
    #[arg(long, env = "ROLEPLANE_AUDIT_AT_CAP", value_enum, default_value_t = AtCap::Evict)]
    pub audit_at_cap: AtCap,
}

/// 10 GiB: about ten million records of authenticated calls (~1 KiB each), far more than a
/// lab's 90 days, while a flood of strangers' calls stays a bounded, small share of a modest
/// disk. Operators with more disk or stricter keeping rules set their own.
pub const DEFAULT_MAX_MIB: u64 = 10 * 1024;

/// The cap must leave room beyond what can never be evicted: each journal's active segment
/// and the one prepared ahead, and segments the indexer has not passed yet.
pub const MIN_SEGMENTS_UNDER_CAP: u64 = 8;

impl AuditArgs {
    pub fn segment_bytes(&self) -> u64 {
        self.audit_segment_mib << 20
    }

    /// The size cap on PostgreSQL in bytes of records, if any: no segment is set aside there.
    pub fn max_database_bytes(&self) -> Option<u64> {
        (self.audit_max_mib > 0).then_some(self.audit_max_mib << 20)
    }

    /// The size cap in bytes, if any; an error for one too small to hold what cannot go.
    pub fn max_bytes(&self) -> Result<Option<u64>, String> {
        match self.audit_max_mib {
            0 => Ok(None),
            mib if mib < self.audit_segment_mib * MIN_SEGMENTS_UNDER_CAP => Err(format!(
                "--audit-max-mib {mib} is below {MIN_SEGMENTS_UNDER_CAP} segments of \
                 --audit-segment-mib {}",
                self.audit_segment_mib
            )),
            mib => Ok(Some(mib << 20)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AtCap {
    /// Remove the oldest records of authenticated calls too.
    Evict,
    /// Refuse calls (503) rather than lose a record of an authenticated call.
    FailClosed,
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
            audit_max_mib: DEFAULT_MAX_MIB,
            audit_at_cap: AtCap::Evict,
        }
    }
}
