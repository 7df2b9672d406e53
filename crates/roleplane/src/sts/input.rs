//! The model constraints of STS inputs (botocore `sts/2011-06-15`), checked before any lookup and
//! reported the way AWS's awsQuery services report them: every violation in one
//! `ValidationError` (`1 validation error detected: Value 'x' at 'roleSessionName' failed to
//! satisfy constraint: …`).

use protocol::{AwsError, ParamError, Scope, Violations};

use crate::tag_rules;

/// `RoleSessionName`, `SourceIdentity`: `[\w+=,.@-]*`, where `\w` is Java's `[a-zA-Z0-9_]`.
pub const NAME_PATTERN: &str = r"[\w+=,.@-]*";
/// `ExternalId`: the name characters plus `:` and `/`.
pub const EXTERNAL_ID_PATTERN: &str = r"[\w+=,.@:\/-]*";
/// Session policies: TAB, LF, CR and U+0020–U+00FF.
pub const POLICY_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";

pub const MAX_TAGS: usize = 50;
pub const MAX_POLICY_ARNS: usize = 10;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn is_external_id_char(c: char) -> bool {
    is_name_char(c) || c == ':' || c == '/'
}

fn is_policy_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
}

/// A string member's length (in characters, as the models count) and pattern.
pub struct Text<'a> {
    pub path: &'a str,
    pub min: usize,
    pub max: usize,
    pub pattern: &'static str,
    pub allowed: fn(char) -> bool,
}

impl Text<'_> {
    pub fn check(&self, value: &str, v: &mut Violations) {
        let len = value.chars().count();
        if len < self.min {
            v.value(
                self.path,
                value,
                &format!(
                    "Member must have length greater than or equal to {}",
                    self.min
                ),
            );
        }
        if len > self.max {
            v.value(
                self.path,
                value,
                &format!("Member must have length less than or equal to {}", self.max),
            );
        }
        if !value.chars().all(self.allowed) {
            v.value(
                self.path,
                value,
                &format!(
                    "Member must satisfy regular expression pattern: {}",
                    self.pattern
                ),
            );
        }
    }
}

pub const ROLE_ARN: Text = Text {
    path: "roleArn",
    min: 20,
    max: 2048,
    pattern: r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+",
    allowed: |c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'),
};
pub const ROLE_SESSION_NAME: Text = Text {
    path: "roleSessionName",
    min: 2,
    max: 64,
    pattern: NAME_PATTERN,
    allowed: is_name_char,
};
pub const SOURCE_IDENTITY: Text = Text {
    path: "sourceIdentity",
    min: 2,
    max: 64,
    pattern: NAME_PATTERN,
    allowed: is_name_char,
};
pub const EXTERNAL_ID: Text = Text {
    path: "externalId",
    min: 2,
    max: 1224,
    pattern: EXTERNAL_ID_PATTERN,
    allowed: is_external_id_char,
};
pub const SESSION_POLICY: Text = Text {
    path: "policy",
    min: 1,
    max: 2048,
    pattern: POLICY_PATTERN,
    allowed: is_policy_char,
};

/// One session tag as the request spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

/// `Tags.member.N.{Key,Value}`: at most 50, keys 1–128 and values 0–256 characters.
pub fn tags<'a>(params: Scope<'a>, v: &mut Violations) -> Result<Vec<Tag<'a>>, ParamError> {
    let tags = params.list("Tags", |t| {
        Ok(Tag {
            key: t.required_str("Key")?,
            value: t.required_str("Value")?,
        })
    })?;
    if tags.len() > MAX_TAGS {
        v.unshown(
            "tags",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        );
    }
    // STS leaves a session tag's text out of its message (`Value at 'tags.1.member.key' …`).
    for (i, tag) in tags.iter().enumerate() {
        let key_path = format!("tags.{}.member.key", i + 1);
        for constraint in tag_rules::key_violations(tag.key) {
            v.unshown(&key_path, &constraint);
        }
        let value_path = format!("tags.{}.member.value", i + 1);
        for constraint in tag_rules::value_violations(tag.value) {
            v.unshown(&value_path, &constraint);
        }
    }
    Ok(tags)
}

// UNCONFIRMED code and wording for STS: EC2's confirmed text for the same rule, with the code
// STS uses for its other refused parameter values.
const RESERVED_KEY_MESSAGE: &str = "Tag keys starting with 'aws:' are reserved for internal use";

/// Session tags may not use the reserved `aws:` key prefix (any case); checked after the model
/// constraints, before anything is authorized or issued.
pub fn reject_reserved_tag_keys(tags: &[Tag<'_>]) -> Result<(), AwsError> {
    if tags.iter().any(|tag| tag_rules::is_reserved_key(tag.key)) {
        return Err(AwsError::invalid_parameter_value(RESERVED_KEY_MESSAGE));
    }
    Ok(())
}

/// `TransitiveTagKeys.member.N`: at most 50 keys.
pub fn transitive_tag_keys<'a>(
    params: Scope<'a>,
    v: &mut Violations,
) -> Result<Vec<&'a str>, ParamError> {
    let keys = params.list_str("TransitiveTagKeys")?;
    if keys.len() > MAX_TAGS {
        v.unshown(
            "transitiveTagKeys",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        );
    }
    Ok(keys)
}

/// `PolicyArns.member.N.arn`: at most 10 managed policy ARNs, each 20–2048 characters.
pub fn policy_arns<'a>(params: Scope<'a>, v: &mut Violations) -> Result<Vec<&'a str>, ParamError> {
    let arns = params.list("PolicyArns", |p| p.required_str("arn"))?;
    if arns.len() > MAX_POLICY_ARNS {
        v.unshown(
            "policyArns",
            &format!("Member must have length less than or equal to {MAX_POLICY_ARNS}"),
        );
    }
    for (i, arn) in arns.iter().enumerate() {
        let path = format!("policyArns.{}.member.arn", i + 1);
        Text {
            path: &path,
            ..ROLE_ARN
        }
        .check(arn, v);
    }
    Ok(arns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(text: &Text, value: &str) -> Option<String> {
        let mut v = Violations::new();
        text.check(value, &mut v);
        v.into_result().err().map(|e| e.message)
    }

    #[test]
    fn session_names_follow_the_model() {
        assert_eq!(
            violations(&ROLE_SESSION_NAME, "ci-run@2026.01,x=y+z_"),
            None
        );
        assert_eq!(
            violations(&ROLE_SESSION_NAME, "has space").as_deref(),
            Some(
                r"1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
            )
        );
        assert_eq!(
            violations(&ROLE_SESSION_NAME, "a").as_deref(),
            Some(
                "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"
            )
        );
        let long = "x".repeat(65);
        assert!(
            violations(&ROLE_SESSION_NAME, &long)
                .unwrap()
                .ends_with("Member must have length less than or equal to 64")
        );
        assert!(
            violations(&ROLE_SESSION_NAME, "!")
                .unwrap()
                .starts_with("2 validation errors detected: ")
        );
    }

    #[test]
    fn external_ids_allow_colons_and_slashes() {
        assert_eq!(violations(&EXTERNAL_ID, "urn:partner/123"), None);
        assert!(violations(&EXTERNAL_ID, "no spaces").is_some());
    }

    #[test]
    fn session_policies_are_latin1_text() {
        assert_eq!(violations(&SESSION_POLICY, "{\"é\":\t1}\n"), None);
        assert!(violations(&SESSION_POLICY, "日本").is_some());
        assert!(violations(&SESSION_POLICY, &"x".repeat(2049)).is_some());
    }
}
