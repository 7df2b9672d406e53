//! IAM groups in the store: unique names, memberships by ID, delete conflicts in AWS's order,
//! group policies in a member's identity read, and the account-wide reads.

mod common;

use common::{ACCOUNT, ALLOW_ALL, Backend, OTHER_ACCOUNT, TRUST};
use store::{
    Conflict, DetailsQuery, EntityKind, EntityQuery, GroupUpdate, InlinePolicy, ListQuery,
    NewGroup, NewPolicy, NewRole, NewUser, Principal, Quota, Store, StoreError,
};

fn conflict(result: Result<impl std::fmt::Debug, StoreError>) -> Conflict {
    match result {
        Err(StoreError::DeleteConflict { reason }) => reason,
        other => panic!("expected DeleteConflict, got {other:?}"),
    }
}

fn not_found(result: Result<impl std::fmt::Debug, StoreError>) -> (EntityKind, String) {
    match result {
        Err(StoreError::NotFound { kind, name }) => (kind, name),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn inline(name: &str) -> InlinePolicy {
    InlinePolicy {
        name: name.into(),
        document: ALLOW_ALL.into(),
        size: ALLOW_ALL.len() as u64,
    }
}

async fn group_names_are_unique_case_insensitively_and_renames_keep_members<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    let group = store
        .create_group(ACCOUNT, NewGroup::new("Devs"))
        .await
        .unwrap();
    assert!(group.id.starts_with("AGPA"));
    assert_eq!(group.arn, format!("arn:aws:iam::{ACCOUNT}:group/Devs"));
    match store.create_group(ACCOUNT, NewGroup::new("DEVS")).await {
        Err(StoreError::AlreadyExists { kind, name }) => {
            assert_eq!((kind, name.as_str()), (EntityKind::Group, "DEVS"))
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    // Another account has its own namespace, and sees nothing of this one.
    store
        .create_group(OTHER_ACCOUNT, NewGroup::new("devs"))
        .await
        .unwrap();
    assert_eq!(
        not_found(store.group(OTHER_ACCOUNT, "ops").await).0,
        EntityKind::Group
    );

    store
        .create_user(ACCOUNT, NewUser::new("alice"))
        .await
        .unwrap();
    store
        .add_user_to_group(ACCOUNT, "devs", "Alice")
        .await
        .unwrap();
    store
        .add_user_to_group(ACCOUNT, "Devs", "alice")
        .await
        .unwrap();
    // Another account's user of the same name is not this account's.
    assert_eq!(
        not_found(
            store
                .add_user_to_group(OTHER_ACCOUNT, "devs", "alice")
                .await
        ),
        (EntityKind::User, "alice".into())
    );
    store
        .create_group(ACCOUNT, NewGroup::new("Ops"))
        .await
        .unwrap();
    match store
        .update_group(
            ACCOUNT,
            "Devs",
            GroupUpdate {
                new_name: Some("ops".into()),
                new_path: None,
            },
        )
        .await
    {
        Err(StoreError::AlreadyExists { kind, .. }) => assert_eq!(kind, EntityKind::Group),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    store
        .update_group(
            ACCOUNT,
            "Devs",
            GroupUpdate {
                new_name: Some("Builders".into()),
                new_path: Some("/eng/".into()),
            },
        )
        .await
        .unwrap();
    let (renamed, members) = store
        .group_with_members(ACCOUNT, "builders", &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(
        renamed.arn,
        format!("arn:aws:iam::{ACCOUNT}:group/eng/Builders")
    );
    assert_eq!(renamed.id, group.id);
    assert_eq!(members.items.len(), 1, "a repeated add is one membership");
    let groups = store
        .list_groups_for_user(ACCOUNT, "alice", &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(groups.items[0].name, "Builders");
    let under_eng = store
        .list_groups(ACCOUNT, &ListQuery::default().path_prefix("/eng/"))
        .await
        .unwrap();
    assert_eq!(under_eng.items.len(), 1);
}

async fn a_missing_user_is_reported_before_a_missing_group<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    assert_eq!(
        not_found(store.remove_user_from_group(ACCOUNT, "g", "u").await),
        (EntityKind::User, "u".into())
    );
    store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    assert_eq!(
        not_found(store.add_user_to_group(ACCOUNT, "g", "u").await),
        (EntityKind::Group, "g".into())
    );
    store
        .create_group(ACCOUNT, NewGroup::new("g"))
        .await
        .unwrap();
    // Removing a non-member succeeds, as on AWS.
    store
        .remove_user_from_group(ACCOUNT, "g", "u")
        .await
        .unwrap();
}

async fn delete_group_and_delete_user_conflict_while_in_use<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_group(ACCOUNT, NewGroup::new("g"))
        .await
        .unwrap();
    store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("p", ALLOW_ALL))
        .await
        .unwrap();
    store.add_user_to_group(ACCOUNT, "g", "u").await.unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Group("g"), &policy.arn)
        .await
        .unwrap();
    store
        .put_inline_policy(ACCOUNT, Principal::Group("g"), inline("i"), 5120)
        .await
        .unwrap();

    assert_eq!(
        conflict(store.delete_user(ACCOUNT, "u").await),
        Conflict::GroupMembership
    );
    assert_eq!(
        conflict(store.delete_policy(ACCOUNT, &policy.arn).await),
        Conflict::PolicyInUse
    );
    assert_eq!(
        store
            .policy(ACCOUNT, &policy.arn)
            .await
            .unwrap()
            .attachment_count,
        1,
        "a group's attachment counts"
    );
    // Members first, then attached policies, then inline ones.
    assert_eq!(
        conflict(store.delete_group(ACCOUNT, "g").await),
        Conflict::GroupMembership
    );
    store
        .remove_user_from_group(ACCOUNT, "g", "u")
        .await
        .unwrap();
    assert_eq!(
        conflict(store.delete_group(ACCOUNT, "g").await),
        Conflict::AttachedPolicies
    );
    store
        .detach_policy(ACCOUNT, Principal::Group("g"), &policy.arn)
        .await
        .unwrap();
    assert_eq!(
        conflict(store.delete_group(ACCOUNT, "g").await),
        Conflict::InlinePolicies
    );
    store
        .delete_inline_policy(ACCOUNT, Principal::Group("g"), "i")
        .await
        .unwrap();
    store.delete_group(ACCOUNT, "g").await.unwrap();
    store.delete_user(ACCOUNT, "u").await.unwrap();
    store.delete_policy(ACCOUNT, &policy.arn).await.unwrap();
    assert_eq!(
        not_found(store.group(ACCOUNT, "g").await).0,
        EntityKind::Group
    );
}

async fn group_quotas_are_their_own<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store
        .create_group(ACCOUNT, NewGroup::new("g"))
        .await
        .unwrap();
    match store
        .put_inline_policy(ACCOUNT, Principal::Group("g"), inline("big"), 10)
        .await
    {
        Err(StoreError::LimitExceeded { quota }) => assert_eq!(
            quota,
            Quota::GroupInlinePolicySize {
                max: 10,
                group: "g".into()
            }
        ),
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    for n in 0..11 {
        let policy = store
            .create_policy(ACCOUNT, NewPolicy::new(format!("p{n}"), ALLOW_ALL))
            .await
            .unwrap();
        let attached = store
            .attach_policy(ACCOUNT, Principal::Group("g"), &policy.arn)
            .await;
        match (n, attached) {
            (0..10, Ok(())) => {}
            (10, Err(StoreError::LimitExceeded { quota })) => {
                assert_eq!(quota, Quota::PoliciesPerGroup(10))
            }
            (n, other) => panic!("attach {n}: {other:?}"),
        }
    }
}

async fn a_members_identity_read_includes_its_groups_policies_until_it_leaves<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    let user = store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    let group = store
        .create_group(ACCOUNT, NewGroup::new("g"))
        .await
        .unwrap();
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("p", ALLOW_ALL))
        .await
        .unwrap();
    store
        .put_inline_policy(ACCOUNT, Principal::Group("g"), inline("from-group"), 5120)
        .await
        .unwrap();
    store
        .attach_policy(ACCOUNT, Principal::Group("g"), &policy.arn)
        .await
        .unwrap();
    // Attached to the user too: still one policy in the read.
    store
        .attach_policy(ACCOUNT, Principal::User("u"), &policy.arn)
        .await
        .unwrap();

    let before = store.identity_policies(&user.id).await.unwrap();
    assert!(before.group_inline.is_empty());
    assert_eq!(before.managed.len(), 1);
    store.add_user_to_group(ACCOUNT, "g", "u").await.unwrap();
    let member = store.identity_policies(&user.id).await.unwrap();
    assert_eq!(member.group_inline[0].name, "from-group");
    assert!(member.inline.is_empty());
    assert_eq!(
        member.managed.len(),
        1,
        "one policy attached twice counts once"
    );
    // The group's own read (SimulatePrincipalPolicy on a group ARN).
    let of_group = store.identity_policies(&group.id).await.unwrap();
    assert_eq!(of_group.inline[0].name, "from-group");
    assert_eq!(of_group.managed[0].arn, policy.arn);

    store
        .remove_user_from_group(ACCOUNT, "g", "u")
        .await
        .unwrap();
    assert_eq!(store.identity_policies(&user.id).await.unwrap(), before);
}

