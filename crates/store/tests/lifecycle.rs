//! Full lifecycles of every entity through the `Store` trait.

mod common;

use common::{ACCOUNT, ALLOW_ALL, Backend, OTHER_ACCOUNT, TRUST};
use store::{
    AccessKeyStatus, AccessKeyUse, EntityKind, InlinePolicy, LastUsed, ListQuery, NewAccessKey,
    NewInstanceProfile, NewPolicy, NewRole, NewUser, PolicyGeneration, Principal, RoleUpdate,
    RoleUse, Store, StoreError, Tag, Taggable, ids,
};

fn assert_not_found(result: Result<impl std::fmt::Debug, StoreError>, kind: EntityKind) {
    match result {
        Err(StoreError::NotFound { kind: got, .. }) => assert_eq!(got, kind),
        other => panic!("expected NotFound {kind:?}, got {other:?}"),
    }
}

async fn accounts_are_created_once_and_listed<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    let err = store.create_account(ACCOUNT).await.unwrap_err();
    assert!(matches!(
        err,
        StoreError::AlreadyExists {
            kind: EntityKind::Account,
            ..
        }
    ));
    let ids: Vec<_> = store
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, [ACCOUNT, OTHER_ACCOUNT]);
    assert_eq!(store.account(ACCOUNT).await.unwrap().id, ACCOUNT);
    assert_not_found(store.account("999999999999").await, EntityKind::Account);
}

async fn role_lifecycle<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let mut new = NewRole::new("Web-Role", TRUST);
    new.path = "/app/".into();
    new.description = Some("web tier".into());
    new.tags = vec![Tag::new("team", "a"), Tag::new("Env", "prod")];
    let role = store.create_role(ACCOUNT, new).await.unwrap();

    assert!(
        role.id.starts_with("AROA") && role.id.len() == 21,
        "{}",
        role.id
    );
    assert_eq!(role.arn, "arn:aws:iam::123456789012:role/app/Web-Role");
    assert_eq!(role.max_session_duration, 3600);
    assert_eq!(role.assume_role_policy, TRUST);
    // In the order they were given.
    assert_eq!(
        role.tags,
        vec![Tag::new("team", "a"), Tag::new("Env", "prod")]
    );
    assert!(role.last_used.is_none());

    // Found by any spelling of the name, returned with the original one; and by ID.
    let by_name = store.role_by_name(ACCOUNT, "web-role").await.unwrap();
    assert_eq!(by_name, role);
    assert_eq!(store.role_by_id(&role.id).await.unwrap(), role);
    assert_not_found(
        store.role_by_name(OTHER_ACCOUNT, "Web-Role").await,
        EntityKind::Role,
    );

    let update = RoleUpdate {
        description: Some("new".into()),
        max_session_duration: Some(7200),
    };
    store
        .update_role(ACCOUNT, "WEB-ROLE", update)
        .await
        .unwrap();
    store
        .update_role(ACCOUNT, "Web-Role", RoleUpdate::default())
        .await
        .unwrap();
    store
        .update_assume_role_policy(ACCOUNT, "Web-Role", "{}", &[])
        .await
        .unwrap();
    let at = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let used = |at| RoleUse {
        role_id: role.id.clone(),
        at,
        region: "eu-west-1".into(),
    };
    // The older use in the same batch does not win.
    store
        .record_role_uses(&[used(at), used(at - time::Duration::hours(1))])
        .await
        .unwrap();
    let updated = store.role_by_name(ACCOUNT, "Web-Role").await.unwrap();
    assert_eq!(updated.description.as_deref(), Some("new"));
    assert_eq!(updated.max_session_duration, 7200);
    assert_eq!(updated.assume_role_policy, "{}");
    let last_used = updated.last_used.unwrap();
    assert_eq!(
        (last_used.date, last_used.region.as_deref()),
        (at, Some("eu-west-1"))
    );

    let listed = store
        .list_roles(ACCOUNT, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.next_marker, None);
    assert_eq!(listed.items[0].name, "Web-Role");

    store.delete_role(ACCOUNT, "web-ROLE").await.unwrap();
    assert_not_found(
        store.role_by_name(ACCOUNT, "Web-Role").await,
        EntityKind::Role,
    );
    assert_not_found(store.role_by_id(&role.id).await, EntityKind::Role);
    assert_not_found(
        store.delete_role(ACCOUNT, "Web-Role").await,
        EntityKind::Role,
    );
    // Its tags went with it: a new role of the same name starts untagged.
    let again = store
        .create_role(ACCOUNT, NewRole::new("Web-Role", TRUST))
        .await
        .unwrap();
    assert!(again.tags.is_empty());
    assert_ne!(again.id, role.id);
}

