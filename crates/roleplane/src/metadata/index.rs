//! Running instances in memory, by address and by ID: what every IMDS request looks up.
//!
//! A [`Snapshot`] is immutable and rebuilt from the store when EC2 (or IAM) data changed
//! (`listeners::Reconciler` watches the store's `ec2_generation`), so the per-request lookup is
//! one hash probe and never touches the store.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use imds::{HttpTokens, IamView, InstanceView, MetadataOptions};
use store::{
    AssociationState, Instance, InstanceCondition, InstanceField, InstanceQuery, InstanceState,
    ProfileRef, Store, StoreError,
};

/// Only running instances have a metadata service, as on EC2.
const SERVED_STATE: InstanceState = InstanceState::Running;

/// The running instances at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    by_ip: HashMap<IpAddr, Arc<InstanceView>>,
    by_id: HashMap<String, Placement>,
}

/// What credential issuance needs about an instance besides its view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub account_id: String,
    pub instance_arn: String,
    pub private_ip: String,
    /// The associated profile, if the association is `associated`.
    pub profile: Option<ProfileRef>,
}

impl Snapshot {
    pub fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>> {
        self.by_ip.get(&addr).cloned()
    }

    pub fn placement(&self, instance_id: &str) -> Option<&Placement> {
        self.by_id.get(instance_id)
    }

    /// The addresses instances answer on (local mode: one listener each).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.by_ip.keys().copied()
    }

    pub fn instance_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_id.keys().map(String::as_str)
    }

    /// Reads every running instance of every account, with its profile's current role.
    pub async fn load<S: Store>(store: &S, region: &str) -> Result<Snapshot, StoreError> {
        let running = InstanceQuery {
            conditions: vec![InstanceCondition {
                field: InstanceField::StateName,
                values: vec![SERVED_STATE.as_str().to_owned()],
            }],
            ..InstanceQuery::default()
        };
        let mut snapshot = Snapshot::default();
        let mut roles = RoleNames::default();
        for account in store.list_accounts().await? {
            for instance in store.instances(&account.id, &running).await? {
                if instance.state != SERVED_STATE {
                    continue;
                }
                let Ok(ip) = instance.private_ip.parse::<IpAddr>() else {
                    tracing::warn!(instance = %instance.id, "instance without a usable address");
                    continue;
                };
                let profile = instance
                    .association
                    .as_ref()
                    .filter(|a| a.state == AssociationState::Associated)
                    .map(|a| a.profile.clone());
                let iam = match &profile {
                    Some(profile) => Some(IamView {
                        instance_profile_arn: profile.arn.clone(),
                        instance_profile_id: profile.id.clone(),
                        role_name: roles.of(store, &account.id, profile).await?,
                        last_updated: association_time(&instance),
                    }),
                    None => None,
                };
                let placement = Placement {
                    account_id: instance.account_id.clone(),
                    instance_arn: format!(
                        "arn:aws:ec2:{region}:{}:instance/{}",
                        instance.account_id, instance.id
                    ),
                    private_ip: instance.private_ip.clone(),
                    profile,
                };
                snapshot
                    .by_ip
                    .insert(ip, Arc::new(view(&instance, region, iam)));
                snapshot.by_id.insert(instance.id, placement);
            }
        }
        Ok(snapshot)
    }
}

/// Role names of the profiles seen during one load, each profile read once.
#[derive(Default)]
struct RoleNames(HashMap<String, Option<String>>);

impl RoleNames {
    async fn of<S: Store>(
        &mut self,
        store: &S,
        account: &str,
        profile: &ProfileRef,
    ) -> Result<Option<String>, StoreError> {
        if let Some(name) = self.0.get(&profile.arn) {
            return Ok(name.clone());
        }
        let name = profile_role(store, account, profile)
            .await?
            .map(|role| role.name);
        self.0.insert(profile.arn.clone(), name.clone());
        Ok(name)
    }
}

/// The role of the profile an association names; `None` when the profile lost its role or was
/// deleted (and maybe re-created under the same name: the ID then differs).
pub async fn profile_role<S: Store>(
    store: &S,
    account: &str,
    profile: &ProfileRef,
) -> Result<Option<store::Role>, StoreError> {
    let Some(name) = profile.arn.rsplit('/').next() else {
        return Ok(None);
    };
    match store.instance_profile(account, name).await {
        Ok(found) if found.id == profile.id => Ok(found.roles.into_iter().next()),
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn association_time(instance: &Instance) -> SystemTime {
    instance
        .association
        .as_ref()
        .map_or(instance.launched, |a| a.created)
        .into()
}

fn view(instance: &Instance, region: &str, iam: Option<IamView>) -> InstanceView {
    let hostname = private_dns_name(&instance.private_ip, region);
    let options = &instance.metadata_options;
    InstanceView {
        instance_id: instance.id.clone(),
        account_id: instance.account_id.clone(),
        region: region.to_owned(),
        availability_zone: instance.availability_zone.clone(),
        ami_id: instance.image_id.clone(),
        instance_type: instance.instance_type.clone(),
        architecture: "x86_64".to_owned(),
        local_ipv4: instance.private_ip.clone(),
        mac: mac_address(&instance.id),
        hostname: hostname.clone(),
        local_hostname: hostname,
        reservation_id: instance.reservation_id.clone(),
        security_groups: if instance.security_groups.is_empty() {
            vec!["default".to_owned()]
        } else {
            instance.security_groups.clone()
        },
        pending_time: instance.launched.into(),
        tags: instance
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect(),
        iam,
        options: MetadataOptions {
            http_tokens: if options.http_tokens == "required" {
                HttpTokens::Required
            } else {
                HttpTokens::Optional
            },
            put_response_hop_limit: options.http_put_response_hop_limit,
            http_endpoint_enabled: options.http_endpoint != "disabled",
            instance_metadata_tags: options.instance_metadata_tags == "enabled",
        },
    }
}

/// EC2's private DNS name: `ip-10-0-0-1.ec2.internal` in us-east-1, else
/// `ip-10-0-0-1.REGION.compute.internal`.
fn private_dns_name(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{dashed}.ec2.internal")
    } else {
        format!("ip-{dashed}.{region}.compute.internal")
    }
}

/// A stable, locally administered unicast MAC derived from the instance ID (EC2's start with
/// `02:`, `06:`, `0a:`, `0e:`, … for the same reason).
fn mac_address(instance_id: &str) -> String {
    let hex = instance_id.trim_start_matches("i-");
    let tail = hex.get(hex.len().saturating_sub(10)..).unwrap_or("");
    let mut mac = String::from("02");
    for pair in tail.as_bytes().chunks(2) {
        mac.push(':');
        mac.push_str(std::str::from_utf8(pair).unwrap_or("00"));
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_follow_ec2s_regional_form() {
        assert_eq!(
            private_dns_name("127.1.0.1", "us-east-1"),
            "ip-127-1-0-1.ec2.internal"
        );
        assert_eq!(
            private_dns_name("10.0.0.9", "eu-west-1"),
            "ip-10-0-0-9.eu-west-1.compute.internal"
        );
    }

    #[test]
    fn mac_is_six_octets_from_the_instance_id() {
        assert_eq!(mac_address("i-0123456789abcdef0"), "02:78:9a:bc:de:f0");
    }
}
