//! Tags of EC2 resources in the store: CreateTags and DeleteTags are all or nothing across
//! their resources, at most 50 tags per resource, keys case-sensitive, every lookup the
//! account's own; key pairs carry tags from creation and lose them when deleted; instance tag
//! writes stamp the instance for the metadata service.

mod common;

use common::{ACCOUNT, Backend, OTHER_ACCOUNT};
use store::{
    EC2_TAGS_PER_RESOURCE, Ec2Resource, EntityKind, MetadataOptions, NewKeyPair, NewLaunch, Quota,
    Store, StoreError, Tag, TagRemoval,
};

fn launch() -> NewLaunch {
    NewLaunch {
        count: 1,
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
        tags: vec![Tag::new("Env", "test")],
        user_data: None,
        profile: None,
        host_id: None,
        client_token: None,
        fingerprint: String::new(),
    }
}

async fn instance<S: Store>(store: &S, account: &str) -> Ec2Resource {
    let reservation = store.run_instances(account, launch()).await.unwrap();
    Ec2Resource::Instance(reservation.instances[0].id.clone())
}

async fn tags_of<S: Store>(
    store: &S,
    account: &str,
    resource: &Ec2Resource,
) -> Vec<(String, String)> {
    store
        .ec2_tags(account)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| &t.resource == resource)
        .map(|t| (t.tag.key, t.tag.value))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn create_replaces_values_and_keys_are_case_sensitive<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let i = instance(&store, ACCOUNT).await;
    store
        .create_ec2_tags(
            ACCOUNT,
            std::slice::from_ref(&i),
            &[
                Tag::new("Env", "prod"),
                Tag::new("env", "lower"),
                Tag::new("Empty", ""),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        tags_of(&store, ACCOUNT, &i).await,
        pairs(&[("Empty", ""), ("Env", "prod"), ("env", "lower")])
    );
    let described = store
        .instances(ACCOUNT, &store::InstanceQuery::default())
        .await
        .unwrap();
    assert_eq!(
        described[0].tags.len(),
        3,
        "DescribeInstances sees the same tags"
    );
}

async fn a_missing_resource_fails_the_whole_call_and_writes_nothing<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let i = instance(&store, ACCOUNT).await;
    let missing = Ec2Resource::Instance("i-0000000000000000f".into());
    let err = store
        .create_ec2_tags(ACCOUNT, &[i.clone(), missing], &[Tag::new("New", "v")])
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::NotFound { kind: EntityKind::Instance, ref name } if name == "i-0000000000000000f"
    ));
    assert_eq!(
        tags_of(&store, ACCOUNT, &i).await,
        pairs(&[("Env", "test")])
    );

    let missing_pair = Ec2Resource::KeyPair("key-0000000000000000f".into());
    let err = store
        .delete_ec2_tags(ACCOUNT, &[i.clone(), missing_pair], None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::NotFound {
            kind: EntityKind::KeyPairId,
            ..
        }
    ));
    assert_eq!(
        tags_of(&store, ACCOUNT, &i).await,
        pairs(&[("Env", "test")])
    );
}

async fn fifty_tags_per_resource_counting_replacements_once<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let a = instance(&store, ACCOUNT).await;
    let b = instance(&store, ACCOUNT).await;
    // 49 new keys beside `Env`: exactly 50.
    let many: Vec<Tag> = (0..EC2_TAGS_PER_RESOURCE - 1)
        .map(|n| Tag::new(format!("k{n:02}"), "v"))
        .collect();
    store
        .create_ec2_tags(ACCOUNT, std::slice::from_ref(&a), &many)
        .await
        .unwrap();
    // Replacing a value of a full resource is no new tag.
    store
        .create_ec2_tags(
            ACCOUNT,
            std::slice::from_ref(&a),
            &[Tag::new("Env", "other")],
        )
        .await
        .unwrap();
    // One more key on `a` fails the call for `b` too.
    let err = store
        .create_ec2_tags(
            ACCOUNT,
            &[b.clone(), a.clone()],
            &[Tag::new("one-more", "v")],
        )
        .await
        .unwrap_err();
    match err {
        StoreError::LimitExceeded {
            quota: Quota::Ec2TagsPerResource { max, resource },
        } => assert_eq!((max, resource.as_str()), (50, a.id())),
        other => panic!("{other:?}"),
    }
    assert_eq!(tags_of(&store, ACCOUNT, &a).await.len(), 50);
    assert_eq!(
        tags_of(&store, ACCOUNT, &b).await,
        pairs(&[("Env", "test")])
    );
}

