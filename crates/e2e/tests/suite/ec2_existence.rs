//! Whether an instance or association ID exists is told only to a caller allowed to ask: EC2
//! authorizes against the ARN an ID implies before it looks for the resource. A caller without
//! permission gets UnauthorizedOperation for a real and an invented ID alike; another account's
//! admin gets the operation's NotFound for this account's IDs, and nothing changes.

use e2e::raw::{RawResponse, signed_post};
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};

const ADMIN: (&str, &str) = (ADMIN_KEY_ID, ADMIN_SECRET);
const MISSING_INSTANCE: &str = "i-0123456789abcdef0";
const MISSING_ASSOCIATION: &str = "iip-assoc-0123456789abcdef0";
const OTHER_ACCOUNT: &str = "210987654321";

fn call(server: &Server, key: (&str, &str), action: &str, params: &str) -> RawResponse {
    let body = format!("Action={action}&Version=2016-11-15{params}");
    signed_post(&server.endpoint, "ec2", key, body.as_bytes())
}

fn code(response: &RawResponse) -> &str {
    response
        .body
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or("", |(code, _)| code)
}

/// Every EC2 operation that names an instance or association ID, with that ID in its
/// parameters (`{i}` an instance ID, `{a}` an association ID).
const OPERATIONS: &[(&str, &str)] = &[
    ("DescribeInstances", "&InstanceId.1={i}"),
    ("StartInstances", "&InstanceId.1={i}"),
    ("StopInstances", "&InstanceId.1={i}"),
    ("TerminateInstances", "&InstanceId.1={i}"),
    (
        "ModifyInstanceMetadataOptions",
        "&InstanceId={i}&HttpTokens=required",
    ),
    (
        "AssociateIamInstanceProfile",
        "&InstanceId={i}&IamInstanceProfile.Name=p",
    ),
    (
        "ReplaceIamInstanceProfileAssociation",
        "&AssociationId={a}&IamInstanceProfile.Name=p",
    ),
    ("DisassociateIamInstanceProfile", "&AssociationId={a}"),
    (
        "DescribeIamInstanceProfileAssociations",
        "&AssociationId.1={a}",
    ),
];

fn params(template: &str, instance: &str, association: &str) -> String {
    template
        .replace("{i}", instance)
        .replace("{a}", association)
}

/// A running instance with profile `p` associated: its ID and its association's ID.
async fn instance_with_profile(server: &Server) -> (String, String) {
    server
        .instance_role("p", "p", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#)
        .await;
    let (instance, _) = server.launch(Some("p")).await;
    let described = server
        .ec2()
        .await
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .unwrap();
    let association = described.iam_instance_profile_associations()[0]
        .association_id()
        .unwrap()
        .to_owned();
    (instance, association)
}

/// What must not change: state, association, metadata options.
async fn snapshot(server: &Server, instance: &str) -> String {
    let ec2 = server.ec2().await;
    let described = ec2
        .describe_instances()
        .instance_ids(instance)
        .send()
        .await
        .unwrap();
    let i = &described.reservations()[0].instances()[0];
    let associations = ec2
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .unwrap();
    format!(
        "{:?} {:?} {:?}",
        i.state().and_then(|s| s.name()),
        i.metadata_options().and_then(|m| m.http_tokens()),
        associations.iam_instance_profile_associations()
    )
}

#[tokio::test]
async fn a_caller_without_permission_cannot_tell_which_ids_exist() {
    let server = Server::start();
    let (instance, association) = instance_with_profile(&server).await;
    let before = snapshot(&server, &instance).await;
    let key = server.user_with_key("nobody").await;
    let nobody = (key.access_key_id(), key.secret_access_key());
    for (action, template) in OPERATIONS {
        for (i, a) in [
            (instance.as_str(), association.as_str()),
            (MISSING_INSTANCE, MISSING_ASSOCIATION),
        ] {
            let response = call(&server, nobody, action, &params(template, i, a));
            assert_eq!(
                (response.status, code(&response)),
                (403, "UnauthorizedOperation"),
                "{action} on {i} / {a}: {}",
                response.body
            );
        }
    }
    assert_eq!(snapshot(&server, &instance).await, before);
}

#[tokio::test]
async fn another_accounts_ids_are_not_found_and_stay_unchanged() {
    let server = Server::start();
    let (instance, association) = instance_with_profile(&server).await;
    let before = snapshot(&server, &instance).await;
    let (key_id, secret) = second_account(&server);
    let other = (key_id.as_str(), secret.as_str());
    // The other account has a profile `p` of its own, so nothing fails for want of one.
    let other_iam = aws_sdk_iam::Client::new(&server.config(&key_id, &secret, None).await);
    other_iam
        .create_instance_profile()
        .instance_profile_name("p")
        .send()
        .await
        .unwrap();
    for (action, template) in OPERATIONS {
        let expected = if template.contains("{a}") {
            "InvalidAssociationID.NotFound"
        } else {
            "InvalidInstanceID.NotFound"
        };
        let response = call(
            &server,
            other,
            action,
            &params(template, &instance, &association),
        );
        assert_eq!(
            (response.status, code(&response)),
            (400, expected),
            "{action}: {}",
            response.body
        );
        // The admin of this account is answered the same way for an ID that exists nowhere.
        let response = call(
            &server,
            ADMIN,
            action,
            &params(template, MISSING_INSTANCE, MISSING_ASSOCIATION),
        );
        assert_eq!(
            (response.status, code(&response)),
            (400, expected),
            "{action}: {}",
            response.body
        );
    }
    assert_eq!(snapshot(&server, &instance).await, before);
}

/// `roleplane account create` beside the running server; its admin's key pair.
fn second_account(server: &Server) -> (String, String) {
    server.second_account(OTHER_ACCOUNT)
}
