//! `Filter.N.Name` / `Filter.N.Value.M`: parsing, EC2's wildcards (`*`, `?`, `\` escapes), and
//! which filters the store can answer from its indexes.
//!
//! Every filter is checked in memory; those whose values have no wildcard are also handed to
//! the store as exact conditions, so a selective filter reads only the rows it selects.

use protocol::{AwsError, Params};
use store::{AssociationState, Instance, InstanceCondition, InstanceField, InstanceState};

use super::error::Ec2Error;
use super::network::{Network, instance_filters};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

impl Filter {
    pub fn matches_any(&self, candidates: &[String]) -> bool {
        self.values
            .iter()
            .any(|pattern| candidates.iter().any(|c| wildcard_match(pattern, c)))
    }

    fn exact_values(&self) -> Option<Vec<String>> {
        let literal = |v: &String| !v.contains(['*', '?', '\\']);
        self.values.iter().all(literal).then(|| self.values.clone())
    }
}

pub fn parse(params: &Params) -> Result<Vec<Filter>, AwsError> {
    Ok(params.list("Filter", |f| {
        Ok(Filter {
            name: f.required_str("Name")?.to_owned(),
            values: f
                .list_str("Value")?
                .into_iter()
                .map(str::to_owned)
                .collect(),
        })
    })?)
}

fn invalid(name: &str) -> Ec2Error {
    Ec2Error::InvalidParameterValue(format!("The filter '{name}' is invalid"))
}

const INSTANCE_FILTERS: &[&str] = &[
    "instance-id",
    "instance-state-name",
    "instance-state-code",
    "iam-instance-profile.arn",
    "iam-instance-profile.id",
    "image-id",
    "instance-type",
    "key-name",
    "private-ip-address",
    "reservation-id",
    "client-token",
    "metadata-options.http-tokens",
    "metadata-options.http-put-response-hop-limit",
    "metadata-options.http-endpoint",
    "metadata-options.http-protocol-ipv6",
    "metadata-options.instance-metadata-tags",
    "tag-key",
    "host-id",
    "tenancy",
];

/// Rejects filter names outside `known` (and `tag:KEY`, `tag-key`, which every resource takes).
pub fn check_names(filters: &[Filter], known: &[&str]) -> Result<(), Ec2Error> {
    for f in filters {
        let tag = f.name == "tag-key" || f.name.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !tag && !known.contains(&f.name.as_str()) {
            return Err(invalid(&f.name));
        }
    }
    Ok(())
}

/// Whether a resource passes every filter, `values` giving its values for a filter name (none
/// for a name it has nothing under: its tags, as these resources carry none).
pub fn all_match(filters: &[Filter], values: impl Fn(&str) -> Vec<String>) -> bool {
    filters.iter().all(|f| f.matches_any(&values(&f.name)))
}

/// Rejects filter names DescribeInstances does not know.
pub fn check_instance_filters(filters: &[Filter]) -> Result<(), Ec2Error> {
    for f in filters {
        let known = INSTANCE_FILTERS.contains(&f.name.as_str())
            || instance_filters::NAMES.contains(&f.name.as_str())
            || f.name.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !known {
            return Err(invalid(&f.name));
        }
    }
    Ok(())
}

/// The exact-value filters the store can apply itself.
pub fn instance_conditions(filters: &[Filter]) -> Vec<InstanceCondition> {
    filters
        .iter()
        .filter_map(|f| {
            let field = match f.name.as_str() {
                "instance-id" => InstanceField::InstanceId,
                "instance-state-name" => InstanceField::StateName,
                "iam-instance-profile.arn" => InstanceField::ProfileArn,
                "iam-instance-profile.id" => InstanceField::ProfileId,
                "image-id" => InstanceField::ImageId,
                "instance-type" => InstanceField::InstanceType,
                "key-name" => InstanceField::KeyName,
                "private-ip-address" => InstanceField::PrivateIp,
                "reservation-id" => InstanceField::ReservationId,
                "client-token" => InstanceField::ClientToken,
                "metadata-options.http-tokens" => InstanceField::HttpTokens,
                "metadata-options.http-endpoint" => InstanceField::HttpEndpoint,
                "tag-key" => InstanceField::TagKey,
                name => InstanceField::Tag(name.strip_prefix("tag:")?.to_owned()),
            };
            Some(InstanceCondition {
                field,
                values: f.exact_values()?,
            })
        })
        .collect()
}

/// Whether `instance` passes every filter (each: any value matches any of its values).
pub fn instance_matches(instance: &Instance, filters: &[Filter], net: &Network<'_>) -> bool {
    filters.iter().all(|f| {
        let values = instance_filters::values(net, instance, &f.name)
            .unwrap_or_else(|| instance_values(instance, &f.name));
        f.matches_any(&values)
    })
}

