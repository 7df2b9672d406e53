//! Host agents as callers (decision 0025). A Dedicated Host's agent credential is an access key
//! bound to the host, not to an IAM user: it authenticates through the same SigV4 path and key
//! lookup as a user's key (`auth::long_term_key`) and makes a caller that is no IAM identity.
//!
//! Such a caller may do nothing through the AWS APIs, and three independent walls say so by
//! construction, none of them a policy anyone could change: [`refuse`] answers every operation
//! of every service with that service's AccessDenied before the operation runs (the pipeline
//! and S3's access check call it); `authz::decide` denies it without reading any policy; and
//! the policy engine allows `PrincipalKind::HostAgent` nothing. The agent API
//! (`crate::agent_api`, a service whose `Service::CALLERS` is `Callers::HostAgents`) is the one
//! door it opens, and only for its own host ([`admit`]).

use policy::{Principal, PrincipalKind};
use protocol::{AwsError, Protocol};
use store::HostAgentKey;
use zeroize::Zeroizing;

use super::auth::{Caller, Identity};
use super::service::Callers;

/// What signed a request with a host's agent credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAgent {
    /// `h-…`
    pub host_id: String,
    pub account_id: String,
}

/// A host agent's key with its opened secret, as the key cache keeps it.
pub struct CachedHostKey {
    pub key: HostAgentKey,
    pub secret: Zeroizing<Vec<u8>>,
}

/// The caller a host agent's key speaks for; `region` is the server's, which the host's ARN
/// names.
pub fn caller_of_host_key(cached: &CachedHostKey, region: &str) -> Caller {
    let key = &cached.key;
    Caller {
        account_id: key.account_id.clone(),
        access_key_id: key.access_key_id.clone(),
        principal: Principal::new(PrincipalKind::HostAgent {
            account: key.account_id.clone(),
            region: region.to_owned(),
            host_id: key.host_id.clone(),
        }),
        identity: Identity::HostAgent(HostAgent {
            host_id: key.host_id.clone(),
            account_id: key.account_id.clone(),
        }),
    }
}

/// Refuses a host agent any operation of `service` (its signing name, which is also its IAM
/// action prefix), in the service's own words: EC2's `UnauthorizedOperation`, everyone else's
/// `AccessDenied` (the JSON dialects name it `AccessDeniedException`). Any other caller passes.
pub fn refuse(
    caller: &Caller,
    service: &str,
    operation: &str,
    protocol: Protocol,
) -> Result<(), AwsError> {
    match &caller.identity {
        Identity::HostAgent(_) => Err(denial(caller, service, operation, protocol)),
        Identity::User(_) | Identity::Session(_) => Ok(()),
    }
}

/// Lets `caller` on to an operation of `service` only if it is of the service's `callers`: a
/// host agent is refused every AWS operation ([`refuse`]), and anybody else the agent API, in
/// the same words with the other reason.
pub fn admit(
    caller: &Caller,
    callers: Callers,
    service: &str,
    operation: &str,
    protocol: Protocol,
) -> Result<(), AwsError> {
    match (callers, &caller.identity) {
        (Callers::Principals, _) => refuse(caller, service, operation, protocol),
        (Callers::HostAgents, Identity::HostAgent(_)) => Ok(()),
        (Callers::HostAgents, Identity::User(_) | Identity::Session(_)) => {
            Err(AwsError::access_denied(format!(
                "User: {} is not authorized to perform: {service}:{operation} because only a host's agent credential may call the agent API",
                caller.principal.arn()
            )))
        }
    }
}

/// [`refuse`]'s answer, for the places that meet a host agent where no other caller could be
/// refused the same way (they are behind [`refuse`] and never reached by one).
pub fn denial(caller: &Caller, service: &str, operation: &str, protocol: Protocol) -> AwsError {
    let action = format!("{service}:{operation}");
    let reason = format!(
        "User: {} is not authorized to perform: {action} because a host agent credential is not an IAM identity and no policy allows it anything",
        caller.principal.arn()
    );
    match protocol {
        Protocol::Ec2Query => AwsError::sender(
            "UnauthorizedOperation",
            403,
            format!("You are not authorized to perform this operation. {reason}"),
        ),
        Protocol::AwsQuery => AwsError::access_denied(reason),
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn agent() -> Caller {
        let cached = CachedHostKey {
            key: HostAgentKey {
                access_key_id: "AKIAHOSTAGENT0000001".into(),
                host_id: "h-0123456789abcdef0".into(),
                account_id: "123456789012".into(),
                secret_ciphertext: Vec::new(),
                created: OffsetDateTime::UNIX_EPOCH,
                retires: None,
            },
            secret: Zeroizing::new(b"secret".to_vec()),
        };
        caller_of_host_key(&cached, "eu-west-1")
    }

    #[test]
    fn a_host_agent_is_refused_in_each_services_words() {
        let caller = agent();
        assert_eq!(
            caller.principal.arn(),
            "arn:aws:ec2:eu-west-1:123456789012:dedicated-host/h-0123456789abcdef0"
        );
        let cases = [
            ("iam", "ListUsers", Protocol::AwsQuery, "AccessDenied"),
            (
                "sts",
                "GetCallerIdentity",
                Protocol::AwsQuery,
                "AccessDenied",
            ),
            (
                "ec2",
                "DescribeHosts",
                Protocol::Ec2Query,
                "UnauthorizedOperation",
            ),
            (
                "cloudtrail",
                "LookupEvents",
                Protocol::AwsQuery,
                "AccessDenied",
            ),
        ];
        for (service, operation, protocol, code) in cases {
            let err = refuse(&caller, service, operation, protocol).unwrap_err();
            assert_eq!((&*err.code, err.status), (code, 403), "{service}");
            assert!(
                err.message.contains(&format!(
                    "{} is not authorized to perform: {service}:{operation}",
                    caller.principal.arn()
                )),
                "{}",
                err.message
            );
        }
    }
}