async fn user_and_access_key_lifecycle<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let user = store
        .create_user(ACCOUNT, NewUser::new("alice"))
        .await
        .unwrap();
    assert!(user.id.starts_with("AIDA") && user.id.len() == 21);
    assert_eq!(user.arn, "arn:aws:iam::123456789012:user/alice");
    store
        .tag(ACCOUNT, Taggable::User("Alice"), &[Tag::new("dept", "ops")])
        .await
        .unwrap();

    let key_id = ids::access_key_id();
    assert!(key_id.starts_with("AKIA") && key_id.len() == 20);
    let new_key = NewAccessKey {
        access_key_id: key_id.clone(),
        secret_ciphertext: vec![1, 2, 3],
    };
    let key = store
        .create_access_key(ACCOUNT, "ALICE", new_key)
        .await
        .unwrap();
    assert_eq!(key.status, AccessKeyStatus::Active);
    assert_eq!(key.user_name, "alice");
    assert_eq!(key.secret_ciphertext, vec![1, 2, 3]);

    let (found, owner) = store.access_key(&key_id).await.unwrap();
    assert_eq!(found, key);
    assert_eq!(owner.id, user.id);
    assert_eq!(owner.tags, vec![Tag::new("dept", "ops")]);
    assert_not_found(
        store.access_key("AKIANOTAKEY000000000").await,
        EntityKind::AccessKey,
    );

    store
        .set_access_key_status(ACCOUNT, "alice", &key_id, AccessKeyStatus::Inactive)
        .await
        .unwrap();
    let at = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let used = |at, service: &str| AccessKeyUse {
        access_key_id: key_id.clone(),
        at,
        service: service.into(),
        region: "us-east-1".into(),
    };
    let earlier = at - time::Duration::minutes(1);
    let gone = AccessKeyUse {
        access_key_id: "AKIADELETEDKEY000000".into(),
        ..used(at, "iam")
    };
    // In one write, out of order, with a key that no longer exists: the latest use wins.
    store
        .record_access_key_uses(&[used(at, "sts"), gone, used(earlier, "ec2")])
        .await
        .unwrap();
    store.record_access_key_uses(&[]).await.unwrap();
    let keys = store.list_access_keys(ACCOUNT, "alice").await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].status, AccessKeyStatus::Inactive);
    assert_eq!(
        keys[0].last_used,
        Some(LastUsed {
            date: at,
            region: Some("us-east-1".into()),
            service: Some("sts".into()),
        })
    );

    // A key is only reachable through its own user.
    store
        .create_user(ACCOUNT, NewUser::new("bob"))
        .await
        .unwrap();
    assert_not_found(
        store.delete_access_key(ACCOUNT, "bob", &key_id).await,
        EntityKind::AccessKey,
    );
    store
        .delete_access_key(ACCOUNT, "alice", &key_id)
        .await
        .unwrap();
    assert_not_found(store.access_key(&key_id).await, EntityKind::AccessKey);

    store.delete_user(ACCOUNT, "alice").await.unwrap();
    assert_not_found(store.user(ACCOUNT, "alice").await, EntityKind::User);
    let users = store
        .list_users(ACCOUNT, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(
        users
            .items
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
}

async fn inline_policy_lifecycle<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    let policy = InlinePolicy {
        name: "S3Read".into(),
        document: ALLOW_ALL.into(),
        size: 60,
    };
    store
        .put_inline_policy(ACCOUNT, Principal::Role("r"), policy.clone(), 10_240)
        .await
        .unwrap();
    assert_eq!(
        store
            .inline_policy(ACCOUNT, Principal::Role("R"), "s3read")
            .await
            .unwrap(),
        policy
    );

    // Putting the same name (any case) replaces it and takes the new spelling.
    let replaced = InlinePolicy {
        name: "s3read".into(),
        document: "{}".into(),
        size: 2,
    };
    store
        .put_inline_policy(ACCOUNT, Principal::Role("r"), replaced.clone(), 10_240)
        .await
        .unwrap();
    let names = store
        .list_inline_policies(ACCOUNT, Principal::Role("r"), &ListQuery::default())
        .await;
    assert_eq!(names.unwrap().items, ["s3read"]);

    store
        .delete_inline_policy(ACCOUNT, Principal::Role("r"), "S3READ")
        .await
        .unwrap();
    assert_not_found(
        store
            .inline_policy(ACCOUNT, Principal::Role("r"), "s3read")
            .await,
        EntityKind::RolePolicy,
    );
    assert_not_found(
        store
            .delete_inline_policy(ACCOUNT, Principal::Role("r"), "s3read")
            .await,
        EntityKind::RolePolicy,
    );
    assert_not_found(
        store
            .put_inline_policy(ACCOUNT, Principal::User("nobody"), policy, 2048)
            .await,
        EntityKind::User,
    );
}

