//! AWS shared-credentials files (`[profile]`, `aws_access_key_id = …`), as `roleplane run`
//! reads the data dir's admin key and `roleplane agent` its host's agent credential.

use anyhow::bail;
use zeroize::Zeroizing;

/// One profile's key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Option<String>,
}

/// Secrets stay out of logs.
impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The names of the file's profiles, in order.
pub fn profiles(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .map(str::trim)
        .collect()
}

/// The key pair of `profile`.
pub fn profile(text: &str, profile: &str) -> anyhow::Result<KeyPair> {
    let mut in_profile = false;
    let (mut key, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if !in_profile {
            continue;
        }
        let value = Some(value.trim().to_owned());
        match name.trim() {
            "aws_access_key_id" => key = value,
            "aws_secret_access_key" => secret = value,
            "aws_session_token" => token = value,
            _ => {}
        }
    }
    match (key, secret) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(KeyPair {
            access_key_id,
            secret_access_key: Zeroizing::new(secret_access_key),
            session_token: token,
        }),
        _ => bail!("no aws_access_key_id and aws_secret_access_key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_read_from_a_shared_credentials_file() {
        let text = "[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n\n[roleplane]\naws_access_key_id = AKIAADMIN\naws_secret_access_key = s/e+c=ret\n";
        let found = profile(text, "roleplane").unwrap();
        assert_eq!(found.access_key_id, "AKIAADMIN");
        assert_eq!(found.secret_access_key.as_str(), "s/e+c=ret");
        assert!(found.session_token.is_none());
        assert!(profile(text, "missing").is_err());
        assert_eq!(profiles(text), ["default", "roleplane"]);
        assert!(!format!("{found:?}").contains("s/e+c=ret"));
    }
}
