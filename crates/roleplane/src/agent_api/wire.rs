//! The agent API's documents, as both ends read and write them (JSON, camelCase members).
//!
//! Version 1 (decision 0028): members may be added within it, and each end ignores members it
//! does not know, so a newer control plane still answers an older agent and the other way
//! round; a change an older reader would misread gets new paths (`/v2/…`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use imds::{HttpTokens, IamView, InstanceView, InterfaceView, MetadataOptions, RoleDelivery};
use serde::{Deserialize, Serialize};

/// The path prefix of this version of the API.
pub const PREFIX: &str = "/v1";
/// The longest a long poll waits for a change, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 20;

/// `GET /v1/hosts/{host}/instances`: the host's running instances, or word that nothing
/// changed since the `version` the agent named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostInstances {
    pub host_id: String,
    /// A digest of the listing (signatures aside): equal listings have equal versions, on
    /// every replica. The agent names it to wait for the next change.
    pub version: String,
    /// Absent when the listing is still the one of `version` the agent named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<HostInstance>>,
}

/// One running instance on the host: everything its metadata tree shows, the role its
/// credentials are for, and its identity document as the control plane signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostInstance {
    pub view: View,
    /// The role credential sets are issued for; absent without an associated profile with a
    /// role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Absent when the control plane could not sign (the signature paths then answer 404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<SignedDocument>,
}

/// What decides which credential sets of an instance are still its own: a set is for one
/// role (by ID: a role re-created under its name is another), and one issued before
/// `notBefore` (a revocation, `AWSRevokeOlderSessions`) is not served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub name: String,
    pub id: String,
    /// Epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
}

/// The identity document's bytes and their signatures, each base64 of what IMDS serves
/// encoded (`signature`: the raw signature; `rsa2048`, `pkcs7`: DER SignedData).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedDocument {
    pub document: String,
    pub signature: String,
    pub rsa2048: String,
    pub pkcs7: String,
}

impl SignedDocument {
    pub fn new(document: &[u8], signatures: &imds::IdentitySignatures) -> Self {
        Self {
            document: String::from_utf8_lossy(document).into_owned(),
            signature: STANDARD.encode(signatures.signature()),
            rsa2048: STANDARD.encode(signatures.rsa2048()),
            pkcs7: STANDARD.encode(signatures.pkcs7()),
        }
    }

    /// The signatures, for the document bytes they were made over.
    pub fn signatures(&self) -> Result<imds::IdentitySignatures, String> {
        let decode = |name: &str, text: &str| {
            STANDARD
                .decode(text)
                .map_err(|e| format!("{name} is not base64: {e}"))
        };
        Ok(imds::IdentitySignatures::new(
            decode("signature", &self.signature)?,
            decode("rsa2048", &self.rsa2048)?,
            decode("pkcs7", &self.pkcs7)?,
        ))
    }
}

