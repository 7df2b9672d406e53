//! Every invariant the store enforces inside its write transactions, including under races.

mod common;

use std::sync::Arc;

use common::{ACCOUNT, ALLOW_ALL, Backend, TRUST};
use store::{
    Conflict, EntityKind, InlinePolicy, ListQuery, NewAccessKey, NewInstanceProfile, NewPolicy,
    NewRole, NewUser, Principal, Quota, Store, StoreError, ids,
};

// The store reports typed outcomes; how IAM words them is tested in roleplane
// (`iam::store_errors`).

fn limit(result: Result<impl std::fmt::Debug, StoreError>) -> Quota {
    match result {
        Err(StoreError::LimitExceeded { quota }) => quota,
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

fn conflict(result: Result<impl std::fmt::Debug, StoreError>) -> Conflict {
    match result {
        Err(StoreError::DeleteConflict { reason }) => reason,
        other => panic!("expected DeleteConflict, got {other:?}"),
    }
}

fn already_exists(result: Result<impl std::fmt::Debug, StoreError>) -> (EntityKind, String) {
    match result {
        Err(StoreError::AlreadyExists { kind, name }) => (kind, name),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
}

fn not_found(result: Result<impl std::fmt::Debug, StoreError>) -> (EntityKind, String) {
    match result {
        Err(StoreError::NotFound { kind, name }) => (kind, name),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn names_are_unique_case_insensitively_per_account_and_kind<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(common::OTHER_ACCOUNT).await.unwrap();
    store
        .create_role(ACCOUNT, NewRole::new("Admin", TRUST))
        .await
        .unwrap();

    assert_eq!(
        already_exists(
            store
                .create_role(ACCOUNT, NewRole::new("ADMIN", TRUST))
                .await
        ),
        (EntityKind::Role, "ADMIN".to_owned())
    );
    // A different path does not make a different role.
    let mut pathed = NewRole::new("admin", TRUST);
    pathed.path = "/x/".into();
    assert!(store.create_role(ACCOUNT, pathed).await.is_err());

    // Other kinds and other accounts have their own namespaces.
    store
        .create_user(ACCOUNT, NewUser::new("admin"))
        .await
        .unwrap();
    store
        .create_instance_profile(ACCOUNT, NewInstanceProfile::new("Admin"))
        .await
        .unwrap();
    store
        .create_policy(ACCOUNT, NewPolicy::new("Admin", ALLOW_ALL))
        .await
        .unwrap();
    store
        .create_role(common::OTHER_ACCOUNT, NewRole::new("admin", TRUST))
        .await
        .unwrap();

    assert_eq!(
        already_exists(store.create_user(ACCOUNT, NewUser::new("ADMIN")).await),
        (EntityKind::User, "ADMIN".to_owned())
    );
    assert_eq!(
        already_exists(
            store
                .create_instance_profile(ACCOUNT, NewInstanceProfile::new("aDmIn"))
                .await
        ),
        (EntityKind::InstanceProfile, "aDmIn".to_owned())
    );
    assert_eq!(
        already_exists(
            store
                .create_policy(ACCOUNT, NewPolicy::new("admin", ALLOW_ALL))
                .await
        ),
        (EntityKind::Policy, "admin".to_owned())
    );

    // The stored spelling is the first one.
    assert_eq!(
        store.role_by_name(ACCOUNT, "admin").await.unwrap().name,
        "Admin"
    );
}

async fn a_profile_holds_at_most_one_role<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_instance_profile(ACCOUNT, NewInstanceProfile::new("p"))
        .await
        .unwrap();
    store
        .create_role(ACCOUNT, NewRole::new("a", TRUST))
        .await
        .unwrap();
    store
        .create_role(ACCOUNT, NewRole::new("b", TRUST))
        .await
        .unwrap();
    store
        .add_role_to_instance_profile(ACCOUNT, "p", "a")
        .await
        .unwrap();
    for role in ["b", "a"] {
        assert_eq!(
            limit(store.add_role_to_instance_profile(ACCOUNT, "p", role).await),
            Quota::RolesPerInstanceProfile
        );
    }
    assert_eq!(
        not_found(
            store
                .add_role_to_instance_profile(ACCOUNT, "p", "zzz")
                .await
        ),
        (EntityKind::Role, "zzz".to_owned())
    );
    assert_eq!(
        not_found(
            store
                .remove_role_from_instance_profile(ACCOUNT, "p", "b")
                .await
        ),
        (
            EntityKind::InstanceProfileRole {
                instance_profile: "p".into()
            },
            "b".to_owned()
        )
    );
}

async fn racing_adds_to_one_profile_have_exactly_one_winner<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let store = Arc::new(store);
    const ITERATIONS: usize = 60;
    const RACERS: usize = 4;
    for r in 0..RACERS {
        store
            .create_role(ACCOUNT, NewRole::new(format!("role{r}"), TRUST))
            .await
            .unwrap();
    }
    for i in 0..ITERATIONS {
        let profile = format!("profile{i}");
        store
            .create_instance_profile(ACCOUNT, NewInstanceProfile::new(&profile))
            .await
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let racers: Vec<_> = (0..RACERS)
            .map(|r| {
                let (store, barrier, profile) = (store.clone(), barrier.clone(), profile.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .add_role_to_instance_profile(ACCOUNT, &profile, &format!("role{r}"))
                        .await
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(()) => winners += 1,
                Err(StoreError::LimitExceeded {
                    quota: Quota::RolesPerInstanceProfile,
                }) => {}
                Err(other) => panic!("iteration {i}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners, 1, "iteration {i}");
        assert_eq!(
            store
                .instance_profile(ACCOUNT, &profile)
                .await
                .unwrap()
                .roles
                .len(),
            1
        );
    }
}

async fn racing_access_key_creation_never_exceeds_two<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let store = Arc::new(store);
    for i in 0..10 {
        let user = format!("u{i}");
        store
            .create_user(ACCOUNT, NewUser::new(&user))
            .await
            .unwrap();
        let racers: Vec<_> = (0..5)
            .map(|_| {
                let (store, user) = (store.clone(), user.clone());
                let key = NewAccessKey {
                    access_key_id: ids::access_key_id(),
                    secret_ciphertext: vec![0],
                };
                tokio::spawn(async move { store.create_access_key(ACCOUNT, &user, key).await })
            })
            .collect();
        let mut created = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::LimitExceeded {
                    quota: Quota::AccessKeysPerUser(2),
                }) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(created, 2);
        assert_eq!(
            store.list_access_keys(ACCOUNT, &user).await.unwrap().len(),
            2
        );
    }
}

async fn policy_versions_are_capped_at_five_and_the_default_is_kept<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("p", ALLOW_ALL))
        .await
        .unwrap();
    for _ in 2..=5 {
        store
            .create_policy_version(&policy.account_id, &policy.arn, ALLOW_ALL, false)
            .await
            .unwrap();
    }
    assert_eq!(
        limit(
            store
                .create_policy_version(&policy.account_id, &policy.arn, ALLOW_ALL, true)
                .await,
        ),
        Quota::PolicyVersions(5)
    );
    assert_eq!(
        store
            .list_policy_versions(&policy.account_id, &policy.arn)
            .await
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        store
            .policy(&policy.account_id, &policy.arn)
            .await
            .unwrap()
            .default_version_id,
        "v1",
        "failed write left no trace"
    );

    assert_eq!(
        conflict(
            store
                .delete_policy_version(&policy.account_id, &policy.arn, "v1")
                .await,
        ),
        Conflict::DefaultVersion
    );
    // A policy with extra versions cannot be deleted until they are gone.
    assert_eq!(
        conflict(store.delete_policy(&policy.account_id, &policy.arn).await),
        Conflict::PolicyVersions
    );
    for v in 2..=5 {
        store
            .delete_policy_version(&policy.account_id, &policy.arn, &format!("v{v}"))
            .await
            .unwrap();
    }
    store
        .delete_policy(&policy.account_id, &policy.arn)
        .await
        .unwrap();
}

async fn delete_role_reports_conflicts_in_aws_order<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    store
        .create_instance_profile(ACCOUNT, NewInstanceProfile::new("p"))
        .await
        .unwrap();
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("m", ALLOW_ALL))
        .await
        .unwrap();
    store
        .add_role_to_instance_profile(ACCOUNT, "p", "r")
        .await
        .unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Role("r"), &policy.arn)
        .await
        .unwrap();
    let inline = InlinePolicy {
        name: "i".into(),
        document: ALLOW_ALL.into(),
        size: 10,
    };
    store
        .put_inline_policy(ACCOUNT, Principal::Role("r"), inline, 10_240)
        .await
        .unwrap();

    let expected = [
        Conflict::InstanceProfileMembership,
        Conflict::AttachedPolicies,
        Conflict::InlinePolicies,
    ];
    assert_eq!(conflict(store.delete_role(ACCOUNT, "r").await), expected[0]);
    assert_eq!(
        conflict(store.delete_instance_profile(ACCOUNT, "p").await),
        expected[0]
    );
    store
        .remove_role_from_instance_profile(ACCOUNT, "p", "r")
        .await
        .unwrap();

    assert_eq!(conflict(store.delete_role(ACCOUNT, "r").await), expected[1]);
    assert_eq!(
        conflict(store.delete_policy(&policy.account_id, &policy.arn).await),
        Conflict::PolicyInUse
    );
    store
        .detach_policy(ACCOUNT, Principal::Role("r"), &policy.arn)
        .await
        .unwrap();

    assert_eq!(conflict(store.delete_role(ACCOUNT, "r").await), expected[2]);
    store
        .delete_inline_policy(ACCOUNT, Principal::Role("r"), "i")
        .await
        .unwrap();

    store.delete_role(ACCOUNT, "r").await.unwrap();
    store.delete_instance_profile(ACCOUNT, "p").await.unwrap();
    store
        .delete_policy(&policy.account_id, &policy.arn)
        .await
        .unwrap();
}

