//! Who is calling: typed principals, the global condition keys AWS derives from
//! them, and how they match a policy's `Principal` element.

use crate::arn::Arn;

/// The kind of caller, with what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user.
    Root { account: String },
    /// An IAM user; `user_id` is its unique ID (`AIDA…`) when known.
    IamUser {
        account: String,
        path: String,
        name: String,
        user_id: Option<String>,
    },
    /// A role session; `role_id` is the role's unique ID (`AROA…`) when known.
    AssumedRole {
        account: String,
        role_path: String,
        role_name: String,
        session_name: String,
        role_id: Option<String>,
    },
    /// A GetFederationToken session.
    FederatedUser { account: String, name: String },
    /// An AWS service principal such as `ec2.amazonaws.com`.
    Service(String),
    /// An unsigned request.
    Anonymous,
    /// A web identity from an OpenID Connect provider (AssumeRoleWithWebIdentity): `provider`
    /// is the provider's ARN, which a trust policy's `Federated` principal names, and
    /// `subject` the token's `sub`.
    WebIdentity { provider: String, subject: String },
    /// The metadata agent of a roleplane host (an EC2 Dedicated Host, `h-…`), signing with the
    /// host's agent credential. It is no IAM identity: no `Principal` element names it, not
    /// even `*`, and evaluation never allows it anything (`evaluate`).
    HostAgent {
        account: String,
        region: String,
        host_id: String,
    },
}

/// A caller, with its ARNs computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    kind: PrincipalKind,
    partition: String,
    /// The caller's own ARN (the session ARN for a role session).
    arn: String,
    /// `aws:PrincipalArn`: the role ARN for a role session, else `arn`.
    principal_arn: Option<String>,
    userid: Option<String>,
}

/// How a `Principal` element named the caller, weakest first. The resource-policy
/// rules depend on it: only `Exact` (user, session or federated-user ARN) makes
/// a same-account Allow final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// The caller's account (`ID` or `arn:…:iam::ID:root`): delegates to the account's policies.
    Account,
    /// `"*"` / `{"AWS":"*"}`, or a NotPrincipal that leaves the caller in.
    Wildcard,
    /// The role ARN of a role session.
    RoleArn,
    /// The caller's own ARN, or the service principal.
    Exact,
}

impl Principal {
    /// A principal in the `aws` partition.
    pub fn new(kind: PrincipalKind) -> Principal {
        Principal::in_partition(kind, "aws")
    }

    /// A principal in another partition (`aws-cn`, `aws-us-gov`, …).
    pub fn in_partition(kind: PrincipalKind, partition: &str) -> Principal {
        let p = partition;
        let (arn, principal_arn, userid) = match &kind {
            PrincipalKind::Root { account } => {
                let arn = format!("arn:{p}:iam::{account}:root");
                (arn.clone(), Some(arn), Some(account.clone()))
            }
            PrincipalKind::IamUser {
                account,
                path,
                name,
                user_id,
            } => {
                let arn = format!("arn:{p}:iam::{account}:user{path}{name}");
                (arn.clone(), Some(arn), user_id.clone())
            }
            PrincipalKind::AssumedRole {
                account,
                role_path,
                role_name,
                session_name,
                role_id,
            } => (
                format!("arn:{p}:sts::{account}:assumed-role/{role_name}/{session_name}"),
                Some(format!("arn:{p}:iam::{account}:role{role_path}{role_name}")),
                role_id.as_ref().map(|id| format!("{id}:{session_name}")),
            ),
            PrincipalKind::FederatedUser { account, name } => {
                let arn = format!("arn:{p}:sts::{account}:federated-user/{name}");
                (arn.clone(), Some(arn), Some(format!("{account}:{name}")))
            }
            PrincipalKind::Service(name) => (name.clone(), None, None),
            PrincipalKind::Anonymous => ("*".into(), None, Some("anonymous".into())),
            PrincipalKind::WebIdentity { provider, .. } => (provider.clone(), None, None),
            // The host's own ARN: what the agent acts for.
            PrincipalKind::HostAgent {
                account,
                region,
                host_id,
            } => (
                format!("arn:{p}:ec2:{region}:{account}:dedicated-host/{host_id}"),
                None,
                None,
            ),
        };
        Principal {
            kind,
            partition: partition.into(),
            arn,
            principal_arn,
            userid,
        }
    }