async fn managed_policy_lifecycle<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let mut new = NewPolicy::new("ReadOnly", ALLOW_ALL);
    new.path = "/team/".into();
    new.description = Some("d".into());
    let policy = store.create_policy(ACCOUNT, new).await.unwrap();
    assert!(policy.id.starts_with("ANPA") && policy.id.len() == 21);
    assert_eq!(policy.arn, "arn:aws:iam::123456789012:policy/team/ReadOnly");
    assert_eq!(policy.default_version_id, "v1");
    assert_eq!(
        (
            policy.attachment_count,
            policy.permissions_boundary_usage_count
        ),
        (0, 0)
    );
    assert_eq!(
        store.policy(&policy.account_id, &policy.arn).await.unwrap(),
        policy
    );

    let v2 = store
        .create_policy_version(&policy.account_id, &policy.arn, "{\"v\":2}", false)
        .await
        .unwrap();
    assert_eq!((v2.version_id.as_str(), v2.is_default), ("v2", false));
    let v3 = store
        .create_policy_version(&policy.account_id, &policy.arn, "{\"v\":3}", true)
        .await
        .unwrap();
    assert_eq!((v3.version_id.as_str(), v3.is_default), ("v3", true));
    assert_eq!(
        store
            .policy(&policy.account_id, &policy.arn)
            .await
            .unwrap()
            .default_version_id,
        "v3"
    );
    let versions: Vec<_> = store
        .list_policy_versions(&policy.account_id, &policy.arn)
        .await
        .unwrap();
    let listed: Vec<_> = versions
        .iter()
        .map(|v| (v.version_id.as_str(), v.is_default))
        .collect();
    assert_eq!(listed, [("v3", true), ("v2", false), ("v1", false)]);
    assert_eq!(
        store
            .policy_version(&policy.account_id, &policy.arn, "v2")
            .await
            .unwrap()
            .document,
        "{\"v\":2}"
    );

    store
        .set_default_policy_version(&policy.account_id, &policy.arn, "v1")
        .await
        .unwrap();
    assert!(
        store
            .policy_version(&policy.account_id, &policy.arn, "v1")
            .await
            .unwrap()
            .is_default
    );
    store
        .delete_policy_version(&policy.account_id, &policy.arn, "v3")
        .await
        .unwrap();
    store
        .delete_policy_version(&policy.account_id, &policy.arn, "v2")
        .await
        .unwrap();
    // Version numbers are never reused.
    let v4 = store
        .create_policy_version(&policy.account_id, &policy.arn, "{}", false)
        .await
        .unwrap();
    assert_eq!(v4.version_id, "v4");
    store
        .delete_policy_version(&policy.account_id, &policy.arn, "v4")
        .await
        .unwrap();
    let missing = store
        .policy_version(&policy.account_id, &policy.arn, "v9")
        .await;
    let kind = EntityKind::PolicyVersion {
        policy_arn: policy.arn.clone(),
    };
    assert_not_found(missing, kind.clone());
    assert_not_found(
        store
            .set_default_policy_version(&policy.account_id, &policy.arn, "v9")
            .await,
        kind,
    );
    // A policy that does not exist: its version is what is missing, as IAM words it.
    let gone = format!("{}-gone", policy.arn);
    assert_not_found(
        store
            .set_default_policy_version(&policy.account_id, &gone, "v1")
            .await,
        EntityKind::PolicyVersion {
            policy_arn: gone.clone(),
        },
    );

    // Attach to a role and a user; counts and listings follow.
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Role("r"), &policy.arn)
        .await
        .unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Role("r"), &policy.arn)
        .await
        .unwrap(); // idempotent
    store
        .attach_policy(ACCOUNT, Principal::User("u"), &policy.arn)
        .await
        .unwrap();
    assert_eq!(
        store
            .policy(&policy.account_id, &policy.arn)
            .await
            .unwrap()
            .attachment_count,
        2
    );
    let attached = store
        .list_attached_policies(ACCOUNT, Principal::Role("r"), &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(attached.items.len(), 1);
    assert_eq!(
        (
            attached.items[0].name.as_str(),
            attached.items[0].arn.as_str()
        ),
        ("ReadOnly", policy.arn.as_str())
    );
    let other_path = ListQuery::default().path_prefix("/other/");
    let filtered = store
        .list_attached_policies(ACCOUNT, Principal::Role("r"), &other_path)
        .await;
    assert!(filtered.unwrap().items.is_empty());
    let only_attached = store
        .list_policies(ACCOUNT, &ListQuery::default(), true)
        .await
        .unwrap();
    assert_eq!(only_attached.items.len(), 1);

    store
        .detach_policy(ACCOUNT, Principal::Role("r"), &policy.arn)
        .await
        .unwrap();
    assert_not_found(
        store
            .detach_policy(ACCOUNT, Principal::Role("r"), &policy.arn)
            .await,
        EntityKind::Policy,
    );
    store
        .detach_policy(ACCOUNT, Principal::User("u"), &policy.arn)
        .await
        .unwrap();
    assert!(
        store
            .list_policies(ACCOUNT, &ListQuery::default(), true)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        store
            .list_policies(ACCOUNT, &ListQuery::default(), false)
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    store
        .delete_policy(&policy.account_id, &policy.arn)
        .await
        .unwrap();
    assert_not_found(
        store.policy(&policy.account_id, &policy.arn).await,
        EntityKind::Policy,
    );
    assert_not_found(
        store.delete_policy(&policy.account_id, &policy.arn).await,
        EntityKind::Policy,
    );
}

async fn instance_profile_lifecycle<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let mut new = NewInstanceProfile::new("WebProfile");
    new.tags = vec![Tag::new("k", "v")];
    let profile = store.create_instance_profile(ACCOUNT, new).await.unwrap();
    assert!(profile.id.starts_with("AIPA") && profile.id.len() == 21);
    assert_eq!(
        profile.arn,
        "arn:aws:iam::123456789012:instance-profile/WebProfile"
    );
    assert!(profile.roles.is_empty());
    assert_eq!(profile.tags, vec![Tag::new("k", "v")]);

    let role = store
        .create_role(ACCOUNT, NewRole::new("web", TRUST))
        .await
        .unwrap();
    store
        .add_role_to_instance_profile(ACCOUNT, "webprofile", "WEB")
        .await
        .unwrap();
    let held = store.instance_profile(ACCOUNT, "WebProfile").await.unwrap();
    assert_eq!(
        held.roles.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [role.id.as_str()]
    );
    let listed = store
        .list_instance_profiles(ACCOUNT, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items[0].roles.len(), 1);
    let for_role = store
        .list_instance_profiles_for_role(ACCOUNT, "web", &ListQuery::default())
        .await;
    assert_eq!(for_role.unwrap().items[0].name, "WebProfile");

    store
        .remove_role_from_instance_profile(ACCOUNT, "WebProfile", "web")
        .await
        .unwrap();
    let missing = store
        .remove_role_from_instance_profile(ACCOUNT, "WebProfile", "web")
        .await;
    let kind = EntityKind::InstanceProfileRole {
        instance_profile: "WebProfile".into(),
    };
    assert_not_found(missing, kind);
    let empty = store
        .list_instance_profiles_for_role(ACCOUNT, "web", &ListQuery::default())
        .await;
    assert!(empty.unwrap().items.is_empty());

    store
        .delete_instance_profile(ACCOUNT, "WEBPROFILE")
        .await
        .unwrap();
    assert_not_found(
        store.instance_profile(ACCOUNT, "WebProfile").await,
        EntityKind::InstanceProfile,
    );
    assert_not_found(
        store
            .add_role_to_instance_profile(ACCOUNT, "WebProfile", "web")
            .await,
        EntityKind::InstanceProfile,
    );
}