/// `imds::InstanceView` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct View {
    pub instance_id: String,
    pub account_id: String,
    pub region: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    pub ami_id: String,
    pub instance_type: String,
    pub architecture: String,
    pub local_ipv4: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
    pub mac: String,
    pub hostname: String,
    pub local_hostname: String,
    pub reservation_id: String,
    pub launch_index: u32,
    /// Base64 of the bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKey>,
    pub security_groups: Vec<String>,
    pub interface: Interface,
    /// Epoch milliseconds.
    pub pending_time: u64,
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<Iam>,
    pub options: Options,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub name: String,
    pub openssh_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interface {
    pub interface_id: String,
    pub security_group_ids: Vec<String>,
    pub subnet_id: String,
    pub subnet_ipv4_cidr_block: String,
    pub vpc_id: String,
    pub vpc_ipv4_cidr_block: String,
    pub vpc_ipv4_cidr_blocks: String,
    pub ipv6s: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Iam {
    pub instance_profile_arn: String,
    pub instance_profile_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// Epoch milliseconds.
    pub last_updated: u64,
}

/// The metadata options, spelled as EC2 spells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// `optional` or `required`.
    pub http_tokens: String,
    pub http_put_response_hop_limit: u8,
    /// `enabled` or `disabled`.
    pub http_endpoint: String,
    pub http_protocol_ipv6: String,
    pub instance_metadata_tags: String,
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn switch(on: bool) -> String {
    if on { "enabled" } else { "disabled" }.to_owned()
}

fn switched(value: &str, name: &str) -> Result<bool, String> {
    match value {
        "enabled" => Ok(true),
        "disabled" => Ok(false),
        other => Err(format!("{name} is {other:?}, not enabled or disabled")),
    }
}

impl From<&InstanceView> for View {
    fn from(view: &InstanceView) -> Self {
        let options = &view.options;
        Self {
            instance_id: view.instance_id.clone(),
            account_id: view.account_id.clone(),
            region: view.region.clone(),
            availability_zone: view.availability_zone.clone(),
            availability_zone_id: view.availability_zone_id.clone(),
            host_id: view.host_id.clone(),
            ami_id: view.ami_id.clone(),
            instance_type: view.instance_type.clone(),
            architecture: view.architecture.clone(),
            local_ipv4: view.local_ipv4.clone(),
            ipv6: view.ipv6.clone(),
            mac: view.mac.clone(),
            hostname: view.hostname.clone(),
            local_hostname: view.local_hostname.clone(),
            reservation_id: view.reservation_id.clone(),
            launch_index: view.launch_index,
            user_data: view.user_data.as_deref().map(|data| STANDARD.encode(data)),
            public_key: view
                .public_key
                .as_ref()
                .map(|(name, openssh_key)| PublicKey {
                    name: name.clone(),
                    openssh_key: openssh_key.clone(),
                }),
            security_groups: view.security_groups.clone(),
            interface: Interface {
                interface_id: view.interface.interface_id.clone(),
                security_group_ids: view.interface.security_group_ids.clone(),
                subnet_id: view.interface.subnet_id.clone(),
                subnet_ipv4_cidr_block: view.interface.subnet_ipv4_cidr_block.clone(),
                vpc_id: view.interface.vpc_id.clone(),
                vpc_ipv4_cidr_block: view.interface.vpc_ipv4_cidr_block.clone(),
                vpc_ipv4_cidr_blocks: view.interface.vpc_ipv4_cidr_blocks.clone(),
                ipv6s: view.interface.ipv6s.clone(),
            },
            pending_time: millis(view.pending_time),
            tags: view
                .tags
                .iter()
                .map(|(key, value)| Tag {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
            iam: view.iam.as_ref().map(|iam| Iam {
                instance_profile_arn: iam.instance_profile_arn.clone(),
                instance_profile_id: iam.instance_profile_id.clone(),
                role_name: iam.role_name.clone(),
                last_updated: millis(iam.last_updated),
            }),
            options: Options {
                http_tokens: match options.http_tokens {
                    HttpTokens::Optional => "optional",
                    HttpTokens::Required => "required",
                }
                .to_owned(),
                http_put_response_hop_limit: options.put_response_hop_limit,
                http_endpoint: switch(options.http_endpoint_enabled),
                http_protocol_ipv6: switch(options.http_protocol_ipv6),
                instance_metadata_tags: switch(options.instance_metadata_tags),
            },
        }
    }
}

impl View {
    /// The view IMDS serves; an error names the member that does not read.
    pub fn to_view(&self) -> Result<InstanceView, String> {
        let options = &self.options;
        let user_data = match &self.user_data {
            Some(text) => Some(Arc::from(
                STANDARD
                    .decode(text)
                    .map_err(|e| format!("userData is not base64: {e}"))?,
            )),
            None => None,
        };
        Ok(InstanceView {
            instance_id: self.instance_id.clone(),
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            availability_zone: self.availability_zone.clone(),
            availability_zone_id: self.availability_zone_id.clone(),
            host_id: self.host_id.clone(),
            ami_id: self.ami_id.clone(),
            instance_type: self.instance_type.clone(),
            architecture: self.architecture.clone(),
            local_ipv4: self.local_ipv4.clone(),
            ipv6: self.ipv6.clone(),
            mac: self.mac.clone(),
            hostname: self.hostname.clone(),
            local_hostname: self.local_hostname.clone(),
            reservation_id: self.reservation_id.clone(),
            launch_index: self.launch_index,
            user_data,
            public_key: self
                .public_key
                .as_ref()
                .map(|key| (key.name.clone(), key.openssh_key.clone())),
            security_groups: self.security_groups.clone(),
            interface: InterfaceView {
                interface_id: self.interface.interface_id.clone(),
                security_group_ids: self.interface.security_group_ids.clone(),
                subnet_id: self.interface.subnet_id.clone(),
                subnet_ipv4_cidr_block: self.interface.subnet_ipv4_cidr_block.clone(),
                vpc_id: self.interface.vpc_id.clone(),
                vpc_ipv4_cidr_block: self.interface.vpc_ipv4_cidr_block.clone(),
                vpc_ipv4_cidr_blocks: self.interface.vpc_ipv4_cidr_blocks.clone(),
                ipv6s: self.interface.ipv6s.clone(),
            },
            pending_time: from_millis(self.pending_time),
            tags: self
                .tags
                .iter()
                .map(|tag| (tag.key.clone(), tag.value.clone()))
                .collect(),
            iam: self.iam.as_ref().map(|iam| IamView {
                instance_profile_arn: iam.instance_profile_arn.clone(),
                instance_profile_id: iam.instance_profile_id.clone(),
                role_name: iam.role_name.clone(),
                last_updated: from_millis(iam.last_updated),
            }),
            options: MetadataOptions {
                http_tokens: match options.http_tokens.as_str() {
                    "optional" => HttpTokens::Optional,
                    "required" => HttpTokens::Required,
                    other => return Err(format!("httpTokens is {other:?}")),
                },
                put_response_hop_limit: options.http_put_response_hop_limit,
                http_endpoint_enabled: switched(&options.http_endpoint, "httpEndpoint")?,
                http_protocol_ipv6: switched(&options.http_protocol_ipv6, "httpProtocolIpv6")?,
                instance_metadata_tags: switched(
                    &options.instance_metadata_tags,
                    "instanceMetadataTags",
                )?,
            },
        })
    }
}

/// `POST /v1/hosts/{host}/credentials`: a credential set of one of the host's instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsRequest {
    pub instance_id: String,
    /// `ec2:RoleDelivery`: `1.0` (IMDSv1) or `2.0` (IMDSv2).
    pub delivery: String,
}

/// The `ec2:RoleDelivery` a request names.
pub fn delivery(value: &str) -> Option<RoleDelivery> {
    match value {
        "1.0" => Some(RoleDelivery::V1),
        "2.0" => Some(RoleDelivery::V2),
        _ => None,
    }
}

/// The answer to a [`CredentialsRequest`]: what IMDS would serve now.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum InstanceCredentials {
    /// The instance's current set. Times are epoch seconds; `refreshAt` is when the control
    /// plane hands out the next one (the agent asks again then).
    #[serde(rename_all = "camelCase")]
    Issued {
        access_key_id: String,
        secret_access_key: String,
        token: String,
        issued_at: i64,
        expiration: i64,
        refresh_at: i64,
    },
    /// The role's trust policy does not let EC2 assume it.
    #[serde(rename_all = "camelCase")]
    AssumeRoleUnauthorized {
        role_name: String,
        last_updated: i64,
    },
    /// No profile, a profile without a role, or no set can be issued now.
    NoRole,
}

/// Secrets stay out of logs.
impl std::fmt::Debug for InstanceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Issued {
                access_key_id,
                expiration,
                refresh_at,
                ..
            } => f
                .debug_struct("Issued")
                .field("access_key_id", access_key_id)
                .field("expiration", expiration)
                .field("refresh_at", refresh_at)
                .finish_non_exhaustive(),
            Self::AssumeRoleUnauthorized { role_name, .. } => f
                .debug_struct("AssumeRoleUnauthorized")
                .field("role_name", role_name)
                .finish_non_exhaustive(),
            Self::NoRole => f.write_str("NoRole"),
        }
    }
}

