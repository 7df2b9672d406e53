//! The agent API (decision 0028) through raw SigV4-signed requests: a host's agent credential
//! lists its own host's instances (a long poll), fetches their role credentials (issued and
//! recorded as EC2's `AssumeRole`) and reports what it served, and can do nothing for another
//! host; nobody but an agent may call it.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{IamInstanceProfileSpecification, Placement};
use e2e::agent::{AgentApi, HostKey, error_type, ok_json};
use e2e::raw::Signer;
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};
use serde_json::{Value, json};

const IMAGE: &str = "ami-0123456789abcdef0";
/// The instances' role may ask who it is, and nothing else.
pub const STS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#;

/// Allocates one host of family m5; its ID.
pub async fn allocate(ec2: &Client) -> String {
    ec2.allocate_hosts()
        .availability_zone("us-east-1a")
        .instance_family("m5")
        .quantity(1)
        .send()
        .await
        .expect("AllocateHosts")
        .host_ids()[0]
        .clone()
}

/// Launches one m5.large on `host`, with `profile` if given (and `address` as its private IP
/// if given); its ID and private address.
pub async fn launch_on(
    ec2: &Client,
    host: &str,
    profile: Option<&str>,
    address: Option<&str>,
) -> (String, String) {
    let mut run = ec2
        .run_instances()
        .image_id(IMAGE)
        .min_count(1)
        .max_count(1)
        .instance_type("m5.large".into())
        .placement(Placement::builder().host_id(host).build());
    if let Some(profile) = profile {
        run = run.iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name(profile)
                .build(),
        );
    }
    if let Some(address) = address {
        run = run.private_ip_address(address);
    }
    let out = run.send().await.expect("RunInstances on the host");
    let instance = &out.instances()[0];
    (
        instance.instance_id().unwrap().to_owned(),
        instance.private_ip_address().unwrap().to_owned(),
    )
}

