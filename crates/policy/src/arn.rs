//! ARNs and ARN patterns, matched segment by segment.
//!
//! `arn:partition:service:region:account:resource`: each of the first five
//! segments is matched on its own, so a `*` never spills into the next one; the
//! resource segment is the rest of the string (it may hold `:` and `/`, and `*`
//! crosses both). The service segment takes no wildcards
//! [UG:reference_policies_elements_resource].

use crate::pattern::{MissingVariable, Pattern, Syntax};
use crate::variables::Variables;

/// The parts of a concrete ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text`; `None` unless it is `arn:` followed by five more segments.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }

    /// For a resource `TYPE/path/NAME` (`role/team/app`): the path as IAM spells it (`/`,
    /// `/team/`) and the name, which may be empty (`role/`); `None` when the resource is not
    /// of `resource_type` (given without its slash: `"role"`).
    pub fn path_and_name(&self, resource_type: &str) -> Option<(&'a str, &'a str)> {
        let rest = self.resource.strip_prefix(resource_type)?;
        let last = rest.rfind('/').filter(|_| rest.starts_with('/'))?;
        Some((&rest[..=last], &rest[last + 1..]))
    }
}

/// A compiled Resource entry or Arn* condition value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnPattern {
    /// Not shaped like an ARN (`*`, or text IAM would reject): matched whole.
    Whole(Pattern),
    /// partition, service, region, account, resource.
    Segments(Box<[Pattern; 5]>),
}

impl ArnPattern {
    /// Compiles `source`. `variables_everywhere` is true for Arn* condition
    /// values; in Resource, variables only count after the fifth colon.
    pub fn compile(source: &str, variables: bool, variables_everywhere: bool) -> ArnPattern {
        let parsed = if variables && variables_everywhere {
            split_outside_variables(source)
        } else {
            Arn::parse(source)
        };
        let Some(arn) = parsed else {
            return ArnPattern::Whole(Pattern::compile(
                source,
                Syntax {
                    wildcards: true,
                    variables: variables && variables_everywhere,
                },
            ));
        };
        let head = Syntax {
            wildcards: true,
            variables: variables && variables_everywhere,
        };
        let service = Syntax {
            wildcards: false,
            variables: head.variables,
        };
        let resource = Syntax {
            wildcards: true,
            variables,
        };
        ArnPattern::Segments(Box::new([
            Pattern::compile(arn.partition, head),
            Pattern::compile(arn.service, service),
            Pattern::compile(arn.region, head),
            Pattern::compile(arn.account, head),
            Pattern::compile(arn.resource, resource),
        ]))
    }

    /// True for a lone `*`.
    pub fn is_match_all(&self) -> bool {
        matches!(self, ArnPattern::Whole(p) if p.is_match_all())
    }

