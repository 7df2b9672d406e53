//! Dedicated Hosts through aws-sdk-ec2 (AllocateHosts, DescribeHosts, ReleaseHosts, RunInstances
//! with `Placement.HostId`), and each host's agent credential: `roleplane host credentials`
//! prints it as a shared-credentials profile the SDK loads, a call signed with it
//! authenticates and is refused, every operation served refuses it (the walk is the
//! cross-account walk's, so an operation added later is covered), and ReleaseHosts revokes it.

use std::collections::BTreeSet;
use std::process::Command;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata as _;
use aws_sdk_ec2::types::{
    AllocationState, AutoPlacement, Filter, Placement, ResourceType, Tag, TagSpecification, Tenancy,
};
use e2e::raw::{RawResponse, Signer, signed_post};
use e2e::{ACCOUNT_ID, ADMIN_KEY_ID, ADMIN_SECRET, REGION, Server};

use super::isolation::{Victim, error_code, walk};

const IMAGE: &str = "ami-0123456789abcdef0";
const OTHER: &str = "210987654321";

/// (code, message) of a failed EC2 call.
fn error<T, E: aws_sdk_ec2::error::ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>>,
) -> (String, String) {
    let Err(err) = result else {
        panic!("the call succeeds")
    };
    (
        err.code().unwrap_or("<no code>").to_owned(),
        err.message().unwrap_or_default().to_owned(),
    )
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Allocates `quantity` hosts of `family` (tagged `purpose=agents`); returns their IDs.
async fn allocate(ec2: &Client, family: &str, quantity: i32) -> Vec<String> {
    ec2.allocate_hosts()
        .availability_zone("us-east-1a")
        .instance_family(family)
        .quantity(quantity)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::DedicatedHost)
                .tags(Tag::builder().key("purpose").value("agents").build())
                .build(),
        )
        .send()
        .await
        .expect("AllocateHosts")
        .host_ids()
        .to_vec()
}