async fn delete_user_and_boundary_policies_conflict_while_in_use<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let boundary = store
        .create_policy(ACCOUNT, NewPolicy::new("b", ALLOW_ALL))
        .await
        .unwrap();
    let mut user = NewUser::new("u");
    user.permissions_boundary_arn = Some(boundary.arn.clone());
    store.create_user(ACCOUNT, user).await.unwrap();
    let key = NewAccessKey {
        access_key_id: ids::access_key_id(),
        secret_ciphertext: vec![],
    };
    store
        .create_access_key(ACCOUNT, "u", key.clone())
        .await
        .unwrap();

    assert_eq!(
        conflict(store.delete_user(ACCOUNT, "u").await),
        Conflict::AccessKeys
    );
    // A policy used as a boundary is in use, even with no attachments.
    assert_eq!(
        conflict(
            store
                .delete_policy(&boundary.account_id, &boundary.arn)
                .await
        ),
        Conflict::PolicyInUse
    );
    store
        .delete_access_key(ACCOUNT, "u", &key.access_key_id)
        .await
        .unwrap();
    store.delete_user(ACCOUNT, "u").await.unwrap();
    store
        .delete_policy(&boundary.account_id, &boundary.arn)
        .await
        .unwrap();
}

async fn attached_managed_policies_are_capped_at_ten<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    let mut arns = Vec::new();
    for i in 0..11 {
        arns.push(
            store
                .create_policy(ACCOUNT, NewPolicy::new(format!("p{i}"), ALLOW_ALL))
                .await
                .unwrap()
                .arn,
        );
    }
    for arn in &arns[..10] {
        store
            .attach_policy(ACCOUNT, Principal::Role("r"), arn)
            .await
            .unwrap();
        store
            .attach_policy(ACCOUNT, Principal::User("u"), arn)
            .await
            .unwrap();
    }
    // Re-attaching one already there is not an 11th.
    store
        .attach_policy(ACCOUNT, Principal::Role("r"), &arns[0])
        .await
        .unwrap();
    assert_eq!(
        limit(
            store
                .attach_policy(ACCOUNT, Principal::Role("r"), &arns[10])
                .await,
        ),
        Quota::PoliciesPerRole(10)
    );
    assert_eq!(
        limit(
            store
                .attach_policy(ACCOUNT, Principal::User("u"), &arns[10])
                .await,
        ),
        Quota::PoliciesPerUser(10)
    );

    let missing = "arn:aws:iam::123456789012:policy/missing";
    assert_eq!(
        not_found(
            store
                .attach_policy(ACCOUNT, Principal::Role("r"), missing)
                .await
        ),
        (EntityKind::AttachablePolicy, missing.to_owned())
    );
    // Another account's policy is not attachable either.
    store.create_account(common::OTHER_ACCOUNT).await.unwrap();
    let foreign = store
        .create_policy(common::OTHER_ACCOUNT, NewPolicy::new("f", ALLOW_ALL))
        .await
        .unwrap();
    let err = store
        .attach_policy(ACCOUNT, Principal::User("u"), &foreign.arn)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::NotFound {
            kind: EntityKind::AttachablePolicy,
            ..
        }
    ));
}

