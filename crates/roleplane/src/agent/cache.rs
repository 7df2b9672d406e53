//! What the agent holds: its host's instances as the control plane last listed them, and
//! each instance's credential sets, one per `ec2:RoleDelivery`.
//!
//! The rules that make the agent statically stable live here, as plain functions of the time:
//! - a set is served while it is unexpired, for the instance's current role, and not issued
//!   before the role's revocation time (`notBefore`); **never once expired**, whatever else;
//! - a set is fetched again from its `refreshAt` on (the control plane's rotation), and until a
//!   new one arrives the held one keeps being served;
//! - an instance's IMDSv2 set is fetched as soon as the instance is listed (so it is held
//!   before anyone asks, and before any outage); an IMDSv1 set once it is first asked for, and
//!   kept fresh while it is used;
//! - a failed fetch is retried with a backoff of at most [`MAX_BACKOFF_SECS`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use imds::{CredentialsResult, IdentitySignatures, InstanceView, RoleDelivery};

use crate::agent_api::wire::{HostInstance, InstanceCredentials, Role, ServedSet};

/// Longest pause between tries of one fetch that keeps failing.
pub const MAX_BACKOFF_SECS: i64 = 10;
/// How long an answer without a set (no role, trust refused) is believed before asking again.
pub const NEGATIVE_SECS: i64 = 30;

/// Which set: the instance and how it asks.
pub type SetKey = (String, RoleDelivery);

/// The agent's state.
#[derive(Default)]
pub struct Cache {
    instances: RwLock<Arc<Instances>>,
    sets: Mutex<HashMap<SetKey, Slot>>,
    /// Sets served since the last report (each once), with their instance and delivery.
    served: Mutex<Vec<(SetKey, Arc<HeldSet>)>>,
}

/// The host's instances at one listing.
#[derive(Default)]
pub struct Instances {
    /// The listing's version, which the next long poll names.
    pub version: Option<String>,
    by_ip: HashMap<IpAddr, Arc<InstanceView>>,
    by_id: HashMap<String, Held>,
}

/// One instance as listed.
pub struct Held {
    pub view: Arc<InstanceView>,
    pub role: Option<Role>,
    /// The identity document the control plane signed, and its signatures.
    identity: Option<(Vec<u8>, Arc<IdentitySignatures>)>,
}

/// What the agent holds for one (instance, delivery).
#[derive(Default)]
struct Slot {
    answer: Answer,
    /// Epoch seconds of the last fetch tried (a failure included), which paces the next.
    attempted: i64,
    /// Fetches failed (or answered no newer set) in a row.
    failures: u32,
    /// Served since the last fetch: an IMDSv1 set is kept fresh only while in use.
    used: bool,
}

#[derive(Default)]
enum Answer {
    /// Nothing yet.
    #[default]
    Nothing,
    Set(Arc<HeldSet>),
    Unauthorized {
        role_name: String,
        last_updated: SystemTime,
    },
    NoRole,
}

/// One credential set as the control plane issued it.
pub struct HeldSet {
    pub served: Arc<imds::Credentials>,
    /// The role it was issued for (its ID).
    pub role_id: String,
    pub issued_at: i64,
    pub expiration: i64,
    pub refresh_at: i64,
    tally: Mutex<Tally>,
}

/// Serves of one set since the last report.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    count: u64,
    first: i64,
    last: i64,
}

/// What a request for credentials finds.
#[derive(Debug)]
pub enum Lookup {
    /// The answer to serve now.
    Serve(CredentialsResult),
    /// Nothing servable is held: ask the control plane (the role this is for).
    Fetch { role_id: String },
}

/// What a new listing changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listed {
    pub added: Vec<String>,
    pub gone: Vec<String>,
}

