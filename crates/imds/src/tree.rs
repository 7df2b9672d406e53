//! The metadata tree: which paths exist for an instance and what they contain.
//!
//! Segments are matched byte for byte, never percent-decoded: `..` or `%2e` simply match nothing
//! and get the 404 page. Empty segments are dropped, as EC2 collapses repeated slashes (AWS's own
//! AMI scripts fetch `/latest//meta-data/public-keys/0/openssh-key`), so a trailing `/` is
//! accepted on every path, directories and leaf values alike (botocore asks for
//! `placement/availability-zone/`). Listings are newline-separated without a trailing newline,
//! sub-directories marked with `/`.
//!
//! The tree is served under every version name EC2 lists at `/` ([`VERSIONS`]) and `latest`;
//! every version shows the same tree.

use std::io::Write;
use std::time::SystemTime;

use crate::format::JsonObject;
use crate::source::{CredentialsResult, IamView, IdentitySignature, InstanceView};

/// Where a GET lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The body has been written; serve it with this `Last-Modified`.
    Written {
        last_modified: SystemTime,
    },
    /// The role's credentials (the path named the instance's current role); the `-extended`
    /// form adds `AccountId`.
    Credentials {
        extended: bool,
    },
    /// `user-data`: the body has been written; served as `application/octet-stream`.
    UserData {
        last_modified: SystemTime,
    },
    /// One of the identity document's signatures, which the server makes.
    IdentitySignature(IdentitySignature),
    NotFound,
}

/// The API versions EC2 lists at `/`, oldest first (`latest` follows them). The list in the EC2
/// User Guide's "Get the available versions of the instance metadata" example (274 bytes with
/// `latest`, as its recorded `Content-Length` says).
pub const VERSIONS: [&str; 25] = [
    "1.0",
    "2007-01-19",
    "2007-03-01",
    "2007-08-29",
    "2007-10-10",
    "2007-12-15",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
    "2011-01-01",
    "2011-05-01",
    "2012-01-12",
    "2014-02-25",
    "2014-11-05",
    "2015-10-20",
    "2016-04-19",
    "2016-06-30",
    "2016-09-02",
    "2018-03-28",
    "2018-08-17",
    "2018-09-24",
    "2019-10-01",
    "2020-10-27",
    "2021-01-03",
    "2021-03-23",
];

/// Whether `segment` names a served API version.
fn is_version(segment: &[u8]) -> bool {
    segment == b"latest" || VERSIONS.iter().any(|v| v.as_bytes() == segment)
}

/// Resolves `target` for `view`, writing static content into `body`.
pub fn route(target: &[u8], view: &InstanceView, body: &mut Vec<u8>) -> Route {
    let path = match target.iter().position(|&b| b == b'?') {
        Some(query) => &target[..query],
        None => target,
    };
    if path.first() != Some(&b'/') {
        return Route::NotFound;
    }
    let segments: Segments = path
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty())
        .collect();
    let (version, rest) = match segments.as_slice() {
        [] => {
            return written(body, view.pending_time, |b| {
                for version in VERSIONS {
                    b.extend_from_slice(version.as_bytes());
                    b.push(b'\n');
                }
                b.extend_from_slice(b"latest");
            });
        }
        [version, rest @ ..] => (*version, rest),
    };
    if !is_version(version) {
        return Route::NotFound;
    }
    match rest {
        [] => written(body, view.pending_time, |b| {
            b.extend_from_slice(b"dynamic\nmeta-data");
            if view.user_data.is_some() {
                b.extend_from_slice(b"\nuser-data");
            }
        }),
        [b"meta-data", rest @ ..] => meta_data(rest, view, body),
        [b"user-data"] => match &view.user_data {
            Some(data) => {
                body.extend_from_slice(data);
                Route::UserData {
                    last_modified: view.pending_time,
                }
            }
            None => Route::NotFound,
        },
        [b"dynamic"] => written(body, view.pending_time, |b| {
            b.extend_from_slice(b"instance-identity/")
        }),
        [b"dynamic", b"instance-identity"] => written(body, view.pending_time, |b| {
            b.extend_from_slice(IDENTITY_LISTING)
        }),
        [b"dynamic", b"instance-identity", b"document"] => {
            written(body, view.pending_time, |b| identity_document(view, b))
        }
        [b"dynamic", b"instance-identity", b"signature"] => {
            Route::IdentitySignature(IdentitySignature::Signature)
        }
        [b"dynamic", b"instance-identity", b"rsa2048"] => {
            Route::IdentitySignature(IdentitySignature::Rsa2048)
        }
        [b"dynamic", b"instance-identity", b"pkcs7"] => {
            Route::IdentitySignature(IdentitySignature::Pkcs7)
        }
        _ => Route::NotFound,
    }
}

