//! `roleplane run --instance-profile NAME -- CMD ARGS…`: run any program "as an instance".
//!
//! Launches an instance with the profile through the server's own EC2 API (signed like any
//! client), waits until the association is `associated`, runs CMD with the instance's metadata
//! service as its only source of AWS credentials, and terminates the instance afterwards —
//! also when CMD fails or the run is interrupted. The exit status is CMD's.

use std::ffi::OsString;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::datadir::ADMIN_PROFILE;

/// The file `serve` writes at ready so that `run` (and scripts) find the listeners.
pub const ENDPOINTS_FILE: &str = "endpoints.json";
/// An image ID for the launch; roleplane has no images, any well-formed ID does.
const IMAGE_ID: &str = "ami-0123456789abcdef0";
const EC2_VERSION: &str = "2016-11-15";
/// How long to wait for the association to become `associated` and IMDS to accept.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const API_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The instance profile the instance is launched with.
    #[arg(long)]
    pub instance_profile: String,

    /// The AWS API of the server; defaults to the one the data dir's server announced.
    #[arg(long, env = "ROLEPLANE_API_ENDPOINT")]
    pub api_endpoint: Option<String>,

    /// The server's data dir: its admin credentials and `endpoints.json`.
    #[arg(long, env = "ROLEPLANE_DATA_DIR", default_value = "roleplane-data")]
    pub data_dir: PathBuf,

    /// The metadata service's port, when the data dir has no `endpoints.json` (a remote
    /// server); with `--host-id`, the host agent's `--instance-port` (required then).
    #[arg(long, env = "ROLEPLANE_IMDS_PORT")]
    pub imds_port: Option<u16>,

    /// Launch onto this Dedicated Host (`h-…`): the instance's metadata service is then the
    /// host's `roleplane agent`, on its `--instance-port`, which `--imds-port` names.
    #[arg(long, requires = "imds_port")]
    pub host_id: Option<String>,

    /// The instance type to launch (a host takes only its own type or family); EC2's default
    /// when absent.
    #[arg(long)]
    pub instance_type: Option<String>,

    /// The program to run, and its arguments.
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<OsString>,
}

/// Where a running server listens, as written to `DATA_DIR/endpoints.json` at ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// `http://HOST:PORT` of the AWS API.
    pub api: String,
    /// The port of every instance's metadata service.
    pub imds_port: u16,
    pub region: String,
}

impl Endpoints {
    /// Replaces the file in one rename, so a reader never sees half of it.
    pub fn write(&self, data_dir: &Path) -> anyhow::Result<()> {
        let path = data_dir.join(ENDPOINTS_FILE);
        let partial = data_dir.join(format!("{ENDPOINTS_FILE}.partial"));
        std::fs::write(&partial, serde_json::to_vec_pretty(self)?)
            .and_then(|()| std::fs::rename(&partial, &path))
            .with_context(|| format!("writing {}", path.display()))
    }

    pub fn read(data_dir: &Path) -> anyhow::Result<Endpoints> {
        let path = data_dir.join(ENDPOINTS_FILE);
        let text = std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (is `roleplane serve --data-dir {}` running?)",
                path.display(),
                data_dir.display()
            )
        })?;
        serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// `roleplane run`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let endpoints = Endpoints::read(&args.data_dir);
    let region = std::env::var("AWS_REGION")
        .ok()
        .or_else(|| endpoints.as_ref().ok().map(|e| e.region.clone()))
        .unwrap_or_else(|| "us-east-1".to_owned());
    let api = match (&args.api_endpoint, &endpoints) {
        (Some(api), _) => api.trim_end_matches('/').to_owned(),
        (None, Ok(endpoints)) => endpoints.api.clone(),
        (None, Err(_)) => match std::env::var("AWS_ENDPOINT_URL") {
            Ok(api) => api.trim_end_matches('/').to_owned(),
            Err(_) => {
                return Err(endpoints
                    .err()
                    .unwrap_or_else(|| anyhow!("no API endpoint")));
            }
        },
    };
    let imds_port = match (&endpoints, args.imds_port) {
        // On a host the agent serves the instance, not the server endpoints.json describes.
        (_, Some(port)) if args.host_id.is_some() => port,
        (Ok(endpoints), _) => endpoints.imds_port,
        (Err(_), Some(port)) => port,
        (Err(error), None) => bail!("{error:#}; or give --imds-port"),
    };
    let credentials = find_credentials(&args.data_dir)?;
    let client = Ec2Client::new(&api, &region, credentials)?;

    let placement = Placement {
        host_id: args.host_id.as_deref(),
        instance_type: args.instance_type.as_deref(),
    };
    let instance = client.launch(&args.instance_profile, &placement)?;
    // From here on the instance exists: whatever happens, it is terminated.
    let outcome = run_on(&instance, imds_port, &api, &region, &client, &args.command);
    let terminated = client.terminate(&instance.id);
    let status = outcome?;
    if let Err(error) = terminated {
        eprintln!("roleplane: terminating {}: {error:#}", instance.id);
    }
    Ok(exit_code(status))
}

