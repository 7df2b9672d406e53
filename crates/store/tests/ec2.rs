//! EC2 state in the store: launches are all-or-nothing even under SIGKILL, addresses are
//! unique among live instances, and lookups by address see only live instances.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{ACCOUNT, fresh};
use store::{
    InstanceQuery, MetadataOptions, NewLaunch, ProfileRef, SqliteStore, StateRequest, Store,
};

const PER_LAUNCH: u32 = 5;

fn launch(count: u32) -> NewLaunch {
    NewLaunch {
        count,
        image_id: "ami-11aa22bb".into(),
        instance_type: "t3.micro".into(),
        availability_zone: "us-east-1a".into(),
        key_name: None,
        subnet_id: None,
        security_groups: Vec::new(),
        private_ip: None,
        metadata_options: MetadataOptions::default(),
        tags: vec![store::Tag::new("Env", "test")],
        profile: Some(ProfileRef {
            arn: "arn:aws:iam::123456789012:instance-profile/p".into(),
            id: "AIPAEXAMPLE0000000001".into(),
        }),
        client_token: None,
        fingerprint: String::new(),
    }
}

#[tokio::test]
async fn addresses_are_unique_and_lookups_see_only_live_instances() {
    let (_dir, store) = fresh().await;
    let before = store.ec2_generation();
    let reservation = store.run_instances(ACCOUNT, launch(3)).await.unwrap();
    assert!(
        store.ec2_generation() > before,
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

const CRASH_DIR_VAR: &str = "STORE_EC2_CRASH_TEST_DIR";
const ACK: &str = "ACK ";

/// The child half of [`launches_are_whole_after_sigkill`]: launches until killed, printing each
/// reservation ID only after `run_instances` returned. A no-op when run normally.
#[tokio::test]
async fn crash_launcher() {
    let Some(dir) = std::env::var_os(CRASH_DIR_VAR) else {
        return;
    };
    let store = SqliteStore::open(std::path::Path::new(&dir)).await.unwrap();
    store.create_account(ACCOUNT).await.unwrap();
    loop {
        let reservation = store
            .run_instances(ACCOUNT, launch(PER_LAUNCH))
            .await
            .unwrap();
        println!("{ACK}{}", reservation.id);
    }
}

#[tokio::test]
async fn launches_are_whole_after_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_launcher",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 40 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(id) = line.strip_prefix(ACK) {
            acknowledged.push(id.to_owned());
        }
    }
    child.kill().unwrap(); // SIGKILL: mid-launch, no destructors, no checkpoint.
    for line in lines {
        if let Some(id) = line.unwrap().strip_prefix(ACK) {
            acknowledged.push(id.to_owned());
        }
    }
    child.wait().unwrap();

    let store = SqliteStore::open(dir.path()).await.unwrap();
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