async fn tags_upsert_in_place_case_insensitively_except_policies_and_untag<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    // A role's keys are case-insensitive: `OWNER` replaces `Owner` where it stands.
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    let role = Taggable::Role("r");
    store
        .tag(ACCOUNT, role, &[Tag::new("Owner", "a"), Tag::new("b", "1")])
        .await
        .unwrap();
    store
        .tag(ACCOUNT, role, &[Tag::new("OWNER", "z")])
        .await
        .unwrap();
    assert_eq!(
        store.tags(ACCOUNT, role).await.unwrap(),
        vec![Tag::new("OWNER", "z"), Tag::new("b", "1")]
    );
    store
        .untag(ACCOUNT, role, &["owner".into(), "absent".into()])
        .await
        .unwrap();
    assert_eq!(
        store.tags(ACCOUNT, role).await.unwrap(),
        vec![Tag::new("b", "1")]
    );

    // A managed policy's keys are case-sensitive: `Owner` and `OWNER` are two tags.
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("p", ALLOW_ALL))
        .await
        .unwrap();
    let target = Taggable::Policy(&policy.arn);
    store
        .tag(
            ACCOUNT,
            target,
            &[Tag::new("Owner", "a"), Tag::new("b", "1")],
        )
        .await
        .unwrap();
    store
        .tag(
            ACCOUNT,
            target,
            &[Tag::new("OWNER", "z"), Tag::new("Owner", "y")],
        )
        .await
        .unwrap();
    assert_eq!(
        store.tags(ACCOUNT, target).await.unwrap(),
        vec![
            Tag::new("Owner", "y"),
            Tag::new("b", "1"),
            Tag::new("OWNER", "z")
        ]
    );
    store
        .untag(ACCOUNT, target, &["owner".into(), "Owner".into()])
        .await
        .unwrap();
    assert_eq!(
        store.tags(ACCOUNT, target).await.unwrap(),
        vec![Tag::new("b", "1"), Tag::new("OWNER", "z")]
    );
    assert_eq!(
        store
            .policy(&policy.account_id, &policy.arn)
            .await
            .unwrap()
            .tags,
        vec![Tag::new("b", "1"), Tag::new("OWNER", "z")]
    );
    assert_not_found(
        store.tags(ACCOUNT, Taggable::Role("nope")).await,
        EntityKind::Role,
    );
    assert_not_found(
        store
            .tag(ACCOUNT, Taggable::InstanceProfile("nope"), &[])
            .await,
        EntityKind::InstanceProfile,
    );
}