/// Launches one `instance_type` instance on `host`; returns its ID and private address.
async fn launch_on(ec2: &Client, host: &str, instance_type: &str) -> (String, String) {
    let out = ec2
        .run_instances()
        .image_id(IMAGE)
        .min_count(1)
        .max_count(1)
        .instance_type(instance_type.into())
        .placement(Placement::builder().host_id(host).build())
        .send()
        .await
        .expect("RunInstances on the host");
    let instance = &out.instances()[0];
    (
        instance.instance_id().unwrap().to_owned(),
        instance.private_ip_address().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn hosts_are_allocated_described_placed_on_and_released() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let hosts = allocate(&ec2, "m5", 2).await;
    assert_eq!(hosts.len(), 2);
    let host = hosts[0].clone();
    let spare = hosts[1].clone();
    assert!(host.starts_with("h-") && host.len() == 19, "{host}");

    let described = ec2.describe_hosts().host_ids(&host).send().await.unwrap();
    let shown = &described.hosts()[0];
    assert_eq!(shown.host_id(), Some(host.as_str()));
    assert_eq!(shown.state(), Some(&AllocationState::Available));
    assert_eq!(shown.availability_zone(), Some("us-east-1a"));
    assert_eq!(shown.availability_zone_id(), Some("use1-az1"));
    assert_eq!(shown.auto_placement(), Some(&AutoPlacement::Off));
    assert_eq!(shown.owner_id(), Some(ACCOUNT_ID));
    assert_eq!(
        shown.host_properties().and_then(|p| p.instance_family()),
        Some("m5")
    );
    assert_eq!(
        shown.host_properties().and_then(|p| p.instance_type()),
        None
    );
    assert!(shown.allocation_time().is_some());
    assert!(shown.release_time().is_none());
    assert_eq!(shown.tags()[0].key(), Some("purpose"));
    assert!(shown.instances().is_empty());

    // Filters and listing.
    let all = ec2.describe_hosts().send().await.unwrap();
    assert_eq!(all.hosts().len(), 2);
    let tagged = ec2
        .describe_hosts()
        .filter(filter("tag:purpose", "agents"))
        .filter(filter("state", "available"))
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.hosts().len(), 2);
    let none = ec2
        .describe_hosts()
        .filter(filter("state", "released"))
        .send()
        .await
        .unwrap();
    assert!(none.hosts().is_empty());

    // An instance on the host: DescribeInstances shows its placement, DescribeHosts the instance.
    let (instance, address) = launch_on(&ec2, &host, "m5.large").await;
    // Its metadata is its host agent's to serve (`agent.rs`): `serve` opens no endpoint on its
    // address (decision 0028).
    assert!(
        std::net::TcpStream::connect((address.as_str(), server.imds_port)).is_err(),
        "serve's own metadata service does not serve an instance on a host"
    );
    let reservations = ec2
        .describe_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let placement = reservations.reservations()[0].instances()[0]
        .placement()
        .unwrap();
    assert_eq!(placement.host_id(), Some(host.as_str()));
    assert_eq!(placement.tenancy(), Some(&Tenancy::Host));
    let by_host = ec2
        .describe_instances()
        .filters(filter("host-id", &host))
        .send()
        .await
        .unwrap();
    assert_eq!(by_host.reservations().len(), 1);
    let on_host = ec2.describe_hosts().host_ids(&host).send().await.unwrap();
    let listed = on_host.hosts()[0].instances();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].instance_id(), Some(instance.as_str()));
    assert_eq!(listed[0].instance_type(), Some("m5.large"));
    assert_eq!(listed[0].owner_id(), Some(ACCOUNT_ID));

    // Placement errors.
    let (code, message) = error(
        ec2.run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .instance_type("c5.large".into())
            .placement(Placement::builder().host_id(&host).build())
            .send()
            .await,
    );
    assert_eq!(code, "InsufficientCapacityOnHost", "{message}");
    let (code, message) = error(
        ec2.run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .instance_type("m5.large".into())
            .placement(Placement::builder().host_id("h-0123456789abcdef0").build())
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidHostID.NotFound",
            "The host ID 'h-0123456789abcdef0' does not exist"
        )
    );
    let (code, _) = error(
        ec2.run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .placement(Placement::builder().host_id("host-1").build())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidHostID.Malformed");
    let (code, _) = error(
        ec2.run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .placement(Placement::builder().tenancy(Tenancy::Host).build())
            .send()
            .await,
    );
    assert_eq!(code, "UnsupportedOperation", "no auto-placement");
    let (code, _) = error(
        ec2.describe_hosts()
            .host_ids("h-0123456789abcdef0")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidHostID.NotFound");

    // A host with an instance is not released; the other one is.
    let released = ec2
        .release_hosts()
        .host_ids(&host)
        .host_ids(&spare)
        .send()
        .await
        .unwrap();
    assert_eq!(released.successful(), std::slice::from_ref(&spare));
    let refused = &released.unsuccessful()[0];
    assert_eq!(refused.resource_id(), Some(host.as_str()));
    let refusal = refused.error().unwrap();
    assert_eq!(refusal.code(), Some("Client.InvalidHost.Occupied"));
    assert_eq!(
        refusal.message(),
        Some(format!("Dedicated host '{host}' cannot be released as it is occupied").as_str())
    );

    // A released host is listed as released, takes no instance and is not released twice.
    let gone = ec2.describe_hosts().host_ids(&spare).send().await.unwrap();
    assert_eq!(gone.hosts()[0].state(), Some(&AllocationState::Released));
    assert!(gone.hosts()[0].release_time().is_some());
    let (code, _) = error(
        ec2.run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .instance_type("m5.large".into())
            .placement(Placement::builder().host_id(&spare).build())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidHostState");
    let again = ec2.release_hosts().host_ids(&spare).send().await.unwrap();
    assert!(again.successful().is_empty());
    assert_eq!(
        again.unsuccessful()[0].error().unwrap().code(),
        Some("Client.InvalidHostID.NotFound")
    );

    // Once its instance is terminated, the host goes too.
    ec2.terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let released = ec2.release_hosts().host_ids(&host).send().await.unwrap();
    assert_eq!(released.successful(), std::slice::from_ref(&host));
    let released_filter = ec2
        .describe_hosts()
        .filter(filter("state", "released"))
        .send()
        .await
        .unwrap();
    assert_eq!(released_filter.hosts().len(), 2);
}

#[tokio::test]
async fn allocation_input_is_checked_and_hosts_are_the_accounts_own() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let cases = [
        (
            ec2.allocate_hosts()
                .availability_zone("us-east-1a")
                .instance_type("m5.large")
                .instance_family("m5"),
            "InvalidParameterCombination",
        ),
        (
            ec2.allocate_hosts().availability_zone("us-east-1a"),
            "MissingParameter",
        ),
        (
            ec2.allocate_hosts().instance_family("m5"),
            "MissingParameter",
        ),
        (
            ec2.allocate_hosts()
                .availability_zone("eu-west-1a")
                .instance_family("m5"),
            "InvalidParameterValue",
        ),
        (
            ec2.allocate_hosts()
                .availability_zone("us-east-1a")
                .instance_family("m5")
                .quantity(0),
            "InvalidQuantity",
        ),
        (
            ec2.allocate_hosts()
                .availability_zone("us-east-1a")
                .instance_family("m5")
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::Instance)
                        .tags(Tag::builder().key("k").value("v").build())
                        .build(),
                ),
            "InvalidParameterValue",
        ),
    ];
    for (request, expected) in cases {
        let (code, message) = error(request.send().await);
        assert_eq!(code, expected, "{message}");
    }
    // A host of one instance type, auto-placement on, with a client token that replays it.
    let first = ec2
        .allocate_hosts()
        .availability_zone("us-east-1a")
        .instance_type("m5.large")
        .auto_placement(AutoPlacement::On)
        .client_token("once")
        .send()
        .await
        .unwrap();
    let again = ec2
        .allocate_hosts()
        .availability_zone("us-east-1a")
        .instance_type("m5.large")
        .auto_placement(AutoPlacement::On)
        .client_token("once")
        .send()
        .await
        .unwrap();
    assert_eq!(first.host_ids(), again.host_ids());
    let host = first.host_ids()[0].clone();
    let shown = ec2.describe_hosts().send().await.unwrap();
    assert_eq!(shown.hosts().len(), 1);
    let properties = shown.hosts()[0].host_properties().unwrap();
    assert_eq!(properties.instance_type(), Some("m5.large"));
    assert_eq!(shown.hosts()[0].auto_placement(), Some(&AutoPlacement::On));
    assert_eq!(shown.hosts()[0].client_token(), Some("once"));

    // Tags come and go as on other resources.
    ec2.create_tags()
        .resources(&host)
        .tags(Tag::builder().key("team").value("a").build())
        .send()
        .await
        .unwrap();
    let tagged = ec2
        .describe_tags()
        .filters(filter("resource-type", "dedicated-host"))
        .send()
        .await
        .unwrap();
    let tag = &tagged.tags()[0];
    assert_eq!(
        (tag.resource_id(), tag.key(), tag.value()),
        (Some(host.as_str()), Some("team"), Some("a"))
    );
    assert_eq!(
        tag.resource_type(),
        Some(&aws_sdk_ec2::types::ResourceType::DedicatedHost)
    );
    let by_tag = ec2
        .describe_hosts()
        .filter(filter("tag:team", "a"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_tag.hosts().len(), 1);
    ec2.delete_tags()
        .resources(&host)
        .tags(Tag::builder().key("team").build())
        .send()
        .await
        .unwrap();
    let shown = ec2.describe_hosts().host_ids(&host).send().await.unwrap();
    assert!(shown.hosts()[0].tags().is_empty());

    // Another account sees none of it and releases nothing.
    let (key_id, secret) = server.second_account(OTHER);
    let other = Client::new(&server.config(&key_id, &secret, None).await);
    let (code, _) = error(other.describe_hosts().host_ids(&host).send().await);
    assert_eq!(code, "InvalidHostID.NotFound");
    let (code, _) = error(
        other
            .create_tags()
            .resources(&host)
            .tags(Tag::builder().key("k").value("v").build())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidHostID.NotFound");
    assert!(
        other
            .describe_hosts()
            .send()
            .await
            .unwrap()
            .hosts()
            .is_empty()
    );
    let released = other.release_hosts().host_ids(&host).send().await.unwrap();
    assert!(released.successful().is_empty());
    assert_eq!(
        released.unsuccessful()[0].error().unwrap().code(),
        Some("Client.InvalidHostID.NotFound")
    );
    let (code, _) = error(
        other
            .run_instances()
            .image_id(IMAGE)
            .min_count(1)
            .max_count(1)
            .instance_type("m5.large".into())
            .placement(Placement::builder().host_id(&host).build())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidHostID.NotFound");
    let still = ec2.describe_hosts().host_ids(&host).send().await.unwrap();
    assert_eq!(still.hosts()[0].state(), Some(&AllocationState::Available));
}

/// `roleplane host credentials HOST` beside the running server: (exit success, stdout, stderr).
fn host_credentials(server: &Server, host: &str) -> (bool, String, String) {
    let output = Command::new(e2e::binary())
        .args(["host", "credentials", host, "--data-dir"])
        .arg(&server.data_dir)
        .env_remove("ROLEPLANE_ADMIN_ACCESS_KEY_ID")
        .env_remove("ROLEPLANE_ADMIN_SECRET_ACCESS_KEY")
        .output()
        .expect("run roleplane host credentials");
    (
        output.status.success(),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

/// An SDK configuration reading the credentials file `path`, profile `profile`.
async fn profile_config(
    server: &Server,
    path: &std::path::Path,
    profile: &str,
) -> aws_config::SdkConfig {
    let files = aws_runtime::env_config::file::EnvConfigFiles::builder()
        .with_file(
            aws_runtime::env_config::file::EnvConfigFileKind::Credentials,
            path,
        )
        .build();
    let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
        .profile_files(files)
        .profile_name(profile)
        .build();
    server.provider_config(provider).await
}

/// Whether `response` is the service's refusal of an authenticated caller: 403 with
/// AccessDenied (IAM, STS, S3), UnauthorizedOperation (EC2) or AccessDeniedException (the JSON
/// services); S3's HEAD answers have no body.
fn refused(step_service: &str, response: &RawResponse) -> bool {
    let code = error_code(response);
    let expected = match step_service {
        "ec2" => "UnauthorizedOperation",
        "cloudtrail" | "access-analyzer" => "AccessDeniedException",
        _ => "AccessDenied",
    };
    response.status == 403
        && (code == expected || (response.body.is_empty() && step_service == "s3"))
}

#[tokio::test]
async fn an_agent_credential_authenticates_and_opens_nothing_until_its_host_is_released() {
    let server = Server::start();
    let ec2 = server.ec2().await;
    let host = allocate(&ec2, "m5", 1).await.remove(0);
    let other_host = allocate(&ec2, "m5", 1).await.remove(0);
    let (instance, _) = launch_on(&ec2, &host, "m5.large").await;

    // The CLI prints the host's credential as a profile named after the host.
    let (ok, printed, stderr) = host_credentials(&server, &host);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert_eq!(lines[0], format!("[{host}]"));
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("{name} in {printed}"))
            .to_owned()
    };
    let (key_id, secret) = (field("aws_access_key_id"), field("aws_secret_access_key"));
    assert!(key_id.starts_with("AKIA") && key_id.len() == 20, "{key_id}");
    assert_eq!(secret.len(), 40);
    let (_, other_printed, _) = host_credentials(&server, &other_host);
    assert!(
        !other_printed.contains(&key_id),
        "each host has its own key"
    );
    let (ok, _, stderr) = host_credentials(&server, "h-0123456789abcdef0");
    assert!(!ok && stderr.contains("not an available host"), "{stderr}");

    // The SDK loads the profile; a call signed with it authenticates and is refused.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent-credentials");
    std::fs::write(&file, &printed).unwrap();
    let config = profile_config(&server, &file, &host).await;
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    let host_arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:dedicated-host/{host}");
    assert!(
        err.message().unwrap_or_default().contains(&host_arn),
        "{err:?}"
    );
    let agent_ec2 = Client::new(&config);
    let (code, _) = error(agent_ec2.describe_hosts().send().await);
    assert_eq!(code, "UnauthorizedOperation");
    let (code, _) = error(
        agent_ec2
            .describe_instances()
            .instance_ids(&instance)
            .send()
            .await,
    );
    assert_eq!(code, "UnauthorizedOperation");
    let err = aws_sdk_iam::Client::new(&config)
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    // It is no IAM user: ListUsers shows the admin alone.
    let users = server.iam().await.list_users().send().await.unwrap();
    let names: Vec<_> = users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["admin"]);

    // Every operation served refuses it, whatever it names: the cross-account walk's steps,
    // aimed at this account's own resources where they name one.
    let agent = (key_id.as_str(), secret.as_str());
    let victim = Victim {
        access_key: ADMIN_KEY_ID.to_owned(),
        instance: instance.clone(),
        key_pair: "key-0123456789abcdef0".to_owned(),
        association: "iip-assoc-0123456789abcdef0".to_owned(),
        generation_job: "00000000-0000-0000-0000-000000000000".to_owned(),
        vpc: "vpc-0123456789abcdef0".to_owned(),
        subnet: "subnet-0123456789abcdef0".to_owned(),
        group: "sg-0123456789abcdef0".to_owned(),
        upload: "upload".to_owned(),
        part_etag: "\"etag\"".to_owned(),
        host: other_host.clone(),
    };
    let steps = walk(&victim, "message");
    let failures: Vec<String> = steps
        .iter()
        .filter_map(|step| {
            let response = step.send(&server, agent);
            (!refused(&step.service, &response)).then(|| {
                format!(
                    "{}:{} answered {} {}",
                    step.service, step.operation, response.status, response.body
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let walked: BTreeSet<(String, String)> = steps
        .iter()
        .map(|s| (s.service.clone(), s.operation.clone()))
        .collect();
    let served: BTreeSet<(String, String)> = roleplane::operations()
        .into_iter()
        .flat_map(|(service, ops)| {
            ops.iter()
                .map(move |op| (service.to_owned(), (*op).to_owned()))
        })
        .collect();
    let unwalked: Vec<_> = served.difference(&walked).collect();
    assert!(
        unwalked.is_empty(),
        "operations missing from the walk: {unwalked:?}"
    );

    // Nothing it asked for happened: both hosts and the instance are as they were.
    let hosts = ec2.describe_hosts().send().await.unwrap();
    assert_eq!(hosts.hosts().len(), 2);
    assert!(
        hosts
            .hosts()
            .iter()
            .all(|h| h.state() == Some(&AllocationState::Available))
    );
    let reservations = ec2.describe_instances().send().await.unwrap();
    let running = reservations
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("running"))
        .count();
    assert_eq!(running, 1);

    // Its calls are in the account's trail, under the host.
    let lookup = Signer::new("cloudtrail", (ADMIN_KEY_ID, ADMIN_SECRET)).send(
        &server.endpoint,
        "POST",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            (
                "x-amz-target",
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
            ),
        ],
        format!(
            r#"{{"LookupAttributes":[{{"AttributeKey":"Username","AttributeValue":"{host}"}}],"MaxResults":5}}"#
        )
        .as_bytes(),
    );
    assert_eq!(lookup.status, 200, "{}", lookup.body);
    let body: serde_json::Value = serde_json::from_str(&lookup.body).unwrap();
    let event = &body["Events"][0];
    let record: serde_json::Value =
        serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["userIdentity"]["type"], "HostAgent");
    assert_eq!(record["userIdentity"]["arn"], host_arn.as_str());
    assert_eq!(record["userIdentity"]["accessKeyId"], key_id.as_str());
    assert!(record["errorCode"].as_str().is_some(), "{record}");
    assert!(!lookup.body.contains(&secret));

    // Released, the host's credential no longer authenticates anywhere.
    ec2.terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let released = ec2.release_hosts().host_ids(&host).send().await.unwrap();
    assert_eq!(released.successful(), std::slice::from_ref(&host));
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"), "{err:?}");
    let (code, _) = error(agent_ec2.describe_hosts().send().await);
    assert_eq!(code, "AuthFailure");
    let s3 = Signer::new("s3", agent).s3(&server.endpoint, "GET", "/", &[], b"");
    assert_eq!(
        (s3.status, error_code(&s3).as_str()),
        (403, "InvalidAccessKeyId"),
        "{}",
        s3.body
    );
    let iam = signed_post(
        &server.endpoint,
        "iam",
        agent,
        b"Action=ListUsers&Version=2010-05-08",
    );
    assert_eq!(
        (iam.status, error_code(&iam).as_str()),
        (403, "InvalidClientTokenId")
    );
    let (ok, _, stderr) = host_credentials(&server, &host);
    assert!(!ok, "a released host has no credential to print: {stderr}");
    // The other host's credential is untouched.
    let (ok, _, stderr) = host_credentials(&server, &other_host);
    assert!(ok, "{stderr}");
}