fn run_on(
    instance: &Launched,
    imds_port: u16,
    api: &str,
    region: &str,
    client: &Ec2Client,
    command: &[OsString],
) -> anyhow::Result<ExitStatus> {
    client.wait_associated(&instance.id)?;
    let imds = SocketAddr::new(
        instance
            .private_ip
            .parse()
            .with_context(|| format!("the instance's address {}", instance.private_ip))?,
        imds_port,
    );
    wait_accepting(imds)?;
    let (program, program_args) = command.split_first().context("no command to run")?;
    let mut cmd = Command::new(program);
    cmd.args(program_args)
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://{imds}/"),
        )
        .env("AWS_ENDPOINT_URL", api)
        .env("AWS_REGION", region)
        .env("AWS_DEFAULT_REGION", region)
        // Nothing may shadow the metadata service in the SDKs' credential chains.
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_SECURITY_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_CONFIG_FILE", "/dev/null");
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", program.to_string_lossy()))?;
    signals::forward_to(child.id());
    let status = child.wait();
    signals::restore();
    Ok(status?)
}

/// CMD's exit code; a CMD killed by a signal exits 128 + the signal, as shells report it.
fn exit_code(status: ExitStatus) -> ExitCode {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + signal).unwrap_or(255));
        }
    }
    status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from)
}

/// The instance's metadata service accepts once the association is made; a short wait covers
/// a server that answers before its listener is up.
fn wait_accepting(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => {
                bail!("the instance's metadata service at {addr} does not accept: {error}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The key pair `run` signs with.
type Credentials = crate::shared_credentials::KeyPair;

/// The data dir's admin credentials (profile `roleplane`), else the ambient environment.
fn find_credentials(data_dir: &Path) -> anyhow::Result<Credentials> {
    let file = data_dir.join("credentials");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return crate::shared_credentials::profile(&text, ADMIN_PROFILE)
            .with_context(|| format!("profile {ADMIN_PROFILE} in {}", file.display()));
    }
    match (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Ok(access_key_id), Ok(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key: secret_access_key.into(),
            session_token: std::env::var("AWS_SESSION_TOKEN").ok(),
        }),
        _ => bail!(
            "no credentials: neither {} nor AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            file.display()
        ),
    }
}

/// Where the instance goes: onto a Dedicated Host, of a type it takes.
struct Placement<'a> {
    host_id: Option<&'a str>,
    instance_type: Option<&'a str>,
}

/// The launched instance.
struct Launched {
    id: String,
    private_ip: String,
}

/// Just enough of an EC2 client: signed ec2Query POSTs over plain HTTP.
struct Ec2Client {
    agent: ureq::Agent,
    url: String,
    host: String,
    region: String,
    credentials: Credentials,
}

