//! Tags of EC2 resources (instances, key pairs and Dedicated Hosts): CreateTags, DeleteTags,
//! DescribeTags, and
//! the rules every EC2 tag obeys, those given with `TagSpecification` at creation included.
//!
//! EC2's rules are not IAM's (`crate::tag_rules`): keys are case-sensitive and any character
//! is allowed (the XML writer replaces what XML cannot carry), keys 1–128 and values 0–256
//! characters, at most 50 per resource, and no key under the reserved `aws:` prefix. Each
//! resource is authorized (`ec2:CreateTags`/`ec2:DeleteTags` on its ARN, with
//! `aws:RequestTag/…`, `aws:TagKeys` and its `ec2:ResourceTag/…`) before any missing one is
//! reported, and every resource of a call changes in one store write, or none does.

use std::collections::HashSet;

use protocol::AwsError;
use store::{Ec2Resource, ResourceTag, Store, Tag, TagRemoval};

pub use super::access::request_tags;
use super::access::{Conditions, single};
use super::error::{Ec2Error, from_store};
use super::filters::{self, Filter};
use super::{Reply, account, ids, locate, respond};
use crate::request::Call;
use crate::request::authz::tag_keys;
use crate::tag_rules::is_reserved_key;

pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;
/// Tags one `TagSpecification` may give a resource (the per-resource limit).
const MAX_SPECIFIED: usize = store::EC2_TAGS_PER_RESOURCE;

/// Where a tag was given, which decides how a reserved key is refused: CreateTags and
/// DeleteTags name the parameter (`Value ( aws:x ) for parameter key is invalid. …`, as real
/// CreateTags errors show it), a `TagSpecification` does not (as real RunInstances errors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given {
    Parameter,
    Specification,
}

/// EC2's rules on a tag key.
pub fn check_key(key: &str, given: Given) -> Result<(), Ec2Error> {
    const RESERVED: &str = "Tag keys starting with 'aws:' are reserved for internal use";
    if key.is_empty() {
        // UNCONFIRMED wording.
        return Err(Ec2Error::InvalidParameterValue(
            "Tag key must not be empty".to_owned(),
        ));
    }
    if key.chars().count() > MAX_KEY_CHARS {
        // Real EC2 errors say "Tag value exceeds the maximum length of 256 characters"; the
        // key's twin is assumed.
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Tag key exceeds the maximum length of {MAX_KEY_CHARS} characters"
        )));
    }
    if is_reserved_key(key) {
        return Err(Ec2Error::InvalidParameterValue(match given {
            Given::Parameter => format!("Value ( {key} ) for parameter key is invalid. {RESERVED}"),
            Given::Specification => RESERVED.to_owned(),
        }));
    }
    Ok(())
}

/// EC2's rules on a tag value.
pub fn check_value(value: &str) -> Result<(), Ec2Error> {
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(Ec2Error::InvalidParameterValue(format!(
            "Tag value exceeds the maximum length of {MAX_VALUE_CHARS} characters"
        )));
    }
    Ok(())
}

fn check(tag: &Tag, given: Given) -> Result<(), Ec2Error> {
    check_key(&tag.key, given)?;
    check_value(&tag.value)
}

/// Tags by key, the last value of a repeated key winning, in the order keys first appear.
fn deduplicated(tags: Vec<Tag>) -> Vec<Tag> {
    let mut out: Vec<Tag> = Vec::with_capacity(tags.len());
    for tag in tags {
        match out.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => out.push(tag),
        }
    }
    out
}

/// What a call does with a `TagSpecification` of another resource type than its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherTypes {
    /// RunInstances: volumes, interfaces and the like do not exist here; their tags are dropped.
    Ignore,
    /// CreateKeyPair and ImportKeyPair create one key pair and nothing else.
    Refuse,
}

