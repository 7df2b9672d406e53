//! EC2 instances and instance-profile associations through the real aws-sdk-ec2 crate.

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Filter, HttpTokensState, IamInstanceProfileAssociationState, IamInstanceProfileSpecification,
    InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, InstanceStateName, ResourceType,
    Tag, TagSpecification,
};
use e2e::Server;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const IMAGE: &str = "ami-11aa22bb";

/// Code, message and HTTP status of a failed call.
fn failure<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R>(
    result: Result<T, SdkError<E, R>>,
) -> (String, String, u16)
where
    R: std::fmt::Debug,
    SdkError<E, R>: HasStatus,
{
    let err = result.expect_err("the call fails");
    let status = err.status();
    let service = err.as_service_error().expect("a service error");
    (
        service.code().unwrap_or_default().to_owned(),
        service.message().unwrap_or_default().to_owned(),
        status,
    )
}

trait HasStatus {
    fn status(&self) -> u16;
}

impl<E> HasStatus for SdkError<E, aws_sdk_ec2::config::http::HttpResponse> {
    fn status(&self) -> u16 {
        self.raw_response().map_or(0, |r| r.status().as_u16())
    }
}

/// A role in a profile of the same name; returns the profile ARN.
async fn profile_with_role(server: &Server, name: &str) -> String {
    let iam = server.iam().await;
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let profile = iam
        .create_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name(name)
        .role_name(name)
        .send()
        .await
        .unwrap();
    profile.instance_profile().unwrap().arn().to_owned()
}

fn by_name(name: &str) -> IamInstanceProfileSpecification {
    IamInstanceProfileSpecification::builder()
        .name(name)
        .build()
}

async fn launch(ec2: &aws_sdk_ec2::Client, count: i32) -> Vec<String> {
    let out = ec2
        .run_instances()
        .image_id(IMAGE)
        .min_count(count)
        .max_count(count)
        .send()
        .await
        .unwrap();
    out.instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_owned())
        .collect()
}

