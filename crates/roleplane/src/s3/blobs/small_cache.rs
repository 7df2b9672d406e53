//! Small blobs' bytes kept in memory. A blob never changes once written (a new object gets a
//! new blob), so a cached copy is correct for as long as the blob exists and needs no
//! invalidation beyond its deletion: a GET of a hot small object then costs no trip to a
//! blocking thread, which was most of its cost (docs/BENCHMARKS.md, S3). Bounded: entries of
//! at most [`MAX_ENTRY`] bytes, [`MAX_TOTAL`] in all; a full cache starts over.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

pub const MAX_ENTRY: usize = 64 * 1024;
pub const MAX_TOTAL: usize = 64 << 20;

#[derive(Debug, Default)]
pub struct SmallBlobCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    blobs: HashMap<String, Bytes>,
    bytes: usize,
}

impl SmallBlobCache {
    /// The blob's bytes, or the `range` of them, if cached.
    pub fn get(&self, id: &str, range: Option<&std::ops::Range<u64>>) -> Option<Bytes> {
        let inner = self.inner.lock().ok()?;
        let whole = inner.blobs.get(id)?;
        match range {
            None => Some(whole.clone()),
            Some(r) => {
                let start = usize::try_from(r.start).ok()?;
                let end = usize::try_from(r.end).ok()?;
                (start <= end && end <= whole.len()).then(|| whole.slice(start..end))
            }
        }
    }

    /// Keeps a whole blob's bytes if they are small enough.
    pub fn insert(&self, id: &str, bytes: &Bytes) {
        if bytes.len() > MAX_ENTRY {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.bytes + bytes.len() > MAX_TOTAL {
            inner.blobs.clear();
            inner.bytes = 0;
        }
        if let Some(old) = inner.blobs.insert(id.to_owned(), bytes.clone()) {
            inner.bytes -= old.len();
        }
        inner.bytes += bytes.len();
    }

    pub fn remove(&self, id: &str) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(old) = inner.blobs.remove(id)
        {
            inner.bytes -= old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_blobs_are_kept_whole_and_served_in_ranges() {
        let cache = SmallBlobCache::default();
        cache.insert("a", &Bytes::from_static(b"hello world"));
        assert_eq!(cache.get("a", None).unwrap(), "hello world");
        assert_eq!(cache.get("a", Some(&(6..11))).unwrap(), "world");
        assert_eq!(cache.get("a", Some(&(6..12))), None);
        cache.remove("a");
        assert_eq!(cache.get("a", None), None);
    }

    #[test]
    fn large_blobs_are_not_kept_and_a_full_cache_starts_over() {
        let cache = SmallBlobCache::default();
        cache.insert("big", &Bytes::from(vec![0; MAX_ENTRY + 1]));
        assert_eq!(cache.get("big", None), None);
        let entry = Bytes::from(vec![1; MAX_ENTRY]);
        for i in 0..MAX_TOTAL / MAX_ENTRY {
            cache.insert(&i.to_string(), &entry);
        }
        assert!(cache.get("0", None).is_some());
        cache.insert("one-more", &entry);
        assert_eq!(cache.get("0", None), None);
        assert!(cache.get("one-more", None).is_some());
    }
}