/// The tags `TagSpecification.N` gives resources of `resource_type` (`instance`, `key-pair`).
pub fn specified<S>(
    call: &Call<'_, S>,
    resource_type: &str,
    others: OtherTypes,
) -> Result<Vec<Tag>, AwsError> {
    let specs = call.input.list("TagSpecification", |spec| {
        let kind = spec.required_str("ResourceType")?;
        let tags = spec.list("Tag", |t| {
            Ok(Tag::new(
                t.required_str("Key")?,
                t.optional_str("Value").unwrap_or(""),
            ))
        })?;
        Ok((kind, tags))
    })?;
    let mut tags: Vec<Tag> = Vec::new();
    for (kind, spec_tags) in specs {
        if kind != resource_type {
            if others == OtherTypes::Refuse {
                // UNCONFIRMED wording (moto's).
                return Err(Ec2Error::InvalidParameterValue(format!(
                    "'{kind}' is not a valid taggable resource type for this operation."
                ))
                .into());
            }
            continue;
        }
        for tag in &spec_tags {
            check(tag, Given::Specification)?;
        }
        tags.extend(spec_tags);
    }
    let tags = deduplicated(tags);
    if tags.len() > MAX_SPECIFIED {
        return Err(Ec2Error::InvalidParameterValue(format!(
            "The number of tags specified exceeds the limit of {MAX_SPECIFIED}."
        ))
        .into());
    }
    Ok(tags)
}

/// Tagging at creation: `ec2:CreateTags` on the new resource's ARN, with `ec2:CreateAction`
/// naming the creating operation, as EC2 authorizes "tag on create". Nothing to authorize
/// without tags.
pub async fn authorize_on_create<S: Store>(
    call: &Call<'_, S>,
    resource_arn: &str,
    tags: &[Tag],
) -> Result<(), Ec2Error> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut context = request_tags(tags);
    context.push(single("ec2:CreateAction", call.operation));
    super::access::authorize(call, "ec2:CreateTags", resource_arn, context).await
}

/// `ResourceId.N`: at least one, each an instance, key pair or host ID, each once.
fn resources<S>(call: &Call<'_, S>) -> Result<Vec<Ec2Resource>, AwsError> {
    let ids = call.input.list_str("ResourceId")?;
    if ids.is_empty() {
        return Err(call.input.root().missing("ResourceId").into());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let resource = ids::taggable(id)?;
        if seen.insert(id) {
            out.push(resource);
        }
    }
    Ok(out)
}

/// Authorizes `action` on each resource, with `request` adding the call's own condition keys
/// for it, then reports the missing ones: every missing instance together, else every missing
/// host, else the first missing key pair.
async fn authorize_each<S: Store>(
    call: &Call<'_, S>,
    action: &str,
    resources: &[Ec2Resource],
    request: impl Fn(&[Tag]) -> Conditions,
) -> Result<(), Ec2Error> {
    let mut missing_instances: Vec<String> = Vec::new();
    let mut missing_hosts: Vec<String> = Vec::new();
    let mut missing_pair: Option<Ec2Error> = None;
    for resource in resources {
        let outcome = match resource {
            Ec2Resource::Instance(id) => {
                let located = locate::instance(call, id).await?;
                let existing = located.peek().map(|i| i.tags.clone()).unwrap_or_default();
                located
                    .authorize_with(call, action, request(&existing))
                    .await
                    .map(drop)
            }
            Ec2Resource::KeyPair(id) => {
                let located = locate::key_pair(call, id).await?;
                let existing = located.peek().map(|p| p.tags.clone()).unwrap_or_default();
                located
                    .authorize_with(call, action, request(&existing))
                    .await
                    .map(drop)
            }
            Ec2Resource::Host(id) => {
                let located = locate::host(call, id).await?;
                let existing = located.peek().map(|h| h.tags.clone()).unwrap_or_default();
                located
                    .authorize_with(call, action, request(&existing))
                    .await
                    .map(drop)
            }
        };
        match outcome {
            Ok(()) => {}
            Err(Ec2Error::InstanceNotFound(ids)) => missing_instances.extend(ids),
            Err(Ec2Error::HostNotFound(ids)) => missing_hosts.extend(ids),
            Err(err @ Ec2Error::KeyPairIdNotFound(_)) => {
                missing_pair.get_or_insert(err);
            }
            Err(other) => return Err(other),
        }
    }
    if !missing_instances.is_empty() {
        return Err(Ec2Error::InstanceNotFound(missing_instances));
    }
    if !missing_hosts.is_empty() {
        return Err(Ec2Error::HostNotFound(missing_hosts));
    }
    missing_pair.map_or(Ok(()), Err)
}