async fn associations_of(
    ec2: &aws_sdk_ec2::Client,
    instance_id: &str,
) -> Vec<aws_sdk_ec2::types::IamInstanceProfileAssociation> {
    ec2.describe_iam_instance_profile_associations()
        .filters(
            Filter::builder()
                .name("instance-id")
                .values(instance_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .iam_instance_profile_associations()
        .to_vec()
}

#[tokio::test]
async fn a_multi_instance_launch_associates_every_instance() {
    let server = Server::start();
    let arn = profile_with_role(&server, "s3access-profile").await;
    let ec2 = server.ec2().await;
    let out = ec2
        .run_instances()
        .image_id(IMAGE)
        .instance_type("t3.micro".into())
        .min_count(1)
        .max_count(3)
        .iam_instance_profile(by_name("s3access-profile"))
        .send()
        .await
        .unwrap();
    assert!(out.reservation_id().unwrap().starts_with("r-"));
    assert_eq!(out.owner_id(), Some(e2e::ACCOUNT_ID));
    let instances = out.instances();
    assert_eq!(instances.len(), 3);
    let mut addresses = Vec::new();
    for (index, i) in instances.iter().enumerate() {
        let id = i.instance_id().unwrap();
        assert!(id.starts_with("i-") && id.len() == 19, "{id}");
        assert_eq!(i.state().unwrap().name(), Some(&InstanceStateName::Pending));
        assert_eq!(i.state().unwrap().code(), Some(0));
        assert_eq!(i.ami_launch_index(), Some(index as i32));
        assert_eq!(i.iam_instance_profile().unwrap().arn(), Some(arn.as_str()));
        assert!(
            i.iam_instance_profile()
                .unwrap()
                .id()
                .unwrap()
                .starts_with("AIPA")
        );
        let ip: std::net::Ipv4Addr = i.private_ip_address().unwrap().parse().unwrap();
        assert!(
            ip.is_loopback() && ip != std::net::Ipv4Addr::LOCALHOST,
            "{ip}"
        );
        addresses.push(ip);
        assert_eq!(
            i.placement().unwrap().availability_zone(),
            Some("us-east-1a")
        );
    }
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 3, "addresses are unique");

    // The next read shows them running and every association associated.
    let described = ec2.describe_instances().send().await.unwrap();
    let all: Vec<_> = described
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    assert_eq!(all.len(), 3);
    for i in &all {
        assert_eq!(i.state().unwrap().name(), Some(&InstanceStateName::Running));
        assert_eq!(i.state().unwrap().code(), Some(16));
        let associations = associations_of(&ec2, i.instance_id().unwrap()).await;
        assert_eq!(associations.len(), 1);
        assert_eq!(
            associations[0].state(),
            Some(&IamInstanceProfileAssociationState::Associated)
        );
        assert_eq!(
            associations[0].iam_instance_profile().unwrap().arn(),
            Some(arn.as_str())
        );
    }
}

#[tokio::test]
async fn associate_replace_disassociate_walk_through_their_states() {
    let server = Server::start();
    let first = profile_with_role(&server, "TestRole-1").await;
    let second = profile_with_role(&server, "TestRole-2").await;
    let ec2 = server.ec2().await;
    let id = launch(&ec2, 1).await.remove(0);

    let associated = ec2
        .associate_iam_instance_profile()
        .instance_id(&id)
        .iam_instance_profile(by_name("TestRole-1"))
        .send()
        .await
        .unwrap();
    let a = associated.iam_instance_profile_association().unwrap();
    assert_eq!(
        a.state(),
        Some(&IamInstanceProfileAssociationState::Associating)
    );
    assert_eq!(a.instance_id(), Some(id.as_str()));
    let first_id = a.association_id().unwrap().to_owned();
    assert!(first_id.starts_with("iip-assoc-") && first_id.len() == 27);
    assert_eq!(
        a.iam_instance_profile().unwrap().arn(),
        Some(first.as_str())
    );

    let now = associations_of(&ec2, &id).await;
    assert_eq!(
        now[0].state(),
        Some(&IamInstanceProfileAssociationState::Associated)
    );

    // A second association is refused while one is active.
    let (code, message, status) = failure(
        ec2.associate_iam_instance_profile()
            .instance_id(&id)
            .iam_instance_profile(by_name("TestRole-2"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message, status),
        (
            "IncorrectState",
            format!("There is an existing association for instance {id}"),
            400
        )
    );

    // Replace by ARN: a new association ID, the old one ends.
    let replaced = ec2
        .replace_iam_instance_profile_association()
        .association_id(&first_id)
        .iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .arn(&second)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let r = replaced.iam_instance_profile_association().unwrap();
    let second_id = r.association_id().unwrap().to_owned();
    assert_ne!(second_id, first_id);
    assert_eq!(
        r.state(),
        Some(&IamInstanceProfileAssociationState::Associating)
    );
    assert_eq!(
        r.iam_instance_profile().unwrap().arn(),
        Some(second.as_str())
    );
    let old = ec2
        .describe_iam_instance_profile_associations()
        .association_ids(&first_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.iam_instance_profile_associations()[0].state(),
        Some(&IamInstanceProfileAssociationState::Disassociated)
    );
    let described = ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let instance = &described.reservations()[0].instances()[0];
    assert_eq!(
        instance.iam_instance_profile().unwrap().arn(),
        Some(second.as_str())
    );

    // Replacing the ended association is refused.
    let (code, message, _) = failure(
        ec2.replace_iam_instance_profile_association()
            .association_id(&first_id)
            .iam_instance_profile(by_name("TestRole-1"))
            .send()
            .await,
    );
    assert_eq!(code, "IncorrectState");
    assert_eq!(
        message,
        format!("The association {first_id} is not the active association")
    );

    let gone = ec2
        .disassociate_iam_instance_profile()
        .association_id(&second_id)
        .send()
        .await
        .unwrap();
    let g = gone.iam_instance_profile_association().unwrap();
    assert_eq!(
        g.state(),
        Some(&IamInstanceProfileAssociationState::Disassociating)
    );
    let active = ec2
        .describe_iam_instance_profile_associations()
        .filters(Filter::builder().name("instance-id").values(&id).build())
        .filters(Filter::builder().name("state").values("associated").build())
        .send()
        .await
        .unwrap();
    assert!(active.iam_instance_profile_associations().is_empty());
    let described = ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    assert!(
        described.reservations()[0].instances()[0]
            .iam_instance_profile()
            .is_none()
    );
}

#[tokio::test]
async fn replace_needs_a_running_instance_and_associate_a_running_or_stopped_one() {
    let server = Server::start();
    profile_with_role(&server, "p1").await;
    profile_with_role(&server, "p2").await;
    let ec2 = server.ec2().await;
    let id = launch(&ec2, 1).await.remove(0);
    let association = ec2
        .associate_iam_instance_profile()
        .instance_id(&id)
        .iam_instance_profile(by_name("p1"))
        .send()
        .await
        .unwrap();
    let association_id = association
        .iam_instance_profile_association()
        .unwrap()
        .association_id()
        .unwrap()
        .to_owned();
    let stopped = ec2.stop_instances().instance_ids(&id).send().await.unwrap();
    let change = &stopped.stopping_instances()[0];
    assert_eq!(
        change.current_state().unwrap().name(),
        Some(&InstanceStateName::Stopping)
    );
    assert_eq!(
        change.previous_state().unwrap().name(),
        Some(&InstanceStateName::Running)
    );
    let (code, message, _) = failure(
        ec2.replace_iam_instance_profile_association()
            .association_id(&association_id)
            .iam_instance_profile(by_name("p2"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        (
            "IncorrectState",
            format!("The association {association_id} is not the active association")
        )
    );
    // On a stopped instance: disassociate, then associate.
    ec2.disassociate_iam_instance_profile()
        .association_id(&association_id)
        .send()
        .await
        .unwrap();
    ec2.associate_iam_instance_profile()
        .instance_id(&id)
        .iam_instance_profile(by_name("p2"))
        .send()
        .await
        .unwrap();

    let started = ec2
        .start_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let change = &started.starting_instances()[0];
    assert_eq!(change.current_state().unwrap().code(), Some(0));
    assert_eq!(change.previous_state().unwrap().code(), Some(80));

    let terminated = ec2
        .terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let change = &terminated.terminating_instances()[0];
    assert_eq!(
        change.current_state().unwrap().name(),
        Some(&InstanceStateName::ShuttingDown)
    );
    assert_eq!(
        change.previous_state().unwrap().name(),
        Some(&InstanceStateName::Running)
    );
    let described = ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let instance = &described.reservations()[0].instances()[0];
    assert_eq!(
        instance.state().unwrap().name(),
        Some(&InstanceStateName::Terminated)
    );
    assert_eq!(instance.state().unwrap().code(), Some(48));
    assert!(
        associations_of(&ec2, &id)
            .await
            .iter()
            .all(|a| a.state() == Some(&IamInstanceProfileAssociationState::Disassociated))
    );

    let (code, message, status) = failure(
        ec2.associate_iam_instance_profile()
            .instance_id(&id)
            .iam_instance_profile(by_name("p1"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message, status),
        (
            "IncorrectInstanceState",
            format!("The instance '{id}' is not in the 'running' or 'stopped' states."),
            400
        )
    );
    let (code, _, _) = failure(ec2.start_instances().instance_ids(&id).send().await);
    assert_eq!(code, "IncorrectInstanceState");
}

#[tokio::test]
async fn bad_ids_and_profiles_get_ec2s_errors() {
    let server = Server::start();
    profile_with_role(&server, "real").await;
    let ec2 = server.ec2().await;
    let id = launch(&ec2, 1).await.remove(0);

    let cases = [
        (
            failure(ec2.describe_instances().instance_ids("ma1").send().await),
            ("InvalidInstanceID.Malformed", "Invalid id: \"ma1\""),
        ),
        (
            failure(
                ec2.describe_instances()
                    .instance_ids("i-0123456789abcdef0")
                    .send()
                    .await,
            ),
            (
                "InvalidInstanceID.NotFound",
                "The instance ID 'i-0123456789abcdef0' does not exist",
            ),
        ),
        (
            failure(
                ec2.associate_iam_instance_profile()
                    .instance_id("i-0123456789abcdef0")
                    .iam_instance_profile(by_name("real"))
                    .send()
                    .await,
            ),
            (
                "InvalidInstanceID.NotFound",
                "The instance ID 'i-0123456789abcdef0' does not exist",
            ),
        ),
        (
            failure(
                ec2.replace_iam_instance_profile_association()
                    .association_id(&id)
                    .iam_instance_profile(by_name("real"))
                    .send()
                    .await,
            ),
            ("InvalidParameterValue", "Invalid value for associationId."),
        ),
        (
            failure(
                ec2.disassociate_iam_instance_profile()
                    .association_id("iip-assoc-0123456789abcdef0")
                    .send()
                    .await,
            ),
            (
                "InvalidAssociationID.NotFound",
                "The association ID 'iip-assoc-0123456789abcdef0' does not exist",
            ),
        ),
        (
            failure(
                ec2.associate_iam_instance_profile()
                    .instance_id(&id)
                    .iam_instance_profile(by_name("nope"))
                    .send()
                    .await,
            ),
            (
                "InvalidParameterValue",
                "Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
            ),
        ),
        (
            failure(
                ec2.run_instances()
                    .image_id(IMAGE)
                    .min_count(1)
                    .max_count(1)
                    .iam_instance_profile(
                        IamInstanceProfileSpecification::builder()
                            .arn("arn:aws:iam::123456789012:instance-profile/nope")
                            .build(),
                    )
                    .send()
                    .await,
            ),
            (
                "InvalidParameterValue",
                "Value (arn:aws:iam::123456789012:instance-profile/nope) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN",
            ),
        ),
    ];
    for ((code, message, status), (want_code, want_message)) in cases {
        assert_eq!(
            (code.as_str(), message.as_str(), status),
            (want_code, want_message, 400)
        );
    }
    // A failed launch launched nothing.
    let all = ec2.describe_instances().send().await.unwrap();
    assert_eq!(all.reservations().len(), 1);
}

#[tokio::test]
async fn a_client_token_makes_run_instances_idempotent() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let run = |token: &'static str, count: i32| {
        ec2.run_instances()
            .image_id(IMAGE)
            .min_count(count)
            .max_count(count)
            .client_token(token)
            .send()
    };
    let first = run("token-1", 2).await.unwrap();
    let again = run("token-1", 2).await.unwrap();
    assert_eq!(first.reservation_id(), again.reservation_id());
    let ids = |r: &aws_sdk_ec2::operation::run_instances::RunInstancesOutput| {
        r.instances()
            .iter()
            .map(|i| i.instance_id().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&again));
    let (code, _, status) = failure(run("token-1", 3).await);
    assert_eq!(
        (code.as_str(), status),
        ("IdempotentParameterMismatch", 400)
    );
    let all = ec2.describe_instances().send().await.unwrap();
    assert_eq!(all.reservations().len(), 1, "no second launch");
    let by_token = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("client-token")
                .values("token-1")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.reservations()[0].instances().len(), 2);
}

#[tokio::test]
async fn filters_and_pagination() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    ec2.import_key_pair()
        .key_name("my-key-pair")
        .public_key_material(aws_sdk_ec2::primitives::Blob::new(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm6HYUS+qqLMx8WnF9ybpt5SwXtGRmHaBZip9zjCSyq",
        ))
        .send()
        .await
        .unwrap();
    for (env, count) in [("prod", 4), ("dev", 3)] {
        ec2.run_instances()
            .image_id(IMAGE)
            .instance_type(
                if env == "prod" {
                    "m5.large"
                } else {
                    "t3.micro"
                }
                .into(),
            )
            .key_name("my-key-pair")
            .min_count(count)
            .max_count(count)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key("Env").value(env).build())
                    .tags(
                        Tag::builder()
                            .key("Name")
                            .value(format!("{env}-web"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let count = |out: &aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput| {
        out.reservations()
            .iter()
            .map(|r| r.instances().len())
            .sum::<usize>()
    };
    let filtered = |name: &'static str, values: &'static [&'static str]| {
        let mut filter = Filter::builder().name(name);
        for v in values {
            filter = filter.values(*v);
        }
        ec2.describe_instances().filters(filter.build()).send()
    };
    assert_eq!(count(&filtered("tag:Env", &["prod"]).await.unwrap()), 4);
    assert_eq!(count(&filtered("tag:Name", &["d*-w?b"]).await.unwrap()), 3);
    assert_eq!(count(&filtered("tag-key", &["Env"]).await.unwrap()), 7);
    assert_eq!(
        count(
            &filtered("instance-type", &["t3.micro", "m5.large"])
                .await
                .unwrap()
        ),
        7
    );
    assert_eq!(
        count(&filtered("instance-state-code", &["16"]).await.unwrap()),
        7
    );
    assert_eq!(
        count(&filtered("instance-state-name", &["stopped"]).await.unwrap()),
        0
    );
    assert_eq!(
        count(&filtered("key-name", &["my-key-pair"]).await.unwrap()),
        7
    );
    assert_eq!(
        count(
            &filtered("metadata-options.http-tokens", &["optional"])
                .await
                .unwrap()
        ),
        7
    );
    let prod = filtered("tag:Env", &["prod"]).await.unwrap();
    let one = prod.reservations()[0].instances()[0].clone();
    let ip = one.private_ip_address().unwrap().to_owned();
    let by_ip = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("private-ip-address")
                .values(ip)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(count(&by_ip), 1);
    let (code, message, _) = failure(filtered("owner-alias", &["x"]).await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "The filter 'owner-alias' is invalid"
        )
    );

    // Pages of 5: 5 then 2, each instance once.
    let page1 = ec2
        .describe_instances()
        .max_results(5)
        .send()
        .await
        .unwrap();
    assert_eq!(count(&page1), 5);
    let token = page1.next_token().expect("a second page").to_owned();
    let page2 = ec2
        .describe_instances()
        .max_results(5)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(count(&page2), 2);
    assert!(page2.next_token().is_none());
    let mut seen: Vec<String> = [&page1, &page2]
        .iter()
        .flat_map(|p| p.reservations().iter().flat_map(|r| r.instances()))
        .map(|i| i.instance_id().unwrap().to_owned())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);

    let (code, _, _) = failure(ec2.describe_instances().max_results(4).send().await);
    assert_eq!(code, "InvalidParameterValue");
    let (code, message, _) = failure(
        ec2.describe_instances()
            .max_results(5)
            .instance_ids(one.instance_id().unwrap())
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults"
        )
    );
}

#[tokio::test]
async fn association_listing_pages() {
    let server = Server::start();
    profile_with_role(&server, "web").await;
    let ec2 = server.ec2().await;
    ec2.run_instances()
        .image_id(IMAGE)
        .min_count(6)
        .max_count(6)
        .iam_instance_profile(by_name("web"))
        .send()
        .await
        .unwrap();
    let page1 = ec2
        .describe_iam_instance_profile_associations()
        .max_results(5)
        .send()
        .await
        .unwrap();
    assert_eq!(page1.iam_instance_profile_associations().len(), 5);
    let page2 = ec2
        .describe_iam_instance_profile_associations()
        .max_results(5)
        .next_token(page1.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page2.iam_instance_profile_associations().len(), 1);
    assert!(page2.next_token().is_none());
    let (code, message, _) = failure(
        ec2.describe_iam_instance_profile_associations()
            .filters(Filter::builder().name("instance-type").values("x").build())
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "The filter 'instance-type' is invalid"
        )
    );
}

