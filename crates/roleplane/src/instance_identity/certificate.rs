//! The deployment's identity certificate: self-signed over the signing key, so that
//! `openssl smime -verify -certfile` finds the signer by the issuer and serial number the
//! PKCS#7 names, and `openssl x509 -pubkey` gives the key `signature` verifies against.

use std::str::FromStr as _;
use std::time::SystemTime;

use rsa::pkcs1v15::SigningKey;
use rsa::sha2::Sha256;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{DecodePem as _, EncodePem as _};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, builder};

use super::SignError;

/// Subject and issuer of the certificate.
pub const SUBJECT: &str = "CN=roleplane instance identity";

/// A certificate for `key` signed by itself, valid from `now` with no expiry (RFC 5280's
/// 99991231235959Z): instances keep their documents for years, and nothing rotates the key.
pub fn self_signed(key: &SigningKey<Sha256>, now: SystemTime) -> Result<Certificate, SignError> {
    let public = SubjectPublicKeyInfo::from_key(&key.as_ref().to_public_key())?;
    let validity = Validity::new(Time::try_from(now)?, Time::INFINITY);
    let profile = SignerProfile {
        subject: Name::from_str(SUBJECT)?,
    };
    let builder = CertificateBuilder::new(profile, random_serial()?, validity, public)?;
    Ok(builder.build::<_, rsa::pkcs1v15::Signature>(key)?)
}

/// The certificate in PEM, as `roleplane ca show` prints it.
pub fn to_pem(certificate: &Certificate) -> Result<String, SignError> {
    Ok(certificate.to_pem(LineEnding::LF)?)
}

/// A certificate from PEM (tests and operators' files).
pub fn from_pem(pem: &str) -> Result<Certificate, SignError> {
    Ok(Certificate::from_pem(pem)?)
}

/// 16 random bytes, positive and without a leading zero byte (RFC 5280: at most 20 octets).
fn random_serial() -> Result<SerialNumber, SignError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| SignError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::new(&bytes)?)
}

/// An end-entity certificate that signs and nothing else, issued by itself.
struct SignerProfile {
    subject: Name,
}

impl BuilderProfile for SignerProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut extensions = Vec::with_capacity(3);
        let basic = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        extensions.push(basic.to_extension(subject, &extensions)?);
        let usage = KeyUsage(KeyUsages::DigitalSignature.into());
        extensions.push(usage.to_extension(subject, &extensions)?);
        let key_id = SubjectKeyIdentifier::try_from(spk)?;
        extensions.push(key_id.to_extension(subject, &extensions)?);
        Ok(extensions)
    }
}