async fn identity_policies_in_one_read<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let boundary = store
        .create_policy(ACCOUNT, NewPolicy::new("Boundary", "{\"b\":1}"))
        .await
        .unwrap();
    let managed = store
        .create_policy(ACCOUNT, NewPolicy::new("Managed", "{\"m\":1}"))
        .await
        .unwrap();
    store
        .create_policy_version(&managed.account_id, &managed.arn, "{\"m\":2}", true)
        .await
        .unwrap();
    store
        .create_policy_version(&managed.account_id, &managed.arn, "{\"m\":3}", false)
        .await
        .unwrap();
    let mut new = NewRole::new("r", TRUST);
    new.permissions_boundary_arn = Some(boundary.arn.clone());
    let role = store.create_role(ACCOUNT, new).await.unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Role("r"), &managed.arn)
        .await
        .unwrap();
    for name in ["b-inline", "a-inline"] {
        let policy = InlinePolicy {
            name: name.into(),
            document: format!("{{\"{name}\":1}}"),
            size: 10,
        };
        store
            .put_inline_policy(ACCOUNT, Principal::Role("r"), policy, 10_240)
            .await
            .unwrap();
    }

    let policies = store.identity_policies(&role.id).await.unwrap();
    let inline: Vec<_> = policies.inline.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(inline, ["a-inline", "b-inline"]);
    assert_eq!(policies.managed.len(), 1);
    assert_eq!(policies.managed[0].arn, managed.arn);
    assert_eq!(
        policies.managed[0].document.as_deref(),
        Some("{\"m\":2}"),
        "default version only"
    );
    let bound = policies.permissions_boundary.unwrap();
    assert_eq!(
        (bound.arn.as_str(), bound.document.as_deref()),
        (boundary.arn.as_str(), Some("{\"b\":1}"))
    );
    assert_eq!(
        store
            .policy(&boundary.account_id, &boundary.arn)
            .await
            .unwrap()
            .permissions_boundary_usage_count,
        1
    );

    // Removing the boundary shows in the next read; users work the same way.
    store
        .set_role_permissions_boundary(ACCOUNT, "r", None)
        .await
        .unwrap();
    assert!(
        store
            .identity_policies(&role.id)
            .await
            .unwrap()
            .permissions_boundary
            .is_none()
    );
    let user = store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    assert_eq!(
        store.identity_policies(&user.id).await.unwrap(),
        Default::default()
    );
    store
        .set_user_permissions_boundary(ACCOUNT, "u", Some(&boundary.arn))
        .await
        .unwrap();
    assert!(
        store
            .identity_policies(&user.id)
            .await
            .unwrap()
            .permissions_boundary
            .is_some()
    );

    assert_not_found(
        store.identity_policies("AROANOSUCHROLE0000000").await,
        EntityKind::Role,
    );
    assert_not_found(
        store
            .set_role_permissions_boundary(
                ACCOUNT,
                "r",
                Some("arn:aws:iam::123456789012:policy/nope"),
            )
            .await,
        EntityKind::PermissionsBoundary,
    );
}

/// The first deployment key written under a name stays: a second writer (a replica starting at
/// the same time) gets the stored key back, not its own.
async fn deployment_keys_keep_the_first_written<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    assert_eq!(
        store.deployment_key("instance-identity").await.unwrap(),
        None
    );
    let key = |sealed: &[u8]| store::NewDeploymentKey {
        name: "instance-identity".to_owned(),
        sealed_key: sealed.to_vec(),
        certificate: [b"cert-".as_slice(), sealed].concat(),
    };
    let first = store.add_deployment_key(key(b"one")).await.unwrap();
    assert_eq!(
        (first.sealed_key.as_slice(), first.certificate.as_slice()),
        (b"one".as_slice(), b"cert-one".as_slice())
    );
    let second = store.add_deployment_key(key(b"two")).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(
        store.deployment_key("instance-identity").await.unwrap(),
        Some(first)
    );
    assert_eq!(store.deployment_key("other").await.unwrap(), None);
}

