//! Two replicas on one store: two handles with pools of their own (for PostgreSQL, what two
//! `roleplane serve` processes on one database are), racing the writes whose invariants a race
//! could break twice. Each race runs many times, and every time exactly one caller wins.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use common::{ACCOUNT, Backend, TRUST};
use store::{
    AssociationQuery, AssociationState, Conflict, Ec2Rejection, EntityKind, HostCapacity,
    HostRelease, HostState, MetadataOptions, NewAccessKey, NewHosts, NewInstanceProfile, NewLaunch,
    NewObject, NewRole, NewUser, ObjectHeaders, ProfileRef, Quota, Store, StoreError, ids,
};

const ROUNDS: usize = 30;
const RACERS: usize = 4;

/// The store and a second replica on the same data.
async fn replicas<B: Backend>() -> (B::Data, [B::Store; 2]) {
    let (data, first) = B::fresh().await;
    let second = B::open(&data).await;
    (data, [first, second])
}

/// Runs `racers` calls at once, alternating between the replicas, and returns their results in
/// racer order.
async fn race<S, T, F, Fut>(replicas: &[S; 2], racers: usize, call: F) -> Vec<Result<T, StoreError>>
where
    S: Store,
    T: Send + 'static,
    F: Fn(S, usize) -> Fut,
    Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(racers));
    let tasks: Vec<_> = (0..racers)
        .map(|racer| {
            let call = call(replicas[racer % 2].clone(), racer);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                call.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(racers);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

fn winners<T>(results: &[Result<T, StoreError>]) -> usize {
    results.iter().filter(|r| r.is_ok()).count()
}

fn launch(client_token: Option<String>) -> NewLaunch {
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
        tags: Vec::new(),
        user_data: None,
        profile: None,
        host_id: None,
        client_token,
        fingerprint: "launch-1".into(),
    }
}

async fn racing_replicas_give_a_profile_one_role<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    for r in 0..RACERS {
        replicas[0]
            .create_role(ACCOUNT, NewRole::new(format!("role{r}"), TRUST))
            .await
            .unwrap();
    }
    for round in 0..ROUNDS {
        let profile = format!("profile{round}");
        replicas[round % 2]
            .create_instance_profile(ACCOUNT, NewInstanceProfile::new(&profile))
            .await
            .unwrap();
        let results = race(&replicas, RACERS, |store, racer| {
            let profile = profile.clone();
            async move {
                store
                    .add_role_to_instance_profile(ACCOUNT, &profile, &format!("role{racer}"))
                    .await
            }
        })
        .await;
        for result in &results {
            match result {
                Ok(()) => {}
                Err(StoreError::LimitExceeded {
                    quota: Quota::RolesPerInstanceProfile,
                }) => {}
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners(&results), 1, "round {round}: {results:?}");
        for replica in &replicas {
            let held = replica.instance_profile(ACCOUNT, &profile).await.unwrap();
            assert_eq!(held.roles.len(), 1, "round {round}");
        }
    }
}

async fn racing_replicas_associate_an_instance_once<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    for round in 0..ROUNDS {
        let reservation = replicas[round % 2]
            .run_instances(ACCOUNT, launch(None))
            .await
            .unwrap();
        let instance = reservation.instances[0].id.clone();
        let results = race(&replicas, RACERS, |store, racer| {
            let instance = instance.clone();
            let profile = ProfileRef {
                arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/p{racer}"),
                id: format!("AIPAEXAMPLE000000000{racer}"),
            };
            async move {
                store
                    .associate_instance_profile(ACCOUNT, &instance, &profile)
                    .await
            }
        })
        .await;
        for result in &results {
            match result {
                Ok(association) => assert_eq!(association.instance_id, instance),
                Err(StoreError::Ec2(Ec2Rejection::ExistingAssociation { instance_id })) => {
                    assert_eq!(instance_id, &instance)
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners(&results), 1, "round {round}: {results:?}");
        let query = AssociationQuery {
            instance_ids: vec![instance.clone()],
            states: vec![AssociationState::Associated],
            ..AssociationQuery::default()
        };
        let active = replicas[(round + 1) % 2]
            .instance_profile_associations(ACCOUNT, &query)
            .await
            .unwrap();
        assert_eq!(active.len(), 1, "round {round}: {active:?}");
    }
}

async fn racing_replicas_create_one_of_names_differing_in_case<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    for round in 0..ROUNDS {
        let results = race(&replicas, RACERS, |store, racer| {
            // role{round}, ROLE{round}, Role{round}, rOLE{round}
            let name = match racer % 4 {
                0 => format!("role{round}"),
                1 => format!("ROLE{round}"),
                2 => format!("Role{round}"),
                _ => format!("rOLE{round}"),
            };
            async move { store.create_role(ACCOUNT, NewRole::new(name, TRUST)).await }
        })
        .await;
        for result in &results {
            match result {
                Ok(_) => {}
                Err(StoreError::AlreadyExists {
                    kind: EntityKind::Role,
                    ..
                }) => {}
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners(&results), 1, "round {round}: {results:?}");
    }
    let listed = replicas[1]
        .list_roles(ACCOUNT, &store::ListQuery::max_items(1000))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), ROUNDS);
}

