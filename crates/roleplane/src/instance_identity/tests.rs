//! The signer's output read back with the same crates a verifier would use: the plain
//! signature, the PKCS#7 structure field by field, and the certificate.

use std::time::{Duration, UNIX_EPOCH};

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::{Digest as _, Sha256};
use rsa::signature::Verifier as _;
use x509_cert::der::asn1::OctetString;
use x509_cert::der::oid::db::{rfc5911, rfc5912};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::spki::DecodePublicKey as _;

use super::{IdentitySigner, SignError, certificate, stored, test_signer};
use crate::credentials::SealingKey;

const DOCUMENT: &[u8] =
    b"{\n  \"accountId\" : \"123456789012\",\n  \"instanceId\" : \"i-0aaaaaaaaaaaaaaaa\"\n}";

fn verifying_key(signer: &IdentitySigner) -> VerifyingKey<Sha256> {
    let spki = signer
        .certificate()
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    VerifyingKey::<Sha256>::from_public_key_der(&spki).unwrap()
}

fn signed_data(der: &[u8]) -> SignedData {
    let info = ContentInfo::from_der(der).unwrap();
    assert_eq!(info.content_type, rfc5911::ID_SIGNED_DATA);
    info.content.decode_as::<SignedData>().unwrap()
}

#[test]
fn the_plain_signature_is_rsa_sha256_over_the_document() {
    let signer = test_signer();
    let signatures = signer.sign(DOCUMENT).unwrap();
    let raw = signatures.signature();
    assert_eq!(raw.len(), 256);
    let signature = Signature::try_from(raw).unwrap();
    let key = verifying_key(&signer);
    key.verify(DOCUMENT, &signature).unwrap();
    let mut tampered = DOCUMENT.to_vec();
    tampered[5] ^= 1;
    assert!(key.verify(&tampered, &signature).is_err());
}

#[test]
fn the_pkcs7_carries_the_document_and_one_sha256_signer_named_by_the_certificate() {
    let signer = test_signer();
    let signatures = signer.sign(DOCUMENT).unwrap();
    let der = signatures.rsa2048();
    assert_eq!(der, signatures.pkcs7());
    let data = signed_data(der);

    assert!(data.certificates.is_none(), "AWS embeds no certificate");
    let digests: Vec<_> = data.digest_algorithms.iter().map(|a| a.oid).collect();
    assert_eq!(digests, [rfc5912::ID_SHA_256]);
    assert_eq!(data.encap_content_info.econtent_type, rfc5911::ID_DATA);
    let content = data.encap_content_info.econtent.as_ref().unwrap();
    assert_eq!(
        content.decode_as::<OctetString>().unwrap().as_bytes(),
        DOCUMENT
    );

    let signers: Vec<_> = data.signer_infos.0.iter().collect();
    assert_eq!(signers.len(), 1);
    let info = signers[0];
    let tbs = signer.certificate().tbs_certificate();
    match &info.sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            assert_eq!(&id.issuer, tbs.issuer());
            assert_eq!(&id.serial_number, tbs.serial_number());
        }
        other => panic!("signer named by {other:?}"),
    }
    assert_eq!(info.digest_alg.oid, rfc5912::ID_SHA_256);
    assert_eq!(
        info.signature_algorithm.oid,
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION
    );

    // The signed attributes hold the document's digest and are what the signature covers.
    let attributes = info.signed_attrs.as_ref().unwrap();
    let value = |oid| {
        attributes
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
            .unwrap()
            .clone()
    };
    let digest = value(rfc5911::ID_MESSAGE_DIGEST)
        .decode_as::<OctetString>()
        .unwrap();
    assert_eq!(digest.as_bytes(), Sha256::digest(DOCUMENT).as_slice());
    assert!(attributes.iter().any(|a| a.oid == rfc5911::ID_SIGNING_TIME));
    assert_eq!(
        value(rfc5911::ID_CONTENT_TYPE)
            .decode_as::<x509_cert::der::oid::ObjectIdentifier>()
            .unwrap(),
        rfc5911::ID_DATA
    );
    let signature = Signature::try_from(info.signature.as_bytes()).unwrap();
    verifying_key(&signer)
        .verify(&attributes.to_der().unwrap(), &signature)
        .unwrap();
}

#[test]
fn the_certificate_is_self_issued_for_the_key_and_does_not_expire() {
    let signer = test_signer();
    let cert = signer.certificate();
    let tbs = cert.tbs_certificate();
    assert_eq!(tbs.issuer(), tbs.subject());
    assert_eq!(tbs.subject().to_string(), certificate::SUBJECT);
    assert_eq!(
        tbs.validity().not_after.to_date_time().year(),
        9999,
        "RFC 5280's no-expiry date"
    );
    assert!(
        tbs.serial_number().as_bytes()[0] & 0x80 == 0,
        "a positive serial"
    );
    // Its own signature verifies with its own key.
    let signature = Signature::try_from(cert.signature().raw_bytes()).unwrap();
    verifying_key(&signer)
        .verify(&tbs.to_der().unwrap(), &signature)
        .unwrap();
    let pem = certificate::to_pem(cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(&certificate::from_pem(&pem).unwrap(), cert);
}

#[test]
fn a_stored_key_comes_back_only_with_its_own_certificate() {
    let signer = test_signer();
    let pkcs8 = signer.private_key_pkcs8().unwrap();
    let again = IdentitySigner::from_parts(&pkcs8, signer.certificate().clone()).unwrap();
    assert_eq!(again.certificate(), signer.certificate());
    // A certificate over another key is refused, not served beside the wrong signatures.
    let other = IdentitySigner::generate(UNIX_EPOCH + Duration::from_secs(1_800_000_000)).unwrap();
    assert!(matches!(
        IdentitySigner::from_parts(&pkcs8, other.certificate().clone()),
        Err(SignError::Mismatch)
    ));
}

#[tokio::test]
async fn the_store_keeps_one_key_sealed_under_the_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::SqliteStore::open(dir.path()).await.unwrap();
    let master = SealingKey::generate().unwrap();
    assert!(stored::certificate(&store).await.unwrap().is_none());

    let first = stored::load_or_create(&store, &master).await.unwrap();
    let again = stored::load_or_create(&store, &master).await.unwrap();
    assert_eq!(again.certificate(), first.certificate());
    assert_eq!(
        stored::certificate(&store).await.unwrap().as_ref(),
        Some(first.certificate())
    );
    // The private key is not in the store in the clear.
    let row = store::Store::deployment_key(&store, stored::KEY_NAME)
        .await
        .unwrap()
        .unwrap();
    let pkcs8 = first.private_key_pkcs8().unwrap();
    assert!(
        !row.sealed_key
            .windows(64)
            .any(|w| pkcs8.windows(64).any(|p| p == w))
    );
    // Another master key cannot open it.
    let wrong = SealingKey::generate().unwrap();
    assert!(stored::load_or_create(&store, &wrong).await.is_err());
}
