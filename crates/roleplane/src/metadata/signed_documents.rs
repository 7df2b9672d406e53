//! Identity document signatures per instance: each document is signed once (RSA-2048 costs
//! about a millisecond, two signatures per document) and then served from memory while the
//! instance's document stays the same.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use imds::IdentitySignatures;

use crate::instance_identity::{IdentitySigner, SignError};
use crate::metrics::CacheCounters;

/// The deployment's signer and the signatures it made, by instance ID.
pub struct SignedDocuments {
    signer: Arc<IdentitySigner>,
    signed: RwLock<HashMap<String, Signed>>,
    counters: CacheCounters,
}

/// The document an instance's signatures were made over.
struct Signed {
    document: Vec<u8>,
    signatures: Arc<IdentitySignatures>,
}

impl SignedDocuments {
    pub fn new(signer: Arc<IdentitySigner>) -> Self {
        Self::counted(signer, CacheCounters::default())
    }

    /// Signatures whose lookups count into `counters`: a miss is a document signed.
    pub fn counted(signer: Arc<IdentitySigner>, counters: CacheCounters) -> Self {
        Self {
            signer,
            signed: RwLock::default(),
            counters,
        }
    }

    /// The signatures of `document`, the instance's identity document as served: from memory
    /// when they were made over the same bytes, else made now.
    pub fn signatures(
        &self,
        instance_id: &str,
        document: &[u8],
    ) -> Result<Arc<IdentitySignatures>, SignError> {
        if let Some(signed) = self.read().get(instance_id)
            && signed.document == document
        {
            self.counters.lookup(true);
            return Ok(signed.signatures.clone());
        }
        self.counters.lookup(false);
        // Signed outside the lock; two first requests racing both sign, and either result is
        // valid.
        let signatures = Arc::new(self.signer.sign(document)?);
        self.write().insert(
            instance_id.to_owned(),
            Signed {
                document: document.to_vec(),
                signatures: signatures.clone(),
            },
        );
        Ok(signatures)
    }

    /// Drops what was signed for an instance that stopped running.
    pub fn forget_instance(&self, instance_id: &str) {
        self.write().remove(instance_id);
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Signed>> {
        // Whole-entry inserts and removes only: a poisoned map is still consistent.
        self.signed.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, Signed>> {
        self.signed.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_signed_once_and_again_when_it_changes() {
        let documents = SignedDocuments::new(crate::instance_identity::test_signer());
        let first = documents.signatures("i-1", b"{ one }").unwrap();
        let again = documents.signatures("i-1", b"{ one }").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let changed = documents.signatures("i-1", b"{ two }").unwrap();
        assert!(!Arc::ptr_eq(&first, &changed));
        assert_ne!(first.signature(), changed.signature());
        let other = documents.signatures("i-2", b"{ two }").unwrap();
        assert!(!Arc::ptr_eq(&changed, &other));
        documents.forget_instance("i-1");
        let fresh = documents.signatures("i-1", b"{ two }").unwrap();
        assert!(!Arc::ptr_eq(&changed, &fresh));
    }
}
