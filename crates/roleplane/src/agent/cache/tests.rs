//! The cache's rules as plain functions of the time: what is served when, what is fetched when.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use imds::{
    CredentialsResult, HttpTokens, InstanceView, InterfaceView, MetadataOptions, RoleDelivery,
};

use super::{Cache, Listed, Lookup};
use crate::agent_api::wire::{HostInstance, InstanceCredentials, Role, SignedDocument, View};

const V1: RoleDelivery = RoleDelivery::V1;
const V2: RoleDelivery = RoleDelivery::V2;
const T: i64 = 1_800_000_000;

fn view(id: &str, ip: &str, ipv6: &[&str]) -> InstanceView {
    InstanceView {
        instance_id: id.into(),
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        availability_zone: "us-east-1a".into(),
        availability_zone_id: "use1-az1".into(),
        host_id: Some("h-0123456789abcdef0".into()),
        ami_id: "ami-0123456789abcdef0".into(),
        instance_type: "m5.large".into(),
        architecture: "x86_64".into(),
        local_ipv4: ip.into(),
        ipv6: ipv6.first().map(|a| (*a).to_owned()),
        mac: "02:00:00:00:00:01".into(),
        hostname: "h".into(),
        local_hostname: "h".into(),
        reservation_id: "r-1".into(),
        launch_index: 0,
        user_data: None,
        public_key: None,
        security_groups: vec!["default".into()],
        interface: InterfaceView {
            ipv6s: ipv6.join("\n"),
            ..InterfaceView::default()
        },
        pending_time: UNIX_EPOCH + Duration::from_secs(T as u64),
        tags: vec![],
        iam: None,
        options: MetadataOptions {
            http_tokens: HttpTokens::Optional,
            ..MetadataOptions::default()
        },
    }
}

fn listed(id: &str, ip: &str, role: Option<(&str, Option<i64>)>) -> HostInstance {
    HostInstance {
        view: View::from(&view(id, ip, &[])),
        role: role.map(|(id, not_before)| Role {
            name: "r".into(),
            id: id.into(),
            not_before,
        }),
        identity: None,
    }
}

fn issued(key: &str, issued_at: i64) -> InstanceCredentials {
    InstanceCredentials::Issued {
        access_key_id: key.into(),
        secret_access_key: "secret".into(),
        token: "token".into(),
        issued_at,
        expiration: issued_at + 600,
        refresh_at: issued_at + 100,
    }
}

fn served_key(cache: &Cache, id: &str, delivery: RoleDelivery, now: i64) -> Option<String> {
    match cache.lookup(id, delivery, now) {
        Lookup::Serve(CredentialsResult::Issued(set)) => Some(set.access_key_id.clone()),
        Lookup::Serve(_) | Lookup::Fetch { .. } => None,
    }
}

fn fetch_due(cache: &Cache, id: &str, delivery: RoleDelivery, now: i64) -> bool {
    matches!(cache.lookup(id, delivery, now), Lookup::Fetch { .. })
}

#[test]
fn instances_are_found_by_each_of_their_addresses_and_by_nothing_else() {
    let cache = Cache::default();
    let mut with_v6 = listed("i-00000001", "10.0.0.1", Some(("AROA1", None)));
    with_v6.view = View::from(&view("i-00000001", "10.0.0.1", &["fd00::1", "fd00::2"]));
    let changes = cache.list(
        "v1".into(),
        vec![with_v6, listed("i-00000002", "10.0.0.2", None)],
    );
    assert_eq!(
        changes,
        Listed {
            added: vec!["i-00000001".into(), "i-00000002".into()],
            gone: vec![]
        }
    );
    for addr in ["10.0.0.1", "fd00::1", "fd00::2"] {
        let found = cache
            .instance(addr.parse::<IpAddr>().unwrap())
            .map(|v| v.instance_id.clone());
        assert_eq!(found.as_deref(), Some("i-00000001"), "{addr}");
    }
    assert!(cache.instance("10.0.0.3".parse().unwrap()).is_none());
    // Without a role, and unknown: what EC2 answers without credentials.
    assert!(matches!(
        cache.lookup("i-00000002", V2, T),
        Lookup::Serve(CredentialsResult::NoRole)
    ));
    assert!(matches!(
        cache.lookup("i-99999999", V2, T),
        Lookup::Serve(CredentialsResult::NoRole)
    ));
    let changes = cache.list("v2".into(), vec![listed("i-00000002", "10.0.0.2", None)]);
    assert_eq!(changes.gone, vec!["i-00000001".to_owned()]);
    assert!(cache.instance("fd00::1".parse().unwrap()).is_none());
}

