//! Key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.
//!
//! The server holds public keys only. CreateKeyPair generates a key (`key_generation`) and
//! returns its private half once, in the response; it is never stored, logged or audited (the
//! audit record of CreateKeyPair has no response elements, as CloudTrail's has no
//! `keyMaterial`). Both creating operations take `TagSpecification` for the key pair, which
//! also needs `ec2:CreateTags` (`tags::authorize_on_create`).
//!
//! Fingerprints of imported keys are EC2's: RSA, the MD5 of the DER SubjectPublicKeyInfo in
//! colon-separated hex (what `openssl md5 -c` prints in the EC2 User Guide's verification
//! recipe); ED25519, the SHA-256 of the OpenSSH key blob in padded base64. Created keys'
//! fingerprints are in `key_generation`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use store::{KeyPair, NewKeyPair, Store};

use super::access::authorize;
use super::error::{Ec2Error, from_store};
use super::tags::{self, OtherTypes};
use super::{Reply, account, filters, key_generation, respond, xml};
use crate::request::Call;

/// EC2's limit on a key pair name (ASCII, at most 255 characters).
const MAX_NAME: usize = 255;

/// `arn:aws:ec2:REGION:ACCOUNT:key-pair/NAME`.
pub fn key_pair_arn<S>(call: &Call<'_, S>, name: &str) -> String {
    format!(
        "arn:aws:ec2:{}:{}:key-pair/{name}",
        call.app.region(),
        call.caller.account_id
    )
}

fn check_name(name: &str) -> Result<&str, Ec2Error> {
    if name.is_empty() || name.len() > MAX_NAME || !name.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Value ({name}) for parameter keyName is invalid. Key pair names must be 1-255 ASCII characters."
        )));
    }
    Ok(name)
}

/// A parsed OpenSSH public key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSshKey {
    /// `rsa` or `ed25519`, as EC2's `KeyType` names them.
    pub key_type: &'static str,
    /// `ssh-rsa` or `ssh-ed25519`.
    pub algorithm: &'static str,
    /// The key blob (SSH wire format).
    pub blob: Vec<u8>,
    pub fingerprint: String,
}

impl OpenSshKey {
    /// The line IMDS serves and DescribeKeyPairs shows: algorithm, blob and the key pair's name
    /// as the comment (UNCONFIRMED: EC2 is observed to name the key pair there).
    pub fn line(&self, name: &str) -> String {
        format!("{} {} {name}", self.algorithm, STANDARD.encode(&self.blob))
    }
}

/// EC2's refusal of a key it cannot read.
fn invalid_format() -> Ec2Error {
    Ec2Error::InvalidKeyFormat("Key is not in valid OpenSSH public key format".to_owned())
}

/// Reads one SSH wire `string` (u32 length, bytes) from the front of `data`.
fn take_string<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = data.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    if rest.len() < len {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    *data = rest;
    Some(value)
}

/// Parses an OpenSSH public key line (`ssh-rsa AAAA… comment` or `ssh-ed25519 AAAA…`): the
/// algorithm must match the blob's, ED25519 keys are 32 bytes, RSA moduli 1024–16384 bits.
/// Leading/trailing whitespace and a comment with spaces are accepted; options before the
/// algorithm (an `authorized_keys` prefix) are not.
pub fn parse_openssh(text: &str) -> Result<OpenSshKey, Ec2Error> {
    let mut fields = text.split_ascii_whitespace();
    let (Some(algorithm), Some(encoded)) = (fields.next(), fields.next()) else {
        return Err(invalid_format());
    };
    let blob = STANDARD.decode(encoded).map_err(|_| invalid_format())?;
    let mut rest = blob.as_slice();
    let named = take_string(&mut rest).ok_or_else(invalid_format)?;
    if named != algorithm.as_bytes() {
        return Err(invalid_format());
    }
    let (key_type, algorithm, fingerprint) = match algorithm {
        "ssh-ed25519" => {
            let key = take_string(&mut rest).ok_or_else(invalid_format)?;
            if key.len() != 32 || !rest.is_empty() {
                return Err(invalid_format());
            }
            let digest = Sha256::digest(&blob);
            ("ed25519", "ssh-ed25519", STANDARD.encode(digest))
        }
        "ssh-rsa" => {
            let e = take_string(&mut rest).ok_or_else(invalid_format)?;
            let n = take_string(&mut rest).ok_or_else(invalid_format)?;
            if !rest.is_empty() || e.is_empty() || n.is_empty() {
                return Err(invalid_format());
            }
            let bits = modulus_bits(n);
            if !(1024..=16384).contains(&bits) {
                return Err(invalid_format());
            }
            let digest = Md5::digest(rsa_spki_der(n, e));
            let hex: Vec<String> = digest.iter().map(|b| format!("{b:02x}")).collect();
            ("rsa", "ssh-rsa", hex.join(":"))
        }
        _ => return Err(invalid_format()),
    };
    Ok(OpenSshKey {
        key_type,
        algorithm,
        blob,
        fingerprint,
    })
}

