//! Shared fixtures: a fake metadata source, a settable clock and a raw HTTP/1.1 client.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use imds::{
    Clock, Credentials, CredentialsResult, IamView, IdentitySignatures, Imds, ImdsConfig,
    InstanceView, InterfaceView, MetadataOptions, MetadataSource, Mode, RoleDelivery,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 2021-09-20T21:42:26Z
pub const T0: u64 = 1_632_174_146;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A clock tests move by hand.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn new(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        at(self.0.load(Ordering::SeqCst))
    }
}

/// Instances by attribution address; credentials derived from the delivery kind; identity
/// "signatures" that are the document itself behind a label (`signature` is the bare document,
/// `rsa2048` and `pkcs7` prefix it with their name and a colon), so tests see what was signed.
#[derive(Clone, Default)]
pub struct FakeSource {
    pub instances: Arc<Mutex<HashMap<IpAddr, Arc<InstanceView>>>>,
    pub results: Arc<Mutex<HashMap<String, CredentialsResult>>>,
    pub calls: Arc<Mutex<Vec<(String, RoleDelivery)>>>,
    /// Set: the source cannot sign (the signature paths 404).
    pub unsigned: Arc<AtomicBool>,
}

impl FakeSource {
    pub fn put(&self, addr: IpAddr, view: InstanceView) {
        self.instances.lock().unwrap().insert(addr, Arc::new(view));
    }
    pub fn edit(&self, addr: IpAddr, f: impl FnOnce(&mut InstanceView)) {
        let mut map = self.instances.lock().unwrap();
        let mut view = (**map.get(&addr).unwrap()).clone();
        f(&mut view);
        map.insert(addr, Arc::new(view));
    }
    pub fn set_result(&self, instance_id: &str, result: CredentialsResult) {
        self.results
            .lock()
            .unwrap()
            .insert(instance_id.into(), result);
    }
}

impl MetadataSource for FakeSource {
    fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>> {
        self.instances.lock().unwrap().get(&addr).cloned()
    }

    fn credentials(
        &self,
        instance_id: &str,
        delivery: RoleDelivery,
    ) -> impl Future<Output = CredentialsResult> + Send {
        self.calls
            .lock()
            .unwrap()
            .push((instance_id.to_string(), delivery));
        let fixed = self.results.lock().unwrap().get(instance_id).cloned();
        let result = fixed.unwrap_or_else(|| {
            let tag = match delivery {
                RoleDelivery::V1 => "V1",
                RoleDelivery::V2 => "V2",
            };
            CredentialsResult::Issued(std::sync::Arc::new(Credentials::new(
                format!("ASIAFAKE{tag}"),
                "secret/+key".into(),
                "IQoJb3JpZ2luX2VjEB4aCXVzLWVhc3QtMSJH".into(),
                at(T0),
                at(T0 + 6 * 3600),
            )))
        });
        async move { result }
    }

    fn identity_signatures(
        &self,
        _instance: &InstanceView,
        document: &[u8],
    ) -> Option<Arc<IdentitySignatures>> {
        if self.unsigned.load(Ordering::SeqCst) {
            return None;
        }
        let labelled = |label: &[u8]| [label, document].concat();
        Some(Arc::new(IdentitySignatures::new(
            document.to_vec(),
            labelled(b"rsa2048:"),
            labelled(b"pkcs7:"),
        )))
    }
}

