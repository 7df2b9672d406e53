//! EC2 state in the store: launches are all-or-nothing even under SIGKILL, addresses are
//! unique among live instances, and lookups by address see only live instances.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{ACCOUNT, Backend};
use store::{InstanceQuery, MetadataOptions, NewLaunch, ProfileRef, StateRequest, Store};

const PER_LAUNCH: u32 = 5;

fn launch(count: u32) -> NewLaunch {
    NewLaunch {
        count,
        image_id: "ami-11aa22bb".into(),
        instance_type: "t3.micro".into(),
        availability_zone: "us-east-1a".into(),
        key_name: None,
        public_key: None,
        subnet_id: None,
        security_groups: Vec::new(),
        private_ip: None,
        ipv6_addresses: Vec::new(),
        metadata_options: MetadataOptions::default(),
        tags: vec![store::Tag::new("Env", "test")],
        user_data: None,
        profile: Some(ProfileRef {
            arn: "arn:aws:iam::123456789012:instance-profile/p".into(),
            id: "AIPAEXAMPLE0000000001".into(),
        }),
        host_id: None,
        client_token: None,
        fingerprint: String::new(),
    }
}

async fn addresses_are_unique_and_lookups_see_only_live_instances<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let before = store.changes().ec2;
    let reservation = store.run_instances(ACCOUNT, launch(3)).await.unwrap();
    assert!(
        store.changes().ec2 > before,
        "a launch moves the change counter"
    );
    let addresses: HashSet<_> = reservation
        .instances
        .iter()
        .map(|i| i.private_ip.clone())
        .collect();
    assert_eq!(addresses.len(), 3);
    let first = &reservation.instances[0];
    let found = store
        .instance_by_private_ip(&first.private_ip)
        .await
        .unwrap();
    assert_eq!(found.map(|i| i.id), Some(first.id.clone()));

    let mut taken = launch(1);
    taken.private_ip = Some(first.private_ip.clone());
    taken.profile = None;
    assert!(matches!(
        store.run_instances(ACCOUNT, taken.clone()).await,
        Err(store::StoreError::Ec2(
            store::Ec2Rejection::AddressInUse { .. }
        ))
    ));
    store
        .change_instance_states(
            ACCOUNT,
            std::slice::from_ref(&first.id),
            StateRequest::Terminate,
        )
        .await
        .unwrap();
    assert!(
        store
            .instance_by_private_ip(&first.private_ip)
            .await
            .unwrap()
            .is_none()
    );
    // Once terminated, the address may be given again.
    let again = store.run_instances(ACCOUNT, taken).await.unwrap();
    assert_eq!(again.instances[0].private_ip, first.private_ip);
}

/// Whoever launches, the store places no instance on 127.0.0.1, the edges of 127.0.0.0/8 or
/// 0.0.0.0, and a refused launch writes nothing.
async fn unusable_requested_addresses_are_refused_and_write_nothing<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let before = store.changes().ec2;
    for address in [
        "127.0.0.1",
        "127.0.0.0",
        "127.255.255.255",
        "127.0.0.2",
        "0.0.0.0",
    ] {
        let mut asked = launch(1);
        asked.private_ip = Some(address.into());
        assert!(
            matches!(
                store.run_instances(ACCOUNT, asked).await,
                Err(store::StoreError::Ec2(
                    store::Ec2Rejection::AddressUnusable { .. }
                ))
            ),
            "{address}"
        );
    }
    assert_eq!(store.changes().ec2, before, "nothing was written");
    let all = store
        .instances(ACCOUNT, &InstanceQuery::default())
        .await
        .unwrap();
    assert!(all.is_empty(), "{all:?}");
    let mut asked = launch(1);
    asked.private_ip = Some("10.213.1.2".into());
    let placed = store.run_instances(ACCOUNT, asked).await.unwrap();
    assert_eq!(
        placed.instances[0].private_ip, "10.213.1.2",
        "host mode's real addresses"
    );
}