/// Significant bits of an SSH `mpint` (big-endian, maybe a leading zero byte).
fn modulus_bits(n: &[u8]) -> usize {
    let start = n.iter().position(|&b| b != 0).unwrap_or(n.len());
    match n.get(start) {
        Some(first) => (n.len() - start - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

/// DER: tag, definite length, content.
fn der(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// The DER SubjectPublicKeyInfo of an RSA key; SSH mpints are already minimal two's-complement
/// big-endian, which is DER's INTEGER content.
fn rsa_spki_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut integers = Vec::new();
    der(0x02, n, &mut integers);
    der(0x02, e, &mut integers);
    let mut rsa_key = Vec::new();
    der(0x30, &integers, &mut rsa_key);
    let mut bit_string = vec![0u8];
    bit_string.extend_from_slice(&rsa_key);
    // SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }
    const ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut body = ALGORITHM.to_vec();
    der(0x03, &bit_string, &mut body);
    let mut out = Vec::new();
    der(0x30, &body, &mut out);
    out
}

/// `PublicKeyMaterial`: the base64 of the public key file (the SDKs encode the blob).
fn decode_material(value: &str) -> Result<OpenSshKey, Ec2Error> {
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(&compact).map_err(|_| invalid_format())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid_format())?;
    parse_openssh(text)
}

pub async fn import<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let name = check_name(root.required_str("KeyName")?)?;
    let key = decode_material(root.required_str("PublicKeyMaterial")?)?;
    let tags = tags::specified(call, "key-pair", OtherTypes::Refuse)?;
    let arn = key_pair_arn(call, name);
    authorize(call, "ec2:ImportKeyPair", &arn, tags::request_tags(&tags)).await?;
    tags::authorize_on_create(call, &arn, &tags).await?;
    let new = NewKeyPair {
        name: name.to_owned(),
        key_type: key.key_type.to_owned(),
        fingerprint: key.fingerprint.clone(),
        public_key: key.line(name),
        tags,
    };
    let pair = call
        .app
        .store()
        .import_key_pair(account(call), new)
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.elem("keyFingerprint", &pair.fingerprint)
            .elem("keyName", &pair.name)
            .elem("keyPairId", &pair.id);
        tag_set(x, &pair.tags);
    }))
}

fn tag_set(x: &mut protocol::XmlWriter, tags: &[store::Tag]) {
    x.list("tagSet", "item", tags, |x, t| {
        x.elem("key", &t.key).elem("value", &t.value);
    });
}

