//! Where an issuer's keys come from: the operator's key-set file for that issuer
//! (`--oidc-jwks ISSUER=PATH`, for hosts without network), else discovery over HTTPS, kept in
//! a bounded cache.
//!
//! Only issuers that a provider of the role's account names are ever fetched (the caller
//! finds the provider first), so an unauthenticated caller cannot make the server fetch
//! arbitrary URLs. Fetches are rate-limited per issuer ([`RETRY_AFTER`]) and in number
//! ([`CONCURRENT_FETCHES`]), and the cache holds at most [`MAX_CACHED`] issuers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Semaphore;

use super::discovery::{FETCH_TIMEOUT, Fetcher};

/// A fetched key set is used this long before it is fetched again.
const FRESH_FOR: Duration = Duration::from_secs(3600);
/// At most one fetch per issuer in this time, even when a token names an unknown key (keys
/// rotate; a forged `kid` must not make us fetch on every call).
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// Issuers whose keys are kept.
pub const MAX_CACHED: usize = 1024;
/// Fetches in flight at once; a call that finds none free uses what is cached.
pub const CONCURRENT_FETCHES: usize = 4;
/// The largest key-set file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why no key set is available for an issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The issuer could not be reached, or did not answer with a key set.
    Unreachable,
}

#[derive(Debug)]
struct Cached {
    keys: Option<Arc<JwkSet>>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// Held by the one fetch in flight.
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl Cached {
    /// Fresh, and holding the key the token names (if it names one).
    fn usable(&self, now: Instant, kid: Option<&str>) -> bool {
        let fresh = self
            .fetched_at
            .is_some_and(|at| now.duration_since(at) < FRESH_FOR);
        let has_kid = self
            .keys
            .as_ref()
            .is_some_and(|k| kid.is_none_or(|kid| k.find(kid).is_some()));
        fresh && has_kid
    }
}

/// The issuers' keys: the operator's files, and what discovery found.
pub struct IssuerKeys {
    /// By issuer without its scheme.
    files: HashMap<String, Arc<JwkSet>>,
    fetcher: Option<Fetcher>,
    /// By issuer and the thumbprints it was fetched under: a provider with other
    /// thumbprints (another account's, perhaps) does not use keys fetched under them.
    cache: Mutex<HashMap<(String, Vec<String>), Cached>>,
    fetching: Semaphore,
}

impl Default for IssuerKeys {
    /// No files, and no discovery (in-process tests).
    fn default() -> Self {
        IssuerKeys::new(HashMap::new(), None)
    }
}

/// An issuer as a token's `iss` or the operator names it, without `https://` or a final `/`
/// (providers are found by the URL as created, so the form is only used for the files).
pub fn issuer_key(issuer: &str) -> String {
    issuer.strip_prefix("https://").unwrap_or(issuer).to_owned()
}

impl IssuerKeys {
    pub fn new(files: HashMap<String, Arc<JwkSet>>, fetcher: Option<Fetcher>) -> Self {
        IssuerKeys {
            files,
            fetcher,
            cache: Mutex::new(HashMap::new()),
            fetching: Semaphore::new(CONCURRENT_FETCHES),
        }
    }

    /// Reads `ISSUER=PATH` pairs: each file is a JWK set (`{"keys": [...]}`).
    pub fn read_files(pairs: &[String]) -> anyhow::Result<HashMap<String, Arc<JwkSet>>> {
        let mut files = HashMap::new();
        for pair in pairs {
            let Some((issuer, path)) = pair.split_once('=') else {
                anyhow::bail!("--oidc-jwks wants ISSUER=PATH, got {pair:?}");
            };
            let keys = read_key_file(Path::new(path)).map_err(|e| {
                anyhow::anyhow!("reading the key set for {issuer} from {path}: {e}")
            })?;
            files.insert(issuer_key(issuer), Arc::new(keys));
        }
        Ok(files)
    }