    /// Reads a caller ARN: `arn:aws:iam::A:root`, `…:user/path/name`,
    /// `arn:aws:sts::A:assumed-role/R/S`, `arn:aws:sts::A:federated-user/N`, a
    /// service principal (`ec2.amazonaws.com`), or `*` / `anonymous`.
    pub fn from_arn(text: &str) -> Option<Principal> {
        if text == "*" || text == "anonymous" {
            return Some(Principal::new(PrincipalKind::Anonymous));
        }
        let Some(arn) = Arn::parse(text) else {
            let is_service = text.contains('.') && !text.contains([':', '/', ' ']);
            return is_service.then(|| Principal::new(PrincipalKind::Service(text.into())));
        };
        let account = arn.account.to_string();
        if account.is_empty() || !arn.region.is_empty() {
            return None;
        }
        let kind = match (arn.service, arn.resource) {
            ("iam", "root") => PrincipalKind::Root { account },
            ("iam", resource) if resource.starts_with("user/") => {
                let rest = &resource["user".len()..];
                let slash = rest.rfind('/')?;
                let name = &rest[slash + 1..];
                if name.is_empty() {
                    return None;
                }
                PrincipalKind::IamUser {
                    account,
                    path: rest[..=slash].into(),
                    name: name.into(),
                    user_id: None,
                }
            }
            ("sts", resource) if resource.starts_with("assumed-role/") => {
                let mut parts = resource["assumed-role/".len()..].split('/');
                let (role, session) = (parts.next()?, parts.next()?);
                if role.is_empty() || session.is_empty() || parts.next().is_some() {
                    return None;
                }
                PrincipalKind::AssumedRole {
                    account,
                    role_path: "/".into(),
                    role_name: role.into(),
                    session_name: session.into(),
                    role_id: None,
                }
            }
            ("sts", resource) if resource.starts_with("federated-user/") => {
                let name = &resource["federated-user/".len()..];
                if name.is_empty() || name.contains('/') {
                    return None;
                }
                PrincipalKind::FederatedUser {
                    account,
                    name: name.into(),
                }
            }
            _ => return None,
        };
        Some(Principal::in_partition(kind, arn.partition))
    }

    pub fn kind(&self) -> &PrincipalKind {
        &self.kind
    }