/// IPv6 addresses are kept in launch order, belong to one live instance at a time (a refused
/// launch writes nothing), and are free again once their instance is terminated.
async fn ipv6_addresses_are_unique_among_live_instances<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let mut asked = launch(1);
    asked.ipv6_addresses = vec!["fd00:db8:1::2".into(), "fd00:db8:1::3".into()];
    let first = store.run_instances(ACCOUNT, asked.clone()).await.unwrap();
    let first = &first.instances[0];
    assert_eq!(first.ipv6_addresses, ["fd00:db8:1::2", "fd00:db8:1::3"]);
    let listed = store
        .instances(ACCOUNT, &InstanceQuery::default())
        .await
        .unwrap();
    assert_eq!(listed[0].ipv6_addresses, first.ipv6_addresses);

    let before = store.changes().ec2;
    let in_use = |result: Result<store::Reservation, store::StoreError>, address: &str| {
        assert!(
            matches!(&result, Err(store::StoreError::Ec2(
                store::Ec2Rejection::AddressInUse { address: a }
            )) if a == address),
            "{result:?}"
        );
    };
    let mut second = launch(1);
    second.ipv6_addresses = vec!["fd00:db8:1::9".into(), "fd00:db8:1::3".into()];
    in_use(store.run_instances(ACCOUNT, second).await, "fd00:db8:1::3");
    let mut two = launch(2);
    two.ipv6_addresses = vec!["fd00:db8:1::20".into()];
    in_use(store.run_instances(ACCOUNT, two).await, "fd00:db8:1::20");
    assert_eq!(store.changes().ec2, before, "nothing was written");

    // Stopped, the instance keeps them; terminated, it gives them up.
    let id = std::slice::from_ref(&first.id);
    store
        .change_instance_states(ACCOUNT, id, StateRequest::Stop)
        .await
        .unwrap();
    in_use(
        store.run_instances(ACCOUNT, asked.clone()).await,
        "fd00:db8:1::2",
    );
    store
        .change_instance_states(ACCOUNT, id, StateRequest::Terminate)
        .await
        .unwrap();
    let listed = store
        .instances(ACCOUNT, &InstanceQuery::default())
        .await
        .unwrap();
    assert!(listed[0].ipv6_addresses.is_empty(), "{listed:?}");
    let again = store.run_instances(ACCOUNT, asked).await.unwrap();
    assert_eq!(again.instances[0].ipv6_addresses.len(), 2);
}

/// Set in the child process: where the data to launch into is (`Backend::location`).
const CRASH_LOCATION_VAR: &str = "STORE_EC2_CRASH_TEST_LOCATION";
const ACK: &str = "ACK ";

/// The child half of [`launches_are_whole_after_sigkill`]: launches until killed, printing each
/// reservation ID only after `run_instances` returned. A no-op when run normally.
async fn crash_launcher<B: Backend>() {
    let Ok(location) = std::env::var(CRASH_LOCATION_VAR) else {
        return;
    };
    let store = B::open_at(location).await;
    store.create_account(ACCOUNT).await.unwrap();
    loop {
        let reservation = store
            .run_instances(ACCOUNT, launch(PER_LAUNCH))
            .await
            .unwrap();
        println!("{ACK}{}", reservation.id);
    }
}

/// The reservation ID a line of the child acknowledges. Not only at the line's start: libtest
/// prints `test crash_launcher ... ` without a line break before the test runs, so the first
/// acknowledgement shares its line (missing it let a SIGKILL right after a commit look like two
/// unacknowledged launches).
fn acknowledgement(line: &str) -> Option<&str> {
    line.find(ACK).map(|at| &line[at + ACK.len()..])
}

