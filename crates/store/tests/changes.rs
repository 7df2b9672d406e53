//! The change counters, the one mechanism in-memory views follow: each write moves the counter
//! of its topic and the counter of every commit, and nothing else.

mod common;

use common::{ACCOUNT, Backend};
use store::{NewRole, NewUser, RoleUse, Store};
use time::OffsetDateTime;

async fn each_write_moves_its_topic_and_the_commit_counter<B: Backend>() {
    let (_dir, store) = B::fresh().await;

    let before = store.changes();
    store.create_user(ACCOUNT, NewUser::new("u")).await.unwrap();
    let after = store.changes();
    assert_eq!(
        (after.any, after.iam, after.ec2),
        (before.any + 1, before.iam + 1, before.ec2),
        "an IAM write"
    );

    let role = store
        .create_role(ACCOUNT, NewRole::new("r", "{}"))
        .await
        .unwrap();
    let before = store.changes();
    store
        .record_role_uses(&[RoleUse {
            role_id: role.id,
            at: OffsetDateTime::now_utc(),
            region: "us-east-1".into(),
        }])
        .await
        .unwrap();
    let after = store.changes();
    assert_eq!(
        (after.any, after.iam, after.ec2),
        (before.any + 1, before.iam, before.ec2),
        "a last-use note invalidates no IAM view"
    );

    // A refused write commits nothing and moves nothing.
    let before = store.changes();
    assert!(store.create_user(ACCOUNT, NewUser::new("U")).await.is_err());
    assert_eq!(store.changes(), before);
}

contract_tests! {
    each_write_moves_its_topic_and_the_commit_counter,
}
