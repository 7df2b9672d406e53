//! `roleplane agent` on one machine: a host's instances served from the agent, by the address
//! they reach (`--instance-port`) and by their source address on a shared endpoint
//! (`--listen 127.0.0.1:PORT`, each client bound to its instance's 127.x address); the same
//! wire as `serve`'s metadata service, credentials the control plane issued, identity
//! documents it signed, changes followed by long poll, and `roleplane run --host-id`.

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::HttpTokensState;
use e2e::Server;
use e2e::agent::{Agent, HostKey, request_from};
use e2e::imds::{get, request, token};

use super::agent_api::{STS_ONLY, allocate, launch_on};
use super::imds_identity::{ca_show, fetch, verify_as_aws_does};

const ROLE: &str = "agent-role";
const PROFILE: &str = "agent-profile";

/// Retries `check` every 100 ms for up to `limit`; whether it held (no timing is asserted:
/// the limit is far beyond the bound the agent documents).
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_agent_serves_its_hosts_instances_as_ec2s_metadata_service_does() {
    let server = Server::start();
    server.instance_role(ROLE, PROFILE, STS_ONLY).await;
    let ec2 = server.ec2().await;
    let (host, other_host) = (allocate(&ec2).await, allocate(&ec2).await);
    let (a1, a1_ip) = launch_on(&ec2, &host, Some(PROFILE), None).await;
    let (a2, a2_ip) = launch_on(&ec2, &host, None, None).await;
    let (_b1, b1_ip) = launch_on(&ec2, &other_host, Some(PROFILE), None).await;
    let dir = tempfile::tempdir().unwrap();
    let key = HostKey::of(&server, &host);
    let agent = Agent::start(&[&server.endpoint], &key, dir.path(), &[]);
    let port = agent.instance_port.expect("an instance port");
    let shared = agent.listen[0];

    // By the address reached: the instance's own endpoint, IMDSv2 and IMDSv1.
    let v2 = token(&a1_ip, port);
    let shown = get(&a1_ip, port, "/latest/meta-data/instance-id", Some(&v2));
    assert_eq!((shown.status, shown.body.as_str()), (200, a1.as_str()));
    assert_eq!(shown.header("server"), Some("EC2ws"));
    let placed = get(&a1_ip, port, "/latest/meta-data/placement/host-id", None);
    assert_eq!((placed.status, placed.body.as_str()), (200, host.as_str()));
    let listing = get(
        &a1_ip,
        port,
        "/latest/meta-data/iam/security-credentials/",
        Some(&v2),
    );
    assert_eq!(listing.body, ROLE);
    let path = format!("/latest/meta-data/iam/security-credentials/{ROLE}");
    let set = get(&a1_ip, port, &path, Some(&v2)).json();
    assert_eq!(set["Code"], "Success");
    let v1_set = get(&a1_ip, port, &path, None).json();
    assert_ne!(
        set["AccessKeyId"], v1_set["AccessKeyId"],
        "ec2:RoleDelivery 1.0 and 2.0 sets"
    );
    // A token is bound to its instance.
    let other = get(&a2_ip, port, "/latest/meta-data/instance-id", Some(&v2));
    assert_eq!(other.status, 401);
    let none = get(&a2_ip, port, &path, None);
    assert_eq!(none.status, 404, "no profile, no credentials");

    // By source address on the shared endpoint: the same instance, the same set.
    let by_source = request_from(
        &a1_ip,
        shared,
        "GET",
        &path,
        &[("X-aws-ec2-metadata-token", &v2)],
    )
    .await;
    assert_eq!(by_source.status, 200, "{by_source:?}");
    assert_eq!(by_source.json()["AccessKeyId"], set["AccessKeyId"]);
    let who = request_from(&a2_ip, shared, "GET", "/latest/meta-data/instance-id", &[]).await;
    assert_eq!(who.body, a2);
    // Another host's instance, and an address that is no instance: nobody here.
    let stranger = request_from(&b1_ip, shared, "GET", "/latest/meta-data/instance-id", &[]).await;
    assert_eq!(stranger.status, 404);
    let stranger = request(
        "127.0.0.1",
        shared.port(),
        "GET",
        "/latest/meta-data/instance-id",
        &[],
    );
    assert_eq!(stranger.status, 404);
    assert!(
        std::net::TcpStream::connect((b1_ip.as_str(), port)).is_err(),
        "no endpoint for another host's instance"
    );

    // The SDK's IMDS provider resolves the set and signs with it, as the instance's session.
    let client = aws_config::imds::Client::builder()
        .endpoint(format!("http://{a1_ip}:{port}"))
        .expect("endpoint")
        .build();
    let provider = aws_config::imds::credentials::ImdsCredentialsProvider::builder()
        .imds_client(client)
        .build();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(e2e::REGION))
        .endpoint_url(&server.endpoint)
        .credentials_provider(provider)
        .load()
        .await;
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the agent's credentials");
    assert!(
        me.arn()
            .unwrap()
            .ends_with(&format!("assumed-role/{ROLE}/{a1}")),
        "{me:?}"
    );

    // The identity document, signed by the control plane, verifies as AWS's pages verify.
    let work = tempfile::tempdir().unwrap();
    let certificate = ca_show(&server.data_dir);
    assert!(certificate.status.success());
    std::fs::write(work.path().join("certificate"), &certificate.stdout).unwrap();
    verify_as_aws_does(work.path(), &fetch(&a1_ip, port, Some(&v2)));

    // The health endpoint.
    let status = agent.status();
    assert_eq!(status["hostId"], host.as_str());
    assert_eq!(status["instances"], 2);
    assert_eq!(status["controlPlane"]["answering"], true);
    let ready = request(
        &agent.health.unwrap().ip().to_string(),
        agent.health.unwrap().port(),
        "GET",
        "/readyz",
        &[],
    );
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));

    // Changes follow: options, a new instance, a terminated one.
    ec2.modify_instance_metadata_options()
        .instance_id(&a1)
        .http_tokens(HttpTokensState::Required)
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), async || {
            get(&a1_ip, port, "/latest/meta-data/instance-id", None).status == 401
        })
        .await,
        "HttpTokens=required reaches the agent"
    );
    let (a3, a3_ip) = launch_on(&ec2, &host, Some(PROFILE), None).await;
    assert!(
        eventually(Duration::from_secs(10), async || {
            std::net::TcpStream::connect((a3_ip.as_str(), port)).is_ok()
                && get(&a3_ip, port, "/latest/meta-data/instance-id", None).body == a3
        })
        .await,
        "a new instance is served"
    );
    ec2.terminate_instances()
        .instance_ids(&a2)
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), async || {
            request_from(&a2_ip, shared, "GET", "/latest/meta-data/instance-id", &[])
                .await
                .status
                == 404
        })
        .await,
        "a terminated instance is no longer served"
    );
}