async fn token_keys_and_settings<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .add_token_key(ACCOUNT, "k1", b"sealed-1")
        .await
        .unwrap();
    store
        .add_token_key(ACCOUNT, "k2", b"sealed-2")
        .await
        .unwrap();
    let dup = store.add_token_key(ACCOUNT, "k1", b"x").await;
    assert!(matches!(
        dup,
        Err(StoreError::AlreadyExists {
            kind: EntityKind::TokenKey,
            ..
        })
    ));
    let kids: Vec<_> = store
        .token_keys(ACCOUNT)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["k1", "k2"]);
    store.delete_token_key(ACCOUNT, "k1").await.unwrap();
    assert_not_found(
        store.delete_token_key(ACCOUNT, "k1").await,
        EntityKind::TokenKey,
    );
    assert_eq!(
        store.token_keys(ACCOUNT).await.unwrap()[0].ciphertext,
        b"sealed-2"
    );

    assert_eq!(
        store.setting(ACCOUNT, "imds.http_tokens").await.unwrap(),
        None
    );
    store
        .put_setting(ACCOUNT, "imds.http_tokens", "optional")
        .await
        .unwrap();
    store
        .put_setting(ACCOUNT, "imds.http_tokens", "required")
        .await
        .unwrap();
    assert_eq!(
        store
            .setting(ACCOUNT, "imds.http_tokens")
            .await
            .unwrap()
            .as_deref(),
        Some("required")
    );
    store
        .delete_setting(ACCOUNT, "imds.http_tokens")
        .await
        .unwrap();
    assert_eq!(
        store.setting(ACCOUNT, "imds.http_tokens").await.unwrap(),
        None
    );
}

/// Policy-generation jobs: saved, replaced by ID as they end, listed oldest first, and
/// forgotten once older than the cut-off a later save names.
async fn policy_generation_jobs_are_saved_replaced_and_forgotten<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let at = |secs| time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
    let job = |id: &str, started| PolicyGeneration {
        job_id: id.into(),
        account_id: ACCOUNT.into(),
        principal_arn: format!("arn:aws:iam::{ACCOUNT}:role/app"),
        window_start_ms: 0,
        window_end_ms: 1_000,
        trails: "[]".into(),
        client_token: Some("t".into()),
        started: at(started),
        status: "IN_PROGRESS".into(),
        completed: None,
        error_code: None,
        error_message: None,
    };
    let long_ago = at(0);
    store
        .put_policy_generation(&job("old", 1_000), long_ago)
        .await
        .unwrap();
    store
        .put_policy_generation(&job("a", 2_000), long_ago)
        .await
        .unwrap();
    let failed = PolicyGeneration {
        status: "FAILED".into(),
        completed: Some(at(2_001)),
        error_code: Some("SERVICE_ERROR".into()),
        error_message: Some("no trail".into()),
        ..job("a", 2_000)
    };
    store
        .put_policy_generation(&failed, long_ago)
        .await
        .unwrap();
    assert_eq!(
        store.policy_generations(long_ago).await.unwrap(),
        vec![job("old", 1_000), failed.clone()]
    );
    // A save names a cut-off: older jobs go in the same write.
    store
        .put_policy_generation(&job("b", 3_000), at(1_500))
        .await
        .unwrap();
    let ids: Vec<String> = store
        .policy_generations(long_ago)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.job_id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(store.policy_generations(at(2_500)).await.unwrap().len(), 1);
}