impl Ec2Client {
    fn new(api: &str, region: &str, credentials: Credentials) -> anyhow::Result<Ec2Client> {
        let Some(rest) = api.strip_prefix("http://") else {
            bail!("the API endpoint must be http://HOST:PORT (got {api})");
        };
        let host = rest.split('/').next().unwrap_or(rest).to_owned();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(API_TIMEOUT))
            .build();
        Ok(Ec2Client {
            agent: config.into(),
            url: format!("http://{host}/"),
            host,
            region: region.to_owned(),
            credentials,
        })
    }

    fn launch(&self, profile: &str, placement: &Placement<'_>) -> anyhow::Result<Launched> {
        let mut params = vec![
            ("Action", "RunInstances"),
            ("ImageId", IMAGE_ID),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("IamInstanceProfile.Name", profile),
            ("TagSpecification.1.ResourceType", "instance"),
            ("TagSpecification.1.Tag.1.Key", "Name"),
            ("TagSpecification.1.Tag.1.Value", "roleplane-run"),
        ];
        if let Some(host_id) = placement.host_id {
            params.push(("Placement.HostId", host_id));
        }
        if let Some(instance_type) = placement.instance_type {
            params.push(("InstanceType", instance_type));
        }
        let body = self.call(&params)?;
        let id = element(&body, "instanceId").context("RunInstances named no instance")?;
        let private_ip =
            element(&body, "privateIpAddress").context("RunInstances gave no address")?;
        Ok(Launched {
            id: id.to_owned(),
            private_ip: private_ip.to_owned(),
        })
    }

    fn wait_associated(&self, instance_id: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let body = self.call(&[
                ("Action", "DescribeIamInstanceProfileAssociations"),
                ("Filter.1.Name", "instance-id"),
                ("Filter.1.Value.1", instance_id),
            ])?;
            if element(&body, "state") == Some("associated") {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("the profile association of {instance_id} did not become associated");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn terminate(&self, instance_id: &str) -> anyhow::Result<()> {
        self.call(&[
            ("Action", "TerminateInstances"),
            ("InstanceId.1", instance_id),
        ])
        .map(drop)
    }

    /// One signed call; an EC2 error response becomes an error naming its code and message.
    fn call(&self, params: &[(&str, &str)]) -> anyhow::Result<String> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .append_pair("Version", EC2_VERSION)
            .finish();
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let unsigned = [("host", self.host.as_str()), ("content-type", content_type)];
        let request = sigv4::HttpRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &unsigned,
            body: body.as_bytes(),
        };
        let who = sigv4::SigningIdentity {
            access_key_id: &self.credentials.access_key_id,
            secret_access_key: self.credentials.secret_access_key.as_str(),
            session_token: self.credentials.session_token.as_deref(),
            region: &self.region,
            service: "ec2",
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut post = self
            .agent
            .post(&self.url)
            .header("host", &self.host)
            .header("content-type", content_type);
        for (name, value) in sigv4::sign(&request, &who, now) {
            post = post.header(name, value);
        }
        let action = params.first().map_or("", |(_, action)| *action);
        let mut response = post
            .send(body.as_bytes())
            .with_context(|| format!("calling {action} at {}", self.url))?;
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .with_context(|| format!("reading the {action} response"))?;
        if !status.is_success() {
            let code = element(&text, "Code").unwrap_or("error");
            let message = element(&text, "Message").unwrap_or("");
            bail!("{action} failed ({status}): {code}: {message}");
        }
        Ok(text)
    }
}

/// The text of the first `<name>…</name>` in an EC2 response (values we read are never
/// escaped: IDs, addresses, states, error codes; a message may be, and is only shown).
fn element<'x>(xml: &'x str, name: &str) -> Option<&'x str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + end])
}

/// While CMD runs, `roleplane run` outlives it: an interrupt from the terminal reaches CMD
/// itself (same process group) and is ignored here, and a TERM or HUP sent to `run` is passed
/// on to CMD. Either way `run` waits for CMD and then terminates the instance.
mod signals {
    use super::{AtomicI32, Ordering};

    static CHILD: AtomicI32 = AtomicI32::new(0);

    extern "C" fn pass_on(signal: libc::c_int) {
        let child = CHILD.load(Ordering::SeqCst);
        if child > 0 {
            // SAFETY: kill(2) is async-signal-safe; the pid is our own child's.
            unsafe {
                libc::kill(child, signal);
            }
        }
    }

    pub fn forward_to(child: u32) {
        CHILD.store(i32::try_from(child).unwrap_or(0), Ordering::SeqCst);
        let handler = pass_on as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: installs handlers that only call async-signal-safe functions.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::signal(libc::SIGQUIT, libc::SIG_IGN);
            libc::signal(libc::SIGTERM, handler);
            libc::signal(libc::SIGHUP, handler);
        }
    }

    pub fn restore() {
        CHILD.store(0, Ordering::SeqCst);
        // SAFETY: restores the default dispositions.
        unsafe {
            for signal in [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_from_ec2_responses() {
        let xml = "<RunInstancesResponse><instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><privateIpAddress>127.1.0.1</privateIpAddress></item></instancesSet></RunInstancesResponse>";
        assert_eq!(element(xml, "instanceId"), Some("i-0123456789abcdef0"));
        assert_eq!(element(xml, "privateIpAddress"), Some("127.1.0.1"));
        assert_eq!(element(xml, "state"), None);
    }

    #[test]
    fn endpoints_file_has_the_documented_names() {
        let dir = tempfile::tempdir().unwrap();
        let endpoints = Endpoints {
            api: "http://127.0.0.1:9100".into(),
            imds_port: 9169,
            region: "us-east-1".into(),
        };
        endpoints.write(dir.path()).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(ENDPOINTS_FILE)).unwrap())
                .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"api": "http://127.0.0.1:9100", "imdsPort": 9169, "region": "us-east-1"})
        );
        assert_eq!(Endpoints::read(dir.path()).unwrap(), endpoints);
    }
}