async fn launches_are_whole_after_sigkill<B: Backend>() {
    // No store open here while the child launches: what the parent reads is what survived.
    let data = B::data().await;
    let child_test = format!("{}::crash_launcher", B::NAME);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &child_test, "--nocapture", "--test-threads=1"])
        .env(CRASH_LOCATION_VAR, B::location(&data))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 40 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(id) = acknowledgement(&line) {
            acknowledged.push(id.to_owned());
        }
    }
    child.kill().unwrap(); // SIGKILL: mid-launch, no destructors, no checkpoint.
    for line in lines {
        if let Some(id) = acknowledgement(&line.unwrap()) {
            acknowledged.push(id.to_owned());
        }
    }
    child.wait().unwrap();

    let store = B::open(&data).await;
    let instances = store
        .instances(ACCOUNT, &InstanceQuery::default())
        .await
        .unwrap();
    let mut per_reservation = std::collections::HashMap::<String, u32>::new();
    for i in &instances {
        *per_reservation.entry(i.reservation_id.clone()).or_default() += 1;
        // Every instance has its tags and its association: nothing half-written.
        assert_eq!(i.tags.len(), 1, "{}", i.id);
        assert!(i.association.is_some(), "{} lost its association", i.id);
    }
    for (reservation, count) in &per_reservation {
        assert_eq!(*count, PER_LAUNCH, "reservation {reservation} is partial");
    }
    for id in &acknowledged {
        assert!(
            per_reservation.contains_key(id),
            "acknowledged {id} lost after SIGKILL"
        );
    }
    assert!(per_reservation.len() <= acknowledged.len() + 1);
    let addresses: HashSet<_> = instances.iter().map(|i| &i.private_ip).collect();
    assert_eq!(addresses.len(), instances.len(), "addresses stay unique");
}

/// The change feed the metadata service patches its index from: every write to an instance or
/// its association stamps that instance, and only it, after the mark read before.
async fn instances_changed_since_a_mark_are_exactly_the_ones_written<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let changed = |mark| {
        let store = store.clone();
        async move {
            let mut ids: Vec<String> = store
                .instances_changed_since(mark)
                .await
                .unwrap()
                .into_iter()
                .map(|i| i.id)
                .collect();
            ids.sort();
            ids
        }
    };
    let start = store.instance_change_mark().await.unwrap();
    let launched = store.run_instances(ACCOUNT, launch(3)).await.unwrap();
    let mut ids: Vec<String> = launched.instances.iter().map(|i| i.id.clone()).collect();
    ids.sort();
    assert_eq!(changed(start).await, ids);
    let (a, b) = (ids[0].clone(), ids[1].clone());

    let mark = store.instance_change_mark().await.unwrap();
    assert!(changed(mark).await.is_empty(), "nothing since the mark");
    store
        .change_instance_states(ACCOUNT, std::slice::from_ref(&a), StateRequest::Stop)
        .await
        .unwrap();
    assert_eq!(changed(mark).await, vec![a.clone()]);

    let mark = store.instance_change_mark().await.unwrap();
    let association = launched
        .instances
        .iter()
        .find(|i| i.id == b)
        .and_then(|i| i.association.clone())
        .unwrap();
    store
        .disassociate_instance_profile(ACCOUNT, &association.id)
        .await
        .unwrap();
    assert_eq!(changed(mark).await, vec![b.clone()]);

    let mark = store.instance_change_mark().await.unwrap();
    let options = MetadataOptions {
        http_tokens: "required".into(),
        ..MetadataOptions::default()
    };
    store
        .set_instance_metadata_options(ACCOUNT, &b, &options)
        .await
        .unwrap();
    assert_eq!(changed(mark).await, vec![b.clone()]);
    // A failed write stamps nothing.
    let mark = store.instance_change_mark().await.unwrap();
    let _ = store
        .change_instance_states(
            ACCOUNT,
            &[a.clone(), "i-0000000000000000f".into()],
            StateRequest::Start,
        )
        .await
        .unwrap_err();
    assert!(changed(mark).await.is_empty());
}

