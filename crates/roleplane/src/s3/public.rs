//! Is a bucket policy public? S3 calls a policy public when an Allow statement lets in every
//! principal (`"*"`, `{"AWS": "*"}`, or a `NotPrincipal`) without a condition that pins the
//! caller to fixed values of keys that identify a network or an account (S3 User Guide,
//! "The meaning of public"). `GetBucketPolicyStatus` answers it, `BlockPublicPolicy` refuses
//! such a policy, and `RestrictPublicBuckets` keeps it from letting outsiders in. Pure.

use policy::{Effect, Policy, PrincipalSet, PrincipalType};

/// Keys that, fixed to values without wildcards, make a statement non-public.
const PINNING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

pub fn is_public(policy: &Policy) -> bool {
    policy.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement
                .principal
                .as_ref()
                .is_some_and(|p| p.negated || lets_everyone_in(&p.set))
            && !statement.conditions.iter().any(|condition| {
                let operator = &condition.operator;
                PINNING_KEYS.contains(&condition.key.to_ascii_lowercase().as_str())
                    && !operator.negated
                    && !operator.name.starts_with("Null")
                    && !condition.values.iter().any(|v| v.contains(['*', '?']))
            })
    })
}

fn lets_everyone_in(set: &PrincipalSet) -> bool {
    match set {
        PrincipalSet::Any => true,
        PrincipalSet::Map(entries) => entries
            .iter()
            .any(|(kind, names)| *kind == PrincipalType::Aws && names.iter().any(|n| n == "*")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::PolicyKind;

    fn public(statement: &str) -> bool {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        is_public(&Policy::parse(&doc, PolicyKind::Resource).unwrap())
    }

    #[test]
    fn statements_that_let_everyone_in_are_public() {
        let cases = [
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
                true,
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
                true,
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
                false,
            ),
            (
                r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#,
                false,
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
                false,
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}"#,
                false,
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"aws:PrincipalAccount":"*"}}}"#,
                true,
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:prefix":"a"}}}"#,
                true,
            ),
        ];
        for (statement, expected) in cases {
            assert_eq!(public(statement), expected, "{statement}");
        }
    }
}