    /// Whether `value` matches; `Err` when a variable has no value.
    pub fn matches(&self, value: &str, vars: &dyn Variables) -> Result<bool, MissingVariable> {
        match self {
            ArnPattern::Whole(pattern) => pattern.matches(value, vars),
            ArnPattern::Segments(segments) => {
                let Some(arn) = Arn::parse(value) else {
                    // Still resolve variables so a missing one is reported as such.
                    segments[4].matches("", vars)?;
                    return Ok(false);
                };
                let parts = [
                    arn.partition,
                    arn.service,
                    arn.region,
                    arn.account,
                    arn.resource,
                ];
                for (pattern, part) in segments.iter().zip(parts) {
                    if !pattern.matches(part, vars)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }
}

/// Like [`Arn::parse`], but a `:` inside `${…}` (as in `${aws:username}`) does
/// not end a segment.
fn split_outside_variables(text: &str) -> Option<Arn<'_>> {
    let mut cuts = Vec::with_capacity(5);
    let mut inside = false;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'$' if bytes.get(i + 1) == Some(&b'{') => inside = true,
            b'}' => inside = false,
            b':' if !inside && cuts.len() < 5 => cuts.push(i),
            _ => {}
        }
    }
    if cuts.len() < 5 || &text[..cuts[0]] != "arn" {
        return None;
    }
    let part = |n: usize| &text[cuts[n] + 1..cuts.get(n + 1).copied().unwrap_or(text.len())];
    Some(Arn {
        partition: part(0),
        service: part(1),
        region: part(2),
        account: part(3),
        resource: part(4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::NoVariables;

    #[test]
    fn parses_arns() {
        let arn = Arn::parse("arn:aws:iam::123456789012:role/path/name").expect("arn");
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource, "role/path/name");
        assert_eq!(
            Arn::parse("arn:aws:s3:::b/k:with:colons").map(|a| a.resource),
            Some("b/k:with:colons")
        );
        assert_eq!(Arn::parse("arn:aws:iam:123"), None);
        assert_eq!(Arn::parse("*"), None);
    }

    fn split<'a>(arn: &'a str, resource_type: &str) -> Option<(&'a str, &'a str)> {
        Arn::parse(arn).and_then(|a| a.path_and_name(resource_type))
    }

    #[test]
    fn splits_typed_resources_into_path_and_name() {
        type Case<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);
        let cases: &[Case] = &[
            ("arn:aws:iam::1:role/app", "role", Some(("/", "app"))),
            (
                "arn:aws:iam::1:role/team/a/dev",
                "role",
                Some(("/team/a/", "dev")),
            ),
            ("arn:aws:iam::1:role/", "role", Some(("/", ""))),
            ("arn:aws:iam::1:role/team/", "role", Some(("/team/", ""))),
            ("arn:aws:iam::1:role/a:b:c", "role", Some(("/", "a:b:c"))),
            ("arn:aws:iam::1:role", "role", None),
            ("arn:aws:iam::1:roles/x", "role", None),
            ("arn:aws:iam::1:user/x", "role", None),
            (
                "arn:aws:iam::1:instance-profile/p/q",
                "instance-profile",
                Some(("/p/", "q")),
            ),
        ];
        for (arn, resource_type, expected) in cases {
            assert_eq!(split(arn, resource_type), *expected, "{arn}");
        }
    }

    #[test]
    fn matches_segment_by_segment() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "*", true),
            ("*", "arn:aws:s3:::bucket", true),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", true),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false),
            ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-2/x", true),
            (
                "arn:aws:ec2:*:*:instance/*",
                "arn:aws:ec2:us-east-1:1:instance/i-1",
                true,
            ),
            ("arn:aws:ec2:*:*:instance/*", "*", false),
            (
                "arn:aws:ec2:us-*:*:*",
                "arn:aws:ec2:eu-west-1:1:instance/i",
                false,
            ),
            ("arn:aws:*:*:*:*", "arn:aws:ec2:r:1:x", false),
            ("arn:aws:ec?:*:*:*", "arn:aws:ec2:r:1:x", false),
            ("arn:aws:*:*:*:*", "arn:aws:*:r:1:x", true),
            (
                "arn:aws:svc:*:111122223333:finance/*",
                "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/doc",
                false,
            ),
            ("arn:aws:iam::*:role/R", "arn:aws:iam::1:role/R", true),
            ("arn:aws:iam::1:role/R", "arn:aws:iam::1:role/r", false),
        ];
        for (pattern, value, expected) in cases {
            let p = ArnPattern::compile(pattern, true, false);
            assert_eq!(
                p.matches(value, &NoVariables),
                Ok(*expected),
                "{pattern} vs {value}"
            );
        }
    }

    #[test]
    fn resource_variables_only_after_fifth_colon() {
        let p = ArnPattern::compile("arn:aws:s3:::${aws:username}", true, false);
        assert_eq!(
            p.matches("arn:aws:s3:::x", &NoVariables),
            Err(MissingVariable)
        );
        let p = ArnPattern::compile("arn:aws:iam::${aws:PrincipalAccount}:user/x", true, false);
        assert_eq!(
            p.matches("arn:aws:iam::${aws:PrincipalAccount}:user/x", &NoVariables),
            Ok(true)
        );
        let p = ArnPattern::compile("arn:aws:iam::${aws:PrincipalAccount}:user/x", true, true);
        assert_eq!(
            p.matches("arn:aws:iam::1:user/x", &NoVariables),
            Err(MissingVariable)
        );
    }
}