async fn racing_replicas_reuse_a_client_token_once<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    for round in 0..ROUNDS {
        let token = format!("token-{round}");
        let results = race(&replicas, RACERS, |store, _| {
            let token = token.clone();
            async move { store.run_instances(ACCOUNT, launch(Some(token))).await }
        })
        .await;
        let reservations: Vec<_> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("round {round}: {e:?}")))
            .collect();
        let first = reservations.iter().filter(|r| !r.replayed).count();
        assert_eq!(first, 1, "round {round}: one launch, the rest replays");
        assert!(
            reservations.iter().all(|r| r.id == reservations[0].id),
            "round {round}: one reservation"
        );
    }
    let instances = replicas[0]
        .instances(ACCOUNT, &store::InstanceQuery::default())
        .await
        .unwrap();
    assert_eq!(instances.len(), ROUNDS, "one instance per token");
}

/// A role that is being deleted while another replica adds it to a profile: either the delete
/// wins (the add finds no role) or the add does (the delete conflicts), never both.
async fn a_role_is_deleted_or_joins_a_profile_never_both<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    let (mut deleted, mut joined) = (0, 0);
    for round in 0..ROUNDS {
        let (role, profile) = (format!("role{round}"), format!("profile{round}"));
        replicas[0]
            .create_role(ACCOUNT, NewRole::new(&role, TRUST))
            .await
            .unwrap();
        replicas[0]
            .create_instance_profile(ACCOUNT, NewInstanceProfile::new(&profile))
            .await
            .unwrap();
        let results = race(&replicas, 2, |store, racer| {
            let (role, profile) = (role.clone(), profile.clone());
            async move {
                match racer {
                    0 => store.delete_role(ACCOUNT, &role).await,
                    _ => {
                        store
                            .add_role_to_instance_profile(ACCOUNT, &profile, &role)
                            .await
                    }
                }
            }
        })
        .await;
        let held = replicas[1]
            .instance_profile(ACCOUNT, &profile)
            .await
            .unwrap()
            .roles;
        match (&results[0], &results[1]) {
            (
                Ok(()),
                Err(StoreError::NotFound {
                    kind: EntityKind::Role,
                    ..
                }),
            ) => {
                deleted += 1;
                assert!(held.is_empty(), "round {round}");
            }
            (
                Err(StoreError::DeleteConflict {
                    reason: Conflict::InstanceProfileMembership,
                }),
                Ok(()),
            ) => {
                joined += 1;
                assert_eq!(held.len(), 1, "round {round}");
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    assert_eq!(deleted + joined, ROUNDS);
}

/// A user being deleted while another replica gives it a login profile: either the delete
/// wins (the user is gone) or the profile does (the user is not deleted), never a profile of a
/// deleted user.
async fn a_user_is_deleted_or_gets_a_login_profile_never_both<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    let (mut deleted, mut kept) = (0, 0);
    for round in 0..ROUNDS {
        let user = format!("user{round}");
        replicas[0]
            .create_user(ACCOUNT, NewUser::new(&user))
            .await
            .unwrap();
        let results = race(&replicas, 2, |store, racer| {
            let user = user.clone();
            async move {
                match racer {
                    0 => store.delete_user(ACCOUNT, &user).await,
                    _ => store
                        .create_login_profile(ACCOUNT, &user, false)
                        .await
                        .map(|_| ()),
                }
            }
        })
        .await;
        let profile = replicas[1].login_profile(ACCOUNT, &user).await;
        match (&results[0], &results[1]) {
            (
                Ok(()),
                Err(StoreError::NotFound {
                    kind: EntityKind::User,
                    ..
                }),
            ) => {
                deleted += 1;
                assert!(
                    matches!(
                        profile,
                        Err(StoreError::NotFound {
                            kind: EntityKind::User,
                            ..
                        })
                    ),
                    "round {round}: {profile:?}"
                );
            }
            (
                Err(StoreError::DeleteConflict {
                    reason: Conflict::LoginProfile,
                }),
                Ok(()),
            ) => {
                kept += 1;
                assert!(profile.is_ok(), "round {round}: {profile:?}");
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    assert_eq!(deleted + kept, ROUNDS);
}

/// One Dedicated Host, its agent key `AKIAHOSTRACE{n}` (20 characters).
fn new_host(n: usize, client_token: Option<String>) -> NewHosts {
    NewHosts {
        availability_zone: "us-east-1a".into(),
        capacity: HostCapacity::InstanceFamily("m5".into()),
        auto_placement: "off".into(),
        host_recovery: "off".into(),
        host_maintenance: "on".into(),
        tags: Vec::new(),
        agent_keys: vec![NewAccessKey {
            access_key_id: format!("AKIAHOSTRACE{n:08}"),
            secret_ciphertext: vec![1],
        }],
        client_token,
        fingerprint: "hosts-1".into(),
    }
}

/// A launch onto a Dedicated Host while another replica releases the host: either the release
/// wins (the launch finds the host unavailable) or the launch does (the host is occupied and
/// stays), never a released host with an instance.
async fn a_host_is_released_or_gets_an_instance_never_both<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    let (mut released, mut launched) = (0, 0);
    for round in 0..ROUNDS {
        let host = replicas[round % 2]
            .allocate_hosts(ACCOUNT, new_host(round, None))
            .await
            .unwrap()
            .hosts
            .remove(0)
            .id;
        let results = race(&replicas, 2, |store, racer| {
            let host = host.clone();
            async move {
                match racer {
                    0 => store
                        .release_hosts(ACCOUNT, std::slice::from_ref(&host))
                        .await
                        .map(Err),
                    _ => {
                        let launch = NewLaunch {
                            instance_type: "m5.large".into(),
                            host_id: Some(host),
                            ..launch(None)
                        };
                        store.run_instances(ACCOUNT, launch).await.map(Ok)
                    }
                }
            }
        })
        .await;
        let shown = replicas[(round + 1) % 2]
            .hosts(ACCOUNT, std::slice::from_ref(&host))
            .await
            .unwrap()
            .remove(0);
        match (&results[0], &results[1]) {
            (
                Ok(Err(outcomes)),
                Err(StoreError::Ec2(Ec2Rejection::HostUnavailable { host_id })),
            ) if *outcomes == [HostRelease::Released(host.clone())] && *host_id == host => {
                released += 1;
                assert_eq!(shown.state, HostState::Released, "round {round}");
                assert!(shown.instances.is_empty(), "round {round}: {shown:?}");
            }
            (Ok(Err(outcomes)), Ok(Ok(reservation)))
                if *outcomes == [HostRelease::Occupied(host.clone())] =>
            {
                launched += 1;
                assert_eq!(shown.state, HostState::Available, "round {round}");
                assert_eq!(shown.instances.len(), 1, "round {round}: {shown:?}");
                assert_eq!(
                    shown.instances[0].instance_id, reservation.instances[0].id,
                    "round {round}"
                );
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    assert_eq!(released + launched, ROUNDS);
    // However the races went: no live instance names a released host.
    let hosts = replicas[0].hosts(ACCOUNT, &[]).await.unwrap();
    let instances = replicas[1]
        .instances(ACCOUNT, &store::InstanceQuery::default())
        .await
        .unwrap();
    for instance in instances {
        let host = instance
            .host_id
            .as_deref()
            .expect("every launch named a host");
        let host = hosts.iter().find(|h| h.id == host).unwrap();
        assert_eq!(host.state, HostState::Available, "{instance:?} on {host:?}");
    }
}

async fn racing_replicas_reuse_an_allocations_client_token_once<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    for round in 0..ROUNDS {
        let token = format!("token-{round}");
        let results = race(&replicas, RACERS, |store, racer| {
            let new = new_host(round * RACERS + racer, Some(token.clone()));
            async move { store.allocate_hosts(ACCOUNT, new).await }
        })
        .await;
        let allocations: Vec<_> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("round {round}: {e:?}")))
            .collect();
        let first = allocations.iter().filter(|a| !a.replayed).count();
        assert_eq!(first, 1, "round {round}: one allocation, the rest replays");
        assert!(
            allocations
                .iter()
                .all(|a| a.hosts.len() == 1 && a.hosts[0].id == allocations[0].hosts[0].id),
            "round {round}: one host"
        );
    }
    let hosts = replicas[0].hosts(ACCOUNT, &[]).await.unwrap();
    assert_eq!(hosts.len(), ROUNDS, "one host per token");
}

/// A bucket being deleted while another replica puts an object in it: either the delete wins
/// (the put finds no bucket) or the put does (the bucket is not empty), never both.
async fn a_bucket_is_deleted_or_gets_an_object_never_both<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    for round in 0..ROUNDS {
        let bucket = format!("bucket-{round}");
        replicas[0]
            .create_bucket(ACCOUNT, &bucket, "us-east-1")
            .await
            .unwrap();
        let results = race(&replicas, 2, |store, racer| {
            let bucket = bucket.clone();
            async move {
                match racer {
                    0 => store.delete_bucket(&bucket).await.map(|_| ()),
                    _ => {
                        let object = NewObject {
                            bucket: bucket.clone(),
                            key: "k".into(),
                            size: 1,
                            etag: "0cc175b9c0f1b6a831c399e269772661".into(),
                            blob: format!("blob-{bucket}"),
                            headers: ObjectHeaders::default(),
                            tags: Vec::new(),
                        };
                        store.put_object(object).await.map(|_| ())
                    }
                }
            }
        })
        .await;
        match (&results[0], &results[1]) {
            (
                Ok(()),
                Err(StoreError::NotFound {
                    kind: EntityKind::Bucket,
                    ..
                }),
            ) => {
                let gone = replicas[1].bucket(&bucket).await;
                assert!(gone.is_err(), "round {round}");
            }
            (
                Err(StoreError::DeleteConflict {
                    reason: Conflict::BucketNotEmpty,
                }),
                Ok(()),
            ) => {
                replicas[1].object(&bucket, "k").await.unwrap();
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
}

async fn racing_replicas_never_exceed_two_access_keys<B: Backend>() {
    let (_data, replicas) = replicas::<B>().await;
    for round in 0..ROUNDS {
        let user = format!("u{round}");
        replicas[0]
            .create_user(ACCOUNT, NewUser::new(&user))
            .await
            .unwrap();
        let results = race(&replicas, 5, |store, _| {
            let user = user.clone();
            let key = NewAccessKey {
                access_key_id: ids::access_key_id(),
                secret_ciphertext: vec![0],
            };
            async move { store.create_access_key(ACCOUNT, &user, key).await }
        })
        .await;
        for result in &results {
            match result {
                Ok(_) => {}
                Err(StoreError::LimitExceeded {
                    quota: Quota::AccessKeysPerUser(2),
                }) => {}
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners(&results), 2, "round {round}");
        assert_eq!(
            replicas[1]
                .list_access_keys(ACCOUNT, &user)
                .await
                .unwrap()
                .len(),
            2
        );
    }
}

/// Waits (bounded, generously: this asserts that it happens, not how fast) until `moved` holds.
async fn eventually(what: &str, mut moved: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if moved() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} never happened");
}

/// A replica's change counters move for another replica's writes (the views it keeps in memory
/// follow them), topic by topic.
async fn a_replica_follows_the_others_writes<B: Backend>() {
    let (_data, [writer, follower]) = replicas::<B>().await;
    let before = follower.changes();
    writer
        .create_role(ACCOUNT, NewRole::new("r", TRUST))
        .await
        .unwrap();
    eventually("the IAM counter moving", || {
        follower.changes().iam > before.iam
    })
    .await;
    assert!(follower.changes().any > before.any);
    assert_eq!(follower.changes().ec2, before.ec2);
    follower.role_by_name(ACCOUNT, "r").await.unwrap();

    let before = follower.changes();
    writer.run_instances(ACCOUNT, launch(None)).await.unwrap();
    eventually("the EC2 counter moving", || {
        follower.changes().ec2 > before.ec2
    })
    .await;
    assert_eq!(follower.changes().iam, before.iam);

    let before = follower.changes();
    writer
        .create_bucket(ACCOUNT, "b", "us-east-1")
        .await
        .unwrap();
    eventually("the bucket counter moving", || {
        follower.changes().buckets > before.buckets
    })
    .await;
}

contract_tests! {
    racing_replicas_give_a_profile_one_role(flavor = "multi_thread", worker_threads = 4),
    racing_replicas_associate_an_instance_once(flavor = "multi_thread", worker_threads = 4),
    racing_replicas_create_one_of_names_differing_in_case(flavor = "multi_thread", worker_threads = 4),
    racing_replicas_reuse_a_client_token_once(flavor = "multi_thread", worker_threads = 4),
    a_role_is_deleted_or_joins_a_profile_never_both(flavor = "multi_thread", worker_threads = 4),
    a_user_is_deleted_or_gets_a_login_profile_never_both(flavor = "multi_thread", worker_threads = 4),
    a_host_is_released_or_gets_an_instance_never_both(flavor = "multi_thread", worker_threads = 4),
    racing_replicas_reuse_an_allocations_client_token_once(flavor = "multi_thread", worker_threads = 4),
    a_bucket_is_deleted_or_gets_an_object_never_both(flavor = "multi_thread", worker_threads = 4),
    racing_replicas_never_exceed_two_access_keys(flavor = "multi_thread", worker_threads = 4),
    a_replica_follows_the_others_writes,
}
