//! Hits and misses of the in-memory caches in front of the store and the signer: each cache
//! holds its own [`CacheCounters`], handed to it when it is made.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// The caches counted, as their `cache` label says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Long-term access keys (`request::key_cache`).
    AccessKeys,
    /// Host agents' keys (`request::key_cache`, under the EC2 counter).
    HostAgentKeys,
    /// Principals' parsed identity policies (`request::policy_cache`).
    Policies,
    /// Instance role credential sets (`metadata::credentials`); a miss issues a set.
    ImdsCredentials,
    /// Instance profiles' roles as the metadata service resolved them.
    ImdsProfileRoles,
    /// Instance identity document signatures (`metadata::signed_documents`); a miss signs.
    IdentitySignatures,
    /// S3 buckets' records and parsed policies (`s3::access`).
    S3Buckets,
    /// S3 object records read to authorize a request (`s3::access`).
    S3Objects,
}

impl Cache {
    const ALL: [Cache; 8] = [
        Cache::AccessKeys,
        Cache::HostAgentKeys,
        Cache::Policies,
        Cache::ImdsCredentials,
        Cache::ImdsProfileRoles,
        Cache::IdentitySignatures,
        Cache::S3Buckets,
        Cache::S3Objects,
    ];

    fn label(self) -> &'static str {
        match self {
            Cache::AccessKeys => "access_keys",
            Cache::HostAgentKeys => "host_agent_keys",
            Cache::Policies => "policies",
            Cache::ImdsCredentials => "imds_credentials",
            Cache::ImdsProfileRoles => "imds_profile_roles",
            Cache::IdentitySignatures => "identity_signatures",
            Cache::S3Buckets => "s3_buckets",
            Cache::S3Objects => "s3_objects",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CacheLabels {
    cache: &'static str,
    result: &'static str,
}

/// One cache's two counters (clones share the values). A default one counts into nothing
/// registered: for caches made outside a server (tests, tools).
#[derive(Debug, Clone, Default)]
pub struct CacheCounters {
    hits: Counter,
    misses: Counter,
}

impl CacheCounters {
    /// A lookup found what it looked for (`true`) or went to the source.
    pub fn lookup(&self, hit: bool) {
        if hit {
            self.hits.inc();
        } else {
            self.misses.inc();
        }
    }
}

#[derive(Debug, Clone)]
pub struct CacheMetrics {
    pub family: Family<CacheLabels, Counter>,
}

impl Default for CacheMetrics {
    /// Every cache's series exist from the start, at 0.
    fn default() -> Self {
        let metrics = Self {
            family: Family::default(),
        };
        for cache in Cache::ALL {
            let _ = metrics.of(cache);
        }
        metrics
    }
}

impl CacheMetrics {
    /// The counters `cache` counts into.
    pub fn of(&self, cache: Cache) -> CacheCounters {
        let counter = |result| {
            self.family.get_or_create_owned(&CacheLabels {
                cache: cache.label(),
                result,
            })
        };
        CacheCounters {
            hits: counter("hit"),
            misses: counter("miss"),
        }
    }
}
