//! The process's Prometheus metrics, served as text by the admin listener
//! (`server/admin.rs`, `GET /metrics`). Each part of the server owns its own handles (cheap
//! clones sharing the values): the audit trail its [`AuditMetrics`], the request layer the
//! [`ServerMetrics`] its `App` holds; [`Metrics`] gathers them into one registry. Names follow
//! Prometheus' conventions: `roleplane_` first, counters end in `_total`, durations are
//! `_seconds`.

mod authorization;
mod caches;
mod commits;
mod pool;
mod requests;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub use authorization::AuthorizationMetrics;
pub use caches::{Cache, CacheCounters, CacheMetrics};
pub use pool::PoolCollector;
pub use requests::{CallLabels, RequestMetrics, UNKNOWN_OPERATION, UNROUTED};

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
    /// Records being appended whose append has not returned: not yet durable at the
    /// `--audit-sync` level, or on PostgreSQL waiting for their group commit. Each call waits
    /// for its own record, so this is the audit trail's whole backlog: nothing is queued
    /// behind the response.
    pub pending: Gauge,
    /// The group commit's counts, on PostgreSQL.
    pub commits: Option<std::sync::Arc<store::audit::CommitCounts>>,
}

impl AuditMetrics {
    /// Counts one record as pending until the returned guard is dropped.
    pub fn pending_record(&self) -> PendingRecord<'_> {
        self.pending.inc();
        PendingRecord(&self.pending)
    }
}

/// A record counted in [`AuditMetrics::pending`] while this lives.
pub struct PendingRecord<'a>(&'a Gauge);

impl Drop for PendingRecord<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
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
            pending: Gauge::default(),
            commits: None,
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

/// Instance metadata credential sets.
#[derive(Debug, Clone, Default)]
pub struct ImdsMetrics {
    /// New sets made for instances (each recorded as EC2's AssumeRole before it is served).
    pub credentials_issued: Counter,
    /// Credential documents served to instances, from a cached set or a new one.
    pub credentials_served: Counter,
}

/// What the request layer, the services and the metadata service count: held by `App`.
#[derive(Debug, Clone, Default)]
pub struct ServerMetrics {
    pub requests: RequestMetrics,
    pub authorization: AuthorizationMetrics,
    pub imds: ImdsMetrics,
    pub caches: CacheMetrics,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    /// The registry of `server`'s metrics, the audit trail's when there is one, and the
    /// store's pool as `pool` reads it at each scrape.
    pub fn new(server: &ServerMetrics, audit: Option<&AuditMetrics>, pool: PoolCollector) -> Self {
        let mut registry = Registry::default();
        // Counters are exposed with a `_total` suffix.
        registry.register(
            "roleplane_requests",
            "API requests answered, by the service that served them (unrouted: none), its \
             operation (unknown: none it lists) and HTTP status",
            server.requests.requests.clone(),
        );
        registry.register(
            "roleplane_request_duration_seconds",
            "Time from a request's arrival to its response head, by service",
            server.requests.latency.clone(),
        );
        registry.register(
            "roleplane_authorization_decisions",
            "Policy evaluations of API calls, by the action's service namespace and decision",
            server.authorization.family.clone(),
        );
        registry.register(
            "roleplane_imds_credentials_issued",
            "Role credential sets issued to instances (each recorded before it is served)",
            server.imds.credentials_issued.clone(),
        );
        registry.register(
            "roleplane_imds_credentials_served",
            "Role credential documents served by the instance metadata service",
            server.imds.credentials_served.clone(),
        );
        registry.register(
            "roleplane_cache_lookups",
            "Lookups of in-memory caches, by cache and result (hit or miss)",
            server.caches.family.clone(),
        );
        registry.register_collector(Box::new(pool));
        if let Some(audit) = audit {
            register_audit(&mut registry, audit);
        }
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

fn register_audit(registry: &mut Registry, audit: &AuditMetrics) {
    registry.register(
        "roleplane_audit_trail_bytes",
        "Bytes the audit trail's journals hold on disk (on PostgreSQL: bytes of its records)",
        audit.trail_bytes.clone(),
    );
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
    registry.register(
        "roleplane_audit_pending_records",
        "Audit records being appended and not yet durable at the --audit-sync level, or on \
         PostgreSQL not yet committed (the trail's backlog: each call waits for its own record \
         before it is answered)",
        audit.pending.clone(),
    );
    if let Some(commits) = &audit.commits {
        registry.register_collector(Box::new(commits::CommitCollector(commits.clone())));
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
        let pool = PoolCollector(Box::new(|| {
            Some(store::PoolUse {
                size: 3,
                idle: 2,
                max: 8,
            })
        }));
        let text = Metrics::new(&ServerMetrics::default(), Some(&audit), pool).render();
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
        assert!(
            text.contains("roleplane_audit_pending_records 0\n"),
            "{text}"
        );
        assert!(
            text.contains("roleplane_store_pool_connections 3\n"),
            "{text}"
        );
        assert!(
            text.contains("roleplane_store_pool_idle_connections 2\n"),
            "{text}"
        );
        assert!(
            text.contains("roleplane_store_pool_max_connections 8\n"),
            "{text}"
        );
    }

    /// Every server series, labelled as documented, from one observation each.
    #[test]
    fn renders_every_server_series() {
        let server = ServerMetrics::default();
        let get_user = CallLabels {
            service: "iam",
            operation: "GetUser",
        };
        server
            .requests
            .observe(get_user, 200, std::time::Duration::from_millis(3));
        server
            .requests
            .observe(CallLabels::UNROUTED, 403, std::time::Duration::ZERO);
        server
            .authorization
            .observe("iam:GetUser", policy::Outcome::Allowed);
        server.imds.credentials_issued.inc();
        server.imds.credentials_served.inc_by(2);
        server.caches.of(Cache::AccessKeys).lookup(true);
        let text = Metrics::new(&server, None, PoolCollector(Box::new(|| None))).render();
        for line in [
            "roleplane_requests_total{service=\"iam\",operation=\"GetUser\",status=\"200\"} 1\n",
            "roleplane_requests_total{service=\"unrouted\",operation=\"unknown\",status=\"403\"} 1\n",
            "roleplane_request_duration_seconds_bucket{le=\"0.0025\",service=\"iam\"} 0\n",
            "roleplane_request_duration_seconds_bucket{le=\"0.005\",service=\"iam\"} 1\n",
            "roleplane_request_duration_seconds_count{service=\"iam\"} 1\n",
            "roleplane_authorization_decisions_total{service=\"iam\",decision=\"allow\"} 1\n",
            "roleplane_authorization_decisions_total{service=\"s3\",decision=\"explicit_deny\"} 0\n",
            "roleplane_imds_credentials_issued_total 1\n",
            "roleplane_imds_credentials_served_total 2\n",
            "roleplane_cache_lookups_total{cache=\"access_keys\",result=\"hit\"} 1\n",
            "roleplane_cache_lookups_total{cache=\"identity_signatures\",result=\"miss\"} 0\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("roleplane_store_pool"), "{text}");
        assert!(!text.contains("roleplane_audit"), "{text}");
    }
}
