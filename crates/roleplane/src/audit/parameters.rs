//! `requestParameters`: the decoded request as CloudTrail records it, lowerCamel JSON, with
//! secrets replaced by CloudTrail's own placeholder.
//!
//! The mapping is generic over awsQuery/ec2Query names: dotted structures become objects,
//! `.member.N` (awsQuery) and `.N` (ec2Query) lists become arrays in index order.

use std::collections::BTreeMap;

use protocol::Params;
use serde_json::Value;

use super::json_text::{push_escaped, push_str};

/// What CloudTrail writes in place of a sensitive value.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Member names whose values are secrets (passwords, MFA codes, keys, tokens, instance user
/// data that commonly carries them). Matched on any name segment, so `UserData.Value` is hidden
/// too; ModifyInstanceAttribute's older `Attribute=userData` form hides its `Value`.
const SENSITIVE: &[&str] = &[
    "Password",
    "OldPassword",
    "NewPassword",
    "SecretAccessKey",
    "SessionToken",
    "TokenCode",
    "PrivateKey",
    "UserData",
    "SAMLAssertion",
    "WebIdentityToken",
];

/// Deeper names are not a shape any AWS model has; they are skipped rather than walked.
const MAX_DEPTH: usize = 12;

/// The request's parameters as JSON text, or `None` (`null`) when it has none beyond `Action`
/// and `Version`.
pub fn from_query(params: &Params) -> Option<String> {
    let mut root = Node::Object(Vec::new());
    let value_is_user_data = params.optional_str("Attribute") == Some("userData");
    for (name, value) in params.entries() {
        if matches!(name, "Action" | "Version") {
            continue;
        }
        let depth = name.bytes().filter(|&byte| byte == b'.').count() + 1;
        if depth > MAX_DEPTH {
            continue;
        }
        let mut segments = [""; MAX_DEPTH];
        for (slot, segment) in segments.iter_mut().zip(name.split('.')) {
            *slot = segment;
        }
        let path = &segments[..depth];
        let hidden = path.iter().any(|segment| SENSITIVE.contains(segment))
            || (value_is_user_data && name == "Value");
        let value = if hidden { HIDDEN } else { value };
        root.insert(path, value);
    }
    if matches!(&root, Node::Object(fields) if fields.is_empty()) {
        return None;
    }
    let mut json = String::with_capacity(256);
    root.write_json(&mut json);
    Some(json)
}

/// A JSON request body (awsJson) with its member names respelled lowerCamel, as CloudTrail
/// records them, as JSON text; `None` (`null`) when empty.
pub fn from_json(body: &Value) -> Option<String> {
    match lower_camel_keys(body) {
        Value::Object(map) if map.is_empty() => None,
        value => Some(value.to_string()),
    }
}

fn lower_camel_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if SENSITIVE.contains(&k.as_str()) {
                        Value::from(HIDDEN)
                    } else {
                        lower_camel_keys(v)
                    };
                    (lower_camel(k), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(lower_camel_keys).collect()),
        other => other.clone(),
    }
}

/// `RoleName` → `roleName`.
pub fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// [`lower_camel`] as a JSON string literal, without the intermediate `String`.
fn push_lower_camel(out: &mut String, name: &str) {
    out.push('"');
    let mut chars = name.chars();
    if let Some(first) = chars.next() {
        let mut utf8 = [0; 4];
        for lower in first.to_lowercase() {
            push_escaped(out, lower.encode_utf8(&mut utf8));
        }
    }
    push_escaped(out, chars.as_str());
    out.push('"');
}