fn instance_values(i: &Instance, name: &str) -> Vec<String> {
    let one = |s: &str| vec![s.to_owned()];
    let opt = |s: &Option<String>| s.iter().cloned().collect();
    let options = &i.metadata_options;
    match name {
        "instance-id" => one(&i.id),
        "instance-state-name" => one(i.state.as_str()),
        "instance-state-code" => vec![i.state.code().to_string()],
        "iam-instance-profile.arn" => i
            .association
            .iter()
            .map(|a| a.profile.arn.clone())
            .collect(),
        "iam-instance-profile.id" => i.association.iter().map(|a| a.profile.id.clone()).collect(),
        "image-id" => one(&i.image_id),
        "instance-type" => one(&i.instance_type),
        "key-name" => opt(&i.key_name),
        "private-ip-address" if i.state != InstanceState::Terminated => one(&i.private_ip),
        "reservation-id" => one(&i.reservation_id),
        "client-token" => opt(&i.client_token),
        "metadata-options.http-tokens" => one(&options.http_tokens),
        "metadata-options.http-put-response-hop-limit" => {
            vec![options.http_put_response_hop_limit.to_string()]
        }
        "metadata-options.http-endpoint" => one(&options.http_endpoint),
        "metadata-options.http-protocol-ipv6" => one(&options.http_protocol_ipv6),
        "metadata-options.instance-metadata-tags" => one(&options.instance_metadata_tags),
        "tag-key" => i.tags.iter().map(|t| t.key.clone()).collect(),
        "host-id" => opt(&i.host_id),
        "tenancy" => one(if i.host_id.is_some() {
            "host"
        } else {
            "default"
        }),
        name => match name.strip_prefix("tag:") {
            Some(key) => i
                .tags
                .iter()
                .filter(|t| t.key == key)
                .map(|t| t.value.clone())
                .collect(),
            None => Vec::new(),
        },
    }
}

/// Instance IDs and states an association must have (an empty list allows any).
pub type AssociationSelection = (Vec<String>, Vec<AssociationState>);

/// DescribeIamInstanceProfileAssociations' two filters, as store inputs; `None` when a filter
/// can match nothing (only unknown state names), which EC2 answers with an empty list.
pub fn association_filters(filters: &[Filter]) -> Result<Option<AssociationSelection>, Ec2Error> {
    let mut instance_ids = Vec::new();
    let mut states = Vec::new();
    let mut satisfiable = true;
    for f in filters {
        match f.name.as_str() {
            "instance-id" => instance_ids.extend(f.values.iter().cloned()),
            "state" => {
                let known: Vec<AssociationState> = f
                    .values
                    .iter()
                    .filter_map(|v| AssociationState::parse(v))
                    .collect();
                satisfiable &= !known.is_empty();
                states.extend(known);
            }
            name => return Err(invalid(name)),
        }
    }
    Ok(satisfiable.then_some((instance_ids, states)))
}

/// EC2's filter wildcards: `*` any run of characters, `?` exactly one, `\` makes the next
/// character literal.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with backtracking to the last `*`: linear in practice, no recursion.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some('\\') if p.get(pi + 1) == Some(&t[ti]) => {
                pi += 2;
                ti += 1;
                continue;
            }
            Some(c) if *c != '\\' && *c == t[ti] => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        for (pattern, text, expected) in [
            ("web", "web", true),
            ("web", "web1", false),
            ("web*", "web-1", true),
            ("*", "", true),
            ("w?b", "wab", true),
            ("w?b", "wb", false),
            ("*-prod-*", "app-prod-7", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ] {
            assert_eq!(
                wildcard_match(pattern, text),
                expected,
                "{pattern} vs {text}"
            );
        }
    }

    #[test]
    fn only_literal_filters_reach_the_store() {
        let filters = vec![
            Filter {
                name: "tag:Env".into(),
                values: vec!["prod".into()],
            },
            Filter {
                name: "image-id".into(),
                values: vec!["ami-*".into()],
            },
        ];
        assert_eq!(
            instance_conditions(&filters),
            vec![InstanceCondition {
                field: InstanceField::Tag("Env".into()),
                values: vec!["prod".into()]
            }]
        );
        assert!(check_instance_filters(&filters).is_ok());
        let unknown = [Filter {
            name: "owner-alias".into(),
            values: vec![],
        }];
        assert_eq!(
            check_instance_filters(&unknown).map_err(|e| e.to_string()),
            Err("The filter 'owner-alias' is invalid".to_owned())
        );
    }
}
