//! EC2 Dedicated Hosts in the store: each allocated host carries its own agent key, bound to
//! it and found by key ID only while the host is available; instances are placed only on an
//! available host of the caller's account that takes their type; a host with instances left is
//! not released; a release deletes the agent keys in the same write; every lookup is the
//! account's own, and a client token replays an allocation.

mod common;

use common::{ACCOUNT, Backend, OTHER_ACCOUNT};
use store::{
    Ec2Rejection, EntityKind, HostCapacity, HostRelease, HostState, MetadataOptions, NewAccessKey,
    NewHosts, NewLaunch, NewUser, StateRequest, Store, StoreError, Tag,
};

fn key(id: &str) -> NewAccessKey {
    NewAccessKey {
        access_key_id: id.to_owned(),
        secret_ciphertext: format!("sealed secret of {id}").into_bytes(),
    }
}

fn hosts(keys: &[&str]) -> NewHosts {
    NewHosts {
        availability_zone: "us-east-1a".into(),
        capacity: HostCapacity::InstanceFamily("m5".into()),
        auto_placement: "off".into(),
        host_recovery: "off".into(),
        host_maintenance: "on".into(),
        tags: vec![Tag::new("purpose", "agents")],
        agent_keys: keys.iter().map(|k| key(k)).collect(),
        client_token: None,
        fingerprint: "f".into(),
    }
}

fn launch(host_id: Option<&str>, instance_type: &str) -> NewLaunch {
    NewLaunch {
        count: 1,
        image_id: "ami-11aa22bb".into(),
        instance_type: instance_type.into(),
        availability_zone: "us-east-1a".into(),
        key_name: None,
        public_key: None,
        subnet_id: None,
        security_groups: Vec::new(),
        private_ip: None,
        ipv6_addresses: Vec::new(),
        metadata_options: MetadataOptions::default(),
        tags: Vec::new(),
        user_data: None,
        profile: None,
        host_id: host_id.map(str::to_owned),
        client_token: None,
        fingerprint: String::new(),
    }
}

async fn one_host(store: &impl Store, account: &str, key_id: &str) -> String {
    let allocation = store
        .allocate_hosts(account, hosts(&[key_id]))
        .await
        .unwrap();
    allocation.hosts[0].id.clone()
}

async fn each_host_gets_its_own_key_and_shows_its_settings<B: Backend>() {
    let (_data, store) = B::fresh().await;
    let before = store.changes().ec2;
    let allocation = store
        .allocate_hosts(
            ACCOUNT,
            hosts(&["AKIAHOSTAGENT0000001", "AKIAHOSTAGENT0000002"]),
        )
        .await
        .unwrap();
    assert!(
        store.changes().ec2 > before,
        "an allocation moves the EC2 counter"
    );
    assert!(!allocation.replayed);
    assert_eq!(allocation.hosts.len(), 2);
    for host in &allocation.hosts {
        assert!(
            host.id.starts_with("h-") && host.id.len() == 19,
            "{}",
            host.id
        );
        assert_eq!(host.state, HostState::Available);
        assert_eq!(host.capacity, HostCapacity::InstanceFamily("m5".into()));
        assert_eq!(host.tags, vec![Tag::new("purpose", "agents")]);
        assert!(host.instances.is_empty());
        assert_eq!(host.released, None);
    }
    let listed = store.hosts(ACCOUNT, &[]).await.unwrap();
    let mut ids: Vec<_> = allocation.hosts.iter().map(|h| h.id.clone()).collect();
    ids.sort();
    assert_eq!(listed.iter().map(|h| h.id.clone()).collect::<Vec<_>>(), ids);

    for (key_id, host) in [
        ("AKIAHOSTAGENT0000001", &allocation.hosts[0]),
        ("AKIAHOSTAGENT0000002", &allocation.hosts[1]),
    ] {
        let found = store.host_agent_key(key_id).await.unwrap();
        assert_eq!(
            (found.host_id.as_str(), found.account_id.as_str()),
            (host.id.as_str(), ACCOUNT)
        );
        assert_eq!(found.secret_ciphertext, key(key_id).secret_ciphertext);
        let of_host = store.host_agent_keys(&host.id).await.unwrap();
        assert_eq!(of_host, vec![found]);
    }
    // An agent key is no IAM user's key, and no user appears for it.
    assert!(matches!(
        store.access_key("AKIAHOSTAGENT0000001").await,
        Err(StoreError::NotFound {
            kind: EntityKind::AccessKey,
            ..
        })
    ));
    let users = store
        .list_users(ACCOUNT, &Default::default())
        .await
        .unwrap();
    assert!(users.items.is_empty(), "{:?}", users.items);
}

