//! Users' login profiles in the store: one per user, found through the user's current name
//! (case-insensitively, as IAM names are), kept by a rename, shown in the credential report's
//! read, and a reason DeleteUser refuses.

mod common;

use common::{ACCOUNT, Backend, OTHER_ACCOUNT};
use store::{Conflict, EntityKind, NewAccessKey, NewUser, Store, StoreError, UserUpdate};

fn is_not_found(result: Result<impl std::fmt::Debug, StoreError>, kind: EntityKind, name: &str) {
    match result {
        Err(StoreError::NotFound { kind: k, name: n }) if k == kind && n == name => {}
        other => panic!("expected NotFound {kind:?} {name}, got {other:?}"),
    }
}

async fn login_profile_lifecycle<B: Backend>() {
    let (_data, store) = B::fresh().await;
    store
        .create_user(ACCOUNT, NewUser::new("alice"))
        .await
        .unwrap();
    let before = store.changes().iam;
    let created = store
        .create_login_profile(ACCOUNT, "ALICE", true)
        .await
        .unwrap();
    assert!(
        store.changes().iam > before,
        "a creation moves the IAM counter"
    );
    assert_eq!(created.user_name, "alice", "the user's own spelling");
    assert!(created.password_reset_required);
    assert_eq!(created.password_changed, created.created);
    assert_eq!(
        store.login_profile(ACCOUNT, "alice").await.unwrap(),
        created
    );

    match store.create_login_profile(ACCOUNT, "alice", false).await {
        Err(StoreError::AlreadyExists {
            kind: EntityKind::LoginProfile,
            name,
        }) => assert_eq!(name, "alice"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.login_profile(ACCOUNT, "alice").await.unwrap(),
        created,
        "the refused creation changed nothing"
    );

    // The flag alone: the password's time stays.
    store
        .update_login_profile(ACCOUNT, "alice", false, Some(false))
        .await
        .unwrap();
    let flag_only = store.login_profile(ACCOUNT, "alice").await.unwrap();
    assert!(!flag_only.password_reset_required);
    assert_eq!(flag_only.password_changed, created.password_changed);
    assert_eq!(flag_only.created, created.created);
    // A new password alone: the flag stays.
    store
        .update_login_profile(ACCOUNT, "Alice", true, None)
        .await
        .unwrap();
    let new_password = store.login_profile(ACCOUNT, "alice").await.unwrap();
    assert!(!new_password.password_reset_required);
    assert_eq!(new_password.created, created.created);

    store.delete_login_profile(ACCOUNT, "alice").await.unwrap();
    is_not_found(
        store.login_profile(ACCOUNT, "alice").await,
        EntityKind::LoginProfile,
        "alice",
    );
    is_not_found(
        store.delete_login_profile(ACCOUNT, "alice").await,
        EntityKind::LoginProfile,
        "alice",
    );
    is_not_found(
        store
            .update_login_profile(ACCOUNT, "alice", true, Some(true))
            .await,
        EntityKind::LoginProfile,
        "alice",
    );
    // Created again after a delete, as IAM allows.
    store
        .create_login_profile(ACCOUNT, "alice", false)
        .await
        .unwrap();
}

async fn a_user_that_is_not_the_accounts_has_no_login_profile<B: Backend>() {
    let (_data, store) = B::fresh().await;
    store.create_account(OTHER_ACCOUNT).await.unwrap();
    store
        .create_user(OTHER_ACCOUNT, NewUser::new("theirs"))
        .await
        .unwrap();
    store
        .create_login_profile(OTHER_ACCOUNT, "theirs", false)
        .await
        .unwrap();
    for name in ["nobody", "theirs"] {
        is_not_found(
            store.create_login_profile(ACCOUNT, name, false).await,
            EntityKind::User,
            name,
        );
        is_not_found(
            store.login_profile(ACCOUNT, name).await,
            EntityKind::User,
            name,
        );
        is_not_found(
            store.update_login_profile(ACCOUNT, name, true, None).await,
            EntityKind::User,
            name,
        );
        is_not_found(
            store.delete_login_profile(ACCOUNT, name).await,
            EntityKind::User,
            name,
        );
    }
    // The other account's profile is untouched.
    assert!(store.login_profile(OTHER_ACCOUNT, "theirs").await.is_ok());
}

async fn delete_user_conflicts_while_a_login_profile_exists<B: Backend>() {
    let (_data, store) = B::fresh().await;
    store
        .create_user(ACCOUNT, NewUser::new("alice"))
        .await
        .unwrap();
    store
        .create_login_profile(ACCOUNT, "alice", false)
        .await
        .unwrap();
    store
        .create_access_key(
            ACCOUNT,
            "alice",
            NewAccessKey {
                access_key_id: "AKIALOGINPROFILE0001".into(),
                secret_ciphertext: vec![1],
            },
        )
        .await
        .unwrap();
    let conflict = |result: Result<(), StoreError>| match result {
        Err(StoreError::DeleteConflict { reason }) => reason,
        other => panic!("{other:?}"),
    };
    // Access keys are reported first, as SQLite checks them first.
    assert_eq!(
        conflict(store.delete_user(ACCOUNT, "alice").await),
        Conflict::AccessKeys
    );
    store
        .delete_access_key(ACCOUNT, "alice", "AKIALOGINPROFILE0001")
        .await
        .unwrap();
    assert_eq!(
        conflict(store.delete_user(ACCOUNT, "alice").await),
        Conflict::LoginProfile
    );
    assert!(store.login_profile(ACCOUNT, "alice").await.is_ok());
    store.delete_login_profile(ACCOUNT, "alice").await.unwrap();
    store.delete_user(ACCOUNT, "alice").await.unwrap();
    is_not_found(
        store.user(ACCOUNT, "alice").await,
        EntityKind::User,
        "alice",
    );
}

async fn a_renamed_user_keeps_its_login_profile<B: Backend>() {
    let (_data, store) = B::fresh().await;
    for name in ["alice", "bob"] {
        store
            .create_user(ACCOUNT, NewUser::new(name))
            .await
            .unwrap();
    }
    let created = store
        .create_login_profile(ACCOUNT, "alice", true)
        .await
        .unwrap();
    store
        .update_user(
            ACCOUNT,
            "alice",
            UserUpdate {
                new_name: Some("carol".into()),
                new_path: None,
            },
        )
        .await
        .unwrap();
    let kept = store.login_profile(ACCOUNT, "carol").await.unwrap();
    assert_eq!(kept.user_name, "carol");
    assert_eq!(
        (
            kept.created,
            kept.password_changed,
            kept.password_reset_required
        ),
        (
            created.created,
            created.password_changed,
            created.password_reset_required
        )
    );
    is_not_found(
        store.login_profile(ACCOUNT, "alice").await,
        EntityKind::User,
        "alice",
    );

    // The credential report's read: the profile under the new name, none for bob.
    let credentials = store.user_credentials(ACCOUNT).await.unwrap();
    let profiles: Vec<_> = credentials
        .iter()
        .map(|c| (c.user.name.as_str(), c.login_profile.clone()))
        .collect();
    assert_eq!(profiles, vec![("bob", None), ("carol", Some(kept))]);
}

contract_tests! {
    login_profile_lifecycle,
    a_user_that_is_not_the_accounts_has_no_login_profile,
    delete_user_conflicts_while_a_login_profile_exists,
    a_renamed_user_keeps_its_login_profile,
}
