//! The metadata service in-process, on a real store and real sockets, with an injected clock:
//! the rotation schedule over a day without sleeping, the hop limit reaching the socket after
//! an options change, and host-mode attribution by source address (IPv4 and IPv6).

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use imds::Limits;
use store::{
    MetadataOptions, NewInstanceProfile, NewLaunch, NewRole, ProfileRef, SqliteStore, StateRequest,
    Store,
};

use super::{Listen, MetadataService, Rotation, Settings};
use crate::credentials::{KeyRing, SealingKey, SessionClaims, SessionPrincipal};
use crate::ec2::addresses::Addressing;
use crate::request::App;

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "s3access";
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// The fake clock starts here (2027-01-15T08:00:00Z) and only moves when a test says so.
const START: u64 = 1_800_000_000;

struct Fixture {
    app: Arc<App>,
    service: MetadataService<SqliteStore>,
    clock: Arc<AtomicU64>,
    profile: ProfileRef,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start(listen: Listen, observer: Option<imds::TtlObserver>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.create_account(ACCOUNT).await.unwrap();
        // MaxSessionDuration 1 h: instance credentials are not bound by it.
        let mut role = NewRole::new(ROLE, TRUST_EC2);
        role.max_session_duration = Some(3600);
        store.create_role(ACCOUNT, role).await.unwrap();
        let profile = store
            .create_instance_profile(ACCOUNT, NewInstanceProfile::new("s3access-profile"))
            .await
            .unwrap();
        store
            .add_role_to_instance_profile(ACCOUNT, "s3access-profile", ROLE)
            .await
            .unwrap();
        let keyring = KeyRing::new(1, SealingKey::generate().unwrap());
        let master = SealingKey::generate().unwrap();
        // Host mode addresses instances as `serve --imds-listen` does.
        let addressing = match listen {
            Listen::Local { .. } => Addressing::Local,
            Listen::Host { .. } => Addressing::Host,
        };
        let app = Arc::new(
            App::new(store, master, keyring, "us-east-1".to_owned()).with_addressing(addressing),
        );
        let clock = Arc::new(AtomicU64::new(START));
        let now = clock.clone();
        let settings = Settings {
            listen,
            rotation: Rotation::default(),
            clock: Arc::new(move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst))),
            limits: Limits::default(),
            ttl_observer: observer,
            signer: crate::instance_identity::test_signer(),
        };
        let service = MetadataService::start(app.clone(), settings, [7; 32])
            .await
            .unwrap();
        Fixture {
            app,
            service,
            clock,
            profile: ProfileRef {
                arn: profile.arn,
                id: profile.id,
            },
            _dir: dir,
        }
    }

    async fn launch(&self, private_ip: Option<&str>) -> (String, IpAddr) {
        self.launch_with(private_ip, &[]).await
    }

    async fn launch_with(&self, private_ip: Option<&str>, ipv6: &[&str]) -> (String, IpAddr) {
        let launch = NewLaunch {
            count: 1,
            image_id: "ami-0123456789abcdef0".into(),
            instance_type: "t3.micro".into(),
            availability_zone: "us-east-1a".into(),
            key_name: None,
            public_key: None,
            subnet_id: None,
            security_groups: Vec::new(),
            private_ip: private_ip.map(str::to_owned),
            ipv6_addresses: ipv6.iter().map(|a| (*a).to_owned()).collect(),
            metadata_options: MetadataOptions::default(),
            tags: Vec::new(),
            user_data: None,
            profile: Some(self.profile.clone()),
            host_id: None,
            fingerprint: String::new(),
            client_token: None,
        };
        let reservation = self
            .app
            .store()
            .run_instances(ACCOUNT, launch)
            .await
            .unwrap();
        self.settle().await;
        let instance = &reservation.instances[0];
        (instance.id.clone(), instance.private_ip.parse().unwrap())
    }

    /// What the EC2 API does after each write.
    async fn settle(&self) {
        let generation = self.app.store().changes().ec2;
        self.app.instance_sync().settle(generation).await;
    }

    fn advance(&self, by: Duration) -> u64 {
        self.clock.fetch_add(by.as_secs(), Ordering::SeqCst) + by.as_secs()
    }

    fn port(&self) -> u16 {
        self.service.port()
    }

    fn open(&self, token: &str) -> SessionClaims {
        self.app.keyring().open(token).expect("a token we sealed")
    }
}