async fn oidc_provider_lifecycle_and_quotas<B: Backend>() {
    use store::{NewOidcProvider, OidcProviderChange, Quota};
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    let new = |url: &str| NewOidcProvider {
        url: url.to_owned(),
        client_ids: vec!["sts.amazonaws.com".to_owned()],
        thumbprints: vec!["a".repeat(40)],
        tags: vec![Tag::new("team", "blue")],
    };
    let created = store
        .create_oidc_provider(ACCOUNT, new("issuer.example/k8s"))
        .await
        .unwrap();
    let arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/issuer.example/k8s");
    assert_eq!(created.arn, arn);
    assert_eq!(created.url, "issuer.example/k8s");
    assert_eq!(created.tags, vec![Tag::new("team", "blue")]);
    // One per URL per account; another account has its own.
    assert!(matches!(
        store.create_oidc_provider(ACCOUNT, new("issuer.example/k8s")).await,
        Err(StoreError::AlreadyExists { kind: EntityKind::OidcProvider, ref name }) if name == "issuer.example/k8s"
    ));
    store
        .create_oidc_provider(OTHER_ACCOUNT, new("issuer.example/k8s"))
        .await
        .unwrap();
    assert_not_found(
        store.oidc_provider(OTHER_ACCOUNT, &arn).await,
        EntityKind::OidcProvider,
    );

    for change in [
        OidcProviderChange::AddClientId("b".to_owned()),
        OidcProviderChange::AddClientId("b".to_owned()),
        OidcProviderChange::RemoveClientId("sts.amazonaws.com".to_owned()),
        OidcProviderChange::Thumbprints(vec!["c".repeat(40), "d".repeat(40)]),
    ] {
        store
            .update_oidc_provider(ACCOUNT, &arn, change)
            .await
            .unwrap();
    }
    let got = store.oidc_provider(ACCOUNT, &arn).await.unwrap();
    assert_eq!(got.client_ids, ["b"]);
    assert_eq!(got.thumbprints, ["c".repeat(40), "d".repeat(40)]);
    for i in 1..100 {
        store
            .update_oidc_provider(
                ACCOUNT,
                &arn,
                OidcProviderChange::AddClientId(format!("c{i}")),
            )
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .update_oidc_provider(
                ACCOUNT,
                &arn,
                OidcProviderChange::AddClientId("one-more".into())
            )
            .await,
        Err(StoreError::LimitExceeded {
            quota: Quota::ClientIdsPerOidcProvider(100)
        })
    ));

    store
        .tag(
            ACCOUNT,
            Taggable::OidcProvider(&arn),
            &[Tag::new("env", "prod")],
        )
        .await
        .unwrap();
    let tags = store
        .tags(ACCOUNT, Taggable::OidcProvider(&arn))
        .await
        .unwrap();
    assert_eq!(
        tags,
        vec![Tag::new("team", "blue"), Tag::new("env", "prod")]
    );

    for i in 1..100 {
        store
            .create_oidc_provider(ACCOUNT, new(&format!("issuer-{i}.example")))
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .create_oidc_provider(ACCOUNT, new("one-more.example"))
            .await,
        Err(StoreError::LimitExceeded {
            quota: Quota::OidcProvidersPerAccount(100)
        })
    ));
    assert_eq!(store.list_oidc_providers(ACCOUNT).await.unwrap().len(), 100);
    assert!(
        store.list_oidc_providers(ACCOUNT).await.unwrap()[0]
            .tags
            .is_empty()
    );

    store.delete_oidc_provider(ACCOUNT, &arn).await.unwrap();
    assert_not_found(
        store.oidc_provider(ACCOUNT, &arn).await,
        EntityKind::OidcProvider,
    );
    assert_not_found(
        store.delete_oidc_provider(ACCOUNT, &arn).await,
        EntityKind::OidcProvider,
    );
    assert_not_found(
        store.tags(ACCOUNT, Taggable::OidcProvider(&arn)).await,
        EntityKind::OidcProvider,
    );
    // The other account's is untouched.
    assert!(
        store
            .oidc_provider(
                OTHER_ACCOUNT,
                &format!("arn:aws:iam::{OTHER_ACCOUNT}:oidc-provider/issuer.example/k8s")
            )
            .await
            .is_ok()
    );
}