    /// The caller's own ARN (session ARN for role sessions; the name for services).
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The account the caller belongs to; `None` for services and anonymous callers.
    pub fn account(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Root { account }
            | PrincipalKind::IamUser { account, .. }
            | PrincipalKind::AssumedRole { account, .. }
            | PrincipalKind::FederatedUser { account, .. }
            | PrincipalKind::HostAgent { account, .. } => Some(account),
            PrincipalKind::Service(_)
            | PrincipalKind::Anonymous
            | PrincipalKind::WebIdentity { .. } => None,
        }
    }

    /// The value AWS sets for a global key this principal determines, by
    /// lowercase key name [UG:reference_policies_condition-keys, variables table].
    pub fn global_key(&self, key: &str) -> Option<&str> {
        match key {
            "aws:principalarn" => self.principal_arn.as_deref(),
            "aws:principalaccount" => self.account(),
            "aws:userid" => self.userid.as_deref(),
            "aws:username" => match &self.kind {
                PrincipalKind::IamUser { name, .. } => Some(name),
                _ => None,
            },
            "aws:principaltype" => Some(match self.kind {
                PrincipalKind::Root { .. } => "Account",
                PrincipalKind::IamUser { .. } => "User",
                PrincipalKind::AssumedRole { .. } => "AssumedRole",
                PrincipalKind::FederatedUser { .. } => "FederatedUser",
                PrincipalKind::Service(_) => "AWSService",
                PrincipalKind::Anonymous => "Anonymous",
                PrincipalKind::WebIdentity { .. } => "WebIdentityUser",
                PrincipalKind::HostAgent { .. } => "HostAgent",
            }),
            "aws:federatedprovider" => match &self.kind {
                PrincipalKind::WebIdentity { provider, .. } => Some(provider),
                _ => None,
            },
            "aws:principalisawsservice" => {
                Some(if matches!(self.kind, PrincipalKind::Service(_)) {
                    "true"
                } else {
                    "false"
                })
            }
            _ => None,
        }
    }

    /// How an `AWS` principal entry names this caller, if it does.
    pub fn match_aws(&self, entry: &str) -> Option<PrincipalMatch> {
        if matches!(self.kind, PrincipalKind::HostAgent { .. }) {
            return None;
        }
        if entry == "*" {
            return Some(PrincipalMatch::Wildcard);
        }
        if let Some(account) = self.account()
            && (entry == account || self.is_root_arn_of(entry, account))
        {
            return Some(match self.kind {
                PrincipalKind::Root { .. } => PrincipalMatch::Exact,
                _ => PrincipalMatch::Account,
            });
        }
        if matches!(
            self.kind,
            PrincipalKind::Service(_)
                | PrincipalKind::Anonymous
                | PrincipalKind::WebIdentity { .. }
        ) {
            return None;
        }
        if entry == self.arn {
            return Some(PrincipalMatch::Exact);
        }
        if let PrincipalKind::AssumedRole {
            account, role_name, ..
        } = &self.kind
        {
            // The session ARN drops the role path, so compare account and name only.
            let arn = Arn::parse(entry)?;
            let named = arn.resource.strip_prefix("role/")?.rsplit('/').next()?;
            let same = arn.service == "iam" && arn.account == account && named == role_name;
            return same.then_some(PrincipalMatch::RoleArn);
        }
        None
    }

    /// How a `Service` principal entry names this caller, if it does.
    pub fn match_service(&self, entry: &str) -> Option<PrincipalMatch> {
        match &self.kind {
            PrincipalKind::HostAgent { .. } => None,
            _ if entry == "*" => Some(PrincipalMatch::Wildcard),
            PrincipalKind::Service(name) if name.eq_ignore_ascii_case(entry) => {
                Some(PrincipalMatch::Exact)
            }
            _ => None,
        }
    }

    /// How a `Federated` principal entry names this caller: a web identity's provider ARN.
    pub fn match_federated(&self, entry: &str) -> Option<PrincipalMatch> {
        match &self.kind {
            PrincipalKind::WebIdentity { provider, .. } if provider == entry => {
                Some(PrincipalMatch::Exact)
            }
            _ => None,
        }
    }

    fn is_root_arn_of(&self, entry: &str, account: &str) -> bool {
        Arn::parse(entry).is_some_and(|arn| {
            arn.partition == self.partition
                && arn.service == "iam"
                && arn.region.is_empty()
                && arn.account == account
                && arn.resource == "root"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(arn: &str) -> Principal {
        Principal::from_arn(arn).expect(arn)
    }

    #[test]
    fn parses_caller_arns() {
        let user = p("arn:aws:iam::111122223333:user/division/alice");
        assert_eq!(
            user.kind(),
            &PrincipalKind::IamUser {
                account: "111122223333".into(),
                path: "/division/".into(),
                name: "alice".into(),
                user_id: None
            }
        );
        assert_eq!(user.arn(), "arn:aws:iam::111122223333:user/division/alice");
        let session = p("arn:aws:sts::111122223333:assumed-role/R/s1");
        assert_eq!(
            session.global_key("aws:principalarn"),
            Some("arn:aws:iam::111122223333:role/R")
        );
        assert_eq!(session.global_key("aws:username"), None);
        assert_eq!(session.global_key("aws:principaltype"), Some("AssumedRole"));
        assert_eq!(p("arn:aws:iam::1:root").global_key("aws:userid"), Some("1"));
        assert_eq!(
            p("arn:aws:sts::1:federated-user/bob").global_key("aws:userid"),
            Some("1:bob")
        );
        assert_eq!(
            p("ec2.amazonaws.com").kind(),
            &PrincipalKind::Service("ec2.amazonaws.com".into())
        );
        assert_eq!(p("*").kind(), &PrincipalKind::Anonymous);
        for bad in [
            "arn:aws:iam::1:role/R",
            "arn:aws:sts::1:assumed-role/R",
            "bob",
            "arn:aws:iam::1:user/",
        ] {
            assert_eq!(Principal::from_arn(bad), None, "{bad}");
        }
        let with_id = Principal::new(PrincipalKind::AssumedRole {
            account: "1".into(),
            role_path: "/".into(),
            role_name: "R".into(),
            session_name: "i-0abc".into(),
            role_id: Some("AROAEXAMPLE".into()),
        });
        assert_eq!(with_id.global_key("aws:userid"), Some("AROAEXAMPLE:i-0abc"));
    }

    #[test]
    fn matches_principal_entries() {
        let user = p("arn:aws:iam::111122223333:user/alice");
        let session = p("arn:aws:sts::111122223333:assumed-role/R/s1");
        let root = p("arn:aws:iam::111122223333:root");
        let anon = p("anonymous");
        let svc = p("ec2.amazonaws.com");
        use PrincipalMatch::*;
        let cases: &[(&Principal, &str, Option<PrincipalMatch>)] = &[
            (&user, "*", Some(Wildcard)),
            (&user, "111122223333", Some(Account)),
            (&user, "arn:aws:iam::111122223333:root", Some(Account)),
            (&user, "arn:aws:iam::444455556666:root", None),
            (&user, "arn:aws:iam::111122223333:user/alice", Some(Exact)),
            (&user, "arn:aws:iam::111122223333:user/Alice", None),
            (&session, "arn:aws:iam::111122223333:role/R", Some(RoleArn)),
            (
                &session,
                "arn:aws:iam::111122223333:role/path/R",
                Some(RoleArn),
            ),
            (&session, "arn:aws:iam::444455556666:role/R", None),
            (
                &session,
                "arn:aws:sts::111122223333:assumed-role/R/s1",
                Some(Exact),
            ),
            (
                &session,
                "arn:aws:sts::111122223333:assumed-role/R/s2",
                None,
            ),
            (&root, "111122223333", Some(Exact)),
            (&anon, "*", Some(Wildcard)),
            (&anon, "111122223333", None),
            (&svc, "111122223333", None),
        ];
        for (principal, entry, expected) in cases {
            assert_eq!(
                principal.match_aws(entry),
                *expected,
                "{} vs {entry}",
                principal.arn()
            );
        }
        assert_eq!(svc.match_service("EC2.amazonaws.com"), Some(Exact));
        assert_eq!(user.match_service("ec2.amazonaws.com"), None);
    }
}