#[test]
fn a_set_is_served_until_it_expires_and_never_after_whatever_the_control_plane_does() {
    let cache = Cache::default();
    cache.list(
        "v".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA1", None)))],
    );
    let key = ("i-00000001".to_owned(), V2);
    assert!(fetch_due(&cache, "i-00000001", V2, T));
    cache.install(&key, "AROA1", issued("ASIAFIRST", T), T);
    for now in [T, T + 99, T + 100, T + 599] {
        assert_eq!(
            served_key(&cache, "i-00000001", V2, now).as_deref(),
            Some("ASIAFIRST"),
            "at +{}",
            now - T
        );
    }
    // Expired: nothing is served, even though no newer set could be fetched.
    cache.failed(&key, T + 590);
    assert_eq!(served_key(&cache, "i-00000001", V2, T + 600), None);
    assert_eq!(served_key(&cache, "i-00000001", V2, T + 10_000), None);
    // IMDSv1 has its own set.
    assert!(fetch_due(&cache, "i-00000001", V1, T + 1));
}

#[test]
fn sets_are_fetched_ahead_of_need_and_of_rotation_and_retried_with_backoff() {
    let cache = Cache::default();
    cache.list(
        "v".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA1", None)))],
    );
    let v2 = ("i-00000001".to_owned(), V2);
    let v1 = ("i-00000001".to_owned(), V1);
    // A listed instance's IMDSv2 set is due at once; its IMDSv1 set only once asked for.
    assert_eq!(cache.due(T), vec![(v2.clone(), "AROA1".to_owned())]);
    cache.install(&v2, "AROA1", issued("ASIAFIRST", T), T);
    assert!(cache.due(T + 99).is_empty());
    assert_eq!(cache.due(T + 100), vec![(v2.clone(), "AROA1".to_owned())]);
    // The control plane hands back the same set (its clock a little behind): no progress,
    // paced like a failure; the held set is still served.
    cache.install(&v2, "AROA1", issued("ASIAFIRST", T), T + 100);
    assert!(cache.due(T + 100).is_empty());
    assert_eq!(cache.due(T + 101).len(), 1);
    for (failed_at, next) in [
        (T + 101, T + 103),
        (T + 103, T + 107),
        (T + 107, T + 115),
        (T + 115, T + 125),
        (T + 125, T + 135),
    ] {
        cache.failed(&v2, failed_at);
        assert!(cache.due(next - 1).is_empty(), "paced after {failed_at}");
        assert_eq!(cache.due(next).len(), 1, "due at {next}");
    }
    assert_eq!(
        served_key(&cache, "i-00000001", V2, T + 135).as_deref(),
        Some("ASIAFIRST")
    );
    cache.install(&v2, "AROA1", issued("ASIANEXT", T + 140), T + 140);
    assert_eq!(
        served_key(&cache, "i-00000001", V2, T + 140).as_deref(),
        Some("ASIANEXT")
    );
    assert!(cache.due(T + 141).is_empty());
    // IMDSv1: fetched on demand, then kept fresh only while it is used.
    assert!(fetch_due(&cache, "i-00000001", V1, T + 150));
    cache.install(&v1, "AROA1", issued("ASIAV1", T + 150), T + 150);
    assert!(
        !cache.due(T + 250).iter().any(|(k, _)| *k == v1),
        "unused since fetched"
    );
    assert_eq!(
        served_key(&cache, "i-00000001", V1, T + 200).as_deref(),
        Some("ASIAV1")
    );
    assert!(
        cache.due(T + 250).iter().any(|(k, _)| *k == v1),
        "used, so refreshed"
    );
}

#[test]
fn a_failing_control_plane_is_not_waited_for_by_every_request() {
    let cache = Cache::default();
    cache.list(
        "v".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA1", None)))],
    );
    let v2 = ("i-00000001".to_owned(), V2);
    assert!(fetch_due(&cache, "i-00000001", V2, T));
    cache.failed(&v2, T);
    // Within the backoff a request is answered at once without credentials (404).
    assert!(matches!(
        cache.lookup("i-00000001", V2, T),
        Lookup::Serve(CredentialsResult::NoRole)
    ));
    assert!(fetch_due(&cache, "i-00000001", V2, T + 1));
}