impl Cache {
    pub fn instances(&self) -> Arc<Instances> {
        self.instances
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The instance at `addr` (its private IPv4 or one of its IPv6 addresses).
    pub fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>> {
        self.instances
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .by_ip
            .get(&addr)
            .cloned()
    }

    /// Takes a new listing: the instances it names replace the held ones, and every set that
    /// is no longer its instance's (gone, another role, revoked) is dropped, as is every
    /// answer without a set (asked again when next needed).
    pub fn list(&self, version: String, listed: Vec<HostInstance>) -> Listed {
        let mut next = Instances {
            version: Some(version),
            ..Instances::default()
        };
        for instance in listed {
            let view = match instance.view.to_view() {
                Ok(view) => Arc::new(view),
                Err(error) => {
                    let instance_id = instance.view.instance_id.as_str();
                    tracing::error!(%error, instance_id, "an instance the control plane listed does not read; not served");
                    continue;
                }
            };
            let identity = instance
                .identity
                .and_then(|signed| match signed.signatures() {
                    Ok(signatures) => Some((signed.document.into_bytes(), Arc::new(signatures))),
                    Err(error) => {
                        tracing::error!(%error, "an identity document's signatures do not read");
                        None
                    }
                });
            let ipv4 = view.local_ipv4.parse::<IpAddr>().ok();
            let ipv6 = view
                .interface
                .ipv6s
                .lines()
                .filter_map(|a| a.trim().parse::<IpAddr>().ok());
            for ip in ipv4.into_iter().chain(ipv6) {
                next.by_ip.insert(ip, view.clone());
            }
            next.by_id.insert(
                view.instance_id.clone(),
                Held {
                    view,
                    role: instance.role,
                    identity,
                },
            );
        }
        let previous = self.instances();
        let mut changes = Listed {
            added: next
                .by_id
                .keys()
                .filter(|id| !previous.by_id.contains_key(*id))
                .cloned()
                .collect(),
            gone: previous
                .by_id
                .keys()
                .filter(|id| !next.by_id.contains_key(*id))
                .cloned()
                .collect(),
        };
        changes.added.sort();
        changes.gone.sort();
        {
            let mut sets = self.lock_sets();
            sets.retain(|(instance_id, _), slot| {
                let Some(role) = next.by_id.get(instance_id).and_then(|h| h.role.as_ref()) else {
                    return false;
                };
                match &slot.answer {
                    Answer::Set(set) => still_its_own(set, role),
                    Answer::Nothing | Answer::Unauthorized { .. } | Answer::NoRole => false,
                }
            });
        }
        *self.instances.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        changes
    }

    /// The credentials to serve the instance for `delivery` at `now` (epoch seconds), or
    /// that they must be fetched. A served set is counted for the next report.
    pub fn lookup(&self, instance_id: &str, delivery: RoleDelivery, now: i64) -> Lookup {
        let role = {
            let instances = self.instances();
            match instances
                .by_id
                .get(instance_id)
                .and_then(|h| h.role.clone())
            {
                Some(role) => role,
                None => return Lookup::Serve(CredentialsResult::NoRole),
            }
        };
        let key = (instance_id.to_owned(), delivery);
        let mut sets = self.lock_sets();
        let slot = sets.entry(key.clone()).or_default();
        let answer = match &slot.answer {
            Answer::Set(set) if servable(set, &role, now) => {
                slot.used = true;
                let set = set.clone();
                drop(sets);
                self.count_serve(key, &set, now);
                return Lookup::Serve(CredentialsResult::Issued(set.served.clone()));
            }
            Answer::Unauthorized {
                role_name,
                last_updated,
            } if now - slot.attempted < NEGATIVE_SECS => {
                CredentialsResult::AssumeRoleUnauthorized {
                    role_name: role_name.clone(),
                    last_updated: *last_updated,
                }
            }
            Answer::NoRole if now - slot.attempted < NEGATIVE_SECS => CredentialsResult::NoRole,
            // Fetches keep failing (the control plane is away): answer at once, as EC2 does
            // without credentials, rather than make every request wait; the refresher tries.
            _ if now < slot.attempted + backoff(slot.failures) => CredentialsResult::NoRole,
            _ => return Lookup::Fetch { role_id: role.id },
        };
        Lookup::Serve(answer)
    }

    /// Takes the control plane's answer for (instance, delivery), fetched at `now` for
    /// `role_id`. Nothing is counted as served here: a request serves it through
    /// [`lookup`](Self::lookup).
    pub fn install(&self, key: &SetKey, role_id: &str, answer: InstanceCredentials, now: i64) {
        let mut sets = self.lock_sets();
        let slot = sets.entry(key.clone()).or_default();
        slot.attempted = now;
        slot.answer = match answer {
            InstanceCredentials::Issued {
                access_key_id,
                secret_access_key,
                token,
                issued_at,
                expiration,
                refresh_at,
            } => {
                // The same set again (asked a moment before the control plane's refresh age):
                // no progress, so the next try waits like a failure's.
                if matches!(&slot.answer, Answer::Set(held) if held.served.access_key_id == access_key_id)
                {
                    slot.failures += 1;
                    return;
                }
                slot.failures = 0;
                slot.used = false;
                Answer::Set(Arc::new(HeldSet {
                    served: Arc::new(imds::Credentials::new(
                        access_key_id,
                        secret_access_key,
                        token,
                        epoch(issued_at),
                        epoch(expiration),
                    )),
                    role_id: role_id.to_owned(),
                    issued_at,
                    expiration,
                    refresh_at,
                    tally: Mutex::default(),
                }))
            }
            InstanceCredentials::AssumeRoleUnauthorized {
                role_name,
                last_updated,
            } => {
                slot.failures = 0;
                Answer::Unauthorized {
                    role_name,
                    last_updated: epoch(last_updated),
                }
            }
            InstanceCredentials::NoRole => {
                slot.failures = 0;
                Answer::NoRole
            }
        };
    }

    /// Whether an answer servable at `now` is held for `key` (the caller just looked the
    /// instance's role up).
    pub fn holds_servable(&self, key: &SetKey, now: i64) -> bool {
        let sets = self.lock_sets();
        let Some(slot) = sets.get(key) else {
            return false;
        };
        match &slot.answer {
            Answer::Set(set) => now < set.expiration,
            Answer::Unauthorized { .. } | Answer::NoRole => now - slot.attempted < NEGATIVE_SECS,
            Answer::Nothing => false,
        }
    }

    /// Notes a fetch that got no answer at `now`.
    pub fn failed(&self, key: &SetKey, now: i64) {
        let mut sets = self.lock_sets();
        let slot = sets.entry(key.clone()).or_default();
        slot.attempted = now;
        slot.failures = slot.failures.saturating_add(1);
    }

    /// The fetches due at `now`: each listed instance's IMDSv2 set until one is held, and every
    /// held set from its refresh time on (an IMDSv1 set only while in use), each paced by its
    /// failures' backoff. With the role each is for.
    pub fn due(&self, now: i64) -> Vec<(SetKey, String)> {
        let instances = self.instances();
        let sets = self.lock_sets();
        let mut due = Vec::new();
        for (instance_id, held) in &instances.by_id {
            for delivery in [RoleDelivery::V2, RoleDelivery::V1] {
                let key = (instance_id.clone(), delivery);
                if let Some(role) = wanted(held, sets.get(&key), delivery, now) {
                    due.push((key, role.id.clone()));
                }
            }
        }
        due.sort();
        due
    }

    /// Whether the fetch of `key` is (still) due at `now`.
    pub fn is_due(&self, key: &SetKey, now: i64) -> bool {
        let instances = self.instances();
        let Some(held) = instances.by_id.get(&key.0) else {
            return false;
        };
        wanted(held, self.lock_sets().get(key), key.1, now).is_some()
    }

    /// The identity document's signatures, when `document` is the one the control plane
    /// signed for the instance.
    pub fn signatures(
        &self,
        instance_id: &str,
        document: &[u8],
    ) -> Option<Arc<IdentitySignatures>> {
        let instances = self.instances();
        let (signed, signatures) = instances.by_id.get(instance_id)?.identity.as_ref()?;
        (signed.as_slice() == document).then(|| signatures.clone())
    }

    /// Sets held that are servable at `now` (for the health endpoint).
    pub fn servable_sets(&self, now: i64) -> usize {
        self.lock_sets()
            .values()
            .filter(|slot| matches!(&slot.answer, Answer::Set(set) if now < set.expiration))
            .count()
    }

    /// The serves counted since the last call, one entry per set.
    pub fn take_served(&self) -> Vec<ServedSet> {
        let pending = std::mem::take(&mut *self.served.lock().unwrap_or_else(|e| e.into_inner()));
        pending
            .into_iter()
            .filter_map(|((instance_id, delivery), set)| {
                let tally =
                    std::mem::take(&mut *set.tally.lock().unwrap_or_else(|e| e.into_inner()));
                (tally.count > 0).then(|| ServedSet {
                    instance_id,
                    access_key_id: set.served.access_key_id.clone(),
                    delivery: delivery.as_str().to_owned(),
                    first_served: tally.first,
                    last_served: tally.last,
                    count: tally.count,
                })
            })
            .collect()
    }

    fn count_serve(&self, key: SetKey, set: &Arc<HeldSet>, now: i64) {
        let first = {
            let mut tally = set.tally.lock().unwrap_or_else(|e| e.into_inner());
            let first = tally.count == 0;
            if first {
                tally.first = now;
            }
            tally.count += 1;
            tally.last = now;
            first
        };
        if first {
            self.served
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((key, set.clone()));
        }
    }

    fn lock_sets(&self) -> MutexGuard<'_, HashMap<SetKey, Slot>> {
        // Whole-slot updates only: a poisoned map is still consistent.
        self.sets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Instances {
    /// The listed instances' addresses (local mode listens on the loopback ones).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.by_ip.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The role to fetch the instance's set of `delivery` for, if it is due at `now` (see
/// [`Cache::due`]).
fn wanted<'h>(
    held: &'h Held,
    slot: Option<&Slot>,
    delivery: RoleDelivery,
    now: i64,
) -> Option<&'h Role> {
    let role = held.role.as_ref()?;
    if !held.view.options.http_endpoint_enabled {
        return None;
    }
    let due = match slot {
        None => delivery == RoleDelivery::V2,
        Some(slot) => {
            let paced = now >= slot.attempted + backoff(slot.failures);
            paced
                && match &slot.answer {
                    Answer::Set(set) => {
                        now >= set.refresh_at && (delivery == RoleDelivery::V2 || slot.used)
                    }
                    Answer::Nothing => delivery == RoleDelivery::V2 || slot.used,
                    Answer::Unauthorized { .. } | Answer::NoRole => {
                        delivery == RoleDelivery::V2 && now - slot.attempted >= NEGATIVE_SECS
                    }
                }
        }
    };
    due.then_some(role)
}

/// Whether `set` may be served at `now` for an instance whose current role is `role`.
fn servable(set: &HeldSet, role: &Role, now: i64) -> bool {
    now < set.expiration && still_its_own(set, role)
}

/// Whether `set` is still for the instance's role and not revoked.
fn still_its_own(set: &HeldSet, role: &Role) -> bool {
    set.role_id == role.id && role.not_before.is_none_or(|t| set.issued_at >= t)
}

/// The pause after `failures` failed fetches in a row.
fn backoff(failures: u32) -> i64 {
    if failures == 0 {
        return 0;
    }
    (1i64 << failures.min(8).saturating_sub(1)).min(MAX_BACKOFF_SECS)
}

fn epoch(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

#[cfg(test)]
mod tests;