/// One request over a fresh connection from `from` (any local address when `None`).
async fn http(
    from: Option<IpAddr>,
    to: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let socket = match to {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .unwrap();
    if let Some(from) = from {
        socket.bind(SocketAddr::new(from, 0)).unwrap();
    }
    let stream = socket.connect(to).await.unwrap().into_std().unwrap();
    let host = match to.ip() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = stream;
        stream.set_nonblocking(false).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_owned())
    })
    .await
    .unwrap()
}

async fn token(from: Option<IpAddr>, to: SocketAddr) -> String {
    let ttl = [("X-aws-ec2-metadata-token-ttl-seconds", "21600")];
    let (status, body) = http(from, to, "PUT", "/latest/api/token", &ttl).await;
    assert_eq!(status, 200);
    body
}

async fn credentials(to: SocketAddr, v2: bool) -> serde_json::Value {
    let token = if v2 {
        Some(token(None, to).await)
    } else {
        None
    };
    let headers: Vec<(&str, &str)> = token
        .iter()
        .map(|t| ("X-aws-ec2-metadata-token", t.as_str()))
        .collect();
    let path = format!("/latest/meta-data/iam/security-credentials/{ROLE}");
    let (status, body) = http(None, to, "GET", &path, &headers).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn iso(secs: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap();
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn epoch(iso: &str) -> u64 {
    let at =
        time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339).unwrap();
    at.unix_timestamp() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_rotation_on_an_injected_clock() {
    let fx = Fixture::start(Listen::Local { port: 0 }, None).await;
    let (id, ip) = fx.launch(None).await;
    let to = SocketAddr::new(ip, fx.port());

    let first = credentials(to, true).await;
    assert_eq!(first["LastUpdated"], iso(START));
    assert_eq!(
        first["Expiration"],
        iso(START + 6 * 3600),
        "6 h, not the role's 1 h"
    );
    let claims = fx.open(first["Token"].as_str().unwrap());
    let SessionPrincipal::AssumedRole {
        role_arn,
        session_name,
        ..
    } = &claims.principal
    else {
        panic!("not an assumed-role session: {:?}", claims.principal);
    };
    assert_eq!(role_arn, &format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}"));
    assert_eq!(session_name, &id, "session name = instance ID");
    let context: Vec<(&str, &str)> = claims
        .context
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let instance_arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{id}");
    let ip_text = ip.to_string();
    assert_eq!(
        context,
        [
            ("ec2:SourceInstanceARN", instance_arn.as_str()),
            ("ec2:RoleDelivery", "2.0"),
            ("aws:Ec2InstanceSourcePrivateIPv4", ip_text.as_str()),
        ]
    );
    let v1 = credentials(to, false).await;
    assert_ne!(v1["AccessKeyId"], first["AccessKeyId"]);
    let v1_claims = fx.open(v1["Token"].as_str().unwrap());
    assert!(
        v1_claims
            .context
            .contains(&("ec2:RoleDelivery".into(), "1.0".into()))
    );

    // Every 10 minutes for a day: the served set always has at least 5 h left, was issued at
    // or before now, and its successor appears while it still has 5 h left.
    let mut served: Vec<serde_json::Value> = vec![first];
    for _ in 0..(24 * 6) {
        let now = fx.advance(Duration::from_secs(600));
        let doc = credentials(to, true).await;
        let (updated, expires) = (
            epoch(doc["LastUpdated"].as_str().unwrap()),
            epoch(doc["Expiration"].as_str().unwrap()),
        );
        assert!(
            updated <= now && expires - now >= 5 * 3600,
            "at {now}: {updated}..{expires}"
        );
        assert_eq!(expires - updated, 6 * 3600);
        let previous = served.last().unwrap();
        if previous["AccessKeyId"] != doc["AccessKeyId"] {
            let old_expires = epoch(previous["Expiration"].as_str().unwrap());
            assert!(old_expires - updated >= 5 * 3600, "overlap");
            // The old set still opens and has not expired: it stays usable until its expiry.
            let old = fx.open(previous["Token"].as_str().unwrap());
            assert!(old.expires_at > now as i64);
            served.push(doc);
        }
    }
    assert_eq!(served.len(), 25, "a new set every hour");
    fx.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expires_with_its_ttl_on_the_injected_clock() {
    let fx = Fixture::start(Listen::Local { port: 0 }, None).await;
    let (_, ip) = fx.launch(None).await;
    let to = SocketAddr::new(ip, fx.port());
    let ttl = [("X-aws-ec2-metadata-token-ttl-seconds", "60")];
    let (_, token) = http(None, to, "PUT", "/latest/api/token", &ttl).await;
    let with = [("X-aws-ec2-metadata-token", token.as_str())];
    fx.advance(Duration::from_secs(59));
    assert_eq!(
        http(None, to, "GET", "/latest/meta-data/ami-id", &with)
            .await
            .0,
        200
    );
    fx.advance(Duration::from_secs(1));
    assert_eq!(
        http(None, to, "GET", "/latest/meta-data/ami-id", &with)
            .await
            .0,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hop_limit_change_reaches_the_socket_on_the_next_token_put() {
    let seen: Arc<Mutex<Vec<(u16, u32)>>> = Arc::default();
    let log = seen.clone();
    let observer: imds::TtlObserver =
        Arc::new(move |_peer, status, ttl| log.lock().unwrap().push((status, ttl)));
    let fx = Fixture::start(Listen::Local { port: 0 }, Some(observer)).await;
    let (id, ip) = fx.launch(None).await;
    let to = SocketAddr::new(ip, fx.port());

    token(None, to).await;
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&(200, 1)),
        "launch default"
    );
    let options = MetadataOptions {
        http_put_response_hop_limit: 3,
        ..MetadataOptions::default()
    };
    fx.app
        .store()
        .set_instance_metadata_options(ACCOUNT, &id, &options)
        .await
        .unwrap();
    fx.settle().await;
    token(None, to).await;
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&(200, 3)),
        "the new limit"
    );
    http(None, to, "GET", "/latest/meta-data/ami-id", &[]).await;
    let (status, ttl) = *seen.lock().unwrap().last().unwrap();
    assert_eq!(status, 200);
    assert_ne!(ttl, 3, "only the token PUT leaves with the hop limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_mode_attributes_by_source_address_only() {
    let anchor = SocketAddr::from(([127, 0, 0, 1], 0));
    let fx = Fixture::start(
        Listen::Host {
            addrs: vec![anchor],
        },
        None,
    )
    .await;
    let (a, a_ip) = fx.launch(Some("127.3.0.9")).await;
    let (b, b_ip) = fx.launch(Some("127.3.0.10")).await;
    let to = SocketAddr::from(([127, 0, 0, 1], fx.port()));
    assert_eq!(
        fx.service.listening(),
        [to],
        "one shared listener, none per instance"
    );

    let id_path = "/latest/meta-data/instance-id";
    assert_eq!(
        http(Some(a_ip), to, "GET", id_path, &[]).await,
        (200, a.clone())
    );
    assert_eq!(http(Some(b_ip), to, "GET", id_path, &[]).await, (200, b));
    let stranger = IpAddr::from([127, 3, 0, 11]);
    assert_eq!(http(Some(stranger), to, "GET", id_path, &[]).await.0, 404);

    // Host mode's VPC is the private blocks and loopback; a loopback instance's subnet is
    // loopback.
    let (_, mac) = http(Some(a_ip), to, "GET", "/latest/meta-data/mac", &[]).await;
    let nic = format!("/latest/meta-data/network/interfaces/macs/{mac}");
    for (leaf, value) in [
        (
            "vpc-ipv4-cidr-blocks",
            "10.0.0.0/8\n172.16.0.0/12\n192.168.0.0/16\n100.64.0.0/10\n127.0.0.0/8",
        ),
        ("vpc-ipv4-cidr-block", "10.0.0.0/8"),
        ("subnet-ipv4-cidr-block", "127.0.0.0/8"),
        ("local-ipv4s", "127.3.0.9"),
    ] {
        let path = format!("{nic}/{leaf}");
        assert_eq!(
            http(Some(a_ip), to, "GET", &path, &[]).await,
            (200, value.to_owned()),
            "{leaf}"
        );
    }

    let a_token = token(Some(a_ip), to).await;
    let with = [("X-aws-ec2-metadata-token", a_token.as_str())];
    assert_eq!(http(Some(a_ip), to, "GET", id_path, &with).await.0, 200);
    assert_eq!(
        http(Some(b_ip), to, "GET", id_path, &with).await.0,
        401,
        "A's token is useless from B"
    );

    let creds = format!("/latest/meta-data/iam/security-credentials/{ROLE}");
    assert_eq!(http(Some(a_ip), to, "GET", &creds, &[]).await.0, 200);
    fx.app
        .store()
        .change_instance_states(ACCOUNT, std::slice::from_ref(&a), StateRequest::Stop)
        .await
        .unwrap();
    fx.settle().await;
    assert_eq!(
        http(Some(a_ip), to, "GET", &creds, &[]).await.0,
        404,
        "stopped"
    );
    fx.app
        .store()
        .change_instance_states(ACCOUNT, &[a], StateRequest::Terminate)
        .await
        .unwrap();
    fx.settle().await;
    assert_eq!(
        http(Some(a_ip), to, "GET", &creds, &[]).await.0,
        404,
        "terminated"
    );
    assert_eq!(http(Some(b_ip), to, "GET", &creds, &[]).await.0, 200);
}

/// Two host-mode endpoints, IPv4 and IPv6 loopback: the IPv6 one answers an instance by its
/// IPv6 source address only while its `HttpProtocolIpv6` is enabled, the token PUT leaves it
/// with the instance's hop limit as IPv6 hop limit, and IPv4 is unaffected throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_mode_serves_ipv6_callers_when_the_instance_enables_it() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        println!("skipped: IPv6 loopback unavailable");
        return;
    }
    let seen: Arc<Mutex<Vec<(SocketAddr, u16, u32)>>> = Arc::default();
    let log = seen.clone();
    let observer: imds::TtlObserver =
        Arc::new(move |peer, status, ttl| log.lock().unwrap().push((peer, status, ttl)));
    let v4_endpoint = SocketAddr::from(([127, 0, 0, 1], 0));
    let v6_endpoint: SocketAddr = "[::1]:0".parse().unwrap();
    let fx = Fixture::start(
        Listen::Host {
            addrs: vec![v4_endpoint, v6_endpoint],
        },
        Some(observer),
    )
    .await;
    let mut listening = fx.service.listening();
    listening.sort();
    assert_eq!(listening.len(), 2, "{listening:?}");
    let (v4, v6) = (listening[0], listening[1]);
    assert!(v4.is_ipv4() && v6.is_ipv6());
    assert_eq!(
        fx.port(),
        v4.port(),
        "the first endpoint's port is announced"
    );

    let (id, ip) = fx.launch_with(Some("127.3.0.9"), &["::1"]).await;
    let me: IpAddr = "::1".parse().unwrap();
    let id_path = "/latest/meta-data/instance-id";
    assert_eq!(
        http(Some(me), v6, "GET", id_path, &[]).await.0,
        404,
        "HttpProtocolIpv6 is disabled by default"
    );
    let ttl = [("X-aws-ec2-metadata-token-ttl-seconds", "60")];
    let put = http(Some(me), v6, "PUT", "/latest/api/token", &ttl).await;
    assert_eq!(put.0, 404);
    assert_eq!(
        http(Some(ip), v4, "GET", id_path, &[]).await,
        (200, id.clone())
    );

    let options = MetadataOptions {
        http_protocol_ipv6: "enabled".into(),
        http_put_response_hop_limit: 3,
        ..MetadataOptions::default()
    };
    fx.app
        .store()
        .set_instance_metadata_options(ACCOUNT, &id, &options)
        .await
        .unwrap();
    fx.settle().await;
    assert_eq!(
        http(Some(me), v6, "GET", id_path, &[]).await,
        (200, id.clone())
    );
    assert_eq!(
        http(Some(me), v6, "GET", "/latest/meta-data/ipv6", &[]).await,
        (200, "::1".to_owned())
    );
    seen.lock().unwrap().clear();
    let v6_token = token(Some(me), v6).await;
    let put_seen = seen.lock().unwrap().clone();
    assert!(
        matches!(put_seen.as_slice(), [(peer, 200, 3)] if peer.is_ipv6()),
        "the PUT response's IPv6 hop limit: {put_seen:?}"
    );
    let with = [("X-aws-ec2-metadata-token", v6_token.as_str())];
    let creds = format!("/latest/meta-data/iam/security-credentials/{ROLE}");
    let (status, body) = http(Some(me), v6, "GET", &creds, &with).await;
    assert_eq!(status, 200, "{body}");
    let claims = fx.open(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["Token"]
            .as_str()
            .unwrap(),
    );
    assert!(
        claims.context.contains(&(
            "aws:Ec2InstanceSourcePrivateIPv4".into(),
            "127.3.0.9".into()
        )),
        "the instance's IPv4 address, whichever endpoint served it"
    );
    assert_eq!(
        http(Some(ip), v4, "GET", id_path, &with).await,
        (200, id.clone()),
        "a token minted over IPv6 is the instance's over IPv4 too"
    );

    fx.app
        .store()
        .change_instance_states(ACCOUNT, std::slice::from_ref(&id), StateRequest::Terminate)
        .await
        .unwrap();
    fx.settle().await;
    assert_eq!(http(Some(me), v6, "GET", id_path, &[]).await.0, 404);
}

