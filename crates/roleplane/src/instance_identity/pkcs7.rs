//! The PKCS#7 SignedData EC2 serves as `rsa2048`, built with `cms`: the document embedded as
//! `id-data` (so `openssl smime -verify` prints it, and verifies it against `-content` too),
//! one signer named by the certificate's issuer and serial number, SHA-256 with the
//! contentType, signingTime and messageDigest signed attributes, and no certificates (AWS
//! publishes its certificates apart, hence `-certfile` in its verification steps).

use cms::builder::{SignedDataBuilder, SignerInfoBuilder, create_signing_time_attribute};
use cms::cert::IssuerAndSerialNumber;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use rsa::pkcs1v15::SigningKey;
use rsa::sha2::Sha256;
use x509_cert::Certificate;
use x509_cert::der::asn1::OctetString;
use x509_cert::der::oid::db::rfc5911::ID_DATA;
use x509_cert::der::oid::db::rfc5912::ID_SHA_256;
use x509_cert::der::{Any, Encode as _};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::SignError;

/// `document` signed by `key`, whose certificate is `certificate`: a DER `ContentInfo`.
pub fn signed_data(
    key: &SigningKey<Sha256>,
    certificate: &Certificate,
    document: &[u8],
) -> Result<Vec<u8>, SignError> {
    let content = EncapsulatedContentInfo {
        econtent_type: ID_DATA,
        econtent: Some(Any::encode_from(&OctetString::new(document)?)?),
    };
    // AWS's structures leave the SHA-256 identifier's parameters out, as RFC 5754 asks.
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    };
    let tbs = certificate.tbs_certificate();
    let signer = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: tbs.issuer().clone(),
        serial_number: tbs.serial_number().clone(),
    });
    let mut signer_info = SignerInfoBuilder::new(signer, sha256.clone(), &content, None)?;
    signer_info.add_signed_attribute(create_signing_time_attribute()?)?;
    let mut builder = SignedDataBuilder::new(&content);
    builder
        .add_digest_algorithm(sha256)?
        .add_signer_info::<_, rsa::pkcs1v15::Signature>(signer_info, key)?;
    Ok(builder.build()?.to_der()?)
}
