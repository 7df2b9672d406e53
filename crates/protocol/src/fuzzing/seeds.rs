//! Seeds that only the crate can make: real session tokens and real pagination markers, written
//! by `tests/fuzz_corpus.rs` (`write_seeds`, ignored) into the fuzz crate's corpus.

use super::session_token::ring;
use crate::markers::{list_objects, lookup_events};
use crate::session_token::{SessionClaims, SessionPrincipal};

/// `(name, bytes)` seeds of `session_token`: claims as JSON (what the target also seals) and as
/// sealed tokens.
pub fn session_tokens() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (name, claims) in claims() {
        let json = serde_json::to_vec(&claims).expect("claims serialize");
        let sealed = ring().seal(&claims).expect("seal");
        seeds.push((format!("claims-{name}"), json));
        seeds.push((format!("token-{name}"), sealed.into_bytes()));
    }
    seeds
}

fn claims() -> Vec<(&'static str, SessionClaims)> {
    let assumed = SessionClaims {
        access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
        secret_access_key: "secret/with+chars".into(),
        account_id: "123456789012".into(),
        principal: SessionPrincipal::AssumedRole {
            role_arn: "arn:aws:iam::123456789012:role/s3access".into(),
            role_id: "AROAEXAMPLEEXAMPLE012".into(),
            session_name: "i-0123456789abcdef0".into(),
        },
        issued_at: 1_800_000_000,
        expires_at: 1_800_021_600,
        session_policies: vec![
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(),
        ],
        tags: vec![("team".into(), "blue".into())],
        transitive_tag_keys: vec!["team".into()],
        source_identity: Some("alice".into()),
        context: vec![
            ("ec2:RoleDelivery".into(), "2.0".into()),
            (
                "ec2:SourceInstanceARN".into(),
                "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0".into(),
            ),
        ],
        chained: true,
    };
    let user = SessionClaims {
        principal: SessionPrincipal::UserSession {
            user_arn: "arn:aws:iam::123456789012:user/alice".into(),
            user_id: "AIDAEXAMPLEEXAMPLE01".into(),
        },
        session_policies: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
        context: vec![],
        chained: false,
        ..assumed.clone()
    };
    let root = SessionClaims {
        principal: SessionPrincipal::RootSession,
        ..user.clone()
    };
    vec![("assumed-role", assumed), ("user", user), ("root", root)]
}

/// `(name, bytes)` seeds of `pagination`: markers as each service hands them out (IAM's the
/// store's hex of a name, or an offset; EC2's an item's ID, then `MaxResults` and an ID).
pub fn markers() -> Vec<(String, Vec<u8>)> {
    let at = lookup_events::Place {
        event_time_ms: 1_800_000_000_123,
        seq: 42,
        unauthenticated_seq: Some(7),
    };
    let seeds = [
        ("iam-store-marker", "726f6c652f7765622d31".to_owned()),
        ("iam-offset", "2".to_owned()),
        ("cloudtrail-any", lookup_events::encode(at, 0)),
        (
            "cloudtrail-event-name",
            lookup_events::encode(at, lookup_events::fingerprint(&[b"EventName", b"GetRole"])),
        ),
        (
            "s3-continuation",
            list_objects::encode("photos/2026/cat.jpg"),
        ),
        ("ec2-next-token", "i-2".to_owned()),
        ("ec2-max-results", "10i-1".to_owned()),
    ];
    seeds
        .into_iter()
        .map(|(name, marker)| (name.to_owned(), marker.into_bytes()))
        .collect()
}
