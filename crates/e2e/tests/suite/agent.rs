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
    let config = server.provider_config(provider).await;
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

/// Epoch seconds of an IMDS `Expiration` (`2026-01-02T03:04:05Z`).
fn epoch_of(text: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| -> i64 { text[range].parse().expect(text) };
    let (y, m, d) = (number(0..4), number(5..7), number(8..10));
    let (hh, mm, ss) = (number(11..13), number(14..16), number(17..19));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Static stability, with one-minute credentials: the agent serves its sets while no control
/// plane answers, each until its expiry and never after, and resumes by itself when the
/// control plane is back on the same data dir and port (docs/AGENT.md, "What a workload sees").
#[tokio::test]
async fn with_the_control_plane_gone_sets_are_served_until_they_expire_and_the_agent_resumes() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let api = format!("127.0.0.1:{}", e2e::free_port());
    let short = [
        "--api-addr",
        api.as_str(),
        "--imds-credential-lifetime",
        "60",
        "--imds-credential-refresh",
        "20",
    ];
    let margin = [("ROLEPLANE_TEST_ROTATION_MARGIN", "10")];
    let mut server = Server::start_configured(&[], &data, &short, &margin);
    server.instance_role(ROLE, PROFILE, STS_ONLY).await;
    let ec2 = server.ec2().await;
    let host = allocate(&ec2).await;
    let (instance, ip) = launch_on(&ec2, &host, Some(PROFILE), None).await;
    let key = HostKey::of(&server, &host);
    let agent = Agent::start(&[&server.endpoint], &key, temp.path(), &[]);
    let port = agent.instance_port.unwrap();
    let path = format!("/latest/meta-data/iam/security-credentials/{ROLE}");

    // Up: the SDK's provider resolves a one-minute set through the agent.
    let provider = aws_config::imds::credentials::ImdsCredentialsProvider::builder()
        .imds_client(
            aws_config::imds::Client::builder()
                .endpoint(format!("http://{ip}:{port}"))
                .unwrap()
                .build(),
        )
        .build();
    use aws_credential_types::provider::ProvideCredentials as _;
    let creds = provider
        .provide_credentials()
        .await
        .expect("credentials while up");
    let left = creds
        .expiry()
        .unwrap()
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(left <= Duration::from_secs(60), "{left:?}");

    // Down (killed: nothing flushes). Every answer is a set that has not expired, or 404.
    server.kill();
    let mut last_expiry = 0;
    let mut served_keys = std::collections::BTreeSet::new();
    let mut served_after_kill = 0;
    let mut not_found_after_expiry = 0;
    loop {
        let asked = now_secs();
        let v2 = token(&ip, port);
        let reply = get(&ip, port, &path, Some(&v2));
        match reply.status {
            200 => {
                let set = reply.json();
                let expiry = epoch_of(set["Expiration"].as_str().unwrap());
                assert!(
                    expiry > asked,
                    "an expired set was served: {set} at {asked}"
                );
                last_expiry = last_expiry.max(expiry);
                served_keys.insert(set["AccessKeyId"].as_str().unwrap().to_owned());
                served_after_kill += 1;
            }
            404 => {
                assert!(last_expiry > 0, "the held set was served first");
                assert!(
                    now_secs() + 1 >= last_expiry,
                    "404 while a valid set was held"
                );
                not_found_after_expiry += 1;
            }
            other => panic!("unexpected {other}: {reply:?}"),
        }
        // The rest of the tree is served from the cache too.
        let id = get(&ip, port, "/latest/meta-data/instance-id", Some(&v2));
        assert_eq!(id.body, instance);
        if last_expiry > 0 && now_secs() > last_expiry + 3 {
            break;
        }
        assert!(now_secs() < asked + 120, "the outage outlasted every set");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        served_after_kill > 0 && not_found_after_expiry > 0,
        "{served_after_kill} {not_found_after_expiry}"
    );
    assert_eq!(agent.status()["controlPlane"]["answering"], false);
    assert_eq!(agent.status()["servableSets"], 0);

    // Back on the same data dir and port: the agent resumes without a restart.
    let server = Server::start_configured(&[], &data, &short, &margin);
    assert!(
        eventually(Duration::from_secs(60), async || {
            let reply = get(&ip, port, &path, Some(&token(&ip, port)));
            reply.status == 200 && {
                let set = reply.json();
                !served_keys.contains(set["AccessKeyId"].as_str().unwrap())
                    && epoch_of(set["Expiration"].as_str().unwrap()) > now_secs()
            }
        })
        .await,
        "a new set once the control plane is back"
    );
    let config = server.provider_config(provider).await;
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("signing again");
    assert!(me.arn().unwrap().ends_with(&format!("/{instance}")));
    assert_eq!(agent.status()["controlPlane"]["answering"], true);
}

