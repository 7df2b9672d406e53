//! [`IdentitySigner`]: the deployment's identity key and certificate in memory.

use std::time::SystemTime;

use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use x509_cert::Certificate;
use x509_cert::spki::EncodePublicKey as _;
use zeroize::Zeroizing;

use super::{certificate, pkcs7};

/// The modulus size EC2's `rsa2048` signature is named after.
pub const KEY_BITS: usize = 2048;

/// Signs identity documents. The private key never leaves this process unsealed, and neither
/// `Debug` nor any error shows it.
pub struct IdentitySigner {
    key: SigningKey<Sha256>,
    certificate: Certificate,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("generating the RSA key: {0}")]
    Generate(rsa::Error),
    #[error("RSA signing failed: {0}")]
    Sign(#[from] rsa::signature::Error),
    #[error("encoding: {0}")]
    Der(#[from] x509_cert::der::Error),
    #[error("encoding the public key: {0}")]
    Spki(#[from] x509_cert::spki::Error),
    #[error("building the certificate: {0}")]
    Certificate(#[from] x509_cert::builder::Error),
    #[error("building the PKCS#7 structure: {0}")]
    Pkcs7(#[from] cms::builder::Error),
    #[error("the private key does not decode: {0}")]
    Key(#[from] rsa::pkcs8::Error),
    #[error("the certificate names another key than the private key")]
    Mismatch,
    #[error("the operating system's random source failed")]
    Random,
}

impl IdentitySigner {
    /// A fresh key and its self-signed certificate, valid from `now` on.
    pub fn generate(now: SystemTime) -> Result<Self, SignError> {
        let private =
            rsa::PrivateKey::new(&mut getrandom::SysRng, KEY_BITS).map_err(SignError::Generate)?;
        let key = SigningKey::<Sha256>::new(private);
        let certificate = certificate::self_signed(&key, now)?;
        Ok(Self { key, certificate })
    }

    /// A stored key (PKCS#8 DER) and its certificate; refuses a certificate of another key.
    pub fn from_parts(pkcs8: &[u8], certificate: Certificate) -> Result<Self, SignError> {
        let key = SigningKey::<Sha256>::new(rsa::PrivateKey::from_pkcs8_der(pkcs8)?);
        let public = key.as_ref().to_public_key().to_public_key_der()?;
        let named = x509_cert::der::Encode::to_der(
            certificate.tbs_certificate().subject_public_key_info(),
        )?;
        if public.as_bytes() != named.as_slice() {
            return Err(SignError::Mismatch);
        }
        Ok(Self { key, certificate })
    }

    /// The private key as PKCS#8 DER, to be sealed before it is stored.
    pub fn private_key_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, SignError> {
        let document = self.key.as_ref().to_pkcs8_der()?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// What IMDS serves for `document`: the RSA-SHA256 (PKCS #1 v1.5) signature over its bytes,
    /// and one PKCS#7 SignedData as both `rsa2048` and `pkcs7` (EC2 signs `pkcs7` with DSA and
    /// SHA-1 under another certificate; see decision 0011).
    pub fn sign(&self, document: &[u8]) -> Result<imds::IdentitySignatures, SignError> {
        let signature = self.key.try_sign(document)?.to_vec();
        let signed_data = pkcs7::signed_data(&self.key, &self.certificate, document)?;
        Ok(imds::IdentitySignatures::new(
            signature,
            signed_data.clone(),
            signed_data,
        ))
    }
}

impl std::fmt::Debug for IdentitySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySigner")
            .field(
                "serial",
                &self.certificate.tbs_certificate().serial_number(),
            )
            .finish_non_exhaustive()
    }
}
