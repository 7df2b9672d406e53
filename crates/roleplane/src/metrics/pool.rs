//! The store's connection pool, read at each scrape (`Store::pool_use`).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use store::PoolUse;

/// Reads the pool's use when scraped; nothing is written for a store without a pool.
pub struct PoolCollector(pub Box<dyn Fn() -> Option<PoolUse> + Send + Sync>);

impl std::fmt::Debug for PoolCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolCollector")
    }
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(pool) = (self.0)() else {
            return Ok(());
        };
        let gauges = [
            (
                "roleplane_store_pool_connections",
                "Connections the store's pool holds open, busy or idle",
                pool.size,
            ),
            (
                "roleplane_store_pool_idle_connections",
                "Open connections of the store's pool that no query uses",
                pool.idle,
            ),
            (
                "roleplane_store_pool_max_connections",
                "The most connections the store's pool opens",
                pool.max,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::from(value));
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
