//! What the server tells IMDS: the instance behind a connection, its role credentials and the
//! signatures of its identity document.
//!
//! IMDS owns no state about instances and holds no key. The roleplane server implements
//! [`MetadataSource`]; this crate only turns its answers into EC2's wire format.

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// The server side of IMDS: instance lookup and credential issuance.
pub trait MetadataSource: Send + Sync + 'static {
    /// The instance a connection belongs to, or `None` (the connection is then refused with 404s).
    ///
    /// Local mode: `addr` is the address the connection reached (the instance's own loopback IP).
    /// Host mode: `addr` is the connection's source address (the instance's private IPv4
    /// address, or one of its IPv6 addresses on an IPv6 endpoint).
    /// Called once per request so that metadata option changes apply at once; keep it cheap.
    fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>>;

    /// Credentials of the instance's current role, for this kind of delivery.
    ///
    /// IMDSv1 callers and token-bearing callers get separate credential sets (`ec2:RoleDelivery`
    /// 1.0 and 2.0), as EC2 does when tokens are optional.
    fn credentials(
        &self,
        instance_id: &str,
        delivery: RoleDelivery,
    ) -> impl Future<Output = CredentialsResult> + Send;

    /// The signatures of `document`, the instance's identity document exactly as IMDS serves it;
    /// `None` makes `signature`, `rsa2048` and `pkcs7` answer 404.
    ///
    /// Called on every request for those paths, while a document changes only with its
    /// instance: sign each document once and hand out the same set afterwards.
    fn identity_signatures(
        &self,
        instance: &InstanceView,
        document: &[u8],
    ) -> Option<Arc<IdentitySignatures>>;
}

/// A read-only snapshot of one instance, as IMDS shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceView {
    pub instance_id: String,
    pub account_id: String,
    pub region: String,
    pub availability_zone: String,
    /// `placement/availability-zone-id` (`use1-az1`).
    pub availability_zone_id: String,
    /// `placement/host-id`: the Dedicated Host the instance was placed on; `None` hides it,
    /// as EC2 shows it only for instances on one.
    pub host_id: Option<String>,
    pub ami_id: String,
    pub instance_type: String,
    /// `x86_64`, `arm64` or `i386`; shown in the identity document.
    pub architecture: String,
    pub local_ipv4: String,
    /// `meta-data/ipv6`: the first IPv6 address of the instance's primary interface; `None`
    /// makes it 404 and hides it from `meta-data/`, as EC2 does for an instance without one.
    pub ipv6: Option<String>,
    pub mac: String,
    /// `meta-data/hostname` (EC2 serves the private DNS name here too).
    pub hostname: String,
    pub local_hostname: String,
    pub reservation_id: String,
    /// `meta-data/ami-launch-index`: the instance's index in its reservation.
    pub launch_index: u32,
    /// `user-data`, served byte for byte; `None` (no user data) makes it 404 and hides it from
    /// the version listing.
    pub user_data: Option<Arc<[u8]>>,
    /// The key pair named at launch: its name (`public-keys/` lists `0=NAME`) and its OpenSSH
    /// public key line without a line break (`public-keys/0/openssh-key` adds one). `None` hides
    /// `public-keys/`.
    pub public_key: Option<(String, String)>,
    /// Security group *names*, one per line in `meta-data/security-groups`.
    pub security_groups: Vec<String>,
    /// The primary network interface (MAC [`InstanceView::mac`]), served under
    /// `network/interfaces/macs/MAC/`.
    pub interface: InterfaceView,
    /// Launch time: the identity document's `pendingTime` and the `Last-Modified` of static data.
    pub pending_time: SystemTime,
    /// Instance tags, served under `tags/instance/` when [`MetadataOptions::instance_metadata_tags`].
    pub tags: Vec<(String, String)>,
    /// The associated instance profile; `None` hides `meta-data/iam/` entirely.
    pub iam: Option<IamView>,
    pub options: MetadataOptions,
}

/// The instance's primary network interface as `network/interfaces/macs/MAC/` shows it, beside
/// what the view already holds (MAC, addresses, host name, owner, group names). Every value is a
/// finished string, so serving one is a copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceView {
    /// `eni-…`.
    pub interface_id: String,
    /// The IDs of [`InstanceView::security_groups`], in the same order.
    pub security_group_ids: Vec<String>,
    pub subnet_id: String,
    pub subnet_ipv4_cidr_block: String,
    pub vpc_id: String,
    /// The VPC's primary block.
    pub vpc_ipv4_cidr_block: String,
    /// All of the VPC's blocks, one per line, primary first.
    pub vpc_ipv4_cidr_blocks: String,
    /// The interface's IPv6 addresses, one per line; empty hides `ipv6s`.
    pub ipv6s: String,
}

/// The instance profile association as IMDS shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamView {
    pub instance_profile_arn: String,
    pub instance_profile_id: String,
    /// The profile's role; `None` (a profile without a role) makes the credential paths 404.
    pub role_name: Option<String>,
    /// `LastUpdated` of `iam/info`: when the current credentials were issued (or the association
    /// was made), so that it moves with rotation.
    pub last_updated: SystemTime,
}

