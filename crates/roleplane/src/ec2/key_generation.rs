//! CreateKeyPair's new keys: made from the operating system's random source, the private half
//! encoded as EC2 hands it out (once, in the response) and then dropped, zeroized.
//!
//! - RSA: 2048 bits, PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`); fingerprint, as EC2
//!   computes it for keys it creates, the SHA-1 of the private key's PKCS#8 DER in
//!   colon-separated hex (the User Guide's `openssl pkcs8 … -topk8 -nocrypt | openssl sha1 -c`).
//! - ED25519: the OpenSSH private key format; fingerprint the base64 SHA-256 of the public key
//!   blob, as for imported keys (`key_pairs::parse_openssh`).
//!
//! PuTTY's `ppk` format is not produced: no maintained crate writes it (ssh-key only reads it),
//! and decision 0012 explains why the server does not hand-roll one.

use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use sha1::{Digest as _, Sha1};
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::public::{KeyData, RsaPublicKey};
use zeroize::Zeroizing;

use super::key_pairs::{OpenSshKey, parse_openssh};

/// The modulus size of EC2's RSA key pairs.
pub const RSA_BITS: usize = 2048;

/// A generated key pair: what is stored and what the caller receives once.
pub struct Generated {
    /// The public half as ImportKeyPair would have parsed it.
    pub public: OpenSshKey,
    /// EC2's fingerprint for a key it created.
    pub fingerprint: String,
    /// `keyMaterial`; never stored, logged or audited.
    pub private_material: Zeroizing<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the operating system's random source failed")]
    Random,
    #[error("generating the RSA key: {0}")]
    Rsa(#[from] rsa::Error),
    #[error("encoding the key: {0}")]
    Encoding(String),
}

fn encoding(err: impl std::fmt::Display) -> GenerateError {
    GenerateError::Encoding(err.to_string())
}

/// A new key of `key_type` (`rsa` or `ed25519`), its OpenSSH comment `name`.
pub fn generate(key_type: &str, name: &str) -> Result<Generated, GenerateError> {
    match key_type {
        "ed25519" => ed25519(name),
        _ => rsa(),
    }
}

fn rsa() -> Result<Generated, GenerateError> {
    let private = rsa::PrivateKey::new(&mut getrandom::SysRng, RSA_BITS)?;
    let material = private.to_pkcs1_pem(LineEnding::LF).map_err(encoding)?;
    let pkcs8 = private.to_pkcs8_der().map_err(encoding)?;
    let digest = Sha1::digest(pkcs8.as_bytes());
    let fingerprint = digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let public = RsaPublicKey::try_from(private.to_public_key()).map_err(encoding)?;
    Ok(Generated {
        public: openssh_public(KeyData::Rsa(public))?,
        fingerprint,
        private_material: Zeroizing::new(material.to_string()),
    })
}

fn ed25519(name: &str) -> Result<Generated, GenerateError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|_| GenerateError::Random)?;
    let keypair = Ed25519Keypair::from_seed(&seed);
    let public_data = KeyData::Ed25519(keypair.public);
    // The comment is the key pair's name, as on the public line IMDS serves (UNCONFIRMED: what
    // EC2 puts there).
    let private =
        ssh_key::PrivateKey::new(KeypairData::Ed25519(keypair), name).map_err(encoding)?;
    let material = private
        .to_openssh(ssh_key::LineEnding::LF)
        .map_err(encoding)?;
    let public = openssh_public(public_data)?;
    Ok(Generated {
        fingerprint: public.fingerprint.clone(),
        public,
        private_material: material,
    })
}

/// The public key through the same parser ImportKeyPair uses, so both paths store the same form.
fn openssh_public(data: KeyData) -> Result<OpenSshKey, GenerateError> {
    let line = ssh_key::PublicKey::new(data, "")
        .to_openssh()
        .map_err(encoding)?;
    parse_openssh(&line).map_err(encoding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::traits::PublicKeyParts as _;

    #[test]
    fn rsa_material_is_pkcs1_pem_of_the_stored_public_key() {
        let generated = generate("rsa", "k").unwrap();
        let pem = generated.private_material.as_str();
        assert!(
            pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
            "{pem}"
        );
        assert!(pem.trim_end().ends_with("-----END RSA PRIVATE KEY-----"));
        let private = rsa::PrivateKey::from_pkcs1_pem(pem).unwrap();
        assert_eq!(private.n().bit_width(), RSA_BITS as u32);
        assert_eq!(generated.public.key_type, "rsa");
        // The stored blob carries the same modulus.
        let blob = &generated.public.blob;
        let modulus = private.n().to_be_bytes_trimmed_vartime();
        assert!(blob.windows(modulus.len()).any(|w| w == modulus.as_ref()));
        // SHA-1 of PKCS#8 DER: 20 bytes in colon-separated lowercase hex.
        let fp = &generated.fingerprint;
        assert_eq!(fp.len(), 59, "{fp}");
        assert!(fp.split(':').all(|b| {
            b.len() == 2
                && b.bytes()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }));
    }

    #[test]
    fn ed25519_material_is_openssh_and_keys_differ() {
        let a = generate("ed25519", "k").unwrap();
        let b = generate("ed25519", "k").unwrap();
        assert_ne!(a.public.blob, b.public.blob, "the random source is used");
        let pem = a.private_material.as_str();
        assert!(
            pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
            "{pem}"
        );
        let parsed = ssh_key::PrivateKey::from_openssh(pem).unwrap();
        let public = parsed.public_key().to_openssh().unwrap();
        assert_eq!(parse_openssh(&public).unwrap(), a.public);
        assert_eq!(a.public.key_type, "ed25519");
        assert_eq!(
            a.fingerprint,
            STANDARD.encode(<sha2::Sha256 as sha2::Digest>::digest(&a.public.blob))
        );
    }
}
