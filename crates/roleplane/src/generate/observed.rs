//! What one audit record tells the generator: the IAM action the call needed, the resources it
//! was authorized on, and the role it handed to a service, if any.
//!
//! Resources come from the record itself: the ARNs in its `resources` and the names in its
//! `requestParameters`. A name is not an ARN (a role's ARN carries its path), so names stay
//! [`Touched::Named`] until rendering looks them up in the [`Directory`](super::Directory).

use serde::Deserialize;
use serde_json::Value;

use policy::Arn;

use super::directory::ResourceKind;
use super::s3_calls;

/// A resource an action was used on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Touched {
    /// The action takes no resource (or the record does not say which): `"*"`.
    Any,
    Arn(String),
    Named {
        kind: ResourceKind,
        account: String,
        name: String,
    },
    /// An S3 object: rendering groups a bucket's keys ([`super::key_prefixes`]).
    Object {
        bucket: String,
        key: String,
    },
    /// Every object of an S3 bucket (`arn:aws:s3:::bucket/*`).
    AllObjects {
        bucket: String,
    },
}

/// A role handed to a service: the resource of the `iam:PassRole` the call implied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PassedRole {
    /// Named directly (`AddRoleToInstanceProfile`'s `RoleName`).
    Role(Touched),
    /// Carried by an instance profile (EC2's `IamInstanceProfile`): the profile's role.
    Profile { account: String, name: String },
}

/// The service a passed role goes to, for `iam:PassedToService`.
pub const EC2_SERVICE: &str = "ec2.amazonaws.com";

/// One successful call, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub action: String,
    /// Never empty: `[Touched::Any]` when no resource applies.
    pub resources: Vec<Touched>,
    /// `(service, role)` when the call passed a role.
    pub passed: Option<(&'static str, PassedRole)>,
    /// `AddRoleToInstanceProfile` tells which role a profile carries: `(profile, role)`.
    pub profile_role: Option<(String, String)>,
    /// The object a CopyObject read: it needed `s3:GetObject` there too.
    pub copied_from: Option<Touched>,
}

/// The IAM action for a CloudTrail event: `iam.amazonaws.com` + `GetRole` → `iam:GetRole`;
/// an S3 operation's is the action S3 authorizes it with (`HeadObject` → `s3:GetObject`).
pub fn action(event_source: &str, event_name: &str) -> String {
    let service = event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source);
    if service == "s3"
        && let Some(action) = s3_calls::action(event_name)
    {
        return action.to_owned();
    }
    format!("{service}:{event_name}")
}

/// Actions with no resource-level permissions, whatever their parameters name: their policy
/// resource is always `*`, so their records need not be parsed.
pub fn never_scoped(service: &str, event_name: &str) -> bool {
    match service {
        "ec2" => event_name.starts_with("Describe"),
        "sts" => matches!(
            event_name,
            "GetCallerIdentity"
                | "GetSessionToken"
                | "DecodeAuthorizationMessage"
                | "GetAccessKeyInfo"
        ),
        "access-analyzer" | "cloudtrail" => true,
        _ => false,
    }
}

/// Calls that pass a role to a service (AWS checks `iam:PassRole` beside the action).
fn passes_role(service: &str, event_name: &str) -> bool {
    match service {
        "ec2" => matches!(
            event_name,
            "RunInstances" | "AssociateIamInstanceProfile" | "ReplaceIamInstanceProfileAssociation"
        ),
        "iam" => event_name == "AddRoleToInstanceProfile",
        _ => false,
    }
}

/// The parts of a CloudTrail record the generator reads; serde skips the rest unbuilt.
#[derive(Deserialize)]
struct Record {
    #[serde(rename = "requestParameters", default)]
    parameters: Value,
    #[serde(default)]
    resources: Vec<RecordResource>,
}

#[derive(Deserialize)]
struct RecordResource {
    #[serde(rename = "ARN")]
    arn: Option<String>,
}