fn ids(listing: &Value) -> Vec<String> {
    listing["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i["view"]["instanceId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_agent_is_served_its_own_hosts_instances_and_credentials_and_nothing_else() {
    let server = Server::start();
    server
        .instance_role("agent-role", "agent-profile", STS_ONLY)
        .await;
    let ec2 = server.ec2().await;
    let (host_a, host_b) = (allocate(&ec2).await, allocate(&ec2).await);
    let (a1, a1_ip) = launch_on(&ec2, &host_a, Some("agent-profile"), None).await;
    let (a2, _) = launch_on(&ec2, &host_a, None, None).await;
    let (b1, _) = launch_on(&ec2, &host_b, Some("agent-profile"), None).await;
    let key_a = HostKey::of(&server, &host_a);
    let key_b = HostKey::of(&server, &host_b);
    let agent_a = AgentApi {
        endpoint: &server.endpoint,
        key: key_a.pair(),
    };
    let agent_b = AgentApi {
        endpoint: &server.endpoint,
        key: key_b.pair(),
    };

    // Its own host: every instance, with what its metadata tree shows, its role and its
    // identity document signed by the control plane.
    let listing = ok_json(&agent_a.list(&host_a, ""));
    assert_eq!(listing["hostId"], host_a.as_str());
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    assert_eq!(ids(&listing), expected);
    let first = listing["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["view"]["instanceId"] == a1.as_str())
        .unwrap();
    assert_eq!(first["view"]["localIpv4"], a1_ip.as_str());
    assert_eq!(first["view"]["hostId"], host_a.as_str());
    assert_eq!(first["view"]["iam"]["roleName"], "agent-role");
    assert_eq!(first["role"]["name"], "agent-role");
    let document = first["identity"]["document"].as_str().unwrap();
    assert!(document.contains(&a1), "{document}");
    assert!(first["identity"]["signature"].as_str().unwrap().len() > 300);
    let version = listing["version"].as_str().unwrap().to_owned();

    // Another host's listing, through its own path or by naming it: refused.
    let other = agent_a.list(&host_b, "");
    assert_eq!(
        (other.status, error_type(&other).as_str()),
        (403, "AccessDeniedException"),
        "{}",
        other.body
    );
    assert!(
        other.body.contains(&format!("bound to host {host_a}")),
        "{}",
        other.body
    );
    assert!(!other.body.contains(&b1));

    // Credentials: its instance's set, the same set again while it is fresh.
    let set = ok_json(&agent_a.credentials(&host_a, &a1, "2.0"));
    assert_eq!(set["result"], "issued");
    let access_key = set["accessKeyId"].as_str().unwrap().to_owned();
    assert!(access_key.starts_with("ASIA"), "{set}");
    let (expiration, refresh_at) = (
        set["expiration"].as_i64().unwrap(),
        set["refreshAt"].as_i64().unwrap(),
    );
    assert!(
        set["issuedAt"].as_i64().unwrap() < refresh_at && refresh_at < expiration,
        "{set}"
    );
    let again = ok_json(&agent_a.credentials(&host_a, &a1, "2.0"));
    assert_eq!(again["accessKeyId"], access_key.as_str());
    let v1 = ok_json(&agent_a.credentials(&host_a, &a1, "1.0"));
    assert_ne!(
        v1["accessKeyId"],
        access_key.as_str(),
        "IMDSv1 gets a set of its own"
    );
    // The set is the instance's role session.
    let config = server
        .config(
            &access_key,
            set["secretAccessKey"].as_str().unwrap(),
            Some(set["token"].as_str().unwrap()),
        )
        .await;
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("the set signs");
    assert!(
        me.arn()
            .unwrap()
            .ends_with(&format!("assumed-role/agent-role/{a1}")),
        "{me:?}"
    );
    assert_eq!(
        ok_json(&agent_a.credentials(&host_a, &a2, "2.0"))["result"],
        "noRole"
    );

    // Another host's instance: unknown on this host, refused on the other's path.
    let stranger = agent_a.credentials(&host_a, &b1, "2.0");
    assert_eq!(
        (stranger.status, error_type(&stranger).as_str()),
        (404, "InvalidInstanceID.NotFound"),
        "{}",
        stranger.body
    );
    let stranger = agent_a.credentials(&host_b, &b1, "2.0");
    assert_eq!(
        (stranger.status, error_type(&stranger).as_str()),
        (403, "AccessDeniedException")
    );
    assert!(!stranger.body.contains("ASIA"));
    // Malformed input: 400 with the reason, nothing issued.
    for body in [
        r#"{"instanceId":"i-nothex","delivery":"2.0"}"#,
        r#"{"instanceId":"i-0123456789abcdef0","delivery":"3.0"}"#,
        r#"{"instance":"x"}"#,
        "not json",
    ] {
        let bad = agent_a.post(&format!("/v1/hosts/{host_a}/credentials"), body.as_bytes());
        assert_eq!(
            (bad.status, error_type(&bad).as_str()),
            (400, "ValidationException"),
            "{body}: {}",
            bad.body
        );
    }
    // A version this server does not speak.
    let v2 = Signer::new(e2e::agent::SERVICE, key_a.pair()).send(
        &server.endpoint,
        "GET",
        &format!("/v2/hosts/{host_a}/instances"),
        &[],
        b"",
    );
    assert_eq!(
        (v2.status, error_type(&v2).as_str()),
        (400, "ValidationException"),
        "{}",
        v2.body
    );

    // Nobody but a host agent calls the agent API: the administrator is refused everything.
    let admin = AgentApi {
        endpoint: &server.endpoint,
        key: (ADMIN_KEY_ID, ADMIN_SECRET),
    };
    let (service, operations) = roleplane::agent_operations();
    assert_eq!(service, e2e::agent::SERVICE);
    for (operation, response) in [
        ("ListHostInstances", admin.list(&host_a, "")),
        (
            "GetInstanceCredentials",
            admin.credentials(&host_a, &a1, "2.0"),
        ),
        (
            "ReportServedCredentials",
            admin.report(&host_a, &json!({"sets": []})),
        ),
    ] {
        assert!(operations.contains(&operation));
        assert_eq!(
            (response.status, error_type(&response).as_str()),
            (403, "AccessDeniedException"),
            "{operation}: {}",
            response.body
        );
        assert!(
            response.body.contains("only a host's agent credential"),
            "{}",
            response.body
        );
    }
    assert_eq!(operations.len(), 3, "every operation is walked above");

    // The long poll: nothing changed, nothing sent; a launch on the host ends the wait.
    let unchanged = ok_json(&agent_a.list(&host_a, &format!("version={version}&wait=1")));
    assert_eq!(unchanged["version"], version.as_str());
    assert!(unchanged.get("instances").is_none(), "{unchanged}");
    let launcher = {
        let ec2 = ec2.clone();
        let host = host_a.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            launch_on(&ec2, &host, None, None).await.0
        })
    };
    let endpoint = server.endpoint.clone();
    let (key_id, secret, host) = (key_a.key_id.clone(), key_a.secret.clone(), host_a.clone());
    let query = format!("version={version}&wait=20");
    let changed = tokio::task::spawn_blocking(move || {
        AgentApi {
            endpoint: &endpoint,
            key: (&key_id, &secret),
        }
        .list(&host, &query)
    })
    .await
    .unwrap();
    let a3 = launcher.await.unwrap();
    let changed = ok_json(&changed);
    assert_ne!(changed["version"], version.as_str());
    assert!(ids(&changed).contains(&a3), "{changed}");
    // Another host's listing did not move.
    let b_listing = ok_json(&agent_b.list(&host_b, ""));
    assert_eq!(ids(&b_listing), vec![b1.clone()]);

    // Reports of served sets: its own instances only.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let served = |instance: &str| {
        json!({"sets": [{"instanceId": instance, "accessKeyId": access_key, "delivery": "2.0",
            "firstServed": now, "lastServed": now, "count": 3}]})
    };
    assert_eq!(
        ok_json(&agent_a.report(&host_a, &served(&a1)))["recorded"],
        1
    );
    let refused = agent_a.report(&host_a, &served(&b1));
    assert_eq!(
        (refused.status, error_type(&refused).as_str()),
        (400, "ValidationException"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains(&format!("never placed on host {host_a}")),
        "{}",
        refused.body
    );

    // The trail: EC2's AssumeRole for the set, and the agent's fetch naming the set (never
    // its secret) under the host.
    let events = lookup(&server, "Username", &host_a);
    let fetch = events
        .iter()
        .find(|r| {
            r["eventName"] == "GetInstanceCredentials"
                && r["responseElements"]["credentials"]["accessKeyId"] == access_key.as_str()
        })
        .expect("the agent's fetch is recorded, naming the set");
    assert_eq!(fetch["userIdentity"]["type"], "HostAgent");
    assert_eq!(fetch["eventSource"], "roleplane-agent.amazonaws.com");
    assert_eq!(fetch["requestParameters"]["instanceId"], a1.as_str());
    assert!(
        fetch["responseElements"]["credentials"]["accessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    let report = events
        .iter()
        .find(|r| r["eventName"] == "ReportServedCredentials" && r["errorCode"].is_null())
        .expect("the report is recorded");
    assert_eq!(
        report["requestParameters"]["sets"][0]["instanceId"],
        a1.as_str()
    );
    assert_eq!(
        report["requestParameters"]["sets"][0]["accessKeyId"],
        access_key.as_str()
    );
    let issued = lookup(&server, "EventName", "AssumeRole");
    assert!(
        issued
            .iter()
            .any(
                |r| r["responseElements"]["credentials"]["accessKeyId"] == access_key.as_str()
                    && r["requestParameters"]["roleSessionName"] == a1.as_str()
                    && r["userIdentity"]["invokedBy"] == "ec2.amazonaws.com"
            ),
        "{issued:?}"
    );
    let everything = serde_json::to_string(&events).unwrap();
    assert!(!everything.contains(set["secretAccessKey"].as_str().unwrap()));
    assert!(!everything.contains(set["token"].as_str().unwrap()));
}

/// The account's trail records matching one lookup attribute, newest first.
pub fn lookup(server: &Server, key: &str, value: &str) -> Vec<Value> {
    let response = Signer::new("cloudtrail", (ADMIN_KEY_ID, ADMIN_SECRET)).send(
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
        json!({"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}], "MaxResults": 50})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let body: Value = serde_json::from_str(&response.body).unwrap();
    body["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect()
}
