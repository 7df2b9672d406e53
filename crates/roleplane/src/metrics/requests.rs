//! API requests by service, operation and status, and their latency by service: observed once
//! per request, where the pipeline hands the response back (`server::pipeline`).
//!
//! Label values are fixed strings of the server's own (a service's signing name, an operation
//! it lists), never what a client sent, so the series stay bounded whatever arrives.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

/// The service label of a request no service took (a malformed or unknown signature, an
/// unsigned request refused), and the operation label of one whose operation no service lists.
pub const UNROUTED: &str = "unrouted";
pub const UNKNOWN_OPERATION: &str = "unknown";

/// Upper bounds of the latency buckets, in seconds: from a cached signed read (~1 ms) to the
/// slowest writes and a lookup over a large audit trail.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Which service served a call and which of its operations it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallLabels {
    pub service: &'static str,
    pub operation: &'static str,
}

impl CallLabels {
    pub const UNROUTED: Self = Self {
        service: UNROUTED,
        operation: UNKNOWN_OPERATION,
    };

    /// A request `service` took, before (or without) knowing a listed operation.
    pub fn service(service: &'static str) -> Self {
        Self {
            service,
            operation: UNKNOWN_OPERATION,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    service: &'static str,
    operation: &'static str,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ServiceLabel {
    service: &'static str,
}

pub type LatencyFamily = Family<ServiceLabel, Histogram, fn() -> Histogram>;

#[derive(Debug, Clone)]
pub struct RequestMetrics {
    pub requests: Family<RequestLabels, Counter>,
    pub latency: LatencyFamily,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
        }
    }
}

impl RequestMetrics {
    /// One answered request: a count under its labels and status, its time to the response
    /// head (an S3 body streams afterwards) under its service. A lookup under a read lock and
    /// atomic adds; nothing is allocated once a label set has been seen.
    pub fn observe(&self, labels: CallLabels, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                service: labels.service,
                operation: labels.operation,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&ServiceLabel {
                service: labels.service,
            })
            .observe(elapsed.as_secs_f64());
    }
}