async fn delete_by_key_by_key_and_value_and_everything<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let i = instance(&store, ACCOUNT).await;
    let tags = [
        Tag::new("a", "1"),
        Tag::new("b", "2"),
        Tag::new("c", ""),
        Tag::new("d", "4"),
    ];
    store
        .create_ec2_tags(ACCOUNT, std::slice::from_ref(&i), &tags)
        .await
        .unwrap();
    let removals = [
        // A value that differs keeps the tag.
        TagRemoval {
            key: "a".into(),
            value: Some("other".into()),
        },
        TagRemoval {
            key: "b".into(),
            value: Some("2".into()),
        },
        // An empty value removes only an empty value.
        TagRemoval {
            key: "c".into(),
            value: Some(String::new()),
        },
        TagRemoval {
            key: "d".into(),
            value: Some(String::new()),
        },
        // A key alone removes whatever value; an absent key is no error.
        TagRemoval {
            key: "Env".into(),
            value: None,
        },
        TagRemoval {
            key: "absent".into(),
            value: None,
        },
    ];
    store
        .delete_ec2_tags(ACCOUNT, std::slice::from_ref(&i), Some(&removals))
        .await
        .unwrap();
    assert_eq!(
        tags_of(&store, ACCOUNT, &i).await,
        pairs(&[("a", "1"), ("d", "4")])
    );
    store
        .delete_ec2_tags(ACCOUNT, std::slice::from_ref(&i), None)
        .await
        .unwrap();
    assert!(tags_of(&store, ACCOUNT, &i).await.is_empty());
}

async fn another_accounts_resources_are_not_found_and_not_listed<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    let theirs = instance(&store, OTHER_ACCOUNT).await;
    let pair = store
        .import_key_pair(
            OTHER_ACCOUNT,
            NewKeyPair {
                name: "k".into(),
                key_type: "ed25519".into(),
                fingerprint: "fp".into(),
                public_key: "ssh-ed25519 AAAA k".into(),
                tags: vec![Tag::new("Team", "b")],
            },
        )
        .await
        .unwrap();
    let their_pair = Ec2Resource::KeyPair(pair.id.clone());
    for resource in [&theirs, &their_pair] {
        let created = store
            .create_ec2_tags(
                ACCOUNT,
                std::slice::from_ref(resource),
                &[Tag::new("x", "y")],
            )
            .await;
        assert!(
            matches!(created, Err(StoreError::NotFound { .. })),
            "{resource:?}"
        );
        let deleted = store
            .delete_ec2_tags(ACCOUNT, std::slice::from_ref(resource), None)
            .await;
        assert!(
            matches!(deleted, Err(StoreError::NotFound { .. })),
            "{resource:?}"
        );
    }
    assert!(store.ec2_tags(ACCOUNT).await.unwrap().is_empty());
    let listed = store.ec2_tags(OTHER_ACCOUNT).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
}

async fn key_pairs_carry_tags_from_creation_and_lose_them_with_the_pair<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let pair = store
        .import_key_pair(
            ACCOUNT,
            NewKeyPair {
                name: "k".into(),
                key_type: "rsa".into(),
                fingerprint: "fp".into(),
                public_key: "ssh-rsa AAAA k".into(),
                tags: vec![Tag::new("Team", "a")],
            },
        )
        .await
        .unwrap();
    let resource = Ec2Resource::KeyPair(pair.id.clone());
    store
        .create_ec2_tags(
            ACCOUNT,
            std::slice::from_ref(&resource),
            &[Tag::new("Env", "prod")],
        )
        .await
        .unwrap();
    let listed = store.key_pairs(ACCOUNT).await.unwrap();
    assert_eq!(
        listed[0].tags,
        vec![Tag::new("Env", "prod"), Tag::new("Team", "a")]
    );
    store
        .delete_key_pair(ACCOUNT, Some("k"), None)
        .await
        .unwrap();
    assert!(store.ec2_tags(ACCOUNT).await.unwrap().is_empty());
    // A new pair of the same name starts without the old one's tags.
    let again = store
        .import_key_pair(
            ACCOUNT,
            NewKeyPair {
                name: "k".into(),
                key_type: "rsa".into(),
                fingerprint: "fp".into(),
                public_key: "ssh-rsa AAAA k".into(),
                tags: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert!(store.key_pairs(ACCOUNT).await.unwrap()[0].tags.is_empty());
    assert_ne!(again.id, pair.id);
}

async fn instance_tag_writes_stamp_the_instance_and_move_the_ec2_counter<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let i = instance(&store, ACCOUNT).await;
    let mark = store.instance_change_mark().await.unwrap();
    let before = store.changes().ec2;
    store
        .create_ec2_tags(
            ACCOUNT,
            std::slice::from_ref(&i),
            &[Tag::new("Role", "web")],
        )
        .await
        .unwrap();
    assert!(store.changes().ec2 > before);
    let changed = store.instances_changed_since(mark).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert!(changed[0].tags.contains(&Tag::new("Role", "web")));
    let mark = store.instance_change_mark().await.unwrap();
    store
        .delete_ec2_tags(ACCOUNT, std::slice::from_ref(&i), None)
        .await
        .unwrap();
    let changed = store.instances_changed_since(mark).await.unwrap();
    assert!(changed[0].tags.is_empty());
}

contract_tests! {
    create_replaces_values_and_keys_are_case_sensitive,
    a_missing_resource_fails_the_whole_call_and_writes_nothing,
    fifty_tags_per_resource_counting_replacements_once,
    delete_by_key_by_key_and_value_and_everything,
    another_accounts_resources_are_not_found_and_not_listed,
    key_pairs_carry_tags_from_creation_and_lose_them_with_the_pair,
    instance_tag_writes_stamp_the_instance_and_move_the_ec2_counter,
}