async fn account_wide_reads_see_every_entity_of_the_account_only<B: Backend>() {
    let (_dir, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    store
        .create_group(ACCOUNT, NewGroup::new("g"))
        .await
        .unwrap();
    store
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    store
        .create_user(OTHER_ACCOUNT, NewUser::new("stranger"))
        .await
        .unwrap();
    let policy = store
        .create_policy(ACCOUNT, NewPolicy::new("p", ALLOW_ALL))
        .await
        .unwrap();
    for principal in [
        Principal::User("u"),
        Principal::Group("g"),
        Principal::Role("r"),
    ] {
        store
            .attach_policy(ACCOUNT, principal, &policy.arn)
            .await
            .unwrap();
    }
    store.add_user_to_group(ACCOUNT, "g", "u").await.unwrap();
    store
        .set_role_permissions_boundary(ACCOUNT, "r", Some(&policy.arn))
        .await
        .unwrap();

    let everything = EntityQuery {
        groups: true,
        users: true,
        roles: true,
        attached: true,
        boundary: true,
        path_prefix: "/".into(),
    };
    let entities = store
        .policy_entities(ACCOUNT, &policy.arn, &everything)
        .await
        .unwrap();
    assert_eq!(
        (
            entities.groups[0].name.as_str(),
            entities.users[0].name.as_str(),
            entities.roles.len()
        ),
        ("g", "u", 1),
        "the role both attached and bounded is listed once"
    );
    let boundaries = store
        .policy_entities(
            ACCOUNT,
            &policy.arn,
            &EntityQuery {
                attached: false,
                ..everything.clone()
            },
        )
        .await
        .unwrap();
    assert!(boundaries.groups.is_empty() && boundaries.users.is_empty());
    assert_eq!(boundaries.roles.len(), 1);
    assert_eq!(
        not_found(
            store
                .policy_entities(OTHER_ACCOUNT, &policy.arn, &everything)
                .await
        ),
        (EntityKind::AttachablePolicy, policy.arn.clone())
    );

    let all = DetailsQuery {
        users: true,
        groups: true,
        roles: true,
        local_policies: true,
    };
    let details = store.account_details(ACCOUNT, all).await.unwrap();
    assert_eq!(details.users.len(), 1);
    assert_eq!(details.users[0].groups, ["g"]);
    assert_eq!(details.groups[0].attached[0].arn, policy.arn);
    assert_eq!(details.roles[0].attached.len(), 1);
    assert_eq!(details.policies[0].policy.attachment_count, 3);
    assert_eq!(details.policies[0].versions[0].document, ALLOW_ALL);
    let only_groups = store
        .account_details(
            ACCOUNT,
            DetailsQuery {
                users: false,
                roles: false,
                local_policies: false,
                ..all
            },
        )
        .await
        .unwrap();
    assert!(only_groups.users.is_empty() && only_groups.policies.is_empty());
    let credentials = store.user_credentials(OTHER_ACCOUNT).await.unwrap();
    assert_eq!(credentials.len(), 1);
    assert_eq!(credentials[0].user.name, "stranger");
}

contract_tests! {
    group_names_are_unique_case_insensitively_and_renames_keep_members,
    a_missing_user_is_reported_before_a_missing_group,
    delete_group_and_delete_user_conflict_while_in_use,
    group_quotas_are_their_own,
    a_members_identity_read_includes_its_groups_policies_until_it_leaves,
    account_wide_reads_see_every_entity_of_the_account_only,
}