async fn inline_policy_size_quota_counts_the_aggregate<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    let put = |name: &str, size: u64| InlinePolicy {
        name: name.into(),
        document: "{}".into(),
        size,
    };
    store
        .put_inline_policy(ACCOUNT, Principal::Role("r"), put("a", 6000), 10_240)
        .await
        .unwrap();
    store
        .put_inline_policy(ACCOUNT, Principal::Role("r"), put("b", 4240), 10_240)
        .await
        .unwrap();
    assert_eq!(
        limit(
            store
                .put_inline_policy(ACCOUNT, Principal::Role("r"), put("c", 1), 10_240)
                .await,
        ),
        Quota::RoleInlinePolicySize {
            max: 10_240,
            role: "r".into()
        }
    );
    // Replacing a policy counts only its new size.
    store
        .put_inline_policy(ACCOUNT, Principal::Role("r"), put("A", 5000), 10_240)
        .await
        .unwrap();
    store
        .put_inline_policy(ACCOUNT, Principal::Role("r"), put("c", 1000), 10_240)
        .await
        .unwrap();
    let names = store
        .list_inline_policies(ACCOUNT, Principal::Role("r"), &ListQuery::default())
        .await;
    assert_eq!(names.unwrap().items, ["A", "b", "c"]);
}

async fn pagination_walks_every_page_in_case_insensitive_order<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let mut expected = Vec::new();
    for i in 0..25 {
        // Mixed case so byte order and case-insensitive order differ.
        let name = if i % 2 == 0 {
            format!("Role{i:02}")
        } else {
            format!("role{i:02}")
        };
        let mut role = NewRole::new(&name, TRUST);
        role.path = if i % 3 == 0 {
            "/svc/a/".into()
        } else {
            "/".into()
        };
        store.create_role(ACCOUNT, role).await.unwrap();
        expected.push(name);
    }
    let mut seen = Vec::new();
    let mut marker = None;
    let mut pages = 0;
    loop {
        let query = ListQuery::max_items(7).after(marker.take());
        let page = store.list_roles(ACCOUNT, &query).await.unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.into_iter().map(|r| r.name));
        pages += 1;
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen, expected);

    let prefixed = ListQuery::max_items(1000).path_prefix("/svc/");
    let names: Vec<_> = store
        .list_roles(ACCOUNT, &prefixed)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names.len(), 9);
    assert!(
        names
            .iter()
            .all(|n| n[4..].parse::<u32>().unwrap() % 3 == 0)
    );

    // Exactly one full page leaves no marker behind.
    let page = store
        .list_roles(ACCOUNT, &ListQuery::max_items(25))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.next_marker), (25, None));

    let bad = ListQuery::max_items(10).after(Some("not-a-marker".into()));
    assert!(matches!(
        store.list_roles(ACCOUNT, &bad).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(
        store
            .list_roles(ACCOUNT, &ListQuery::max_items(0))
            .await
            .is_err()
    );
}

async fn profile_and_user_lists_paginate_too<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    for i in 0..5 {
        store
            .create_instance_profile(ACCOUNT, NewInstanceProfile::new(format!("p{i}")))
            .await
            .unwrap();
        store
            .add_role_to_instance_profile(ACCOUNT, &format!("p{i}"), "r")
            .await
            .unwrap();
        store
            .create_user(ACCOUNT, NewUser::new(format!("u{i}")))
            .await
            .unwrap();
    }
    let first = store
        .list_instance_profiles(ACCOUNT, &ListQuery::max_items(3))
        .await
        .unwrap();
    assert_eq!(
        first
            .items
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["p0", "p1", "p2"]
    );
    assert!(
        first
            .items
            .iter()
            .all(|p| p.roles.len() == 1 && p.roles[0].name == "r")
    );
    let rest = ListQuery::max_items(3).after(first.next_marker);
    let second = store.list_instance_profiles(ACCOUNT, &rest).await.unwrap();
    assert_eq!(
        second
            .items
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["p3", "p4"]
    );
    assert_eq!(second.next_marker, None);

    let for_role = store
        .list_instance_profiles_for_role(ACCOUNT, "r", &ListQuery::max_items(4))
        .await
        .unwrap();
    assert_eq!(for_role.items.len(), 4);
    let tail = ListQuery::max_items(4).after(for_role.next_marker);
    let tail = store
        .list_instance_profiles_for_role(ACCOUNT, "r", &tail)
        .await
        .unwrap();
    assert_eq!(
        tail.items
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["p4"]
    );

    let users = store
        .list_users(ACCOUNT, &ListQuery::max_items(2))
        .await
        .unwrap();
    assert_eq!(users.items.len(), 2);
    assert!(users.next_marker.is_some());
}

contract_tests! {
    names_are_unique_case_insensitively_per_account_and_kind,
    a_profile_holds_at_most_one_role,
    racing_adds_to_one_profile_have_exactly_one_winner(flavor = "multi_thread", worker_threads = 4),
    racing_access_key_creation_never_exceeds_two(flavor = "multi_thread", worker_threads = 4),
    policy_versions_are_capped_at_five_and_the_default_is_kept,
    delete_role_reports_conflicts_in_aws_order,
    delete_user_and_boundary_policies_conflict_while_in_use,
    attached_managed_policies_are_capped_at_ten,
    inline_policy_size_quota_counts_the_aggregate,
    pagination_walks_every_page_in_case_insensitive_order,
    profile_and_user_lists_paginate_too,
}