async fn a_renamed_user_keeps_its_id_keys_policies_and_tags<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let mut new = NewUser::new("alice");
    new.tags = vec![Tag::new("team", "a")];
    let alice = store.create_user(ACCOUNT, new).await.unwrap();
    store
        .create_access_key(
            ACCOUNT,
            "alice",
            NewAccessKey {
                access_key_id: "AKIARENAMEDUSERKEY01".into(),
                secret_ciphertext: vec![1],
            },
        )
        .await
        .unwrap();
    let inline = InlinePolicy {
        name: "p".into(),
        document: ALLOW_ALL.into(),
        size: 10,
    };
    store
        .put_inline_policy(ACCOUNT, Principal::User("alice"), inline, u64::MAX)
        .await
        .unwrap();
    store
        .create_user(ACCOUNT, NewUser::new("bob"))
        .await
        .unwrap();

    let renamed = store
        .update_user(
            ACCOUNT,
            "ALICE",
            store::UserUpdate {
                new_name: Some("carol".into()),
                new_path: Some("/ops/".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.id, alice.id);
    assert_eq!(renamed.arn, "arn:aws:iam::123456789012:user/ops/carol");
    assert_eq!(renamed.tags, alice.tags);
    assert_not_found(store.user(ACCOUNT, "alice").await, EntityKind::User);
    let (key, owner) = store.access_key("AKIARENAMEDUSERKEY01").await.unwrap();
    assert_eq!(
        (key.user_name.as_str(), owner.name.as_str()),
        ("carol", "carol")
    );
    assert_eq!(
        store
            .identity_policies(&alice.id)
            .await
            .unwrap()
            .inline
            .len(),
        1
    );

    // Only the path: the name stays.
    let moved = store
        .update_user(
            ACCOUNT,
            "carol",
            store::UserUpdate {
                new_name: None,
                new_path: Some("/".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.arn, "arn:aws:iam::123456789012:user/carol");
    // A taken name (in any case) is refused and changes nothing.
    let err = store
        .update_user(
            ACCOUNT,
            "carol",
            store::UserUpdate {
                new_name: Some("BOB".into()),
                new_path: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::AlreadyExists {
            kind: EntityKind::User,
            ..
        }
    ));
    assert!(store.user(ACCOUNT, "carol").await.is_ok());
    assert_not_found(
        store
            .update_user(ACCOUNT, "nobody", store::UserUpdate::default())
            .await,
        EntityKind::User,
    );
    // Another account's user of the same name is not touched.
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    assert_not_found(
        store
            .update_user(OTHER_ACCOUNT, "carol", store::UserUpdate::default())
            .await,
        EntityKind::User,
    );
}

async fn an_alias_is_one_per_account_and_unique_across_accounts<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    assert_eq!(store.account_alias(ACCOUNT).await.unwrap(), None);
    store.set_account_alias(ACCOUNT, "first").await.unwrap();
    store.set_account_alias(ACCOUNT, "second").await.unwrap();
    assert_eq!(
        store.account_alias(ACCOUNT).await.unwrap().as_deref(),
        Some("second")
    );
    for (account, alias) in [(ACCOUNT, "second"), (OTHER_ACCOUNT, "second")] {
        let err = store.set_account_alias(account, alias).await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::AlreadyExists {
                    kind: EntityKind::AccountAlias,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // "first" was freed when it was replaced.
    store
        .set_account_alias(OTHER_ACCOUNT, "first")
        .await
        .unwrap();
    assert_not_found(
        store.delete_account_alias(ACCOUNT, "first").await,
        EntityKind::AccountAlias,
    );
    store.delete_account_alias(ACCOUNT, "second").await.unwrap();
    assert_eq!(store.account_alias(ACCOUNT).await.unwrap(), None);
    assert_eq!(
        store.account_alias(OTHER_ACCOUNT).await.unwrap().as_deref(),
        Some("first")
    );
}

async fn account_counts_are_of_one_account<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("p", ALLOW_ALL))
        .await
        .unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Role("r"), &policy.arn)
        .await
        .unwrap();
    store
        .attach_policy(ACCOUNT, Principal::User("u"), &policy.arn)
        .await
        .unwrap();
    store
        .create_instance_profile(ACCOUNT, NewInstanceProfile::new("ip"))
        .await
        .unwrap();
    store
        .create_user(OTHER_ACCOUNT, NewUser::new("theirs"))
        .await
        .unwrap();
    store
        .create_group(ACCOUNT, store::NewGroup::new("devs"))
        .await
        .unwrap();
    let counts = store.account_counts(ACCOUNT).await.unwrap();
    assert_eq!(
        counts,
        store::AccountCounts {
            users: 1,
            roles: 1,
            policies: 1,
            instance_profiles: 1,
            groups: 1,
            providers: 0,
            policy_versions_in_use: 2,
        }
    );
    let theirs = store.account_counts(OTHER_ACCOUNT).await.unwrap();
    assert_eq!(theirs.users, 1);
    assert_eq!(theirs.roles, 0);
}

/// `/readyz` and the pool metrics: a store is ready as opened (its migrations just ran), its
/// pool's counts are consistent, and a closed store is not ready.
async fn a_store_is_ready_as_opened_and_shows_its_pool<B: Backend>() {
    let (_data, store) = B::fresh().await;
    store.ready().await.unwrap();
    let pool = store.pool_use().expect("both backends have a pool");
    assert!(
        pool.max > 0 && pool.size <= pool.max && pool.idle <= pool.size,
        "{pool:?}"
    );
    B::close(store.clone()).await;
    assert!(
        matches!(store.ready().await, Err(store::StoreError::Backend(_))),
        "a closed store is not ready"
    );
}

contract_tests! {
    accounts_are_created_once_and_listed,
    role_lifecycle,
    user_and_access_key_lifecycle,
    inline_policy_lifecycle,
    managed_policy_lifecycle,
    instance_profile_lifecycle,
    tags_upsert_in_place_case_insensitively_except_policies_and_untag,
    identity_policies_in_one_read,
    deployment_keys_keep_the_first_written,
    token_keys_and_settings,
    policy_generation_jobs_are_saved_replaced_and_forgotten,
    oidc_provider_lifecycle_and_quotas,
    a_renamed_user_keeps_its_id_keys_policies_and_tags,
    an_alias_is_one_per_account_and_unique_across_accounts,
    account_counts_are_of_one_account,
    a_store_is_ready_as_opened_and_shows_its_pool,
}