#[tokio::test]
async fn roleplane_run_runs_a_command_as_an_instance_on_a_host() {
    let server = Server::start();
    server.instance_role(ROLE, PROFILE, STS_ONLY).await;
    let ec2 = server.ec2().await;
    let host = allocate(&ec2).await;
    let dir = tempfile::tempdir().unwrap();
    let key = HostKey::of(&server, &host);
    let agent = Agent::start(&[&server.endpoint], &key, dir.path(), &[]);
    let port = agent.instance_port.unwrap().to_string();
    // The command reads its credentials from the endpoint `run` gives it, as an SDK does.
    let script = "set -e; t=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' ${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/api/token); \
         curl -sf -H \"X-aws-ec2-metadata-token: $t\" ${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/placement/host-id; echo; \
         curl -sf -H \"X-aws-ec2-metadata-token: $t\" ${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/iam/security-credentials/agent-role";
    let out = std::process::Command::new(e2e::binary())
        .args([
            "run",
            "--instance-profile",
            PROFILE,
            "--host-id",
            &host,
            "--imds-port",
            &port,
            "--instance-type",
            "m5.large",
            "--data-dir",
        ])
        .arg(&server.data_dir)
        .args(["--", "sh", "-c", script])
        .output()
        .expect("run roleplane run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (first, rest) = stdout.split_once('\n').unwrap();
    assert_eq!(first, host.as_str());
    let set: serde_json::Value = serde_json::from_str(rest).unwrap();
    assert_eq!(set["Code"], "Success");
    // The instance was on the host, and is gone.
    let described = ec2.describe_instances().send().await.unwrap();
    let instance = &described.reservations()[0].instances()[0];
    assert_eq!(
        instance.placement().and_then(|p| p.host_id()),
        Some(host.as_str())
    );
    assert_eq!(
        instance.state().and_then(|s| s.name()).map(|n| n.as_str()),
        Some("terminated")
    );
}