/// Generates a key pair, keeps its public half and answers with the private half, once.
pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let name = check_name(root.required_str("KeyName")?)?;
    let key_type = root.optional_str("KeyType").unwrap_or("rsa");
    if !matches!(key_type, "rsa" | "ed25519") {
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Value ({key_type}) for parameter keyType is invalid. Valid values are rsa, ed25519."
        ))
        .into());
    }
    let format = root.optional_str("KeyFormat").unwrap_or("pem");
    if !matches!(format, "pem" | "ppk") {
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Value ({format}) for parameter keyFormat is invalid. Valid values are pem, ppk."
        ))
        .into());
    }
    let tags = tags::specified(call, "key-pair", OtherTypes::Refuse)?;
    let arn = key_pair_arn(call, name);
    authorize(call, "ec2:CreateKeyPair", &arn, tags::request_tags(&tags)).await?;
    tags::authorize_on_create(call, &arn, &tags).await?;
    if format == "ppk" {
        // Decision 0013: no maintained crate writes PuTTY's format.
        return Err(Ec2Error::UnsupportedOperation(
            "KeyFormat ppk is not supported by this server. Create the key pair with KeyFormat \
             pem and convert it with puttygen."
                .to_owned(),
        )
        .into());
    }
    let pairs = call
        .app
        .store()
        .key_pairs(account(call))
        .await
        .map_err(from_store)?;
    if pairs.iter().any(|p| p.name == name) {
        return Err(Ec2Error::KeyPairDuplicate(name.to_owned()).into());
    }
    // RSA key generation searches for primes for tens of milliseconds (far more in a debug
    // build): off the request threads, so other calls are not held up behind it.
    let (owned_type, owned_name) = (key_type.to_owned(), name.to_owned());
    let generated =
        tokio::task::spawn_blocking(move || key_generation::generate(&owned_type, &owned_name))
            .await
            .map_err(|_| Ec2Error::Internal)?
            .map_err(|err| {
                tracing::error!(error = %err, "CreateKeyPair could not generate a key");
                Ec2Error::Internal
            })?;
    let new = NewKeyPair {
        name: name.to_owned(),
        key_type: generated.public.key_type.to_owned(),
        fingerprint: generated.fingerprint.clone(),
        public_key: generated.public.line(name),
        tags,
    };
    // The store refuses a name taken since the check above (a concurrent create).
    let pair = call
        .app
        .store()
        .import_key_pair(account(call), new)
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.elem("keyFingerprint", &pair.fingerprint)
            .elem("keyMaterial", generated.private_material.as_str())
            .elem("keyName", &pair.name)
            .elem("keyPairId", &pair.id);
        tag_set(x, &pair.tags);
    }))
}

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let names = root.list_str("KeyName")?;
    let ids = root.list_str("KeyPairId")?;
    let include_public_key = root.optional_bool("IncludePublicKey")?.unwrap_or(false);
    let filters = filters::parse(call.input)?;
    for filter in &filters {
        let name = filter.name.as_str();
        let tag_filter =
            name == "tag-key" || name.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !tag_filter
            && !matches!(
                name,
                "key-name" | "key-pair-id" | "fingerprint" | "key-type"
            )
        {
            // The text DescribeInstances uses for a filter it does not know.
            return Err(
                Ec2Error::InvalidParameterValue(format!("The filter '{name}' is invalid")).into(),
            );
        }
    }
    authorize(call, "ec2:DescribeKeyPairs", "*", Vec::new()).await?;
    let pairs = call
        .app
        .store()
        .key_pairs(account(call))
        .await
        .map_err(from_store)?;
    if let Some(missing) = names.iter().find(|n| !pairs.iter().any(|p| p.name == **n)) {
        return Err(Ec2Error::KeyPairNotFound(missing.to_string()).into());
    }
    if let Some(missing) = ids.iter().find(|i| !pairs.iter().any(|p| p.id == **i)) {
        return Err(Ec2Error::KeyPairIdNotFound(missing.to_string()).into());
    }
    let shown: Vec<&KeyPair> = pairs
        .iter()
        .filter(|p| names.is_empty() || names.contains(&p.name.as_str()))
        .filter(|p| ids.is_empty() || ids.contains(&p.id.as_str()))
        .filter(|p| {
            filters.iter().all(|filter| {
                let any = |field: &str| {
                    filter
                        .values
                        .iter()
                        .any(|v| filters::wildcard_match(v, field))
                };
                match filter.name.as_str() {
                    "key-name" => any(&p.name),
                    "key-pair-id" => any(&p.id),
                    "fingerprint" => any(&p.fingerprint),
                    "key-type" => any(&p.key_type),
                    "tag-key" => p.tags.iter().any(|t| any(&t.key)),
                    name => {
                        let key = name.strip_prefix("tag:").unwrap_or(name);
                        p.tags.iter().any(|t| t.key == key && any(&t.value))
                    }
                }
            })
        })
        .collect();
    Ok(respond(call, |x| {
        x.list("keySet", "item", shown, |x, p| {
            x.elem("keyPairId", &p.id)
                .elem("keyName", &p.name)
                .elem("keyFingerprint", &p.fingerprint)
                .elem("keyType", &p.key_type);
            tag_set(x, &p.tags);
            if include_public_key {
                x.elem("publicKey", &p.public_key);
            }
            x.elem("createTime", xml::timestamp(p.created));
        });
    }))
}

/// Deletes by `KeyName` or `KeyPairId`; a key pair that does not exist is no error, as in EC2.
pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let name = root.optional_str("KeyName");
    let id = root.optional_str("KeyPairId");
    if name.is_none() && id.is_none() {
        // UNCONFIRMED wording.
        return Err(Ec2Error::MissingParameter(
            "The request must contain the parameter KeyName or KeyPairId".to_owned(),
        )
        .into());
    }
    let pairs = call
        .app
        .store()
        .key_pairs(account(call))
        .await
        .map_err(from_store)?;
    let target = pairs
        .iter()
        .find(|p| Some(p.name.as_str()) == name || Some(p.id.as_str()) == id);
    let arn_name = target.map(|p| p.name.as_str()).or(name).unwrap_or("*");
    authorize(
        call,
        "ec2:DeleteKeyPair",
        &key_pair_arn(call, arn_name),
        Vec::new(),
    )
    .await?;
    if let Some(pair) = target {
        call.app
            .store()
            .delete_key_pair(account(call), None, Some(&pair.id))
            .await
            .map_err(from_store)?;
    }
    Ok(respond(call, |x| {
        x.elem("return", "true");
        if let Some(pair) = target {
            x.elem("keyPairId", &pair.id);
        }
    }))
}

