//! Running instances in memory, by address and by ID: what every IMDS request looks up.
//!
//! A [`Snapshot`] is immutable and replaced when EC2 (or IAM) data changed
//! (`listeners::reconcile` watches the store's `ec2_generation`), so the per-request lookup is
//! one hash probe and never touches the store. After an EC2 write only the instances changed
//! since the snapshot's mark are re-read ([`Snapshot::patch`]), and after an IAM write only
//! each profile's role ([`Snapshot::with_roles_reread`]), so a write costs about the same with
//! ten instances or ten thousand.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use imds::{HttpTokens, IamView, InstanceView, InterfaceView, MetadataOptions};
use store::{
    AssociationState, Instance, InstanceCondition, InstanceField, InstanceQuery, InstanceState,
    ProfileRef, Store, StoreError,
};

use crate::ec2::addresses::Addressing;
use crate::ec2::network::{self, Network, zones};

/// Only running instances have a metadata service, as on EC2.
const SERVED_STATE: InstanceState = InstanceState::Running;

/// The running instances at one moment.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    by_ip: HashMap<IpAddr, Arc<InstanceView>>,
    by_id: HashMap<String, Arc<Placement>>,
    /// The instances on each Dedicated Host, by host ID (what its agent serves), in ID order.
    by_host: BTreeMap<String, BTreeSet<String>>,
    /// The store's instance change mark this snapshot reflects.
    mark: u64,
}

/// What credential issuance needs about an instance besides its view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub account_id: String,
    pub instance_arn: String,
    pub private_ip: String,
    /// Its IPv6 addresses, each also a key of the snapshot (host mode's IPv6 attribution).
    pub ipv6: Vec<IpAddr>,
    /// The associated profile, if the association is `associated`.
    pub profile: Option<ProfileRef>,
    /// The Dedicated Host it runs on: its agent serves its metadata, this server does not.
    pub host_id: Option<String>,
}

impl Snapshot {
    pub fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>> {
        self.by_ip.get(&addr).cloned()
    }

    pub fn placement(&self, instance_id: &str) -> Option<&Placement> {
        self.by_id.get(instance_id).map(|p| &**p)
    }