async fn a_key_id_held_by_a_user_or_another_host_is_refused_whole<B: Backend>() {
    let (_data, store) = B::fresh().await;
    store
        .create_user(ACCOUNT, NewUser::new("alice"))
        .await
        .unwrap();
    store
        .create_access_key(ACCOUNT, "alice", key("AKIAUSERKEY000000001"))
        .await
        .unwrap();
    one_host(&store, ACCOUNT, "AKIAHOSTAGENT0000001").await;
    for taken in ["AKIAUSERKEY000000001", "AKIAHOSTAGENT0000001"] {
        let err = store
            .allocate_hosts(ACCOUNT, hosts(&["AKIAHOSTAGENT0000009", taken]))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::AlreadyExists {
                    kind: EntityKind::AccessKey,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // Nothing of the refused calls was written.
    assert_eq!(store.hosts(ACCOUNT, &[]).await.unwrap().len(), 1);
    assert!(store.host_agent_key("AKIAHOSTAGENT0000009").await.is_err());
}

async fn placement_needs_an_available_host_of_the_account_that_takes_the_type<B: Backend>() {
    let (_data, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    let host = one_host(&store, ACCOUNT, "AKIAHOSTAGENT0000001").await;
    let theirs = one_host(&store, OTHER_ACCOUNT, "AKIAHOSTAGENT0000002").await;

    let placed = store
        .run_instances(ACCOUNT, launch(Some(&host), "m5.large"))
        .await
        .unwrap();
    let instance = &placed.instances[0];
    assert_eq!(instance.host_id.as_deref(), Some(host.as_str()));
    let unplaced = store
        .run_instances(ACCOUNT, launch(None, "m5.large"))
        .await
        .unwrap();
    assert_eq!(unplaced.instances[0].host_id, None);

    let shown = store
        .hosts(ACCOUNT, std::slice::from_ref(&host))
        .await
        .unwrap();
    assert_eq!(shown[0].instances.len(), 1);
    assert_eq!(shown[0].instances[0].instance_id, instance.id);
    assert_eq!(shown[0].instances[0].instance_type, "m5.large");

    let err = store
        .run_instances(ACCOUNT, launch(Some(&host), "c5.large"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Ec2(Ec2Rejection::HostIncompatible { host_id, instance_type })
            if *host_id == host && instance_type == "c5.large"),
        "{err:?}"
    );
    for missing in [theirs.as_str(), "h-0123456789abcdef0"] {
        let err = store
            .run_instances(ACCOUNT, launch(Some(missing), "m5.large"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::NotFound { kind: EntityKind::Host, name } if name == missing),
            "{err:?}"
        );
    }
    // Another account sees neither the host nor its instance.
    assert!(
        store
            .hosts(OTHER_ACCOUNT, std::slice::from_ref(&host))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .release_hosts(OTHER_ACCOUNT, std::slice::from_ref(&host))
            .await
            .unwrap(),
        vec![HostRelease::NotFound(host.clone())]
    );
    assert_eq!(
        store.hosts(ACCOUNT, &[]).await.unwrap()[0].state,
        HostState::Available
    );
}

async fn an_occupied_host_stays_and_a_released_one_loses_its_keys<B: Backend>() {
    let (_data, store) = B::fresh().await;
    let host = one_host(&store, ACCOUNT, "AKIAHOSTAGENT0000001").await;
    let empty = one_host(&store, ACCOUNT, "AKIAHOSTAGENT0000002").await;
    let placed = store
        .run_instances(ACCOUNT, launch(Some(&host), "m5.xlarge"))
        .await
        .unwrap();
    let instance = placed.instances[0].id.clone();
    store
        .change_instance_states(ACCOUNT, std::slice::from_ref(&instance), StateRequest::Stop)
        .await
        .unwrap();

    let outcomes = store
        .release_hosts(
            ACCOUNT,
            &[host.clone(), empty.clone(), "h-0123456789abcdef0".into()],
        )
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![
            HostRelease::Occupied(host.clone()),
            HostRelease::Released(empty.clone()),
            HostRelease::NotFound("h-0123456789abcdef0".into()),
        ],
        "a stopped instance keeps its host occupied"
    );
    assert!(store.host_agent_key("AKIAHOSTAGENT0000001").await.is_ok());
    assert!(matches!(
        store.host_agent_key("AKIAHOSTAGENT0000002").await,
        Err(StoreError::NotFound {
            kind: EntityKind::AccessKey,
            ..
        })
    ));
    assert!(matches!(
        store.host_agent_keys(&empty).await,
        Err(StoreError::NotFound {
            kind: EntityKind::Host,
            ..
        })
    ));
    let released = store
        .hosts(ACCOUNT, std::slice::from_ref(&empty))
        .await
        .unwrap();
    assert_eq!(released[0].state, HostState::Released);
    assert!(released[0].released.is_some());
    // A released host takes no instance, and releasing it again finds nothing to release.
    assert!(matches!(
        store
            .run_instances(ACCOUNT, launch(Some(&empty), "m5.large"))
            .await,
        Err(StoreError::Ec2(Ec2Rejection::HostUnavailable { .. }))
    ));
    assert_eq!(
        store
            .release_hosts(ACCOUNT, std::slice::from_ref(&empty))
            .await
            .unwrap(),
        vec![HostRelease::NotFound(empty.clone())]
    );

    store
        .change_instance_states(ACCOUNT, &[instance], StateRequest::Terminate)
        .await
        .unwrap();
    assert!(
        store
            .hosts(ACCOUNT, std::slice::from_ref(&host))
            .await
            .unwrap()[0]
            .instances
            .is_empty()
    );
    assert_eq!(
        store
            .release_hosts(ACCOUNT, std::slice::from_ref(&host))
            .await
            .unwrap(),
        vec![HostRelease::Released(host.clone())]
    );
    assert!(store.host_agent_key("AKIAHOSTAGENT0000001").await.is_err());
}

async fn a_client_token_replays_its_allocation<B: Backend>() {
    let (_data, store) = B::fresh().await;
    let with_token = |keys: &[&str], fingerprint: &str| NewHosts {
        client_token: Some("token-1".into()),
        fingerprint: fingerprint.into(),
        ..hosts(keys)
    };
    let first = store
        .allocate_hosts(
            ACCOUNT,
            with_token(&["AKIAHOSTAGENT0000001", "AKIAHOSTAGENT0000002"], "f"),
        )
        .await
        .unwrap();
    let again = store
        .allocate_hosts(
            ACCOUNT,
            with_token(&["AKIAHOSTAGENT0000003", "AKIAHOSTAGENT0000004"], "f"),
        )
        .await
        .unwrap();
    assert!(again.replayed);
    let ids = |a: &store::Allocation| {
        let mut ids: Vec<String> = a.hosts.iter().map(|h| h.id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&again), ids(&first));
    assert!(
        store.host_agent_key("AKIAHOSTAGENT0000003").await.is_err(),
        "a replay binds no new key"
    );
    assert!(matches!(
        store
            .allocate_hosts(ACCOUNT, with_token(&["AKIAHOSTAGENT0000005"], "other"))
            .await,
        Err(StoreError::Ec2(Ec2Rejection::IdempotentParameterMismatch))
    ));
    assert_eq!(store.hosts(ACCOUNT, &[]).await.unwrap().len(), 2);
}

async fn hosts_take_tags_as_other_ec2_resources_do<B: Backend>() {
    let (_data, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    let host = one_host(&store, ACCOUNT, "AKIAHOSTAGENT0000001").await;
    let resource = store::Ec2Resource::Host(host.clone());
    store
        .create_ec2_tags(
            ACCOUNT,
            std::slice::from_ref(&resource),
            &[Tag::new("team", "a")],
        )
        .await
        .unwrap();
    let shown = store
        .hosts(ACCOUNT, std::slice::from_ref(&host))
        .await
        .unwrap();
    assert_eq!(
        shown[0].tags,
        vec![Tag::new("purpose", "agents"), Tag::new("team", "a")]
    );
    let listed = store.ec2_tags(ACCOUNT).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t.resource == resource));
    assert_eq!(resource.type_name(), "dedicated-host");
    // Another account's host is not found, and nothing of the call is written.
    assert!(matches!(
        store
            .create_ec2_tags(
                OTHER_ACCOUNT,
                std::slice::from_ref(&resource),
                &[Tag::new("x", "y")]
            )
            .await,
        Err(StoreError::NotFound {
            kind: EntityKind::Host,
            ..
        })
    ));
    assert!(store.ec2_tags(OTHER_ACCOUNT).await.unwrap().is_empty());
    store
        .delete_ec2_tags(ACCOUNT, std::slice::from_ref(&resource), None)
        .await
        .unwrap();
    assert!(store.ec2_tags(ACCOUNT).await.unwrap().is_empty());
}

/// A rotation adds the new key as the host's current one and retires the earlier ones at the
/// end of the grace period (at once with none); retired keys go at the next rotation, all keys
/// with the release; EC2's change counter moves (the key caches follow it).
async fn a_rotation_adds_a_key_and_retires_the_earlier_ones_after_the_grace<B: Backend>() {
    let (_data, store) = B::fresh().await;
    let host = one_host(&store, ACCOUNT, "AKIAHOSTAGENT0000001").await;
    let before = store.changes().ec2;
    let hour = std::time::Duration::from_secs(3600);
    let new = store
        .rotate_host_agent_key(&host, key("AKIAHOSTAGENT0000002"), hour)
        .await
        .unwrap();
    assert!(store.changes().ec2 > before, "an EC2 write");
    assert_eq!(
        (new.host_id.as_str(), new.account_id.as_str()),
        (host.as_str(), ACCOUNT)
    );
    assert_eq!(new.retires, None);
    let now = time::OffsetDateTime::now_utc();
    let old = store.host_agent_key("AKIAHOSTAGENT0000001").await.unwrap();
    let retires = old.retires.expect("the earlier key retires");
    assert!(
        retires > now + time::Duration::minutes(59) && retires <= now + time::Duration::minutes(61),
        "{retires}"
    );
    assert!(old.is_current_at(now) && !old.is_current_at(retires));
    // Newest first, as the CLI prints the newest.
    let listed = store.host_agent_keys(&host).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|k| k.access_key_id.as_str()).collect();
    assert_eq!(ids, ["AKIAHOSTAGENT0000002", "AKIAHOSTAGENT0000001"]);

    // No grace: the earlier keys retire now (the first keeps its earlier time... now sooner).
    let newest = store
        .rotate_host_agent_key(
            &host,
            key("AKIAHOSTAGENT0000003"),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    for id in ["AKIAHOSTAGENT0000001", "AKIAHOSTAGENT0000002"] {
        let key = store.host_agent_key(id).await.unwrap();
        assert!(!key.is_current_at(later), "{id} retired");
    }
    assert!(newest.is_current_at(later));
    // A longer grace never revives a key retiring sooner; retired keys are deleted.
    std::thread::sleep(std::time::Duration::from_millis(5));
    store
        .rotate_host_agent_key(&host, key("AKIAHOSTAGENT0000004"), hour)
        .await
        .unwrap();
    let ids: Vec<String> = store
        .host_agent_keys(&host)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.access_key_id)
        .collect();
    assert_eq!(ids, ["AKIAHOSTAGENT0000004", "AKIAHOSTAGENT0000003"]);
    // A key ID already held is refused whole; unknown and released hosts are not found.
    assert!(matches!(
        store
            .rotate_host_agent_key(&host, key("AKIAHOSTAGENT0000003"), hour)
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert!(matches!(
        store
            .rotate_host_agent_key("h-0123456789abcdef0", key("AKIAHOSTAGENT0000009"), hour)
            .await,
        Err(StoreError::NotFound {
            kind: EntityKind::Host,
            ..
        })
    ));
    let released = store
        .release_hosts(ACCOUNT, std::slice::from_ref(&host))
        .await
        .unwrap();
    assert_eq!(released, vec![HostRelease::Released(host.clone())]);
    assert!(matches!(
        store
            .rotate_host_agent_key(&host, key("AKIAHOSTAGENT0000009"), hour)
            .await,
        Err(StoreError::NotFound {
            kind: EntityKind::Host,
            ..
        })
    ));
    assert!(store.host_agent_key("AKIAHOSTAGENT0000004").await.is_err());
}

contract_tests! {
    a_rotation_adds_a_key_and_retires_the_earlier_ones_after_the_grace,
    each_host_gets_its_own_key_and_shows_its_settings,
    a_key_id_held_by_a_user_or_another_host_is_refused_whole,
    placement_needs_an_available_host_of_the_account_that_takes_the_type,
    an_occupied_host_stays_and_a_released_one_loses_its_keys,
    a_client_token_replays_its_allocation,
    hosts_take_tags_as_other_ec2_resources_do,
}