#[tokio::test]
async fn racing_associations_on_one_instance_let_exactly_one_win() {
    let server = Server::start();
    profile_with_role(&server, "a").await;
    profile_with_role(&server, "b").await;
    let ec2 = server.ec2().await;
    let other = server.ec2().await;
    for id in launch(&ec2, 4).await {
        let (left, right) = tokio::join!(
            ec2.associate_iam_instance_profile()
                .instance_id(&id)
                .iam_instance_profile(by_name("a"))
                .send(),
            other
                .associate_iam_instance_profile()
                .instance_id(&id)
                .iam_instance_profile(by_name("b"))
                .send(),
        );
        let wins = [left.is_ok(), right.is_ok()];
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{id}: {wins:?}");
        let (code, _, _) = if left.is_ok() {
            failure(right)
        } else {
            failure(left)
        };
        assert_eq!(code, "IncorrectState");
        assert_eq!(associations_of(&ec2, &id).await.len(), 1);
    }
}

#[tokio::test]
async fn metadata_options_and_account_defaults() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let defaults = ec2.get_instance_metadata_defaults().send().await.unwrap();
    let account = defaults.account_level().unwrap();
    assert!(account.http_tokens().is_none() && account.http_put_response_hop_limit().is_none());

    let id = launch(&ec2, 1).await.remove(0);
    let described = ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let options = described.reservations()[0].instances()[0]
        .metadata_options()
        .unwrap()
        .clone();
    assert_eq!(options.http_tokens(), Some(&HttpTokensState::Optional));
    assert_eq!(options.http_put_response_hop_limit(), Some(1));
    assert_eq!(
        options.http_endpoint(),
        Some(&InstanceMetadataEndpointState::Enabled)
    );

    let modified = ec2
        .modify_instance_metadata_defaults()
        .http_tokens(aws_sdk_ec2::types::MetadataDefaultHttpTokensState::Required)
        .http_put_response_hop_limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(modified.r#return(), Some(true));
    let defaults = ec2.get_instance_metadata_defaults().send().await.unwrap();
    let account = defaults.account_level().unwrap();
    assert_eq!(account.http_put_response_hop_limit(), Some(2));

    // Defaults apply at launch; the request's own options win over them.
    let out = ec2
        .run_instances()
        .image_id(IMAGE)
        .min_count(1)
        .max_count(1)
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_put_response_hop_limit(3)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let options = out.instances()[0].metadata_options().unwrap();
    assert_eq!(options.http_tokens(), Some(&HttpTokensState::Required));
    assert_eq!(options.http_put_response_hop_limit(), Some(3));

    let changed = ec2
        .modify_instance_metadata_options()
        .instance_id(&id)
        .http_tokens(HttpTokensState::Required)
        .http_endpoint(InstanceMetadataEndpointState::Disabled)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.instance_id(), Some(id.as_str()));
    let options = changed.instance_metadata_options().unwrap();
    assert_eq!(options.state().map(|s| s.as_str()), Some("pending"));
    assert_eq!(options.http_tokens(), Some(&HttpTokensState::Required));
    let described = ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let options = described.reservations()[0].instances()[0]
        .metadata_options()
        .unwrap()
        .clone();
    assert_eq!(options.state().map(|s| s.as_str()), Some("applied"));
    assert_eq!(
        options.http_endpoint(),
        Some(&InstanceMetadataEndpointState::Disabled)
    );
    assert_eq!(
        options.http_put_response_hop_limit(),
        Some(1),
        "untouched members stay"
    );

    let (code, message, _) = failure(
        ec2.modify_instance_metadata_options()
            .instance_id(&id)
            .http_put_response_hop_limit(65)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(message.contains("httpPutResponseHopLimit"), "{message}");

    // no-preference clears a default.
    ec2.modify_instance_metadata_defaults()
        .http_tokens(aws_sdk_ec2::types::MetadataDefaultHttpTokensState::NoPreference)
        .http_put_response_hop_limit(-1)
        .send()
        .await
        .unwrap();
    let defaults = ec2.get_instance_metadata_defaults().send().await.unwrap();
    let account = defaults.account_level().unwrap();
    assert!(account.http_tokens().is_none() && account.http_put_response_hop_limit().is_none());
}