/// User data is stored as given, changes only while the instance is stopped, and its change is
/// an instance change the metadata service sees.
async fn user_data_is_kept_and_changes_only_while_stopped<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let mut with_data = launch(1);
    with_data.user_data = Some(b"#!/bin/sh\n\x00\xff".to_vec());
    let reservation = store.run_instances(ACCOUNT, with_data).await.unwrap();
    let id = reservation.instances[0].id.clone();
    assert_eq!(
        reservation.instances[0].user_data.as_deref(),
        Some(&b"#!/bin/sh\n\x00\xff"[..])
    );
    let refused = store.set_instance_user_data(ACCOUNT, &id, Some(b"x")).await;
    assert!(matches!(
        refused,
        Err(store::StoreError::Ec2(
            store::Ec2Rejection::NotStopped { .. }
        ))
    ));
    store
        .change_instance_states(ACCOUNT, std::slice::from_ref(&id), StateRequest::Stop)
        .await
        .unwrap();
    let mark = store.instance_change_mark().await.unwrap();
    let updated = store
        .set_instance_user_data(ACCOUNT, &id, Some(b"new"))
        .await
        .unwrap();
    assert_eq!(updated.user_data.as_deref(), Some(&b"new"[..]));
    let changed = store.instances_changed_since(mark).await.unwrap();
    assert_eq!(changed.iter().map(|i| &i.id).collect::<Vec<_>>(), [&id]);
    let cleared = store
        .set_instance_user_data(ACCOUNT, &id, None)
        .await
        .unwrap();
    assert_eq!(cleared.user_data, None);
    assert!(matches!(
        store
            .set_instance_user_data("210987654321", &id, None)
            .await,
        Err(store::StoreError::NotFound { .. })
    ));
}

/// Key pairs are per account by name: a duplicate is refused, another account may use the
/// name, delete by name or ID succeeds whether or not one exists, and an instance keeps the
/// public key it launched with.
async fn key_pairs_are_per_account_and_instances_keep_theirs<B: Backend>() {
    use store::{EntityKind, NewKeyPair, StoreError};
    let (_dir, store) = B::fresh().await;
    let new = |name: &str| NewKeyPair {
        name: name.into(),
        key_type: "ed25519".into(),
        fingerprint: "fp".into(),
        public_key: format!("ssh-ed25519 AAAA {name}"),
        tags: Vec::new(),
    };
    let first = store.import_key_pair(ACCOUNT, new("k")).await.unwrap();
    assert!(first.id.starts_with("key-") && first.id.len() == 21);
    let dup = store.import_key_pair(ACCOUNT, new("k")).await.unwrap_err();
    assert!(matches!(
        dup,
        StoreError::AlreadyExists {
            kind: EntityKind::KeyPair,
            ..
        }
    ));
    let other = common::OTHER_ACCOUNT;
    store.import_key_pair(other, new("k")).await.unwrap();
    assert_eq!(store.key_pairs(ACCOUNT).await.unwrap(), vec![first.clone()]);

    let mut l = launch(1);
    l.key_name = Some("k".into());
    l.public_key = Some(first.public_key.clone());
    let reservation = store.run_instances(ACCOUNT, l).await.unwrap();
    let id = reservation.instances[0].id.clone();

    assert!(
        !store
            .delete_key_pair(ACCOUNT, Some("nope"), None)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_key_pair(ACCOUNT, None, Some(&first.id))
            .await
            .unwrap()
    );
    assert!(store.key_pairs(ACCOUNT).await.unwrap().is_empty());
    assert_eq!(store.key_pairs(other).await.unwrap().len(), 1);
    let query = InstanceQuery {
        ids: vec![id],
        conditions: Vec::new(),
        after: None,
        limit: None,
    };
    let instance = store.instances(ACCOUNT, &query).await.unwrap().remove(0);
    assert_eq!(instance.key_name.as_deref(), Some("k"));
    assert_eq!(instance.public_key.as_deref(), Some("ssh-ed25519 AAAA k"));
}

contract_tests! {
    addresses_are_unique_and_lookups_see_only_live_instances,
    unusable_requested_addresses_are_refused_and_write_nothing,
    ipv6_addresses_are_unique_among_live_instances,
    crash_launcher,
    launches_are_whole_after_sigkill,
    instances_changed_since_a_mark_are_exactly_the_ones_written,
    user_data_is_kept_and_changes_only_while_stopped,
    key_pairs_are_per_account_and_instances_keep_theirs,
}