/// `dynamic/instance-identity/` in the order the EC2 User Guide's "Retrieve dynamic data" shows
/// it (not alphabetical), less the `dsa2048` entry that is not served.
const IDENTITY_LISTING: &[u8] = b"rsa2048\npkcs7\ndocument\nsignature";

/// At most a handful of segments are meaningful; longer paths are 404 anyway.
type Segments<'p> = smallvec_lite::Segments<'p>;

fn meta_data(rest: &[&[u8]], view: &InstanceView, body: &mut Vec<u8>) -> Route {
    let launched = view.pending_time;
    let text = |body: &mut Vec<u8>, value: &str| {
        written(body, launched, |b| b.extend_from_slice(value.as_bytes()))
    };
    match rest {
        [] => written(body, launched, |b| meta_data_listing(view, b)),
        [b"ami-id"] => text(body, &view.ami_id),
        [b"ami-launch-index"] => written(body, launched, |b| {
            let _ = write!(b, "{}", view.launch_index);
        }),
        // What EC2 answers for an instance of an EBS-backed AMI (no S3 manifest).
        [b"ami-manifest-path"] => text(body, "(unknown)"),
        [b"block-device-mapping"] => text(body, "ami\nroot"),
        [b"block-device-mapping", b"ami" | b"root"] => text(body, ROOT_DEVICE),
        [b"instance-life-cycle"] => text(body, "on-demand"),
        // No reboot or bundling is ever pending.
        [b"instance-action"] => text(body, "none"),
        [b"profile"] => text(body, "default-hvm"),
        [b"services"] => text(body, "domain\npartition"),
        [b"services", b"domain"] => text(body, services(&view.region).0),
        [b"services", b"partition"] => text(body, services(&view.region).1),
        [b"hostname"] => text(body, &view.hostname),
        [b"instance-id"] => text(body, &view.instance_id),
        [b"instance-type"] => text(body, &view.instance_type),
        [b"ipv6"] => match &view.ipv6 {
            Some(address) => text(body, address),
            None => Route::NotFound,
        },
        [b"local-hostname"] => text(body, &view.local_hostname),
        [b"local-ipv4"] => text(body, &view.local_ipv4),
        [b"mac"] => text(body, &view.mac),
        [b"reservation-id"] => text(body, &view.reservation_id),
        [b"security-groups"] => written(body, launched, |b| {
            join_lines(b, view.security_groups.iter().map(String::as_str))
        }),
        [b"placement"] => match &view.host_id {
            Some(_) => text(
                body,
                "availability-zone\navailability-zone-id\nhost-id\nregion",
            ),
            None => text(body, "availability-zone\navailability-zone-id\nregion"),
        },
        [b"placement", b"host-id"] => match &view.host_id {
            Some(host_id) => text(body, host_id),
            None => Route::NotFound,
        },
        [b"placement", b"availability-zone"] => text(body, &view.availability_zone),
        [b"placement", b"availability-zone-id"] => text(body, &view.availability_zone_id),
        [b"placement", b"region"] => text(body, &view.region),
        [b"network", rest @ ..] => network(rest, view, body),
        [b"tags", rest @ ..] if view.options.instance_metadata_tags => tags(rest, view, body),
        [b"public-keys", rest @ ..] => match &view.public_key {
            Some((name, line)) => public_keys(rest, name, line, launched, body),
            None => Route::NotFound,
        },
        [b"iam", rest @ ..] => match &view.iam {
            Some(iam) => iam_tree(rest, iam, body),
            None => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

/// `public-keys/`: the one key pair an instance launches with, as index `0`. The key is served
/// with a trailing line break, as EC2 serves it (it is an `authorized_keys` line).
fn public_keys(
    rest: &[&[u8]],
    name: &str,
    line: &str,
    launched: SystemTime,
    body: &mut Vec<u8>,
) -> Route {
    match rest {
        [] => written(body, launched, |b| {
            b.extend_from_slice(b"0=");
            b.extend_from_slice(name.as_bytes());
        }),
        [b"0"] => written(body, launched, |b| b.extend_from_slice(b"openssh-key")),
        [b"0", b"openssh-key"] => written(body, launched, |b| {
            b.extend_from_slice(line.as_bytes());
            b.push(b'\n');
        }),
        _ => Route::NotFound,
    }
}

/// `network/`: the instance's one interface under its MAC, with the leaves EC2 serves for a VPC
/// interface without a public address, listed in EC2's (alphabetical) order.
fn network(rest: &[&[u8]], view: &InstanceView, body: &mut Vec<u8>) -> Route {
    let launched = view.pending_time;
    let text = |body: &mut Vec<u8>, value: &str| {
        written(body, launched, |b| b.extend_from_slice(value.as_bytes()))
    };
    let nic = &view.interface;
    match rest {
        [] => text(body, "interfaces/"),
        [b"interfaces"] => text(body, "macs/"),
        [b"interfaces", b"macs"] => written(body, launched, |b| {
            b.extend_from_slice(view.mac.as_bytes());
            b.push(b'/');
        }),
        [b"interfaces", b"macs", mac, rest @ ..] if *mac == view.mac.as_bytes() => match rest {
            [] => written(body, launched, |b| {
                b.extend_from_slice(b"device-number\ninterface-id\n");
                if !nic.ipv6s.is_empty() {
                    b.extend_from_slice(b"ipv6s\n");
                }
                b.extend_from_slice(INTERFACE_LISTING_REST.as_bytes());
            }),
            [b"device-number"] => text(body, "0"),
            [b"interface-id"] => text(body, &nic.interface_id),
            [b"ipv6s"] if !nic.ipv6s.is_empty() => text(body, &nic.ipv6s),
            [b"local-hostname"] => text(body, &view.local_hostname),
            [b"local-ipv4s"] => text(body, &view.local_ipv4),
            [b"mac"] => text(body, &view.mac),
            [b"owner-id"] => text(body, &view.account_id),
            [b"security-group-ids"] => written(body, launched, |b| {
                join_lines(b, nic.security_group_ids.iter().map(String::as_str))
            }),
            [b"security-groups"] => written(body, launched, |b| {
                join_lines(b, view.security_groups.iter().map(String::as_str))
            }),
            [b"subnet-id"] => text(body, &nic.subnet_id),
            [b"subnet-ipv4-cidr-block"] => text(body, &nic.subnet_ipv4_cidr_block),
            [b"vpc-id"] => text(body, &nic.vpc_id),
            [b"vpc-ipv4-cidr-block"] => text(body, &nic.vpc_ipv4_cidr_block),
            [b"vpc-ipv4-cidr-blocks"] => text(body, &nic.vpc_ipv4_cidr_blocks),
            _ => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

/// `network/interfaces/macs/MAC/` after `device-number`, `interface-id` and (with IPv6
/// addresses) `ipv6s`: no `public-*` or `ipv4-associations/` (no public address), no IPv6
/// CIDR leaves (no IPv6 block is known for the instance's network).
const INTERFACE_LISTING_REST: &str = "local-hostname\nlocal-ipv4s\nmac\nowner-id\nsecurity-group-ids\nsecurity-groups\nsubnet-id\nsubnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks";

/// The root device every instance has (an HVM instance's EBS root, as EC2 names it).
const ROOT_DEVICE: &str = "/dev/xvda";

/// `services/domain` and `services/partition` for the region's partition.
fn services(region: &str) -> (&'static str, &'static str) {
    if region.starts_with("cn-") {
        ("amazonaws.com.cn", "aws-cn")
    } else if region.starts_with("us-gov-") {
        ("amazonaws.com", "aws-us-gov")
    } else {
        ("amazonaws.com", "aws")
    }
}

/// `meta-data/`, sorted as EC2 lists it.
fn meta_data_listing(view: &InstanceView, b: &mut Vec<u8>) {
    b.extend_from_slice(
        b"ami-id\nami-launch-index\nami-manifest-path\nblock-device-mapping/\nhostname\n",
    );
    if view.iam.is_some() {
        b.extend_from_slice(b"iam/\n");
    }
    b.extend_from_slice(b"instance-action\n");
    b.extend_from_slice(b"instance-id\ninstance-life-cycle\ninstance-type\n");
    if view.ipv6.is_some() {
        b.extend_from_slice(b"ipv6\n");
    }
    b.extend_from_slice(b"local-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\nprofile\n");
    if view.public_key.is_some() {
        b.extend_from_slice(b"public-keys/\n");
    }
    b.extend_from_slice(b"reservation-id\nsecurity-groups\nservices/");
    if view.options.instance_metadata_tags {
        b.extend_from_slice(b"\ntags/");
    }
}

fn tags(rest: &[&[u8]], view: &InstanceView, body: &mut Vec<u8>) -> Route {
    let launched = view.pending_time;
    let visible = || view.tags.iter().filter(|(key, _)| is_servable_tag_key(key));
    match rest {
        [] => written(body, launched, |b| b.extend_from_slice(b"instance")),
        [b"instance"] => written(body, launched, |b| {
            join_lines(b, visible().map(|(k, _)| k.as_str()))
        }),
        [b"instance", key] => match visible().find(|(k, _)| k.as_bytes() == *key) {
            Some((_, value)) => written(body, launched, |b| b.extend_from_slice(value.as_bytes())),
            None => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

/// EC2 exposes only tag keys made of letters, digits and `+ - = . , _ : @` (no spaces, no `/`),
/// and never `.` or `..`; this also keeps every key a single, literal path segment.
fn is_servable_tag_key(key: &str) -> bool {
    !key.is_empty()
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-=.,_:@".contains(&b))
}

fn iam_tree(rest: &[&[u8]], iam: &IamView, body: &mut Vec<u8>) -> Route {
    let role = iam.role_name.as_deref();
    match rest {
        [] => written(body, iam.last_updated, |b| {
            b.extend_from_slice(b"info\nsecurity-credentials/")
        }),
        [b"info"] => written(body, iam.last_updated, |b| {
            JsonObject::new(b)
                .string("Code", "Success")
                .timestamp("LastUpdated", iam.last_updated)
                .string("InstanceProfileArn", &iam.instance_profile_arn)
                .string("InstanceProfileId", &iam.instance_profile_id)
                .finish();
        }),
        [b"security-credentials" | b"security-credentials-extended"] => match role {
            Some(role) => written(body, iam.last_updated, |b| {
                b.extend_from_slice(role.as_bytes())
            }),
            None => Route::NotFound,
        },
        [
            dir @ (b"security-credentials" | b"security-credentials-extended"),
            name,
        ] if role.is_some_and(|role| role.as_bytes() == *name) => Route::Credentials {
            extended: *dir == b"security-credentials-extended",
        },
        _ => Route::NotFound,
    }
}

/// Writes the credentials document for `result`; `None` means there is nothing to serve (404).
///
/// Key order and layout are EC2's (recorded traffic). `AccountId` of the extended form goes last:
/// SDKs read it by name and its position in EC2's output was not found in any source.
pub fn write_credentials(
    body: &mut Vec<u8>,
    result: &CredentialsResult,
    account_id: Option<&str>,
) -> Option<SystemTime> {
    match result {
        CredentialsResult::Issued(credentials) => {
            let document = credentials.rendered(account_id.is_some(), || {
                let mut doc = Vec::with_capacity(1100);
                let object = JsonObject::new(&mut doc)
                    .string("Code", "Success")
                    .timestamp("LastUpdated", credentials.last_updated)
                    .string("Type", "AWS-HMAC")
                    .string("AccessKeyId", &credentials.access_key_id)
                    .string("SecretAccessKey", &credentials.secret_access_key)
                    .string("Token", &credentials.token)
                    .timestamp("Expiration", credentials.expiration);
                match account_id {
                    Some(account) => object.string("AccountId", account).finish(),
                    None => object.finish(),
                }
                doc
            });
            body.extend_from_slice(document);
            Some(credentials.last_updated)
        }
        CredentialsResult::AssumeRoleUnauthorized {
            role_name,
            last_updated,
        } => {
            let mut message = String::with_capacity(200);
            message.push_str("EC2 cannot assume the role ");
            message.push_str(role_name);
            message.push_str(
                ".  Please see documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_iam-ec2.html#troubleshoot_iam-ec2_errors-info-doc.",
            );
            JsonObject::new(body)
                .string("Code", "AssumeRoleUnauthorizedAccess")
                .string("Message", &message)
                .timestamp("LastUpdated", *last_updated)
                .finish();
            Some(*last_updated)
        }
        CredentialsResult::NoRole => None,
    }
}

/// `dynamic/instance-identity/document`, field order and layout as EC2 serves it today,
/// appended to `b`. Its signatures are made over exactly these bytes (by the server, or for a
/// host agent by the control plane, which renders the same bytes with this function).
pub fn identity_document(view: &InstanceView, b: &mut Vec<u8>) {
    JsonObject::new(b)
        .string("accountId", &view.account_id)
        .string("architecture", &view.architecture)
        .string("availabilityZone", &view.availability_zone)
        .null("billingProducts")
        .null("devpayProductCodes")
        .null("marketplaceProductCodes")
        .string("imageId", &view.ami_id)
        .string("instanceId", &view.instance_id)
        .string("instanceType", &view.instance_type)
        .null("kernelId")
        .timestamp("pendingTime", view.pending_time)
        .string("privateIp", &view.local_ipv4)
        .null("ramdiskId")
        .string("region", &view.region)
        .string("version", "2017-09-30")
        .finish();
}

fn written(
    body: &mut Vec<u8>,
    last_modified: SystemTime,
    write: impl FnOnce(&mut Vec<u8>),
) -> Route {
    write(body);
    Route::Written { last_modified }
}

fn join_lines<'a>(b: &mut Vec<u8>, lines: impl Iterator<Item = &'a str>) {
    for (i, line) in lines.enumerate() {
        if i > 0 {
            b.push(b'\n');
        }
        b.extend_from_slice(line.as_bytes());
    }
}

/// A fixed-capacity segment list, so routing allocates nothing.
mod smallvec_lite {
    /// Paths deeper than this never exist in the tree (the deepest is
    /// `/latest/meta-data/network/interfaces/macs/MAC/LEAF`, 7 segments); the excess is kept as
    /// one sentinel segment so they still fail to match.
    const MAX: usize = 8;

    pub struct Segments<'p> {
        items: [&'p [u8]; MAX],
        len: usize,
    }

    impl<'p> Segments<'p> {
        pub fn as_slice(&self) -> &[&'p [u8]] {
            &self.items[..self.len]
        }
    }

    impl<'p> FromIterator<&'p [u8]> for Segments<'p> {
        fn from_iter<I: IntoIterator<Item = &'p [u8]>>(iter: I) -> Self {
            let mut segments = Segments {
                items: [&[]; MAX],
                len: 0,
            };
            for item in iter {
                if segments.len == MAX {
                    // Too deep: an empty segment at the end matches no route.
                    segments.items[MAX - 1] = b"";
                    break;
                }
                segments.items[segments.len] = item;
                segments.len += 1;
            }
            segments
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use super::write_credentials;
    use crate::source::{Credentials, CredentialsResult};

    /// A shared set renders each form once and serves the same bytes afterwards; the plain and
    /// extended forms stay distinct.
    #[test]
    fn a_shared_set_serves_its_rendered_documents() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        let set = Arc::new(Credentials::new(
            "ASIAEXAMPLE".into(),
            "secret".into(),
            "token".into(),
            at(1_632_174_146),
            at(1_632_195_746),
        ));
        let result = CredentialsResult::Issued(set.clone());
        let render = |account: Option<&str>| {
            let mut body = Vec::new();
            write_credentials(&mut body, &result, account);
            String::from_utf8(body).unwrap()
        };
        let plain = render(None);
        let extended = render(Some("123456789012"));
        assert_eq!(render(None), plain);
        assert_eq!(render(Some("123456789012")), extended);
        assert!(plain.starts_with(
            "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2021-09-20T21:42:26Z\""
        ));
        assert!(!plain.contains("AccountId"));
        assert!(extended.ends_with(",\n  \"AccountId\" : \"123456789012\"\n}"));
        assert!(std::ptr::eq(
            set.rendered(false, || unreachable!("already rendered"))
                .as_ptr(),
            set.rendered(false, || unreachable!("already rendered"))
                .as_ptr()
        ));
    }
}