/// RunInstances' `KeyName`: the caller's key pair's public key line, or EC2's NotFound.
pub async fn for_launch<S: Store>(call: &Call<'_, S>, name: &str) -> Result<String, Ec2Error> {
    let pairs = call
        .app
        .store()
        .key_pairs(account(call))
        .await
        .map_err(from_store)?;
    pairs
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.public_key)
        .ok_or_else(|| Ec2Error::KeyPairNotFound(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCjR+6C9CbNOpC/flSyBsnpi+38HhYWLp2bbCSNbUipX7Ja/EDSHHlzQrfgbugtvYvtxBOvdxLrqJIS4kaoNUV3hMftTKQsQ6v3LCLQ+nvz2kvwHcVxZRCcHVTXBHj71uPDODWMOtULdqiGhPCyrPDNh8ZxESUKzk0PCfh7M0Eq9cksSlozf+z0QO9Kfdg4DUynqNUNfkK9ioby21w7x422+TeVYmNXXcCYE/P88XdJi2CgkML6IPOAX1Mw1fsrCsRSwAVTZaNdqlVLyuNRzf0aAoeR3aSg5FCZtajhrrT8o7VjkuKd6XiX6QkAh5aibQtK4PN4CGEHbwmwXzMn3odN me@laptop";
    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm6HYUS+qqLMx8WnF9ybpt5SwXtGRmHaBZip9zjCSyq me@laptop";

    #[test]
    fn rsa_line_parses_with_ec2s_md5_fingerprint() {
        let key = parse_openssh(RSA).unwrap();
        assert_eq!((key.key_type, key.algorithm), ("rsa", "ssh-rsa"));
        // `ssh-keygen -ef KEY.pub -m PEM | openssl rsa -RSAPublicKey_in -outform DER | openssl md5 -c`
        assert_eq!(
            key.fingerprint,
            "4b:34:09:c0:05:79:21:b5:1e:87:ec:e7:4e:13:99:14"
        );
        let line = key.line("deploy");
        assert!(line.starts_with("ssh-rsa AAAAB3NzaC1yc2E") && line.ends_with(" deploy"));
        assert_eq!(parse_openssh(&line).unwrap(), key);
    }

    #[test]
    fn ed25519_line_parses_with_sha256_fingerprint() {
        let key = parse_openssh(ED25519).unwrap();
        assert_eq!((key.key_type, key.algorithm), ("ed25519", "ssh-ed25519"));
        // `ssh-keygen -lf KEY.pub`: SHA256:2X2Gn+BLzuTrzWwTql+QzdWWxn3qb8gcLyoGvVMotUE
        assert_eq!(
            key.fingerprint,
            "2X2Gn+BLzuTrzWwTql+QzdWWxn3qb8gcLyoGvVMotUE="
        );
        // No comment, extra whitespace, a trailing line break: all accepted.
        let bare: Vec<&str> = ED25519.split(' ').take(2).collect();
        let text = format!("  {}\t{}  \n", bare[0], bare[1]);
        assert_eq!(parse_openssh(&text).unwrap(), key);
    }

    #[test]
    fn malformed_lines_are_refused() {
        let ed: Vec<&str> = ED25519.split(' ').collect();
        let rsa: Vec<&str> = RSA.split(' ').collect();
        for bad in [
            String::new(),
            "ssh-ed25519".to_owned(),
            format!("ssh-ed25519 {}", "not base64!"),
            // The named algorithm must be the blob's.
            format!("ssh-rsa {}", ed[1]),
            format!("ssh-ed25519 {}", rsa[1]),
            format!("ssh-dss {}", ed[1]),
            // A truncated blob.
            format!("ssh-ed25519 {}", &ed[1][..40]),
            // authorized_keys options before the algorithm.
            format!("no-pty {}", ED25519),
            "-----BEGIN RSA PRIVATE KEY-----".to_owned(),
        ] {
            let err = parse_openssh(&bad).unwrap_err();
            assert_eq!(err.code(), "InvalidKey.Format", "{bad}");
            assert_eq!(
                err.to_string(),
                "Key is not in valid OpenSSH public key format"
            );
        }
    }

    #[test]
    fn material_is_base64_of_the_file() {
        let file = format!("{ED25519}\n");
        let key = decode_material(&STANDARD.encode(file)).unwrap();
        assert_eq!(key.key_type, "ed25519");
        assert!(decode_material("%%%").is_err());
        assert!(decode_material(&STANDARD.encode([0xff, 0xfe])).is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("my-key").is_ok());
        assert!(check_name(&"k".repeat(255)).is_ok());
        for bad in ["", "k\u{e9}y", "a\nb"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"k".repeat(256)).is_err());
    }
}