    /// The key set for `issuer` (without scheme). `kid` is the key the token names: a fresh
    /// set without it is fetched again (keys rotate), at most once per [`RETRY_AFTER`].
    pub async fn keys(
        &self,
        issuer: &str,
        thumbprints: &[String],
        kid: Option<&str>,
    ) -> Result<Arc<JwkSet>, KeyError> {
        if let Some(keys) = self.files.get(issuer) {
            return Ok(keys.clone());
        }
        let Some(fetcher) = &self.fetcher else {
            return Err(KeyError::Unreachable);
        };
        let mut pins: Vec<String> = thumbprints.iter().map(|t| t.to_lowercase()).collect();
        pins.sort();
        let key = (issuer.to_owned(), pins);
        // Callers for one issuer queue behind the one fetch in flight, then use its result.
        let gate = {
            let mut cache = self.lock();
            if !cache.contains_key(&key) {
                evict_oldest(&mut cache);
            }
            let cached = cache.entry(key.clone()).or_insert_with(|| Cached {
                keys: None,
                fetched_at: None,
                attempted_at: None,
                gate: Arc::default(),
            });
            if cached.usable(Instant::now(), kid) {
                return cached.keys.clone().ok_or(KeyError::Unreachable);
            }
            cached.gate.clone()
        };
        let Ok(_turn) = tokio::time::timeout(FETCH_TIMEOUT, gate.lock()).await else {
            return Err(KeyError::Unreachable);
        };
        let stale = {
            let mut cache = self.lock();
            let Some(cached) = cache.get_mut(&key) else {
                return Err(KeyError::Unreachable);
            };
            let now = Instant::now();
            let recently_tried = cached
                .attempted_at
                .is_some_and(|at| now.duration_since(at) < RETRY_AFTER);
            if cached.usable(now, kid) || recently_tried {
                return cached.keys.clone().ok_or(KeyError::Unreachable);
            }
            cached.attempted_at = Some(now);
            cached.keys.clone()
        };
        let Ok(_permit) = self.fetching.try_acquire() else {
            return stale.ok_or(KeyError::Unreachable);
        };
        match fetcher.jwks(issuer, thumbprints).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                let mut cache = self.lock();
                if let Some(cached) = cache.get_mut(&key) {
                    cached.keys = Some(keys.clone());
                    cached.fetched_at = Some(Instant::now());
                }
                Ok(keys)
            }
            Err(error) => {
                tracing::warn!(issuer, %error, "fetching an OIDC issuer's keys");
                stale.ok_or(KeyError::Unreachable)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Vec<String>), Cached>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn evict_oldest(cache: &mut HashMap<(String, Vec<String>), Cached>) {
    while cache.len() >= MAX_CACHED {
        let Some(oldest) = cache
            .iter()
            .min_by_key(|(_, c)| c.attempted_at.or(c.fetched_at))
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        cache.remove(&oldest);
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<JwkSet> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_FILE_BYTES {
        anyhow::bail!("larger than {MAX_FILE_BYTES} bytes");
    }
    Ok(serde_json::from_slice(&std::fs::read(path)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_answer_for_their_issuer_and_nothing_is_fetched_without_discovery() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, r#"{"keys": []}"#).unwrap();
        let files =
            IssuerKeys::read_files(&[format!("https://issuer.example/k8s={}", path.display())])
                .unwrap();
        let keys = IssuerKeys::new(files, None);
        assert!(keys.keys("issuer.example/k8s", &[], None).await.is_ok());
        assert_eq!(
            keys.keys("other.example", &[], None).await.err(),
            Some(KeyError::Unreachable)
        );
        assert!(IssuerKeys::read_files(&["no-equals-sign".to_owned()]).is_err());
        assert!(IssuerKeys::read_files(&["i=/nonexistent/jwks.json".to_owned()]).is_err());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let mut cache = HashMap::new();
        let start = Instant::now();
        for i in 0..MAX_CACHED + 10 {
            evict_oldest(&mut cache);
            cache.insert(
                (format!("issuer-{i}"), Vec::new()),
                Cached {
                    keys: None,
                    fetched_at: None,
                    attempted_at: Some(start + Duration::from_millis(i as u64)),
                    gate: Arc::default(),
                },
            );
        }
        assert_eq!(cache.len(), MAX_CACHED);
        assert!(!cache.contains_key(&("issuer-0".to_owned(), Vec::new())));
    }
}
