//! Entry point of the fuzz target (`fuzz/`), shared with the corpus replay test
//! (`tests/fuzz_corpus.rs`) so that both run the very same code. Not part of the API.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use crate::handler::{self, Context};
use crate::request::{self, Method, Parsed};
use crate::response::{self, Head, Status};
use crate::source::{
    Credentials, CredentialsResult, IamView, IdentitySignatures, InstanceView, InterfaceView,
    MetadataOptions, MetadataSource, RoleDelivery,
};
use crate::token::TokenKey;

/// The fixed clock of every fuzz run; seeds carry tokens valid at this instant.
pub const NOW: u64 = 1_800_000_000;
/// The instance behind every fuzzed connection.
pub const INSTANCE_ID: &str = "i-0123456789abcdef0";
/// The key the fuzzed server's session tokens are made with.
pub const TOKEN_KEY: [u8; 32] = [7; 32];

/// A session token the fuzzed server accepts (for seeds).
pub fn token(ttl: u64) -> String {
    TokenKey::new(&TOKEN_KEY).issue(INSTANCE_ID, NOW + ttl)
}

/// Target `request`: bytes as they arrive on an IMDS connection. Each complete request head is
/// parsed and answered (rules, token checks, the metadata tree, the response head) the way the
/// connection loop does, then skipped with its body, up to a few pipelined requests.
pub fn request(data: &[u8]) {
    let _ = responses(data);
}

/// What [`request`] answers, every response in a row (heads and bodies).
pub fn responses(data: &[u8]) -> Vec<u8> {
    let source = FuzzSource::get();
    let tokens = TokenKey::new(&TOKEN_KEY);
    let clock = || UNIX_EPOCH + Duration::from_secs(NOW);
    let cx = Context {
        source,
        tokens: &tokens,
        clock: &clock,
    };
    let mut rest = data;
    let mut body = Vec::new();
    let mut out = Vec::new();
    for _ in 0..8 {
        let head = match request::parse(rest) {
            Parsed::Complete(head) => head,
            Parsed::Partial => break,
            Parsed::Invalid(status) => {
                body.clear();
                status.write_error_page(&mut body);
                response::write_head(
                    &mut out,
                    &Head::new(status),
                    true,
                    body.len(),
                    clock(),
                    true,
                );
                out.extend_from_slice(&body);
                break;
            }
        };
        body.clear();
        let answer = ready(handler::handle(&cx, source.addr, &head, &mut body));
        let html = answer.status != Status::Ok;
        response::write_head(
            &mut out,
            &answer,
            html,
            body.len(),
            clock(),
            !head.keep_alive,
        );
        if head.method != Method::Head {
            out.extend_from_slice(&body);
        }
        let skip = u64::try_from(head.head_len)
            .unwrap_or(u64::MAX)
            .saturating_add(head.content_length);
        match usize::try_from(skip).ok().and_then(|skip| rest.get(skip..)) {
            Some(next) if !next.is_empty() => rest = next,
            _ => break,
        }
    }
    out
}

/// The output of a future that never waits: the handler awaits only the fuzz source, which
/// answers at once.
fn ready<F: Future>(future: F) -> F::Output {
    let mut cx = TaskContext::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the fuzz source never waits"),
    }
}

/// One instance with every optional part of the tree present.
struct FuzzSource {
    addr: IpAddr,
    view: Arc<InstanceView>,
    credentials: CredentialsResult,
    signatures: Arc<IdentitySignatures>,
}

impl FuzzSource {
    fn get() -> &'static FuzzSource {
        static SOURCE: OnceLock<FuzzSource> = OnceLock::new();
        SOURCE.get_or_init(FuzzSource::new)
    }

    fn new() -> FuzzSource {
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        let view = InstanceView {
            instance_id: INSTANCE_ID.into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            host_id: None,
            ami_id: "ami-0123456789abcdef0".into(),
            instance_type: "t3.micro".into(),
            architecture: "x86_64".into(),
            local_ipv4: "10.0.0.5".into(),
            ipv6: Some("2600:1f18::5".into()),
            mac: "0e:49:61:0f:c3:11".into(),
            hostname: "ip-10-0-0-5.ec2.internal".into(),
            local_hostname: "ip-10-0-0-5.ec2.internal".into(),
            reservation_id: "r-0123456789abcdef0".into(),
            launch_index: 0,
            user_data: Some(Arc::from(&b"#!/bin/sh\necho hello\n"[..])),
            public_key: Some(("web".into(), "ssh-ed25519 AAAAC3Nz web".into())),
            security_groups: vec!["default".into(), "web".into()],
            interface: InterfaceView {
                interface_id: "eni-0be5d828a9a9fcf12".into(),
                security_group_ids: vec![
                    "sg-0e9890f7df19b3d12".into(),
                    "sg-02aa288b0c6e7374".into(),
                ],
                subnet_id: "subnet-06dae7cfbcd72e932".into(),
                subnet_ipv4_cidr_block: "10.0.0.0/24".into(),
                vpc_id: "vpc-09e50608f10b6e923".into(),
                vpc_ipv4_cidr_block: "10.0.0.0/16".into(),
                vpc_ipv4_cidr_blocks: "10.0.0.0/16\n172.16.0.0/12".into(),
                ipv6s: "2600:1f18::5".into(),
            },
            pending_time: at(NOW - 3600),
            tags: vec![
                ("Name".into(), "web-1".into()),
                ("bad key".into(), "x".into()),
            ],
            iam: Some(IamView {
                instance_profile_arn: "arn:aws:iam::123456789012:instance-profile/web".into(),
                instance_profile_id: "AIPAEXAMPLEPROFILE01".into(),
                role_name: Some("web".into()),
                last_updated: at(NOW - 60),
            }),
            options: MetadataOptions {
                instance_metadata_tags: true,
                ..MetadataOptions::default()
            },
        };
        let credentials = CredentialsResult::Issued(Arc::new(Credentials::new(
            "ASIAEXAMPLEEXAMPLE01".into(),
            "secret".into(),
            "token".into(),
            at(NOW - 60),
            at(NOW + 3600),
        )));
        FuzzSource {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
            view: Arc::new(view),
            credentials,
            signatures: Arc::new(IdentitySignatures::new(
                b"signature".to_vec(),
                b"rsa2048".to_vec(),
                b"pkcs7".to_vec(),
            )),
        }
    }
}

impl MetadataSource for FuzzSource {
    fn instance(&self, addr: IpAddr) -> Option<Arc<InstanceView>> {
        (addr == self.addr).then(|| self.view.clone())
    }

    fn credentials(
        &self,
        _instance_id: &str,
        _delivery: RoleDelivery,
    ) -> impl Future<Output = CredentialsResult> + Send {
        std::future::ready(self.credentials.clone())
    }

    fn identity_signatures(
        &self,
        _instance: &InstanceView,
        _document: &[u8],
    ) -> Option<Arc<IdentitySignatures>> {
        Some(self.signatures.clone())
    }
}
