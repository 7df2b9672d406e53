//! Callers for unit tests: an IAM user, an instance's assumed-role session and a host agent.

use policy::{Principal, PrincipalKind};

use crate::credentials::{SessionClaims, SessionPrincipal};
use crate::request::{Caller, Identity};

pub const ACCOUNT: &str = "123456789012";
pub const SESSION_SECRET: &str = "SECRETsessionSECRETsessionSECRET";

pub fn user_caller() -> Caller {
    let user = store::User {
        account_id: ACCOUNT.into(),
        id: "AIDAEXAMPLEEXAMPLE001".into(),
        name: "alice".into(),
        path: "/".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        created: time::OffsetDateTime::UNIX_EPOCH,
        permissions_boundary_arn: None,
        tags: Vec::new(),
    };
    Caller {
        account_id: ACCOUNT.into(),
        access_key_id: "AKIAEXAMPLEEXAMPLE01".into(),
        principal: Principal::new(PrincipalKind::IamUser {
            account: ACCOUNT.into(),
            path: "/".into(),
            name: "alice".into(),
            user_id: Some(user.id.clone()),
        }),
        identity: Identity::User(user),
    }
}

pub fn session_caller() -> Caller {
    let claims = SessionClaims {
        access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
        secret_access_key: SESSION_SECRET.into(),
        account_id: ACCOUNT.into(),
        principal: SessionPrincipal::AssumedRole {
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/app"),
            role_id: "AROAEXAMPLEEXAMPLE001".into(),
            session_name: "i-0123456789abcdef0".into(),
        },
        issued_at: 1_700_000_000,
        expires_at: 1_700_021_600,
        session_policies: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        context: vec![("ec2:RoleDelivery".into(), "2.0".into())],
        chained: false,
    };
    Caller {
        account_id: ACCOUNT.into(),
        access_key_id: claims.access_key_id.clone(),
        principal: Principal::new(PrincipalKind::AssumedRole {
            account: ACCOUNT.into(),
            role_path: "/".into(),
            role_name: "app".into(),
            session_name: "i-0123456789abcdef0".into(),
            role_id: Some("AROAEXAMPLEEXAMPLE001".into()),
        }),
        identity: Identity::Session(claims),
    }
}

pub fn host_agent_caller() -> Caller {
    let cached = crate::request::host_agent::CachedHostKey {
        key: store::HostAgentKey {
            access_key_id: "AKIAHOSTAGENT0000001".into(),
            host_id: "h-0123456789abcdef0".into(),
            account_id: ACCOUNT.into(),
            secret_ciphertext: Vec::new(),
            created: time::OffsetDateTime::UNIX_EPOCH,
            retires: None,
        },
        secret: zeroize::Zeroizing::new(b"agent secret".to_vec()),
    };
    crate::request::host_agent::caller_of_host_key(&cached, "us-east-1")
}
