//! The resources a call names, read from its parameters: LookupEvents' `Resources`
//! ({ResourceType, ResourceName}) and, where an ARN is at hand, the record's `resources`.

use protocol::Params;

use super::json_text::Object;

/// Parameters that name a resource, and its CloudFormation-style type.
const NAMED: &[(&str, &str)] = &[
    ("RoleName", "AWS::IAM::Role"),
    ("RoleArn", "AWS::IAM::Role"),
    ("UserName", "AWS::IAM::User"),
    ("GroupName", "AWS::IAM::Group"),
    ("PolicyArn", "AWS::IAM::Policy"),
    ("InstanceProfileName", "AWS::IAM::InstanceProfile"),
    ("AccessKeyId", "AWS::IAM::AccessKey"),
    ("InstanceId", "AWS::EC2::Instance"),
];

/// ec2Query lists of IDs (`InstanceId.1`, `HostId.1`, …): the member, the resource type, and
/// the resource type in the ARN the record gives each.
const LISTED: &[(&str, &str, &str)] = &[
    ("InstanceId", "AWS::EC2::Instance", "instance"),
    ("HostId", "AWS::EC2::Host", "dedicated-host"),
];

/// Lists of IDs are capped: a record names the first few, like CloudTrail's own.
const MAX_LISTED: usize = 50;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resources {
    items: Vec<(&'static str, String)>,
}

pub fn from_query(params: &Params) -> Resources {
    // One pass over the names rather than a lookup per member, each of which would first
    // build the member's wire name.
    let mut named: [Option<&str>; NAMED.len()] = [None; NAMED.len()];
    let mut listed = [false; LISTED.len()];
    for (name, value) in params.entries() {
        if let Some(at) = NAMED.iter().position(|&(member, _)| member == name) {
            named[at] = Some(value);
        }
        if let Some((member, _)) = name.split_once('.')
            && let Some(at) = LISTED.iter().position(|&(list, _, _)| list == member)
        {
            listed[at] = true;
        }
    }
    let mut items: Vec<(&'static str, String)> = NAMED
        .iter()
        .zip(named)
        .filter_map(|(&(_, kind), value)| Some((kind, value?.to_owned())))
        .collect();
    for (&(member, kind, _), present) in LISTED.iter().zip(listed) {
        if present && let Ok(ids) = params.list_str(member) {
            items.extend(
                ids.into_iter()
                    .take(MAX_LISTED)
                    .map(|id| (kind, id.to_owned())),
            );
        }
    }
    Resources { items }
}

/// An S3 call's bucket and object, as CloudTrail lists them.
pub fn s3(bucket: Option<&str>, key: Option<&str>) -> Resources {
    let mut items = Vec::new();
    if let Some(bucket) = bucket {
        if let Some(key) = key {
            items.push(("AWS::S3::Object", format!("arn:aws:s3:::{bucket}/{key}")));
        }
        items.push(("AWS::S3::Bucket", format!("arn:aws:s3:::{bucket}")));
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
        let mut json = String::with_capacity(2 + 64 * self.items.len());
        json.push('[');
        for (i, (kind, name)) in self.items.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            let mut entry = Object::open(&mut json);
            entry.str("ResourceType", kind).str("ResourceName", name);
            entry.end();
        }
        json.push(']');
        json
    }

    /// The record's `resources` as JSON text: entries whose ARN is known without a lookup;
    /// `None` when there are none.
    pub fn record_json(&self, account: &str, region: &str) -> Option<String> {
        let mut json = String::new();
        for (kind, name) in &self.items {
            let ec2_type = LISTED
                .iter()
                .find(|&&(_, listed, _)| listed == *kind)
                .map(|&(_, _, arn_type)| arn_type);
            if !name.starts_with("arn:") && ec2_type.is_none() {
                continue;
            }
            json.push(if json.is_empty() { '[' } else { ',' });
            let mut entry = Object::open(&mut json);
            match ec2_type {
                Some(arn_type) if !name.starts_with("arn:") => {
                    entry.concat(
                        "ARN",
                        &[
                            "arn:aws:ec2:",
                            region,
                            ":",
                            account,
                            ":",
                            arn_type,
                            "/",
                            name,
                        ],
                    );
                }
                _ => {
                    entry.str("ARN", name);
                }
            }
            entry.str("accountId", account).str("type", kind);
            entry.end();
        }
        if json.is_empty() {
            return None;
        }
        json.push(']');
        Some(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Protocol;
    use serde_json::json;

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
            r.record_json("1", "us-east-1").unwrap(),
            json!([{"ARN": "arn:aws:iam::1:role/r", "accountId": "1", "type": "AWS::IAM::Role"}])
                .to_string()
        );
        let body =
            b"Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2";
        let r = from_query(&Params::decode(Protocol::Ec2Query, body, 1 << 20).unwrap());
        assert_eq!(
            r.record_json("1", "eu-west-1").unwrap(),
            json!([{"ARN": "arn:aws:ec2:eu-west-1:1:instance/i-1", "accountId": "1",
                    "type": "AWS::EC2::Instance"},
                   {"ARN": "arn:aws:ec2:eu-west-1:1:instance/i-2", "accountId": "1",
                    "type": "AWS::EC2::Instance"}])
            .to_string()
        );
        assert!(r.lookup_json().contains(r#""ResourceName":"i-2""#));
        let body = b"Action=ReleaseHosts&Version=2016-11-15&HostId.1=h-1";
        let r = from_query(&Params::decode(Protocol::Ec2Query, body, 1 << 20).unwrap());
        assert_eq!(
            r.record_json("1", "eu-west-1").unwrap(),
            json!([{"ARN": "arn:aws:ec2:eu-west-1:1:dedicated-host/h-1", "accountId": "1",
                    "type": "AWS::EC2::Host"}])
            .to_string()
        );
        assert_eq!(
            r.lookup_json(),
            r#"[{"ResourceType":"AWS::EC2::Host","ResourceName":"h-1"}]"#
        );
        let body = b"Action=CreateUser&Version=2010-05-08&UserName=u";
        let r = from_query(&Params::decode(Protocol::AwsQuery, body, 1 << 20).unwrap());
        assert_eq!(
            r.record_json("1", "us-east-1"),
            None,
            "no ARN without a lookup"
        );
        assert_eq!(Resources::default().lookup_json(), "[]");
        let body = b"Action=X&Version=1&GroupName=g&UserName=u&RoleName=r&InstanceId.member.1=i-9";
        let r = from_query(&Params::decode(Protocol::AwsQuery, body, 1 << 20).unwrap());
        assert_eq!(
            r.lookup_json(),
            json!([{"ResourceType": "AWS::IAM::Role", "ResourceName": "r"},
                   {"ResourceType": "AWS::IAM::User", "ResourceName": "u"},
                   {"ResourceType": "AWS::IAM::Group", "ResourceName": "g"},
                   {"ResourceType": "AWS::EC2::Instance", "ResourceName": "i-9"}])
            .to_string(),
            "members in NAMED order, then the listed instances"
        );
    }
}