/// Reads a successful call's record. `account` is the record's account (`recipientAccountId`,
/// also a column of the log). A record that is not JSON yields the action on `*`: the call
/// happened, only its detail is lost.
pub fn observe(event_source: &str, event_name: &str, account: &str, record_json: &str) -> Observed {
    let action = action(event_source, event_name);
    let service = action.split(':').next().unwrap_or_default();
    let scoped = !never_scoped(service, event_name);
    let passes = passes_role(service, event_name);
    let record = if scoped || passes {
        serde_json::from_str::<Record>(record_json).ok()
    } else {
        None
    };
    let mut resources = match &record {
        Some(record) if scoped => self::resources(service, event_name, account, record),
        _ => Vec::new(),
    };
    let copied_from = record
        .as_ref()
        .filter(|_| service == "s3")
        .and_then(|r| s3_calls::copy_source(event_name, &r.parameters));
    if resources.is_empty() {
        resources.push(Touched::Any);
    }
    let parameters = record.as_ref().filter(|_| passes).map(|r| &r.parameters);
    let passed = parameters.and_then(|p| passed_role(service, account, p));
    let profile_role = parameters
        .filter(|_| event_name == "AddRoleToInstanceProfile")
        .and_then(|p| string(p, "instanceProfileName").zip(string(p, "roleName")))
        .map(|(profile, role)| (profile.to_owned(), role.to_owned()));
    Observed {
        action,
        resources,
        passed,
        profile_role,
        copied_from,
    }
}

/// IAM parameters naming the resource an IAM action is authorized on, most specific first:
/// `AddRoleToInstanceProfile` is on the profile, `AttachRolePolicy` on the role.
const IAM_NAMES: &[(&str, ResourceKind)] = &[
    ("instanceProfileName", ResourceKind::InstanceProfile),
    ("roleName", ResourceKind::Role),
    ("userName", ResourceKind::User),
];

fn resources(service: &str, event_name: &str, account: &str, record: &Record) -> Vec<Touched> {
    let parameters = &record.parameters;
    // The record lists the bucket beside the object; the action is on one of them.
    if service == "s3"
        && let Some(touched) = s3_calls::resources(event_name, parameters)
    {
        return touched;
    }
    // A federated user is authorized on its own ARN (`sts:GetFederationToken`).
    if service == "sts"
        && event_name == "GetFederationToken"
        && let Some(name) = string(parameters, "name")
    {
        return vec![Touched::Arn(format!(
            "arn:aws:sts::{account}:federated-user/{name}"
        ))];
    }
    // A rename is authorized on the user as it was and as it becomes.
    if service == "iam"
        && event_name == "UpdateUser"
        && let Some(old) = string(parameters, "userName")
    {
        let new = string(parameters, "newUserName").unwrap_or(old);
        let user = |name: &str| Touched::Named {
            kind: ResourceKind::User,
            account: account.to_owned(),
            name: name.to_owned(),
        };
        let mut touched = vec![user(old)];
        if new != old {
            touched.push(user(new));
        }
        return touched;
    }
    if service == "iam" {
        for &(member, kind) in IAM_NAMES {
            if let Some(name) = string(parameters, member) {
                // A create call names the path too, so the ARN is known exactly.
                return vec![match string(parameters, "path") {
                    Some(path) => Touched::Arn(kind.arn(account, path, name)),
                    None => Touched::Named {
                        kind,
                        account: account.to_owned(),
                        name: name.to_owned(),
                    },
                }];
            }
        }
        if let Some(arn) = string(parameters, "policyArn") {
            return vec![Touched::Arn(arn.to_owned())];
        }
        if let Some(name) = string(parameters, "policyName") {
            let path = string(parameters, "path").unwrap_or("/");
            return vec![Touched::Arn(format!(
                "arn:aws:iam::{account}:policy{path}{name}"
            ))];
        }
    }
    record
        .resources
        .iter()
        .filter_map(|r| r.arn.clone())
        .map(Touched::Arn)
        .collect()
}