/// `ModifyInstanceMetadataOptions` settings that change IMDS behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataOptions {
    pub http_tokens: HttpTokens,
    /// IP TTL (IPv6 hop limit) of the token PUT response, 1..=64. Out-of-range values are clamped.
    pub put_response_hop_limit: u8,
    /// `HttpEndpoint=disabled` answers 403 to everything.
    pub http_endpoint_enabled: bool,
    /// `HttpProtocolIpv6=enabled`: the instance is answered over IPv6 (a connection whose
    /// attribution address is IPv6). Disabled, an IPv6 connection is treated as coming from no
    /// instance.
    pub http_protocol_ipv6: bool,
    pub instance_metadata_tags: bool,
}

impl Default for MetadataOptions {
    /// EC2's launch defaults for an AMI without `ImdsSupport=v2.0`.
    fn default() -> Self {
        Self {
            http_tokens: HttpTokens::Optional,
            put_response_hop_limit: 1,
            http_endpoint_enabled: true,
            http_protocol_ipv6: false,
            instance_metadata_tags: false,
        }
    }
}

/// Whether IMDSv1 (no token) is still accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpTokens {
    Optional,
    Required,
}

/// How the caller obtained its credentials: the value of `ec2:RoleDelivery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleDelivery {
    /// IMDSv1: a GET without a session token (`ec2:RoleDelivery` = 1.0).
    V1,
    /// IMDSv2: a GET carrying a valid session token (`ec2:RoleDelivery` = 2.0).
    V2,
}

impl RoleDelivery {
    /// The condition-key value, `"1.0"` or `"2.0"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleDelivery::V1 => "1.0",
            RoleDelivery::V2 => "2.0",
        }
    }
}

/// The outcome of asking for an instance's role credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsResult {
    /// Shared, so a server can hand out the same set to every request of its lifetime without
    /// copying its secrets each time.
    Issued(Arc<Credentials>),
    /// The role's trust policy does not let `ec2.amazonaws.com` assume it: EC2 answers 200 with
    /// an `AssumeRoleUnauthorizedAccess` document.
    AssumeRoleUnauthorized {
        role_name: String,
        last_updated: SystemTime,
    },
    /// No profile, or a profile without a role, at this moment: 404.
    NoRole,
}

/// One temporary credential set, as served under `iam/security-credentials/ROLE`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub token: String,
    pub last_updated: SystemTime,
    pub expiration: SystemTime,
    /// The served documents, rendered on first use: the plain one and the extended one (with
    /// `AccountId`). A set is served to one instance for hours, so its bytes are built once.
    rendered: [OnceLock<Vec<u8>>; 2],
}

impl Credentials {
    pub fn new(
        access_key_id: String,
        secret_access_key: String,
        token: String,
        last_updated: SystemTime,
        expiration: SystemTime,
    ) -> Self {
        Self {
            access_key_id,
            secret_access_key,
            token,
            last_updated,
            expiration,
            rendered: Default::default(),
        }
    }

    /// The document for `extended` (or not), rendered by `render` the first time.
    pub(crate) fn rendered(&self, extended: bool, render: impl FnOnce() -> Vec<u8>) -> &[u8] {
        self.rendered[usize::from(extended)].get_or_init(render)
    }
}

/// One identity document's signatures, as served under `dynamic/instance-identity/`. The bytes
/// are the server's; IMDS only encodes them as EC2 does (base64 in lines of 76 characters).
#[derive(Debug)]
pub struct IdentitySignatures {
    signature: Vec<u8>,
    rsa2048: Vec<u8>,
    pkcs7: Vec<u8>,
    /// The served texts, encoded on first use.
    rendered: [OnceLock<Vec<u8>>; 3],
}

/// Which of the document's signatures a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentitySignature {
    Signature,
    Rsa2048,
    Pkcs7,
}

impl IdentitySignatures {
    /// `signature`: the raw signature over the document (EC2: RSA with SHA-256). `rsa2048` and
    /// `pkcs7`: PKCS#7 SignedData structures (DER) carrying the document (EC2: RSA-2048 with
    /// SHA-256, and DSA with SHA-1).
    pub fn new(signature: Vec<u8>, rsa2048: Vec<u8>, pkcs7: Vec<u8>) -> Self {
        Self {
            signature,
            rsa2048,
            pkcs7,
            rendered: Default::default(),
        }
    }

    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    pub fn rsa2048(&self) -> &[u8] {
        &self.rsa2048
    }

    pub fn pkcs7(&self) -> &[u8] {
        &self.pkcs7
    }

    /// The served text of `which`, encoded the first time.
    pub(crate) fn rendered(&self, which: IdentitySignature) -> &[u8] {
        let (raw, slot) = match which {
            IdentitySignature::Signature => (&self.signature, &self.rendered[0]),
            IdentitySignature::Rsa2048 => (&self.rsa2048, &self.rendered[1]),
            IdentitySignature::Pkcs7 => (&self.pkcs7, &self.rendered[2]),
        };
        slot.get_or_init(|| crate::format::wrapped_base64(raw))
    }
}

/// Secrets stay out of logs and panic messages.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("last_updated", &self.last_updated)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}