pub async fn create<S: Store>(call: &Call<'_, S>) -> Reply {
    let resources = resources(call)?;
    let tags = call.input.list("Tag", |t| {
        Ok(Tag::new(
            t.required_str("Key")?,
            t.optional_str("Value").unwrap_or(""),
        ))
    })?;
    if tags.is_empty() {
        return Err(call.input.root().missing("Tag").into());
    }
    for tag in &tags {
        check(tag, Given::Parameter)?;
    }
    let tags = deduplicated(tags);
    authorize_each(call, "ec2:CreateTags", &resources, |_| request_tags(&tags)).await?;
    call.app
        .store()
        .create_ec2_tags(account(call), &resources, &tags)
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.elem("return", "true");
    }))
}

/// `Tag.N` of DeleteTags: none means every tag of each resource.
fn removals<S>(call: &Call<'_, S>) -> Result<Option<Vec<TagRemoval>>, AwsError> {
    let removals = call.input.list("Tag", |t| {
        Ok(TagRemoval {
            key: t.required_str("Key")?.to_owned(),
            value: t.optional_str("Value").map(str::to_owned),
        })
    })?;
    for removal in &removals {
        check_key(&removal.key, Given::Parameter)?;
    }
    Ok((!removals.is_empty()).then_some(removals))
}

/// The condition keys of removing `removals` from a resource holding `existing`:
/// `aws:TagKeys` (every key it has when no tag is named) and `aws:RequestTag/…` for each
/// named value.
fn removal_conditions(removals: Option<&[TagRemoval]>, existing: &[Tag]) -> Conditions {
    match removals {
        None => {
            let keys: Vec<String> = existing.iter().map(|t| t.key.clone()).collect();
            if keys.is_empty() {
                Conditions::new()
            } else {
                vec![tag_keys(keys)]
            }
        }
        Some(removals) => {
            let valued: Vec<Tag> = removals
                .iter()
                .filter_map(|r| Some(Tag::new(r.key.clone(), r.value.clone()?)))
                .collect();
            let mut context: Conditions = request_tags(&valued)
                .into_iter()
                .filter(|(k, _)| k != "aws:TagKeys")
                .collect();
            context.push(tag_keys(removals.iter().map(|r| r.key.clone()).collect()));
            context
        }
    }
}

pub async fn delete<S: Store>(call: &Call<'_, S>) -> Reply {
    let resources = resources(call)?;
    let removals = removals(call)?;
    authorize_each(call, "ec2:DeleteTags", &resources, |existing| {
        removal_conditions(removals.as_deref(), existing)
    })
    .await?;
    call.app
        .store()
        .delete_ec2_tags(account(call), &resources, removals.as_deref())
        .await
        .map_err(from_store)?;
    Ok(respond(call, |x| {
        x.elem("return", "true");
    }))
}

const FILTERS: &[&str] = &["key", "value", "resource-id", "resource-type"];

fn check_filters(filters: &[Filter]) -> Result<(), Ec2Error> {
    for f in filters {
        let known = FILTERS.contains(&f.name.as_str())
            || f.name.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !known {
            return Err(Ec2Error::InvalidParameterValue(format!(
                "The filter '{}' is invalid",
                f.name
            )));
        }
    }
    Ok(())
}