#[test]
fn a_new_role_or_a_revocation_drops_the_sets_held() {
    let cache = Cache::default();
    cache.list(
        "v1".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA1", None)))],
    );
    let v2 = ("i-00000001".to_owned(), V2);
    cache.install(&v2, "AROA1", issued("ASIAFIRST", T), T);
    // Revoked before the set was issued: kept.
    cache.list(
        "v2".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA1", Some(T))))],
    );
    assert_eq!(
        served_key(&cache, "i-00000001", V2, T + 1).as_deref(),
        Some("ASIAFIRST")
    );
    // Revoked after: dropped, and due again.
    cache.list(
        "v3".into(),
        vec![listed(
            "i-00000001",
            "10.0.0.1",
            Some(("AROA1", Some(T + 5))),
        )],
    );
    assert!(fetch_due(&cache, "i-00000001", V2, T + 6));
    cache.install(&v2, "AROA1", issued("ASIASECOND", T + 6), T + 6);
    // Another role (a replaced association): dropped.
    cache.list(
        "v4".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA2", None)))],
    );
    assert!(fetch_due(&cache, "i-00000001", V2, T + 7));
    assert_eq!(cache.due(T + 7), vec![(v2.clone(), "AROA2".to_owned())]);
    // No role any more: nothing to fetch, nothing served.
    cache.list("v5".into(), vec![listed("i-00000001", "10.0.0.1", None)]);
    assert!(cache.due(T + 8).is_empty());
    assert!(matches!(
        cache.lookup("i-00000001", V2, T + 8),
        Lookup::Serve(CredentialsResult::NoRole)
    ));
}

#[test]
fn answers_without_a_set_are_believed_for_a_while() {
    let cache = Cache::default();
    cache.list(
        "v".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA1", None)))],
    );
    let v2 = ("i-00000001".to_owned(), V2);
    let refused = InstanceCredentials::AssumeRoleUnauthorized {
        role_name: "r".into(),
        last_updated: T,
    };
    cache.install(&v2, "AROA1", refused, T);
    assert!(matches!(
        cache.lookup("i-00000001", V2, T + 29),
        Lookup::Serve(CredentialsResult::AssumeRoleUnauthorized { .. })
    ));
    assert!(fetch_due(&cache, "i-00000001", V2, T + 30));
    assert!(cache.due(T + 30).iter().any(|(k, _)| *k == v2));
}

#[test]
fn serves_are_counted_per_set_for_the_report_and_prefetches_are_not() {
    let cache = Cache::default();
    cache.list(
        "v".into(),
        vec![listed("i-00000001", "10.0.0.1", Some(("AROA1", None)))],
    );
    let v2 = ("i-00000001".to_owned(), V2);
    cache.install(&v2, "AROA1", issued("ASIAFIRST", T), T);
    assert!(cache.take_served().is_empty());
    for now in [T + 1, T + 2, T + 5] {
        served_key(&cache, "i-00000001", V2, now);
    }
    cache.install(&v2, "AROA1", issued("ASIANEXT", T + 100), T + 100);
    served_key(&cache, "i-00000001", V2, T + 101);
    let mut report = cache.take_served();
    report.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
    let summary: Vec<_> = report
        .iter()
        .map(|s| {
            (
                s.access_key_id.as_str(),
                s.delivery.as_str(),
                s.count,
                s.first_served,
                s.last_served,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("ASIAFIRST", "2.0", 3, T + 1, T + 5),
            ("ASIANEXT", "2.0", 1, T + 101, T + 101)
        ]
    );
    assert!(
        cache.take_served().is_empty(),
        "each serve is reported once"
    );
    served_key(&cache, "i-00000001", V2, T + 102);
    assert_eq!(cache.take_served()[0].count, 1);
}

#[test]
fn signatures_are_served_only_for_the_document_the_control_plane_signed() {
    let cache = Cache::default();
    let mut instance = listed("i-00000001", "10.0.0.1", None);
    let signatures = imds::IdentitySignatures::new(vec![1, 2], vec![3], vec![4]);
    instance.identity = Some(SignedDocument::new(b"{ the document }", &signatures));
    cache.list("v".into(), vec![instance]);
    let found = cache.signatures("i-00000001", b"{ the document }").unwrap();
    assert_eq!(found.signature(), [1, 2]);
    assert!(cache.signatures("i-00000001", b"{ another }").is_none());
    assert!(
        cache
            .signatures("i-00000002", b"{ the document }")
            .is_none()
    );
    let _ = Arc::clone(&found);
}
