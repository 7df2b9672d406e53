//! The identity key in the store, as a deployment key that every server on the store shares:
//! the private key (PKCS#8) sealed under the master key, the certificate (DER) in the clear.

use std::time::SystemTime;

use anyhow::Context as _;
use store::{DeploymentKey, NewDeploymentKey, Store};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};

use super::IdentitySigner;
use crate::credentials::SealingKey;

/// The deployment key's name in the store.
pub const KEY_NAME: &str = "instance-identity";
/// Binds the sealed key to its purpose: a sealed value of another use does not open as this.
const SEAL_AAD: &[u8] = b"deployment-key:instance-identity";

/// The deployment's signer: the stored key, or on first start a new one, stored before it is
/// used. Servers starting together on one store all end up with the first key written.
pub async fn load_or_create<S: Store>(
    store: &S,
    master: &SealingKey,
) -> anyhow::Result<IdentitySigner> {
    if let Some(stored) = store.deployment_key(KEY_NAME).await? {
        return open(master, &stored);
    }
    // Finding two 1024-bit primes takes a while: off the async threads.
    let fresh = tokio::task::spawn_blocking(|| IdentitySigner::generate(SystemTime::now()))
        .await
        .context("generating the instance identity key")??;
    let sealed_key = master.seal(SEAL_AAD, &fresh.private_key_pkcs8()?)?;
    let stored = store
        .add_deployment_key(NewDeploymentKey {
            name: KEY_NAME.to_owned(),
            sealed_key,
            certificate: fresh.certificate().to_der()?,
        })
        .await?;
    open(master, &stored)
}

/// The deployment's certificate, read without the master key; `None` until a server has
/// created the key.
pub async fn certificate<S: Store>(store: &S) -> anyhow::Result<Option<Certificate>> {
    match store.deployment_key(KEY_NAME).await? {
        Some(stored) => Ok(Some(
            Certificate::from_der(&stored.certificate)
                .context("decoding the stored instance identity certificate")?,
        )),
        None => Ok(None),
    }
}

fn open(master: &SealingKey, stored: &DeploymentKey) -> anyhow::Result<IdentitySigner> {
    let pkcs8 = master
        .open(SEAL_AAD, &stored.sealed_key)
        .context("opening the instance identity key: is this the data dir's master key?")?;
    let certificate = Certificate::from_der(&stored.certificate)
        .context("decoding the stored instance identity certificate")?;
    Ok(IdentitySigner::from_parts(&pkcs8, certificate)?)
}
