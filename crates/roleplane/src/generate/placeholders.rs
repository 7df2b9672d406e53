//! `includeResourcePlaceholders`: each ARN becomes its resource type's template, the way
//! Access Analyzer spells them (`arn:aws:s3:::${BucketName}`) with the variable names of the
//! Service Authorization Reference (`${RoleNameWithPath}`, `${InstanceId}`, …), so the policy
//! says which kind of resource each action needs without naming the ones seen.

use policy::Arn;

/// The template for `arn`; an ARN of a type not listed keeps its type and hides the rest.
pub fn placeholder(arn: &str) -> String {
    let Some(Arn {
        partition,
        service,
        region,
        account,
        resource: rest,
    }) = Arn::parse(arn)
    else {
        return arn.to_owned();
    };
    let region = if region.is_empty() { "" } else { "${Region}" };
    // `aws` (AWS-managed policies) and other non-account owners stay as they are.
    let account = if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        "${Account}"
    } else {
        account
    };
    // S3's ARNs have no type segment: a bucket, or a bucket and an object key.
    if service == "s3" && account.is_empty() {
        let template = match rest.contains('/') {
            true => "${BucketName}/${ObjectName}",
            false => "${BucketName}",
        };
        return format!("arn:{partition}:s3:::{template}");
    }
    let resource_type = rest.split(['/', ':']).next().unwrap_or(rest);
    let variable = match (service, resource_type) {
        ("iam", "role") => "${RoleNameWithPath}",
        ("iam", "user") => "${UserNameWithPath}",
        ("iam", "instance-profile") => "${InstanceProfileNameWithPath}",
        ("iam", "policy") => "${PolicyNameWithPath}",
        ("ec2", "instance") => "${InstanceId}",
        _ => "${ResourceName}",
    };
    if resource_type == rest {
        return format!("arn:{partition}:{service}:{region}:{account}:{variable}");
    }
    let separator = &rest[resource_type.len()..resource_type.len() + 1];
    format!("arn:{partition}:{service}:{region}:{account}:{resource_type}{separator}{variable}")
}

#[cfg(test)]
mod tests {
    use super::placeholder;

    #[test]
    fn arns_become_their_types_templates() {
        assert_eq!(
            placeholder("arn:aws:iam::123456789012:role/team/app"),
            "arn:aws:iam::${Account}:role/${RoleNameWithPath}"
        );
        assert_eq!(
            placeholder("arn:aws:iam::123456789012:instance-profile/web"),
            "arn:aws:iam::${Account}:instance-profile/${InstanceProfileNameWithPath}"
        );
        assert_eq!(
            placeholder("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc"),
            "arn:aws:ec2:${Region}:${Account}:instance/${InstanceId}"
        );
        assert_eq!(
            placeholder("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            "arn:aws:iam::aws:policy/${PolicyNameWithPath}"
        );
        assert_eq!(placeholder("*"), "*");
        assert_eq!(
            placeholder("arn:aws:s3:::data"),
            "arn:aws:s3:::${BucketName}"
        );
        assert_eq!(
            placeholder("arn:aws:s3:::data/app/*"),
            "arn:aws:s3:::${BucketName}/${ObjectName}"
        );
    }
}
