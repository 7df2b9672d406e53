//! Instance identity document signing (decision 0011): one RSA-2048 key per deployment, held by
//! the control plane only, signs every instance's identity document the three ways IMDS serves
//! (`signature`, `rsa2048`, `pkcs7`).
//!
//! - [`signer`]: [`IdentitySigner`], the key in memory, and what it makes of one document.
//! - [`certificate`]: the key's self-signed certificate, which operators verify against
//!   (`roleplane ca show`).
//! - [`pkcs7`]: the PKCS#7 SignedData served as `rsa2048` and `pkcs7`.
//! - [`stored`]: the key in the store, sealed under the master key, created at first start.

pub mod certificate;
pub mod pkcs7;
pub mod signer;
pub mod stored;

pub use signer::{IdentitySigner, SignError};
#[cfg(test)]
mod tests;

/// One key for every test of this binary: generating RSA-2048 keys is slow in debug builds.
#[cfg(test)]
pub(crate) fn test_signer() -> std::sync::Arc<IdentitySigner> {
    static SIGNER: std::sync::OnceLock<std::sync::Arc<IdentitySigner>> = std::sync::OnceLock::new();
    SIGNER
        .get_or_init(|| {
            std::sync::Arc::new(
                IdentitySigner::generate(std::time::SystemTime::now()).expect("a test key"),
            )
        })
        .clone()
}