/// The revocation is written to the store directly, as `roleplane role revoke-sessions` does
/// from another process: no IAM call through this server announces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_makes_the_next_request_get_a_new_set() {
    let fx = Fixture::start(Listen::Local { port: 0 }, None).await;
    let (_, ip) = fx.launch(None).await;
    let to = SocketAddr::new(ip, fx.port());
    let first = credentials(to, true).await;
    let role = fx.app.store().role_by_name(ACCOUNT, ROLE).await.unwrap();
    let used = fx.app.last_use().role(&role.id, role.last_used).unwrap();
    assert_eq!(
        used.date.unix_timestamp(),
        START as i64,
        "issuing a set uses the role"
    );
    let now = fx.advance(Duration::from_secs(60));
    let at = time::OffsetDateTime::from_unix_timestamp(now as i64).unwrap();
    crate::iam::revoke::revoke_sessions(fx.app.store(), ACCOUNT, ROLE, at)
        .await
        .unwrap();
    fx.advance(Duration::from_secs(1));
    let next = credentials(to, true).await;
    assert_ne!(next["AccessKeyId"], first["AccessKeyId"]);
    assert!(epoch(next["LastUpdated"].as_str().unwrap()) > now);
}

#[test]
fn the_token_key_is_derived_per_master_key() {
    let a = SealingKey::from_bytes([1; 32]);
    let b = SealingKey::from_bytes([2; 32]);
    assert_eq!(super::token_key(&a), super::token_key(&a));
    assert_ne!(super::token_key(&a), super::token_key(&b));
    assert_ne!(&super::token_key(&a), a.as_bytes());
}