/// `POST /v1/hosts/{host}/served-credentials`: the sets the agent served since its last
/// report, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedReport {
    pub sets: Vec<ServedSet>,
}

/// One set served to one instance: how often, first and last (epoch seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedSet {
    pub instance_id: String,
    pub access_key_id: String,
    pub delivery: String,
    pub first_served: i64,
    pub last_served: i64,
    pub count: u64,
}

/// The answer to a [`ServedReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedAnswer {
    pub recorded: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> InstanceView {
        InstanceView {
            instance_id: "i-0123456789abcdef0".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            host_id: Some("h-0123456789abcdef0".into()),
            ami_id: "ami-0123456789abcdef0".into(),
            instance_type: "m5.large".into(),
            architecture: "x86_64".into(),
            local_ipv4: "10.1.2.3".into(),
            ipv6: Some("fd00::5".into()),
            mac: "02:00:00:00:00:01".into(),
            hostname: "ip-10-1-2-3.ec2.internal".into(),
            local_hostname: "ip-10-1-2-3.ec2.internal".into(),
            reservation_id: "r-0123456789abcdef0".into(),
            launch_index: 2,
            user_data: Some(Arc::from(&b"\x00\xffbinary"[..])),
            public_key: Some(("k".into(), "ssh-ed25519 AAAA k".into())),
            security_groups: vec!["default".into(), "web".into()],
            interface: InterfaceView {
                interface_id: "eni-1".into(),
                security_group_ids: vec!["sg-1".into(), "sg-2".into()],
                subnet_id: "subnet-1".into(),
                subnet_ipv4_cidr_block: "10.0.0.0/8".into(),
                vpc_id: "vpc-1".into(),
                vpc_ipv4_cidr_block: "10.0.0.0/8".into(),
                vpc_ipv4_cidr_blocks: "10.0.0.0/8\n127.0.0.0/8".into(),
                ipv6s: "fd00::5".into(),
            },
            pending_time: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            tags: vec![("Name".into(), "web".into())],
            iam: Some(IamView {
                instance_profile_arn: "arn:aws:iam::123456789012:instance-profile/p".into(),
                instance_profile_id: "AIPA1".into(),
                role_name: Some("r".into()),
                last_updated: UNIX_EPOCH + Duration::from_millis(1_700_000_001_000),
            }),
            options: MetadataOptions {
                http_tokens: HttpTokens::Required,
                put_response_hop_limit: 2,
                http_endpoint_enabled: true,
                http_protocol_ipv6: true,
                instance_metadata_tags: false,
            },
        }
    }

    #[test]
    fn a_view_survives_the_wire_and_renders_the_same_identity_document() {
        let original = view();
        let text = serde_json::to_string(&View::from(&original)).unwrap();
        let back: View = serde_json::from_str(&text).unwrap();
        let back = back.to_view().unwrap();
        assert_eq!(back, original);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        imds::identity_document(&original, &mut a);
        imds::identity_document(&back, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn unknown_members_are_ignored_and_bad_values_refused() {
        let mut json = serde_json::to_value(View::from(&view())).unwrap();
        json["somethingNewer"] = "x".into();
        let read: View = serde_json::from_value(json.clone()).unwrap();
        assert!(read.to_view().is_ok());
        json["options"]["httpTokens"] = "sometimes".into();
        let read: View = serde_json::from_value(json).unwrap();
        assert!(read.to_view().unwrap_err().contains("httpTokens"));
    }

    #[test]
    fn credentials_are_tagged_by_result_and_never_debug_their_secrets() {
        let issued = InstanceCredentials::Issued {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "SECRETSECRET".into(),
            token: "TOKENTOKEN".into(),
            issued_at: 1,
            expiration: 3,
            refresh_at: 2,
        };
        let json = serde_json::to_value(&issued).unwrap();
        assert_eq!(json["result"], "issued");
        assert_eq!(json["accessKeyId"], "ASIAEXAMPLE");
        assert_eq!(json["refreshAt"], 2);
        let printed = format!("{issued:?}");
        assert!(
            !printed.contains("SECRET") && !printed.contains("TOKEN"),
            "{printed}"
        );
        let none: InstanceCredentials = serde_json::from_str(r#"{"result":"noRole"}"#).unwrap();
        assert_eq!(none, InstanceCredentials::NoRole);
        let refused = serde_json::to_value(InstanceCredentials::AssumeRoleUnauthorized {
            role_name: "r".into(),
            last_updated: 5,
        })
        .unwrap();
        assert_eq!(
            refused,
            serde_json::json!({"result": "assumeRoleUnauthorized", "roleName": "r", "lastUpdated": 5})
        );
    }
}