pub fn instance(id: &str, ip: &str) -> InstanceView {
    InstanceView {
        instance_id: id.into(),
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        availability_zone: "us-east-1a".into(),
        availability_zone_id: "use1-az1".into(),
        host_id: None,
        ami_id: "ami-0123456789abcdef0".into(),
        instance_type: "t3.micro".into(),
        architecture: "x86_64".into(),
        local_ipv4: ip.into(),
        ipv6: None,
        mac: "0e:49:61:0f:c3:11".into(),
        hostname: "ip-10-0-0-5.ec2.internal".into(),
        local_hostname: "ip-10-0-0-5.ec2.internal".into(),
        reservation_id: "r-0123456789abcdef0".into(),
        launch_index: 0,
        user_data: None,
        public_key: None,
        security_groups: vec!["default".into(), "web".into()],
        interface: InterfaceView {
            interface_id: "eni-0be5d828a9a9fcf12".into(),
            security_group_ids: vec!["sg-0e9890f7df19b3d12".into(), "sg-02aa288b0c6e7374b".into()],
            subnet_id: "subnet-06dae7cfbcd72e932".into(),
            subnet_ipv4_cidr_block: "10.0.0.0/8".into(),
            vpc_id: "vpc-09e50608f10b6e923".into(),
            vpc_ipv4_cidr_block: "10.0.0.0/8".into(),
            vpc_ipv4_cidr_blocks: "10.0.0.0/8\n172.16.0.0/12".into(),
            ipv6s: String::new(),
        },
        pending_time: at(T0 - 3600),
        tags: vec![
            ("Name".into(), "web-1".into()),
            ("bad key".into(), "x".into()),
        ],
        iam: Some(IamView {
            instance_profile_arn: "arn:aws:iam::123456789012:instance-profile/s3access-profile"
                .into(),
            instance_profile_id: "AIPAEXAMPLEPROFILE01".into(),
            role_name: Some("s3access".into()),
            last_updated: at(T0),
        }),
        options: MetadataOptions::default(),
    }
}

/// A running local-mode IMDS with one instance per address given.
pub struct Fixture {
    pub imds: Imds<FakeSource>,
    pub source: FakeSource,
    pub clock: TestClock,
    pub addrs: Vec<SocketAddr>,
}

pub fn fixture(instances: &[(&str, &str)], configure: impl FnOnce(&mut ImdsConfig)) -> Fixture {
    let source = FakeSource::default();
    let clock = TestClock::new(T0);
    let mut config = ImdsConfig::new(Mode::Local, [42; 32]);
    config.clock = Arc::new(clock.clone());
    configure(&mut config);
    let imds = Imds::new(source.clone(), config);
    let mut addrs = Vec::new();
    for (id, ip) in instances {
        let ip: IpAddr = ip.parse().unwrap();
        source.put(ip, instance(id, &ip.to_string()));
        addrs.push(imds.add_listener(SocketAddr::new(ip, 0)).unwrap());
    }
    Fixture {
        imds,
        source,
        clock,
        addrs,
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// Reads one response from `stream` (`head_only` for HEAD requests).
pub async fn read_response(stream: &mut TcpStream, head_only: bool) -> Option<Response> {
    let mut buf = Vec::new();
    let head_len = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Response::new(&mut headers);
    parsed.parse(&buf[..head_len]).unwrap();
    let status = parsed.code.unwrap();
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8(h.value.to_vec()).unwrap(),
            )
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = buf[head_len..].to_vec();
    if !head_only {
        while body.len() < length {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed mid-body");
            body.extend_from_slice(&chunk[..n]);
        }
    }
    assert!(
        head_only || body.len() == length,
        "unexpected bytes after the body"
    );
    Some(Response {
        status,
        headers,
        body,
    })
}

/// Sends raw bytes on a fresh connection and reads one response.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_response(&mut stream, request.starts_with(b"HEAD"))
        .await
        .expect("a response")
}

/// `METHOD path` with the given extra header lines.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    raw(addr, req.as_bytes()).await
}

pub async fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[]).await
}

pub async fn get_with_token(addr: SocketAddr, path: &str, token: &str) -> Response {
    request(addr, "GET", path, &[("X-aws-ec2-metadata-token", token)]).await
}

pub async fn token(addr: SocketAddr, ttl: &str) -> Response {
    request(
        addr,
        "PUT",
        "/latest/api/token",
        &[("X-aws-ec2-metadata-token-ttl-seconds", ttl)],
    )
    .await
}

pub async fn new_token(addr: SocketAddr) -> String {
    let response = token(addr, "21600").await;
    assert_eq!(response.status, 200);
    response.text().to_string()
}