enum Node<'a> {
    Leaf(&'a str),
    /// Fields in first-seen order. Names arrive sorted, so all names under one prefix are
    /// contiguous: a repeated key can only be the last one pushed.
    Object(Vec<(&'a str, Node<'a>)>),
    List(BTreeMap<u32, Node<'a>>),
}

impl<'a> Node<'a> {
    fn insert(&mut self, path: &[&'a str], value: &'a str) {
        let Some((head, rest)) = path.split_first() else {
            *self = Node::Leaf(value);
            return;
        };
        // `Tags.member.1`: `member` is wire spelling of a list, not a structure.
        if *head == "member" && rest.first().is_some_and(|s| s.parse::<u32>().is_ok()) {
            return self.insert(rest, value);
        }
        if let Ok(index) = head.parse::<u32>() {
            if !matches!(self, Node::List(_)) {
                *self = Node::List(BTreeMap::new());
            }
            if let Node::List(items) = self {
                items
                    .entry(index)
                    .or_insert_with(|| Node::Object(Vec::new()))
                    .insert(rest, value);
            }
            return;
        }
        if !matches!(self, Node::Object(_)) {
            *self = Node::Object(Vec::new());
        }
        if let Node::Object(fields) = self {
            if fields.last().is_none_or(|(key, _)| key != head) {
                fields.push((head, Node::Object(Vec::new())));
            }
            if let Some((_, child)) = fields.last_mut() {
                child.insert(rest, value);
            }
        }
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Node::Leaf(value) => push_str(out, value),
            Node::Object(fields) => {
                out.push('{');
                for (i, (key, node)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_lower_camel(out, key);
                    out.push(':');
                    node.write_json(out);
                }
                out.push('}');
            }
            Node::List(items) => {
                out.push('[');
                for (i, node) in items.values().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    node.write_json(out);
                }
                out.push(']');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Protocol;
    use serde_json::json;

    /// The parameters' JSON text, checked to be valid JSON and compared as a value.
    fn query(protocol: Protocol, body: &str) -> Value {
        match from_query(&Params::decode(protocol, body.as_bytes(), 1 << 20).unwrap()) {
            Some(text) => serde_json::from_str(&text).unwrap(),
            None => Value::Null,
        }
    }

    #[test]
    fn query_lists_and_structures_become_json() {
        let body = "Action=CreateRole&Version=2010-05-08&RoleName=r&Path=%2F\
                    &Tags.member.2.Key=b&Tags.member.2.Value=2\
                    &Tags.member.10.Key=c&Tags.member.10.Value=10\
                    &Tags.member.1.Key=a&Tags.member.1.Value=1\
                    &AssumeRolePolicyDocument=%7B%7D";
        assert_eq!(
            query(Protocol::AwsQuery, body),
            json!({"assumeRolePolicyDocument": "{}", "path": "/", "roleName": "r",
                   "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"},
                            {"key": "c", "value": "10"}]})
        );
        let body = "Action=RunInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2\
                    &IamInstanceProfile.Name=p&UserData=c2VjcmV0";
        assert_eq!(
            query(Protocol::Ec2Query, body),
            json!({"iamInstanceProfile": {"name": "p"}, "instanceId": ["i-1", "i-2"],
                   "userData": HIDDEN})
        );
    }

    /// ModifyInstanceAttribute's user data, in either form, never reaches the trail.
    #[test]
    fn modified_user_data_is_hidden() {
        let body = "Action=ModifyInstanceAttribute&Version=2016-11-15&InstanceId=i-1\
                    &UserData.Value=c2VjcmV0";
        assert_eq!(
            query(Protocol::Ec2Query, body),
            json!({"instanceId": "i-1", "userData": {"value": HIDDEN}})
        );
        let body = "Action=ModifyInstanceAttribute&Version=2016-11-15&InstanceId=i-1\
                    &Attribute=userData&Value=c2VjcmV0";
        assert_eq!(
            query(Protocol::Ec2Query, body),
            json!({"attribute": "userData", "instanceId": "i-1", "value": HIDDEN})
        );
    }

    #[test]
    fn query_text_keeps_names_in_wire_order() {
        let body = "Action=CreateRole&Version=2010-05-08&RoleName=r%22&Path=%2F\
                    &Tags.member.1.Key=a&Tags.member.1.Value=1";
        let params = Params::decode(Protocol::AwsQuery, body.as_bytes(), 1 << 20).unwrap();
        assert_eq!(
            from_query(&params).unwrap(),
            r#"{"path":"/","roleName":"r\"","tags":[{"key":"a","value":"1"}]}"#
        );
    }

    #[test]
    fn secrets_are_hidden_and_empty_requests_are_null() {
        let body = "Action=ChangePassword&Version=2010-05-08&OldPassword=hunter2&NewPassword=x";
        let value = query(Protocol::AwsQuery, body);
        assert_eq!(value, json!({"newPassword": HIDDEN, "oldPassword": HIDDEN}));
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        assert_eq!(query(Protocol::AwsQuery, body), Value::Null);
        let json =
            json!({"LookupAttributes": [{"AttributeKey": "EventName"}], "SessionToken": "t"});
        assert_eq!(
            from_json(&json),
            Some(
                json!({"lookupAttributes": [{"attributeKey": "EventName"}], "sessionToken": HIDDEN})
                    .to_string()
            )
        );
        assert_eq!(from_json(&json!({})), None);
    }

    #[test]
    fn written_names_are_lower_camel_json_strings() {
        for name in [
            "RoleName",
            "",
            "X",
            "Ümlaut",
            "İstanbul",
            "\"Quoted\\",
            "a.b",
        ] {
            let mut out = String::new();
            push_lower_camel(&mut out, name);
            assert_eq!(out, Value::from(lower_camel(name)).to_string(), "{name}");
        }
    }

    #[test]
    fn absurdly_deep_names_are_skipped() {
        let deep = vec!["A"; 10_000].join(".");
        let body = format!("Action=X&Version=1&{deep}=v&RoleName=r");
        assert_eq!(query(Protocol::AwsQuery, &body), json!({"roleName": "r"}));
        let deepest = ["B"; MAX_DEPTH].join(".");
        let too_deep = vec!["C"; MAX_DEPTH + 1].join(".");
        let body = format!("Action=X&Version=1&{deepest}=v&{too_deep}=w");
        let value = query(Protocol::AwsQuery, &body);
        assert_eq!(value.pointer(&"/b".repeat(MAX_DEPTH)), Some(&json!("v")));
        assert_eq!(value.get("c"), None);
    }
}
