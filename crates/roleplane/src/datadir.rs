//! The data directory: its master key and the admin's shared-credentials file.
//!
//! Both files hold secrets, so they are created with mode 0600 inside a 0700 directory, and the
//! master key can instead come from the environment (`ROLEPLANE_MASTER_KEY`, standard base64 of
//! 32 bytes) so that it need not sit beside the data it protects.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::credentials::SealingKey;

pub const MASTER_KEY_ENV: &str = "ROLEPLANE_MASTER_KEY";
const MASTER_KEY_FILE: &str = "master.key";
const CREDENTIALS_FILE: &str = "credentials";
/// The shared-credentials profile the interface contract names.
pub const ADMIN_PROFILE: &str = "roleplane";

pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens `root`, creating it (mode 0700) if absent.
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .with_context(|| format!("creating data dir {}", root.display()))?;
        Ok(Self {
            root: root.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The master key as the servers of `root` use it (the environment's, else the data dir's
    /// file), never generated and `root` never created: for a command that opens secrets a
    /// server sealed, possibly in a shared store (`--store`) beside no data dir at all.
    pub fn existing_master_key(root: &Path) -> anyhow::Result<SealingKey> {
        read_master_key(root)?.with_context(|| {
            format!(
                "no master key: set {MASTER_KEY_ENV} to the servers' key, or name with \
                 --data-dir the data dir that holds it ({} does not)",
                root.display()
            )
        })
    }

    /// The key that seals secrets at rest: from the environment if set, else from the data dir,
    /// generated on first use.
    pub fn master_key(&self) -> anyhow::Result<SealingKey> {
        if let Some(key) = read_master_key(&self.root)? {
            return Ok(key);
        }
        let key = SealingKey::generate()?;
        let path = self.root.join(MASTER_KEY_FILE);
        write_secret_file(&path, &STANDARD.encode(key.as_bytes()), false)?;
        Ok(key)
    }

    /// Writes the admin key pair in AWS shared-credentials format under profile `roleplane`.
    pub fn write_admin_credentials(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> anyhow::Result<PathBuf> {
        let path = self.root.join(CREDENTIALS_FILE);
        let body = format!(
            "[{ADMIN_PROFILE}]\naws_access_key_id = {access_key_id}\naws_secret_access_key = {secret_access_key}\n"
        );
        write_secret_file(&path, &body, true)?;
        Ok(path)
    }
}

/// The environment's master key, else `root`'s file's; `None` when neither is there.
fn read_master_key(root: &Path) -> anyhow::Result<Option<SealingKey>> {
    if let Ok(encoded) = std::env::var(MASTER_KEY_ENV) {
        return decode_key(encoded.trim())
            .map(Some)
            .with_context(|| format!("reading {MASTER_KEY_ENV}"));
    }
    let path = root.join(MASTER_KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(encoded) => decode_key(encoded.trim())
            .map(Some)
            .with_context(|| format!("reading master key {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading master key {}", path.display())),
    }
}

fn decode_key(encoded: &str) -> anyhow::Result<SealingKey> {
    let bytes = STANDARD.decode(encoded).context("not standard base64")?;
    let Ok(bytes) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        bail!("a master key is 32 bytes, got {}", bytes.len());
    };
    Ok(SealingKey::from_bytes(bytes))
}

/// Creates (or with `replace`, truncates) a 0600 file and syncs it before returning.
fn write_secret_file(path: &Path, contents: &str, replace: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("roleplane-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn master_key_is_generated_once_with_mode_0600() {
        let root = temp_dir("master");
        let dir = DataDir::open(&root).unwrap();
        let first = dir.master_key().unwrap();
        let again = DataDir::open(&root).unwrap().master_key().unwrap();
        assert_eq!(first.as_bytes(), again.as_bytes());
        let mode = fs::metadata(root.join(MASTER_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(&root).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        fs::remove_dir_all(root).unwrap();
    }

    /// What `host credentials --store` reads: the data dir's key if it has one, and never a
    /// new key or directory.
    #[test]
    fn an_existing_master_key_is_read_never_made() {
        let root = temp_dir("existing-master");
        let error = DataDir::existing_master_key(&root).unwrap_err();
        assert!(format!("{error}").starts_with("no master key"), "{error}");
        assert!(!root.exists(), "nothing created");
        let made = DataDir::open(&root).unwrap().master_key().unwrap();
        let read = DataDir::existing_master_key(&root).unwrap();
        assert_eq!(made.as_bytes(), read.as_bytes());
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn credentials_file_is_shared_credentials_format() {
        let root = temp_dir("creds");
        let dir = DataDir::open(&root).unwrap();
        let path = dir
            .write_admin_credentials("AKIAEXAMPLE", "s3cr3t")
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "[roleplane]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n"
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn malformed_master_keys_are_refused() {
        assert!(decode_key("not base64!").is_err());
        assert!(decode_key(&STANDARD.encode([0u8; 16])).is_err());
        assert!(decode_key(&STANDARD.encode([7u8; 32])).is_ok());
    }
}