/// Whether `item` passes every filter (each filter: any of its values, EC2's wildcards).
/// `tag:KEY` selects the tags of resources that carry KEY with a matching value.
fn selected(item: &ResourceTag, all: &[ResourceTag], filters: &[Filter]) -> bool {
    let any = |filter: &Filter, text: &str| {
        filter
            .values
            .iter()
            .any(|pattern| filters::wildcard_match(pattern, text))
    };
    filters.iter().all(|filter| match filter.name.as_str() {
        "key" => any(filter, &item.tag.key),
        "value" => any(filter, &item.tag.value),
        "resource-id" => any(filter, item.resource.id()),
        "resource-type" => any(filter, item.resource.type_name()),
        name => {
            let key = name.strip_prefix("tag:").unwrap_or(name);
            all.iter().any(|other| {
                other.resource == item.resource
                    && other.tag.key == key
                    && any(filter, &other.tag.value)
            })
        }
    })
}

/// The position a page ends at: resource ID and key, hex-encoded (as IAM's markers are) so any
/// key survives the round trip.
fn token_of(item: &ResourceTag) -> String {
    hex::encode(format!("{}\n{}", item.resource.id(), item.tag.key))
}

fn position_of(token: &str) -> Result<(String, String), Ec2Error> {
    let invalid =
        || Ec2Error::InvalidParameterValue(format!("Invalid value '{token}' for nextToken."));
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (id, key) = text.split_once('\n').ok_or_else(invalid)?;
    ids::taggable(id).map_err(|_| invalid())?;
    Ok((id.to_owned(), key.to_owned()))
}

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let p = call.input;
    let filters = filters::parse(p)?;
    check_filters(&filters)?;
    let max_results = p.optional_i32("MaxResults", 5..=1000)?;
    let after = p.optional_str("NextToken").map(position_of).transpose()?;
    super::access::authorize(call, "ec2:DescribeTags", "*", Vec::new()).await?;
    let all = call
        .app
        .store()
        .ec2_tags(account(call))
        .await
        .map_err(from_store)?;
    let mut matching = all
        .iter()
        .filter(|item| match &after {
            Some((id, key)) => (item.resource.id(), item.tag.key.as_str()) > (id, key),
            None => true,
        })
        .filter(|item| selected(item, &all, &filters));
    let limit = max_results.map_or(usize::MAX, |n| n.unsigned_abs() as usize);
    let page: Vec<&ResourceTag> = matching.by_ref().take(limit).collect();
    let next = match (matching.next(), page.last()) {
        (Some(_), Some(last)) => Some(token_of(last)),
        _ => None,
    };
    Ok(respond(call, |x| {
        x.list("tagSet", "item", page, |x, item| {
            x.elem("resourceId", item.resource.id())
                .elem("resourceType", item.resource.type_name())
                .elem("key", &item.tag.key)
                .elem("value", &item.tag.value);
        })
        .opt_elem("nextToken", next.as_deref());
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_follow_ec2s_rules() {
        for ok in ["Name", "k", "日本", "a b/c:d", "\t", &"é".repeat(128)] {
            assert_eq!(check_key(ok, Given::Parameter), Ok(()), "{ok:?}");
        }
        let too_long = "k".repeat(129);
        let cases = [
            ("", Given::Parameter, "Tag key must not be empty"),
            (
                too_long.as_str(),
                Given::Parameter,
                "Tag key exceeds the maximum length of 128 characters",
            ),
            (
                "aws:team",
                Given::Parameter,
                "Value ( aws:team ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use",
            ),
            (
                "AWS:team",
                Given::Specification,
                "Tag keys starting with 'aws:' are reserved for internal use",
            ),
        ];
        for (key, given, message) in cases {
            let err = check_key(key, given).unwrap_err();
            assert_eq!(
                (err.code(), err.to_string().as_str()),
                ("InvalidParameterValue", message)
            );
        }
        assert_eq!(check_value(""), Ok(()));
        assert_eq!(check_value(&"v".repeat(256)), Ok(()));
        assert_eq!(
            check_value(&"v".repeat(257)).unwrap_err().to_string(),
            "Tag value exceeds the maximum length of 256 characters"
        );
    }

    #[test]
    fn repeated_keys_keep_the_last_value_and_keys_are_case_sensitive() {
        let tags = deduplicated(vec![
            Tag::new("a", "1"),
            Tag::new("A", "2"),
            Tag::new("a", "3"),
        ]);
        assert_eq!(tags, vec![Tag::new("a", "3"), Tag::new("A", "2")]);
    }

    fn item(id: &str, key: &str, value: &str) -> ResourceTag {
        ResourceTag {
            resource: ids::taggable(id).unwrap(),
            tag: Tag::new(key, value),
        }
    }

    #[test]
    fn filters_select_tags_and_tag_filters_select_resources() {
        let all = vec![
            item("i-11111111", "Env", "prod"),
            item("i-11111111", "Name", "web"),
            item("i-22222222", "Env", "dev"),
            item("key-0123456789abcdef0", "Env", "prod"),
        ];
        let filter = |name: &str, values: &[&str]| Filter {
            name: name.to_owned(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        };
        let pick = |filters: &[Filter]| -> Vec<(String, String)> {
            all.iter()
                .filter(|i| selected(i, &all, filters))
                .map(|i| (i.resource.id().to_owned(), i.tag.key.clone()))
                .collect()
        };
        assert_eq!(pick(&[filter("key", &["Name"])]).len(), 1);
        assert_eq!(pick(&[filter("value", &["pr*"])]).len(), 2);
        assert_eq!(pick(&[filter("resource-type", &["key-pair"])]).len(), 1);
        assert_eq!(
            pick(&[
                filter("resource-id", &["i-11111111", "i-22222222"]),
                filter("key", &["Env"])
            ])
            .len(),
            2
        );
        // tag:Env=prod: every tag of the resources with Env=prod.
        assert_eq!(
            pick(&[
                filter("tag:Env", &["prod"]),
                filter("resource-type", &["instance"])
            ]),
            vec![
                ("i-11111111".to_owned(), "Env".to_owned()),
                ("i-11111111".to_owned(), "Name".to_owned())
            ]
        );
    }

    #[test]
    fn tokens_round_trip_any_key_and_refuse_forgeries() {
        let odd = item("key-0123456789abcdef0", "a\nb &<>", "v");
        assert_eq!(
            position_of(&token_of(&odd)).unwrap(),
            ("key-0123456789abcdef0".to_owned(), "a\nb &<>".to_owned())
        );
        for bad in [
            "",
            "zz",
            &hex::encode("no-newline"),
            &hex::encode("vol-1\nk"),
        ] {
            assert_eq!(
                position_of(bad).unwrap_err().code(),
                "InvalidParameterValue",
                "{bad}"
            );
        }
    }

    #[test]
    fn removing_everything_names_the_keys_the_resource_has() {
        let existing = [Tag::new("a", "1"), Tag::new("b", "2")];
        let context = removal_conditions(None, &existing);
        assert_eq!(context.len(), 1);
        assert_eq!(context[0].0, "aws:TagKeys");
        assert_eq!(context[0].1.values(), ["a", "b"]);
        let named = [
            TagRemoval {
                key: "a".into(),
                value: Some("1".into()),
            },
            TagRemoval {
                key: "c".into(),
                value: None,
            },
        ];
        let context = removal_conditions(Some(&named), &existing);
        let keys: Vec<&str> = context.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["aws:RequestTag/a", "aws:TagKeys"]);
        assert_eq!(context[1].1.values(), ["a", "c"]);
    }
}
