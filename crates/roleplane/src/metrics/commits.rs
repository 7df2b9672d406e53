//! The audit trail's group commit on PostgreSQL, read at each scrape: commits and the records
//! they held, whose ratio is the average batch (decision 0027).

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use store::audit::CommitCounts;

#[derive(Debug)]
pub struct CommitCollector(pub Arc<CommitCounts>);

impl Collector for CommitCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counters = [
            (
                "roleplane_audit_commits",
                "Transactions that committed audit records to PostgreSQL (each holds every \
                 record that was waiting: their ratio to the records is the average batch)",
                self.0.commits(),
            ),
            (
                "roleplane_audit_committed_records",
                "Audit records committed to PostgreSQL",
                self.0.records(),
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        Ok(())
    }
}