fn passed_role(
    service: &str,
    account: &str,
    parameters: &Value,
) -> Option<(&'static str, PassedRole)> {
    let role = if service == "iam" {
        PassedRole::Role(Touched::Named {
            kind: ResourceKind::Role,
            account: account.to_owned(),
            name: string(parameters, "roleName")?.to_owned(),
        })
    } else {
        let profile = parameters.get("iamInstanceProfile")?;
        match (string(profile, "name"), string(profile, "arn")) {
            (Some(name), _) => PassedRole::Profile {
                account: account.to_owned(),
                name: name.to_owned(),
            },
            (None, Some(arn)) => {
                // arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME: names are unique per account.
                // EC2 accepted only its caller's profile ARNs, so a recorded one is of that form.
                let arn = Arn::parse(arn).filter(|a| !a.account.is_empty())?;
                let (_, name) = arn.path_and_name("instance-profile")?;
                PassedRole::Profile {
                    account: arn.account.to_owned(),
                    name: name.to_owned(),
                }
            }
            (None, None) => return None,
        }
    };
    Some((EC2_SERVICE, role))
}

fn string<'a>(value: &'a Value, member: &str) -> Option<&'a str> {
    value.get(member)?.as_str().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ACCOUNT: &str = "123456789012";

    fn observe_json(source: &str, name: &str, record: Value) -> Observed {
        observe(source, name, ACCOUNT, &record.to_string())
    }

    fn named(kind: ResourceKind, name: &str) -> Touched {
        Touched::Named {
            kind,
            account: ACCOUNT.into(),
            name: name.into(),
        }
    }

    #[test]
    fn actions_are_service_prefix_and_event_name() {
        assert_eq!(action("iam.amazonaws.com", "GetRole"), "iam:GetRole");
        assert_eq!(
            action("access-analyzer.amazonaws.com", "ValidatePolicy"),
            "access-analyzer:ValidatePolicy"
        );
    }

    #[test]
    fn federation_and_renames_name_every_resource_they_were_authorized_on() {
        let federated = observe_json(
            "sts.amazonaws.com",
            "GetFederationToken",
            json!({"requestParameters": {"name": "app", "durationSeconds": 900}}),
        );
        assert_eq!(
            federated.resources,
            [Touched::Arn(
                "arn:aws:sts::123456789012:federated-user/app".into()
            )]
        );
        let renamed = observe_json(
            "iam.amazonaws.com",
            "UpdateUser",
            json!({"requestParameters": {"userName": "a", "newUserName": "b"}}),
        );
        assert_eq!(
            renamed.resources,
            [
                named(ResourceKind::User, "a"),
                named(ResourceKind::User, "b")
            ]
        );
        let moved = observe_json(
            "iam.amazonaws.com",
            "UpdateUser",
            json!({"requestParameters": {"userName": "a", "newPath": "/x/"}}),
        );
        assert_eq!(moved.resources, [named(ResourceKind::User, "a")]);
        let info = observe_json(
            "sts.amazonaws.com",
            "GetAccessKeyInfo",
            json!({"requestParameters": {"accessKeyId": "AKIAEXAMPLE"}}),
        );
        assert_eq!(info.resources, [Touched::Any]);
    }

    #[test]
    fn iam_resources_prefer_the_entity_the_action_is_on() {
        let get = observe_json(
            "iam.amazonaws.com",
            "GetRole",
            json!({"requestParameters": {"roleName": "app"}}),
        );
        assert_eq!(get.resources, [named(ResourceKind::Role, "app")]);
        let add = observe_json(
            "iam.amazonaws.com",
            "AddRoleToInstanceProfile",
            json!({"requestParameters": {"instanceProfileName": "p", "roleName": "app"}}),
        );
        assert_eq!(add.resources, [named(ResourceKind::InstanceProfile, "p")]);
        assert_eq!(
            add.passed,
            Some((
                EC2_SERVICE,
                PassedRole::Role(named(ResourceKind::Role, "app"))
            ))
        );
        assert_eq!(add.profile_role, Some(("p".into(), "app".into())));
        let attach = observe_json(
            "iam.amazonaws.com",
            "AttachUserPolicy",
            json!({"requestParameters": {"userName": "u", "policyArn": "arn:aws:iam::aws:policy/X"}}),
        );
        assert_eq!(attach.resources, [named(ResourceKind::User, "u")]);
        let create = observe_json(
            "iam.amazonaws.com",
            "CreateRole",
            json!({"requestParameters": {"roleName": "r", "path": "/team/"}}),
        );
        assert_eq!(
            create.resources,
            [Touched::Arn("arn:aws:iam::123456789012:role/team/r".into())]
        );
        let policy = observe_json(
            "iam.amazonaws.com",
            "GetPolicy",
            json!({"requestParameters": {"policyArn": "arn:aws:iam::123456789012:policy/p"}}),
        );
        assert_eq!(
            policy.resources,
            [Touched::Arn("arn:aws:iam::123456789012:policy/p".into())]
        );
        let list = observe_json(
            "iam.amazonaws.com",
            "ListRoles",
            json!({"requestParameters": null}),
        );
        assert_eq!(list.resources, [Touched::Any]);
    }

    #[test]
    fn other_services_use_the_records_arns_except_unscoped_actions() {
        let instance = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
        let stop = observe_json(
            "ec2.amazonaws.com",
            "StopInstances",
            json!({"resources": [{"ARN": instance, "accountId": ACCOUNT, "type": "AWS::EC2::Instance"}]}),
        );
        assert_eq!(stop.resources, [Touched::Arn(instance.into())]);
        let describe = observe_json(
            "ec2.amazonaws.com",
            "DescribeInstances",
            json!({"resources": [{"ARN": instance}]}),
        );
        assert_eq!(describe.resources, [Touched::Any]);
        let who = observe(
            "sts.amazonaws.com",
            "GetCallerIdentity",
            ACCOUNT,
            "not json",
        );
        assert_eq!(who.resources, [Touched::Any]);
    }

    #[test]
    fn s3_calls_take_s3s_action_on_the_bucket_or_the_object() {
        let record = |names: Value| {
            json!({"requestParameters": names, "resources": [
                {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::data/app/a"},
                {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::data"}]})
        };
        let head = observe_json(
            "s3.amazonaws.com",
            "HeadObject",
            record(json!({"bucketName": "data", "key": "app/a"})),
        );
        assert_eq!(head.action, "s3:GetObject");
        assert_eq!(
            head.resources,
            [Touched::Object {
                bucket: "data".into(),
                key: "app/a".into()
            }]
        );
        let list = observe_json(
            "s3.amazonaws.com",
            "ListObjectsV2",
            record(json!({"bucketName": "data"})),
        );
        assert_eq!(
            (list.action.as_str(), list.resources),
            (
                "s3:ListBucket",
                vec![Touched::Arn("arn:aws:s3:::data".into())]
            )
        );
        let buckets = observe_json("s3.amazonaws.com", "ListBuckets", json!({}));
        assert_eq!(
            (buckets.action.as_str(), buckets.resources),
            ("s3:ListAllMyBuckets", vec![Touched::Any])
        );
        let copy = observe_json(
            "s3.amazonaws.com",
            "CopyObject",
            record(
                json!({"bucketName": "data", "key": "app/b", "x-amz-copy-source": "data/app/a"}),
            ),
        );
        assert_eq!(copy.action, "s3:PutObject");
        assert_eq!(
            copy.copied_from,
            Some(Touched::Object {
                bucket: "data".into(),
                key: "app/a".into()
            })
        );
        assert_eq!(action("s3.amazonaws.com", "UploadPart"), "s3:PutObject");
    }

    #[test]
    fn ec2_calls_pass_the_profiles_role() {
        let run = observe_json(
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"requestParameters": {"iamInstanceProfile": {"name": "web"}}}),
        );
        assert_eq!(run.resources, [Touched::Any]);
        assert_eq!(
            run.passed,
            Some((
                EC2_SERVICE,
                PassedRole::Profile {
                    account: ACCOUNT.into(),
                    name: "web".into()
                }
            ))
        );
        let associate = observe_json(
            "ec2.amazonaws.com",
            "AssociateIamInstanceProfile",
            json!({"requestParameters": {"instanceId": "i-1",
                   "iamInstanceProfile": {"arn": "arn:aws:iam::210987654321:instance-profile/ops/web"}}}),
        );
        assert_eq!(
            associate.passed,
            Some((
                EC2_SERVICE,
                PassedRole::Profile {
                    account: "210987654321".into(),
                    name: "web".into()
                }
            ))
        );
        let plain = observe_json(
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"requestParameters": {"imageId": "ami-1"}}),
        );
        assert_eq!(plain.passed, None);
    }
}
