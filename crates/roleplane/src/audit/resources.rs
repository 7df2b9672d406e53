//! The resources a call names, read from its parameters: LookupEvents' `Resources`
//! ({ResourceType, ResourceName}) and, where an ARN is at hand, the record's `resources`.

use serde_json::{Value, json};

use crate::protocol::Params;

/// Parameters that name a resource, and its CloudFormation-style type.
const NAMED: &[(&str, &str)] = &[
    ("RoleName", "AWS::IAM::Role"),
    ("RoleArn", "AWS::IAM::Role"),
    ("UserName", "AWS::IAM::User"),
    ("PolicyArn", "AWS::IAM::Policy"),
    ("InstanceProfileName", "AWS::IAM::InstanceProfile"),
    ("AccessKeyId", "AWS::IAM::AccessKey"),
    ("InstanceId", "AWS::EC2::Instance"),
];

/// Lists of instance IDs are capped: a record names the first few, like CloudTrail's own.
const MAX_LISTED: usize = 50;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resources {
    items: Vec<(&'static str, String)>,
}

pub fn from_query(params: &Params) -> Resources {
    let mut items = Vec::new();
    for &(member, kind) in NAMED {
        if let Some(value) = params.optional_str(member) {
            items.push((kind, value.to_owned()));
        }
    }
    // ec2Query lists: InstanceId.1, InstanceId.2, …
    if let Ok(ids) = params.list_str("InstanceId") {
        items.extend(
            ids.into_iter()
                .take(MAX_LISTED)
                .map(|id| ("AWS::EC2::Instance", id.to_owned())),
        );
    }
    Resources { items }
}

impl Resources {
    pub fn one(kind: &'static str, name: &str) -> Self {
        Resources {
            items: vec![(kind, name.to_owned())],
        }
    }

    /// LookupEvents' `Resources`, as the JSON the store keeps beside the record.
    pub fn lookup_json(&self) -> String {
        Value::Array(
            self.items
                .iter()
                .map(|(kind, name)| json!({"ResourceType": kind, "ResourceName": name}))
                .collect(),
        )
        .to_string()
    }

    /// The record's `resources`: entries whose ARN is known without a lookup.
    pub fn record_entries(&self, account: &str, region: &str) -> Vec<Value> {
        self.items
            .iter()
            .filter_map(|(kind, name)| {
                let arn = if name.starts_with("arn:") {
                    name.clone()
                } else if *kind == "AWS::EC2::Instance" {
                    format!("arn:aws:ec2:{region}:{account}:instance/{name}")
                } else {
                    return None;
                };
                Some(json!({"ARN": arn, "accountId": account, "type": kind}))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Protocol;

    #[test]
    fn names_and_arns_from_parameters() {
        let body =
            b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/r&RoleSessionName=s";
        let r = from_query(&Params::decode(Protocol::AwsQuery, body, 1 << 20).unwrap());
        assert_eq!(
            r.lookup_json(),
            r#"[{"ResourceType":"AWS::IAM::Role","ResourceName":"arn:aws:iam::1:role/r"}]"#
        );
        assert_eq!(
            r.record_entries("1", "us-east-1"),
            [json!({"ARN": "arn:aws:iam::1:role/r", "accountId": "1", "type": "AWS::IAM::Role"})]
        );
        let body =
            b"Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2";
        let r = from_query(&Params::decode(Protocol::Ec2Query, body, 1 << 20).unwrap());
        assert_eq!(r.record_entries("1", "eu-west-1").len(), 2);
        assert!(r.lookup_json().contains(r#""ResourceName":"i-2""#));
    }
}
