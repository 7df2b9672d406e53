//! First start of an empty data dir: the account, the `admin` user with full access, its key
//! pair and the shared-credentials file; and the session-token key ring.
//!
//! Each step is idempotent, so a start interrupted half-way completes on the next one, and
//! replicas starting together on one shared store (`--store`) agree: the first write of each
//! step wins and the others take what it wrote.

use std::path::PathBuf;

use anyhow::Context as _;
use store::{EntityKind, InlinePolicy, NewAccessKey, NewUser, Principal, Store, StoreError};

use crate::credentials::{KeyRing, SealingKey, new_secret_access_key};
use crate::datadir::DataDir;
use crate::request::seal_secret;

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_KEY_ID_ENV: &str = "ROLEPLANE_ADMIN_ACCESS_KEY_ID";
pub const ADMIN_SECRET_ENV: &str = "ROLEPLANE_ADMIN_SECRET_ACCESS_KEY";
const ADMIN_POLICY_NAME: &str = "AdministratorAccess";
const ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Creates the bootstrap account and its admin on first start (completing a start that was
/// interrupted half-way). Returns the credentials file's path when it was written now.
pub async fn ensure<S: Store>(
    store: &S,
    dir: &DataDir,
    master: &SealingKey,
    account_id: &str,
) -> anyhow::Result<Option<PathBuf>> {
    let accounts = store.list_accounts().await?;
    if !accounts.iter().any(|a| a.id == account_id) {
        if !accounts.is_empty() {
            // The data dir was bootstrapped under another account ID; leave it as it is.
            return Ok(None);
        }
        match store.create_account(account_id).await {
            // Another replica created it first.
            Ok(_)
            | Err(StoreError::AlreadyExists {
                kind: EntityKind::Account,
                ..
            }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match create_admin(store, master, account_id, admin_key_pair()?).await? {
        Some((key_id, secret)) => Ok(Some(dir.write_admin_credentials(&key_id, &secret)?)),
        None => Ok(None),
    }
}

/// Gives `account_id` an `admin` user with full access and, unless it already has one, the key
/// pair `(key_id, secret)`. Returns the pair when it was stored now.
pub async fn create_admin<S: Store>(
    store: &S,
    master: &SealingKey,
    account_id: &str,
    (key_id, secret): (String, String),
) -> anyhow::Result<Option<(String, String)>> {
    match store
        .create_user(account_id, NewUser::new(ADMIN_USER))
        .await
    {
        Ok(_) => {}
        Err(StoreError::AlreadyExists {
            kind: EntityKind::User,
            ..
        }) => {}
        Err(e) => return Err(e.into()),
    }
    let policy = InlinePolicy {
        name: ADMIN_POLICY_NAME.to_owned(),
        document: ADMIN_POLICY.to_owned(),
        size: policy::size_without_whitespace(ADMIN_POLICY) as u64,
    };
    store
        .put_inline_policy(account_id, Principal::User(ADMIN_USER), policy, u64::MAX)
        .await?;
    if !store
        .list_access_keys(account_id, ADMIN_USER)
        .await?
        .is_empty()
    {
        return Ok(None);
    }
    let secret_ciphertext = seal_secret(master, &key_id, &secret)?;
    let created = store
        .create_access_key(
            account_id,
            ADMIN_USER,
            NewAccessKey {
                access_key_id: key_id.clone(),
                secret_ciphertext,
            },
        )
        .await;
    match created {
        Ok(_) => Ok(Some((key_id, secret))),
        // Replicas starting together each gave the admin a key, up to the quota: the admin has
        // keys, which is all this step is for.
        Err(StoreError::LimitExceeded { .. }) => Ok(None),
        // Replicas starting together with the same key pair from the environment: another one
        // stored it first, for the admin if the admin now has keys.
        Err(StoreError::AlreadyExists {
            kind: EntityKind::AccessKey,
            ..
        }) if !store
            .list_access_keys(account_id, ADMIN_USER)
            .await?
            .is_empty() =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A fresh long-term key pair: `AKIA…` and a 40-character secret.
pub fn new_key_pair() -> anyhow::Result<(String, String)> {
    Ok((store::ids::access_key_id(), new_secret_access_key()?))
}

/// The bootstrap admin's key pair: from the environment if given, else fresh.
fn admin_key_pair() -> anyhow::Result<(String, String)> {
    match (
        std::env::var(ADMIN_KEY_ID_ENV),
        std::env::var(ADMIN_SECRET_ENV),
    ) {
        (Ok(id), Ok(secret)) => {
            anyhow::ensure!(
                id.len() == 20 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{ADMIN_KEY_ID_ENV} must be 20 letters and digits, like AKIAIOSFODNN7EXAMPLE"
            );
            anyhow::ensure!(
                (16..=128).contains(&secret.len()) && !secret.contains(char::is_whitespace),
                "{ADMIN_SECRET_ENV} must be 16 to 128 characters without spaces"
            );
            Ok((id, secret))
        }
        (Err(_), Err(_)) => new_key_pair(),
        _ => anyhow::bail!("set both {ADMIN_KEY_ID_ENV} and {ADMIN_SECRET_ENV}, or neither"),
    }
}

fn token_key_aad(kid: &str) -> Vec<u8> {
    [b"session-token-key:".as_slice(), kid.as_bytes()].concat()
}

/// Loads the session-token key ring, creating its first key on first start.
/// The newest key seals; older ones still open tokens issued under them.
pub async fn token_keyring<S: Store>(
    store: &S,
    master: &SealingKey,
    account_id: &str,
) -> anyhow::Result<KeyRing> {
    let mut stored = store.token_keys(account_id).await?;
    if stored.is_empty() {
        let key = SealingKey::generate()?;
        let kid = "1";
        let ciphertext = master.seal(&token_key_aad(kid), key.as_bytes())?;
        match store.add_token_key(account_id, kid, &ciphertext).await {
            Ok(added) => stored.push(added),
            // Another replica stored the first key first: use that one.
            Err(StoreError::AlreadyExists {
                kind: EntityKind::TokenKey,
                ..
            }) => stored = store.token_keys(account_id).await?,
            Err(e) => return Err(e.into()),
        }
    }
    let mut keys = Vec::with_capacity(stored.len());
    for entry in &stored {
        let kid: u32 = entry
            .kid
            .parse()
            .with_context(|| format!("token key id {:?} is not a number", entry.kid))?;
        let bytes = master
            .open(&token_key_aad(&entry.kid), &entry.ciphertext)
            .context(
                "opening a session-token key: is this the data dir's master key? (Replicas on \
                 one --store need the same ROLEPLANE_MASTER_KEY.)",
            )?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .context("a session-token key is 32 bytes")?;
        keys.push((kid, SealingKey::from_bytes(bytes)));
    }
    let (active_kid, active) = keys.pop().context("the key ring is empty")?;
    Ok(keys
        .into_iter()
        .fold(KeyRing::new(active_kid, active), |ring, (kid, key)| {
            ring.with_retired(kid, key)
        }))
}