/// `roleplane host rotate-credentials`: the new key printed, the old one kept for the grace.
fn rotate(server: &Server, host: &str, grace: &str) -> HostKey {
    let output = std::process::Command::new(e2e::binary())
        .args([
            "host",
            "rotate-credentials",
            host,
            "--grace",
            grace,
            "--data-dir",
        ])
        .arg(&server.data_dir)
        .output()
        .expect("run roleplane host rotate-credentials");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("stop working at"), "{stderr}");
    HostKey::parse(host, &String::from_utf8(output.stdout).unwrap())
}

/// Rotation (decision 0029): the earlier key works for the grace period, the agent switches to
/// the new one when its file is replaced, without a restart; with no grace the old key is dead
/// at once and the agent keeps serving what it holds until its file is replaced. ReleaseHosts
/// revokes every key: the agent is no longer served.
#[tokio::test]
async fn a_rotated_credential_is_picked_up_and_a_released_host_is_served_no_more() {
    use e2e::agent::{AgentApi, error_type};
    let server = Server::start();
    server.instance_role(ROLE, PROFILE, STS_ONLY).await;
    let ec2 = server.ec2().await;
    let host = allocate(&ec2).await;
    let (instance, ip) = launch_on(&ec2, &host, Some(PROFILE), None).await;
    let dir = tempfile::tempdir().unwrap();
    let first = HostKey::of(&server, &host);
    let agent = Agent::start(&[&server.endpoint], &first, dir.path(), &[]);
    let port = agent.instance_port.unwrap();
    let path = format!("/latest/meta-data/iam/security-credentials/{ROLE}");
    let api = |key: &HostKey| {
        AgentApi {
            endpoint: &server.endpoint,
            key: key.pair(),
        }
        .list(&host, "")
    };
    let key_in_use = || {
        agent.status()["controlPlane"]["accessKeyId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(key_in_use(), first.key_id);

    // With a grace: both keys work; `host credentials` prints the new one.
    let second = rotate(&server, &host, "600");
    assert_ne!(second.key_id, first.key_id);
    assert_eq!(api(&first).status, 200);
    assert_eq!(api(&second).status, 200);
    assert_eq!(HostKey::of(&server, &host).key_id, second.key_id);
    second.write_to(dir.path());
    assert!(
        eventually(Duration::from_secs(40), async || key_in_use()
            == second.key_id)
        .await,
        "the agent reads its replaced file"
    );

    // No grace: the earlier keys stop at once. Until its file is replaced the agent is refused
    // and serves what it holds; then it is back, still without a restart.
    let third = rotate(&server, &host, "0");
    for old in [&first, &second] {
        let refused = api(old);
        assert_eq!(
            (refused.status, error_type(&refused).as_str()),
            (403, "UnrecognizedClientException"),
            "{}",
            refused.body
        );
    }
    assert!(
        eventually(Duration::from_secs(40), async || !agent
            .logged("does not know the agent credential")
            .is_empty())
        .await,
        "the agent's calls are refused"
    );
    let held = get(&ip, port, &path, Some(&token(&ip, port)));
    assert_eq!(held.status, 200, "the held set is still served");
    third.write_to(dir.path());
    assert!(
        eventually(Duration::from_secs(40), async || key_in_use()
            == third.key_id
            && agent.status()["controlPlane"]["answering"] == true)
        .await
    );
    let launched_later = launch_on(&ec2, &host, None, None).await.0;
    assert!(
        eventually(
            Duration::from_secs(20),
            async || agent.status()["instances"] == 2
        )
        .await,
        "listings flow again: {launched_later}"
    );

    // Released (its instances gone first): the credential is unknown everywhere, and the agent
    // has nothing left to serve.
    ec2.terminate_instances()
        .instance_ids(&instance)
        .instance_ids(&launched_later)
        .send()
        .await
        .unwrap();
    assert!(
        eventually(
            Duration::from_secs(20),
            async || agent.status()["instances"] == 0
        )
        .await
    );
    let released = ec2.release_hosts().host_ids(&host).send().await.unwrap();
    assert_eq!(released.successful(), std::slice::from_ref(&host));
    let refused = api(&third);
    assert_eq!(
        (refused.status, error_type(&refused).as_str()),
        (403, "UnrecognizedClientException")
    );
    assert!(
        std::net::TcpStream::connect((ip.as_str(), port)).is_err(),
        "no endpoint for a terminated instance"
    );
}

/// Audit (issue 17 item 5): the agent reports which set it served to which instance, how often;
/// the trail holds the reports beside EC2's `AssumeRole` of each set, so it tells which instance
/// used which set. A stopping agent reports what it served last.
#[tokio::test]
async fn the_trail_tells_which_instance_was_served_which_set() {
    let server = Server::start();
    server.instance_role(ROLE, PROFILE, STS_ONLY).await;
    let ec2 = server.ec2().await;
    let host = allocate(&ec2).await;
    let (a1, a1_ip) = launch_on(&ec2, &host, Some(PROFILE), None).await;
    let (a2, a2_ip) = launch_on(&ec2, &host, Some(PROFILE), None).await;
    let dir = tempfile::tempdir().unwrap();
    let key = HostKey::of(&server, &host);
    let mut agent = Agent::start(
        &[&server.endpoint],
        &key,
        dir.path(),
        &["--report-interval", "1"],
    );
    let port = agent.instance_port.unwrap();
    let path = format!("/latest/meta-data/iam/security-credentials/{ROLE}");
    let key_of = |reply: e2e::imds::Reply| reply.json()["AccessKeyId"].as_str().unwrap().to_owned();
    let mut a1_v2 = String::new();
    for _ in 0..3 {
        a1_v2 = key_of(get(&a1_ip, port, &path, Some(&token(&a1_ip, port))));
    }
    let a1_v1 = key_of(get(&a1_ip, port, &path, None));
    let a2_v2 = key_of(get(&a2_ip, port, &path, Some(&token(&a2_ip, port))));

    // Served counts by (instance, set, delivery), summed over every report in the trail.
    let served = || {
        let mut counts = std::collections::BTreeMap::new();
        for record in super::agent_api::lookup(&server, "EventName", "ReportServedCredentials") {
            assert_eq!(record["userIdentity"]["type"], "HostAgent");
            assert_eq!(record["userIdentity"]["principalId"], host.as_str());
            for set in record["requestParameters"]["sets"].as_array().unwrap() {
                let entry = (
                    set["instanceId"].as_str().unwrap().to_owned(),
                    set["accessKeyId"].as_str().unwrap().to_owned(),
                    set["delivery"].as_str().unwrap().to_owned(),
                );
                assert!(
                    set["firstServed"].as_i64() <= set["lastServed"].as_i64(),
                    "{set}"
                );
                *counts.entry(entry).or_insert(0) += set["count"].as_u64().unwrap();
            }
        }
        counts
    };
    let expected = |a1_v2_count: u64| {
        std::collections::BTreeMap::from([
            ((a1.clone(), a1_v2.clone(), "2.0".to_owned()), a1_v2_count),
            ((a1.clone(), a1_v1.clone(), "1.0".to_owned()), 1),
            ((a2.clone(), a2_v2.clone(), "2.0".to_owned()), 1),
        ])
    };
    assert!(
        eventually(Duration::from_secs(20), async || served() == expected(3)).await,
        "{:?}",
        served()
    );
    // Each set is EC2's AssumeRole for that instance's role session.
    let issued = super::agent_api::lookup(&server, "EventName", "AssumeRole");
    for (instance, access_key) in [(&a1, &a1_v2), (&a1, &a1_v1), (&a2, &a2_v2)] {
        assert!(
            issued
                .iter()
                .any(|r| r["userIdentity"]["invokedBy"] == "ec2.amazonaws.com"
                    && r["requestParameters"]["roleSessionName"] == instance.as_str()
                    && r["responseElements"]["credentials"]["accessKeyId"] == access_key.as_str()),
            "{instance} {access_key}"
        );
    }
    // One more serve, then SIGTERM: the last report goes out before the agent leaves.
    get(&a1_ip, port, &path, Some(&token(&a1_ip, port)));
    assert!(agent.stop(), "a clean exit");
    assert_eq!(served(), expected(4));
}