    /// The addresses instances answer on (local mode: one listener each).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.by_ip.keys().copied()
    }

    /// The addresses of instances on no host: those this server's own metadata service
    /// answers (a host's instances are its agent's).
    pub fn addresses_off_hosts(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.by_ip
            .iter()
            .filter(|(_, view)| view.host_id.is_none())
            .map(|(ip, _)| *ip)
    }

    /// The running instances on `host_id` of `account`, in instance ID order, each with its
    /// view and placement.
    pub fn on_host<'s>(
        &'s self,
        account: &'s str,
        host_id: &str,
    ) -> impl Iterator<Item = (Arc<InstanceView>, &'s Placement)> + 's {
        self.by_host
            .get(host_id)
            .into_iter()
            .flatten()
            .filter_map(move |id| {
                let placement = self.by_id.get(id)?;
                if placement.account_id != account {
                    return None;
                }
                let view = self.by_ip.get(&placement.private_ip.parse().ok()?)?;
                Some((view.clone(), &**placement))
            })
    }

    pub fn instance_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_id.keys().map(String::as_str)
    }

    /// Reads every running instance of every account, with its profile's current role.
    pub async fn load<S: Store>(
        store: &S,
        region: &str,
        addressing: Addressing,
    ) -> Result<Snapshot, StoreError> {
        let running = InstanceQuery {
            conditions: vec![InstanceCondition {
                field: InstanceField::StateName,
                values: vec![SERVED_STATE.as_str().to_owned()],
            }],
            ..InstanceQuery::default()
        };
        let mut snapshot = Snapshot {
            mark: store.instance_change_mark().await?,
            ..Snapshot::default()
        };
        let mut roles = RoleNames::default();
        for account in store.list_accounts().await? {
            for instance in store.instances(&account.id, &running).await? {
                snapshot
                    .add(store, (region, addressing), &mut roles, instance)
                    .await?;
            }
        }
        Ok(snapshot)
    }

    /// This snapshot with every instance changed since its mark re-read, or `None` when none
    /// changed; also the IDs of instances it served that are no longer served.
    pub async fn patch<S: Store>(
        &self,
        store: &S,
        region: &str,
        addressing: Addressing,
    ) -> Result<Option<(Snapshot, Vec<String>)>, StoreError> {
        // The mark first: a write landing in between is re-read next time, never missed.
        let mark = store.instance_change_mark().await?;
        if mark == self.mark {
            return Ok(None);
        }
        let changed = store.instances_changed_since(self.mark).await?;
        let mut next = Snapshot {
            mark,
            ..self.clone()
        };
        // All removals before any addition: an address freed by one instance may be taken
        // by another in the same batch.
        for instance in &changed {
            next.remove(&instance.id);
        }
        let mut roles = RoleNames::default();
        let mut gone = Vec::new();
        for instance in changed {
            let id = instance.id.clone();
            next.add(store, (region, addressing), &mut roles, instance)
                .await?;
            if self.by_id.contains_key(&id) && !next.by_id.contains_key(&id) {
                gone.push(id);
            }
        }
        Ok(Some((next, gone)))
    }

    /// This snapshot with every profile's role read again (once per profile), or `None` when
    /// no instance's role changed: the only part of a view IAM data decides.
    pub async fn with_roles_reread<S: Store>(
        &self,
        store: &S,
    ) -> Result<Option<Snapshot>, StoreError> {
        let mut roles = RoleNames::default();
        let mut next: Option<Snapshot> = None;
        for (ip, view) in &self.by_ip {
            let Some(iam) = &view.iam else {
                continue;
            };
            let Some(placement) = self.by_id.get(&view.instance_id) else {
                continue;
            };
            let Some(profile) = &placement.profile else {
                continue;
            };
            let role_name = roles.of(store, &placement.account_id, profile).await?;
            if role_name == iam.role_name {
                continue;
            }
            let mut changed = (**view).clone();
            if let Some(iam) = &mut changed.iam {
                iam.role_name = role_name;
            }
            next.get_or_insert_with(|| self.clone())
                .by_ip
                .insert(*ip, Arc::new(changed));
        }
        Ok(next)
    }

    fn remove(&mut self, instance_id: &str) {
        let Some(placement) = self.by_id.remove(instance_id) else {
            return;
        };
        if let Some(host) = &placement.host_id
            && let Some(on_host) = self.by_host.get_mut(host)
        {
            on_host.remove(instance_id);
            if on_host.is_empty() {
                self.by_host.remove(host);
            }
        }
        let ipv4 = placement.private_ip.parse::<IpAddr>().ok();
        for ip in ipv4.iter().chain(&placement.ipv6) {
            if self
                .by_ip
                .get(ip)
                .is_some_and(|view| view.instance_id == instance_id)
            {
                self.by_ip.remove(ip);
            }
        }
    }

    /// Serves `instance` if it is running.
    async fn add<S: Store>(
        &mut self,
        store: &S,
        (region, addressing): (&str, Addressing),
        roles: &mut RoleNames,
        instance: Instance,
    ) -> Result<(), StoreError> {
        if instance.state != SERVED_STATE {
            return Ok(());
        }
        let Ok(ip) = instance.private_ip.parse::<IpAddr>() else {
            tracing::warn!(instance = %instance.id, "instance without a usable address");
            return Ok(());
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
                role_name: roles.of(store, &instance.account_id, profile).await?,
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
            ipv6: instance
                .ipv6_addresses
                .iter()
                .filter_map(|a| a.parse().ok())
                .collect(),
            profile,
            host_id: instance.host_id.clone(),
        };
        if let Some(host) = &instance.host_id {
            self.by_host
                .entry(host.clone())
                .or_default()
                .insert(instance.id.clone());
        }
        let view = Arc::new(view(&instance, region, addressing, iam));
        for ipv6 in &placement.ipv6 {
            self.by_ip.insert(*ipv6, view.clone());
        }
        self.by_ip.insert(ip, view);
        self.by_id.insert(instance.id, Arc::new(placement));
        Ok(())
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

fn view(
    instance: &Instance,
    region: &str,
    addressing: Addressing,
    iam: Option<IamView>,
) -> InstanceView {
    let net = Network::new(&instance.account_id, region).instance(instance);
    let hostname = net.private_dns_name.clone();
    let options = &instance.metadata_options;
    let vpc_blocks = network::vpc_blocks(addressing);
    let (group_names, group_ids) = net.groups.into_iter().map(|g| (g.name, g.id)).unzip();
    InstanceView {
        instance_id: instance.id.clone(),
        account_id: instance.account_id.clone(),
        region: region.to_owned(),
        availability_zone: instance.availability_zone.clone(),
        availability_zone_id: zones::zone_id(&instance.availability_zone, region)
            .unwrap_or_default(),
        host_id: instance.host_id.clone(),
        ami_id: instance.image_id.clone(),
        instance_type: instance.instance_type.clone(),
        architecture: "x86_64".to_owned(),
        local_ipv4: instance.private_ip.clone(),
        ipv6: instance.ipv6_addresses.first().cloned(),
        mac: net.mac,
        hostname: hostname.clone(),
        local_hostname: hostname,
        reservation_id: instance.reservation_id.clone(),
        launch_index: instance.launch_index,
        user_data: instance.user_data.as_deref().map(Arc::from),
        public_key: instance.key_name.clone().zip(instance.public_key.clone()),
        security_groups: group_names,
        interface: InterfaceView {
            interface_id: net.interface_id,
            security_group_ids: group_ids,
            subnet_id: net.subnet.id,
            subnet_ipv4_cidr_block: net.subnet.block.to_string(),
            vpc_id: net.vpc_id,
            vpc_ipv4_cidr_block: vpc_blocks[0].to_string(),
            vpc_ipv4_cidr_blocks: vpc_blocks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            ipv6s: instance.ipv6_addresses.join("\n"),
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
            http_protocol_ipv6: options.http_protocol_ipv6 == "enabled",
            instance_metadata_tags: options.instance_metadata_tags == "enabled",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a snapshot serves, comparable: every address with its view and placement.
    fn served(snapshot: &Snapshot) -> Vec<(IpAddr, InstanceView, Placement)> {
        let mut served: Vec<_> = snapshot
            .by_ip
            .iter()
            .map(|(ip, view)| {
                let placement = snapshot.placement(&view.instance_id).unwrap().clone();
                (*ip, (**view).clone(), placement)
            })
            .collect();
        served.sort_by_key(|(ip, ..)| *ip);
        let addresses: usize = snapshot.by_id.values().map(|p| 1 + p.ipv6.len()).sum();
        assert_eq!(served.len(), addresses, "each address of each instance");
        served
    }

    /// After every kind of EC2 write, patching the previous snapshot serves exactly what a full
    /// load serves, and names the instances that stopped being served.
    #[tokio::test]
    async fn a_patched_snapshot_equals_a_fresh_load_after_each_write() {
        use store::{
            MetadataOptions, NewInstanceProfile, NewLaunch, SqliteStore, StateRequest, Tag,
        };
        const ACCOUNT: &str = "123456789012";
        const REGION: &str = "eu-west-1";
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.create_account(ACCOUNT).await.unwrap();
        store
            .create_role(ACCOUNT, store::NewRole::new("r", "{}"))
            .await
            .unwrap();
        let profile = store
            .create_instance_profile(ACCOUNT, NewInstanceProfile::new("p"))
            .await
            .unwrap();
        store
            .add_role_to_instance_profile(ACCOUNT, "p", "r")
            .await
            .unwrap();
        let profile = ProfileRef {
            arn: profile.arn,
            id: profile.id,
        };
        let launch = |count, profile: Option<ProfileRef>, ipv6: &[&str]| NewLaunch {
            count,
            image_id: "ami-0123456789abcdef0".into(),
            instance_type: "t3.micro".into(),
            availability_zone: "eu-west-1a".into(),
            key_name: None,
            public_key: None,
            subnet_id: None,
            security_groups: Vec::new(),
            private_ip: None,
            ipv6_addresses: ipv6.iter().map(|a| (*a).to_owned()).collect(),
            metadata_options: MetadataOptions::default(),
            tags: vec![Tag::new("team", "a")],
            user_data: None,
            profile,
            host_id: None,
            client_token: None,
            fingerprint: String::new(),
        };

        let mut current = Snapshot::load(&store, REGION, Addressing::Local)
            .await
            .unwrap();
        assert!(
            current
                .patch(&store, REGION, Addressing::Local)
                .await
                .unwrap()
                .is_none()
        );
        let mut ids = Vec::new();
        for step in 0..9 {
            let mut expect_gone = Vec::new();
            match step {
                0 => {
                    let r = store
                        .run_instances(ACCOUNT, launch(3, Some(profile.clone()), &[]))
                        .await
                        .unwrap();
                    ids.extend(r.instances.into_iter().map(|i| i.id));
                }
                1 => {
                    store
                        .change_instance_states(ACCOUNT, &ids[..1], StateRequest::Stop)
                        .await
                        .unwrap();
                    expect_gone.push(ids[0].clone());
                }
                2 => {
                    let r = store
                        .run_instances(ACCOUNT, launch(2, None, &[]))
                        .await
                        .unwrap();
                    ids.extend(r.instances.into_iter().map(|i| i.id));
                }
                3 => {
                    let listed = store
                        .instances(ACCOUNT, &InstanceQuery::default())
                        .await
                        .unwrap();
                    let association = listed
                        .iter()
                        .find(|i| i.id == ids[1])
                        .and_then(|i| i.association.clone())
                        .unwrap();
                    store
                        .disassociate_instance_profile(ACCOUNT, &association.id)
                        .await
                        .unwrap();
                }
                4 => {
                    store
                        .associate_instance_profile(ACCOUNT, &ids[3], &profile)
                        .await
                        .unwrap();
                }
                5 => {
                    let options = MetadataOptions {
                        http_tokens: "required".into(),
                        ..MetadataOptions::default()
                    };
                    store
                        .set_instance_metadata_options(ACCOUNT, &ids[2], &options)
                        .await
                        .unwrap();
                }
                6 => {
                    let ipv6 = ["fd00:db8:1::5", "fd00:db8:1::6"];
                    let r = store
                        .run_instances(ACCOUNT, launch(1, Some(profile.clone()), &ipv6))
                        .await
                        .unwrap();
                    ids.extend(r.instances.into_iter().map(|i| i.id));
                }
                7 => {
                    store
                        .change_instance_states(ACCOUNT, &ids[5..6], StateRequest::Stop)
                        .await
                        .unwrap();
                    expect_gone.push(ids[5].clone());
                }
                _ => {
                    store
                        .change_instance_states(ACCOUNT, &ids[1..3], StateRequest::Terminate)
                        .await
                        .unwrap();
                    store
                        .change_instance_states(ACCOUNT, &ids[..1], StateRequest::Start)
                        .await
                        .unwrap();
                    expect_gone = vec![ids[1].clone(), ids[2].clone()];
                }
            }
            let (patched, gone) = current
                .patch(&store, REGION, Addressing::Local)
                .await
                .unwrap()
                .unwrap();
            let fresh = Snapshot::load(&store, REGION, Addressing::Local)
                .await
                .unwrap();
            assert_eq!(served(&patched), served(&fresh), "after step {step}");
            // The IPv6 instance is served under each of its addresses exactly while running.
            let v6: IpAddr = "fd00:db8:1::6".parse().unwrap();
            let by_v6 = patched.instance(v6).map(|v| v.instance_id.clone());
            assert_eq!(
                by_v6,
                (step == 6).then(|| ids[5].clone()),
                "after step {step}"
            );
            assert_eq!(patched.mark, fresh.mark);
            assert_eq!(gone, expect_gone, "after step {step}");
            current = patched;
        }
        assert_eq!(served(&current).len(), 3, "{:?}", served(&current));

        // An IAM write: the profile loses its role. Only the roles are read again.
        assert!(current.with_roles_reread(&store).await.unwrap().is_none());
        store
            .remove_role_from_instance_profile(ACCOUNT, "p", "r")
            .await
            .unwrap();
        assert!(
            current
                .patch(&store, REGION, Addressing::Local)
                .await
                .unwrap()
                .is_none()
        );
        let reread = current.with_roles_reread(&store).await.unwrap().unwrap();
        let fresh = Snapshot::load(&store, REGION, Addressing::Local)
            .await
            .unwrap();
        assert_eq!(served(&reread), served(&fresh));
        let served = served(&reread);
        let with_profile: Vec<_> = served
            .iter()
            .filter_map(|(_, view, _)| view.iam.as_ref())
            .collect();
        assert_eq!(with_profile.len(), 2);
        assert!(with_profile.iter().all(|iam| iam.role_name.is_none()));
    }
}
