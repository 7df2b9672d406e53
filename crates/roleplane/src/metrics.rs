//! The process's Prometheus metrics, served as text by the admin listener
//! (`server/admin.rs`, `GET /metrics`). Each part of the server owns its own handles (cheap
//! clones sharing the values); [`Metrics`] gathers them into one registry.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Which journal an eviction took from: `journal="authenticated"|"unauthenticated"`.
pub type JournalLabel = [(&'static str, &'static str); 1];

pub fn journal_label(unauthenticated: bool) -> JournalLabel {
    [(
        "journal",
        if unauthenticated {
            "unauthenticated"
        } else {
            "authenticated"
        },
    )]
}

/// The audit trail's size and what the size cap did.
#[derive(Debug, Clone)]
pub struct AuditMetrics {
    /// Bytes of both journals on disk.
    pub trail_bytes: Gauge,
    pub evicted_bytes: Family<JournalLabel, Counter>,
    pub evicted_records: Family<JournalLabel, Counter>,
    pub evicted_segments: Family<JournalLabel, Counter>,
    /// Calls refused because their record could not be kept: a full disk or the size cap.
    pub refused: Counter,
}

impl Default for AuditMetrics {
    /// Every series exists from the start, at 0, so a scrape sees it before it first moves.
    fn default() -> Self {
        let metrics = Self {
            trail_bytes: Gauge::default(),
            evicted_bytes: Family::default(),
            evicted_records: Family::default(),
            evicted_segments: Family::default(),
            refused: Counter::default(),
        };
        for unauthenticated in [false, true] {
            let label = journal_label(unauthenticated);
            let _ = metrics.evicted_bytes.get_or_create(&label);
            let _ = metrics.evicted_records.get_or_create(&label);
            let _ = metrics.evicted_segments.get_or_create(&label);
        }
        metrics
    }
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    pub fn new(audit: &AuditMetrics) -> Self {
        let mut registry = Registry::default();
        registry.register(
            "roleplane_audit_trail_bytes",
            "Bytes the audit trail's journals hold on disk",
            audit.trail_bytes.clone(),
        );
        // Counters are exposed with a `_total` suffix.
        registry.register(
            "roleplane_audit_evicted_bytes",
            "Bytes of audit journal segments removed to keep the trail under its size cap",
            audit.evicted_bytes.clone(),
        );
        registry.register(
            "roleplane_audit_evicted_records",
            "Audit records removed to keep the trail under its size cap",
            audit.evicted_records.clone(),
        );
        registry.register(
            "roleplane_audit_evicted_segments",
            "Audit journal segments removed to keep the trail under its size cap",
            audit.evicted_segments.clone(),
        );
        registry.register(
            "roleplane_audit_refused",
            "API calls answered 503 because their audit record could not be kept \
             (a full disk, or the size cap with --audit-at-cap fail-closed)",
            audit.refused.clone(),
        );
        Self { registry }
    }

    /// The metrics in the Prometheus (OpenMetrics) text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_audit_series() {
        let audit = AuditMetrics::default();
        audit.trail_bytes.set(1234);
        audit
            .evicted_bytes
            .get_or_create(&journal_label(true))
            .inc_by(10);
        audit.refused.inc();
        let text = Metrics::new(&audit).render();
        assert!(
            text.contains("roleplane_audit_trail_bytes 1234\n"),
            "{text}"
        );
        assert!(
            text.contains("roleplane_audit_evicted_bytes_total{journal=\"unauthenticated\"} 10\n"),
            "{text}"
        );
        assert!(text.contains("roleplane_audit_refused_total 1\n"), "{text}");
        assert!(
            text.contains("roleplane_audit_evicted_records_total{journal=\"authenticated\"} 0\n"),
            "{text}"
        );
    }
}
