//! Command-line entry points: `serve`, `agent`, `config show`, `run`, `audit export`, `account create`,
//! `ca show`, `policy eval|validate|generate`, `role revoke-sessions`, `host credentials`.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};

use crate::config::ServeArgs;
use crate::datadir::DataDir;

/// Documents larger than this are refused before parsing (AWS's own ceiling for a policy
/// document is 131,072 characters; an eval input holds several).
const MAX_INPUT_BYTES: u64 = 4 << 20;

#[derive(Debug, Parser)]
#[command(
    name = "roleplane",
    version,
    about = "IAM roles for compute instances, self-hosted"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run IAM, STS, EC2 and the instance metadata service on the embedded store.
    Serve {
        /// Boxed: the serve flags outweigh every other command's.
        #[command(flatten)]
        args: Box<ServeArgs>,
        #[command(flatten)]
        audit: crate::audit::AuditArgs,
    },
    /// The configuration `serve` would run with.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Serve the instance metadata of one Dedicated Host's instances from a cache the control
    /// plane's agent API fills (run one on each host); keeps serving valid credentials while
    /// the control plane is away.
    Agent(Box<crate::agent::AgentArgs>),
    /// Run a command "as an instance": launch one with the instance profile, run the command
    /// with the instance's metadata service as its only AWS credentials, then terminate it.
    Run(crate::run::RunArgs),
    /// Read the audit trail of a data dir (works while the server runs on it).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the accounts of a data dir (works while the server runs on it).
    #[command(subcommand)]
    Account(AccountCommand),
    /// The deployment's instance identity certificate (works while the server runs on it).
    #[command(subcommand)]
    Ca(CaCommand),
    /// Work with IAM policy documents offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Act on the roles of a data dir (works while the server runs on it).
    #[command(subcommand)]
    Role(RoleCommand),
    /// The hosts (EC2 Dedicated Hosts) of a data dir or PostgreSQL store (works while the
    /// servers run on it).
    #[command(subcommand)]
    Host(HostCommand),
    /// Move a data dir's embedded store into PostgreSQL.
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Copies the embedded store of a data dir into an empty PostgreSQL database, all of it in
    /// one transaction (or nothing), then prints what the replicas need beside it. Stop the
    /// server first: the copy is of one moment, and later writes stay behind.
    Migrate {
        /// The data dir whose store is copied.
        #[arg(long = "from", value_name = "DATA_DIR")]
        from: PathBuf,
        /// The PostgreSQL database (`postgres://…`) to fill; it must hold no account yet. The
        /// password is never printed.
        #[arg(
            long = "to",
            value_name = "URL",
            env = "ROLEPLANE_STORE",
            hide_env_values = true
        )]
        to: store::DatabaseUrl,
    },
}

#[derive(Debug, Subcommand)]
enum HostCommand {
    /// Prints the host's agent credential in AWS shared-credentials format, under a profile
    /// named after the host: the access key that host's `roleplane agent` signs with, which
    /// opens nothing of the AWS APIs. Put it on the host readable by the agent alone (mode
    /// 0600). ReleaseHosts revokes it.
    Credentials {
        /// The host's ID (`h-…`), as AllocateHosts returned it.
        host_id: String,
        #[command(flatten)]
        location: StoreLocation,
    },
    /// Gives the host a new agent credential and prints it as `credentials` does; the earlier
    /// ones keep working for `--grace` seconds, so the agent picks the new one up (it re-reads
    /// its credentials file when the file changes) without a gap. Use `--grace 0` when the old
    /// one may be stolen.
    RotateCredentials {
        /// The host's ID (`h-…`).
        host_id: String,
        /// Seconds the earlier credentials keep working; 0 ends them now.
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(0..=7 * 24 * 3600))]
        grace: u64,
        #[command(flatten)]
        location: StoreLocation,
    },
}

/// Where a command finds the store the servers run on: the data dir's SQLite, or the
/// PostgreSQL database they share.
#[derive(Debug, clap::Args)]
struct StoreLocation {
    #[arg(long, env = "ROLEPLANE_DATA_DIR", default_value = "roleplane-data")]
    data_dir: PathBuf,
    /// The PostgreSQL store (`postgres://…`) the servers share, instead of the data dir's
    /// SQLite; the master key is then `ROLEPLANE_MASTER_KEY`, or the data dir's if it has
    /// one. The password is never printed.
    #[arg(long, env = "ROLEPLANE_STORE", hide_env_values = true)]
    store: Option<store::DatabaseUrl>,
}

impl StoreLocation {
    /// The store, which a server must have made already (a command never creates one).
    async fn open(&self) -> anyhow::Result<crate::any_store::AnyStore> {
        self.ensure_made()?;
        crate::any_store::AnyStore::open(self.store.as_ref(), &self.data_dir).await
    }

    /// An error unless a server has made the data dir's store (a database is checked on open).
    fn ensure_made(&self) -> anyhow::Result<()> {
        if self.store.is_none() {
            anyhow::ensure!(
                self.data_dir.join(store::DATABASE_FILE).is_file(),
                "{} has no store yet: run `roleplane serve` on it first",
                self.data_dir.display()
            );
        }
        Ok(())
    }

    /// The store as messages name it (a URL without its password).
    fn place(&self) -> String {
        match &self.store {
            Some(url) => format!("the store {url}"),
            None => self.data_dir.display().to_string(),
        }
    }

    /// The servers' master key; never generated.
    fn master_key(&self) -> anyhow::Result<crate::credentials::SealingKey> {
        DataDir::existing_master_key(&self.data_dir)
    }
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Prints the effective `serve` configuration (flags, then environment variables, then
    /// the `--config` file, then defaults) as TOML a `--config` file takes, each setting with
    /// where it came from; secrets are redacted. Takes the same flags as `serve`.
    Show {
        #[command(flatten)]
        args: Box<ServeArgs>,
        #[command(flatten)]
        audit: crate::audit::AuditArgs,
    },
}

#[derive(Debug, Subcommand)]
enum RoleCommand {
    /// Denies every session of the role issued before now, instance credentials included, as
    /// the console's "Revoke active sessions" does: writes the role's `AWSRevokeOlderSessions`
    /// inline policy. Prints the revocation time.
    RevokeSessions {
        /// The role's name.
        name: String,
        #[command(flatten)]
        location: StoreLocation,
        /// The role's account.
        #[arg(long, env = "ROLEPLANE_ACCOUNT_ID", default_value = "123456789012")]
        account_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Adds an account with its own `admin` user and prints that user's key pair in AWS
    /// shared-credentials format under profile `roleplane-ACCOUNT`, ready to append to
    /// `~/.aws/credentials`. The data dir's own `credentials` file is left as it is.
    Create {
        /// A 12-digit account ID; a random one if omitted.
        #[arg(long)]
        account_id: Option<String>,
        #[command(flatten)]
        location: StoreLocation,
    },
}

#[derive(Debug, Subcommand)]
enum CaCommand {
    /// Prints the certificate (PEM) that instance identity documents' `signature`, `rsa2048`
    /// and `pkcs7` verify against. The key is created by the first `roleplane serve`.
    Show {
        #[command(flatten)]
        location: StoreLocation,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Writes the CloudTrail records of a time range to standard output, oldest first, one
    /// JSON document per line.
    Export {
        /// RFC 3339 (`2024-05-01T00:00:00Z`) or epoch seconds; inclusive.
        #[arg(long, value_parser = crate::audit::export::parse_time)]
        since: time::OffsetDateTime,
        /// Same forms; inclusive. Defaults to now.
        #[arg(long, value_parser = crate::audit::export::parse_time)]
        until: Option<time::OffsetDateTime>,
        #[arg(long, env = "ROLEPLANE_DATA_DIR", default_value = "roleplane-data")]
        data_dir: PathBuf,
        /// The PostgreSQL store (`postgres://…`) the servers share, whose audit trail holds
        /// every replica's records, instead of the data dir's. The password is never printed.
        #[arg(long, env = "ROLEPLANE_STORE", hide_env_values = true)]
        store: Option<store::DatabaseUrl>,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Evaluate one request; prints {"decision": …, "matchedStatements": […], "findings": […]}.
    Eval {
        /// The request as JSON (see docs/INTERFACE.md), or `-` for standard input.
        input: PathBuf,
        /// Refuse (exit 2) a policy IAM would refuse, instead of evaluating what of it reads
        /// and reporting its problems as findings.
        #[arg(long)]
        strict: bool,
    },
    /// Validate a policy document; prints AWS-style findings, exits 1 on errors.
    Validate {
        /// The policy document, or `-` for standard input.
        input: PathBuf,
        /// Which kind of policy the document is, since the rules differ by kind.
        #[arg(long = "type", value_enum, default_value_t = Kind::Identity)]
        kind: Kind,
    },
    /// Generate a least-privilege policy from a principal's recorded activity (works while the
    /// server runs on the data dir); prints GetGeneratedPolicy's output, progress on stderr.
    Generate(crate::generate::command::GenerateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Identity,
    Resource,
    Trust,
    Session,
    Boundary,
    Scp,
}

impl From<Kind> for policy::PolicyKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Identity => Self::Identity,
            Kind::Resource => Self::Resource,
            Kind::Trust => Self::Trust,
            Kind::Session => Self::Session,
            Kind::Boundary => Self::PermissionsBoundary,
            Kind::Scp => Self::ServiceControl,
        }
    }
}

pub fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = Cli::command();
    // clap's own errors, `--help` and `--version` exit here as they always did.
    let matches = command.clone().get_matches_from(&argv);
    let merged = match crate::config::file::merge(&command, &argv, matches) {
        Ok(merged) => merged,
        Err(error) => {
            eprintln!("roleplane: {error:#}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::from_arg_matches(&merged.matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Serve { args, audit } => crate::server::run(*args, audit),
        Command::Config(ConfigCommand::Show { .. }) => config_show(&command, &merged),
        Command::Run(args) => crate::run::run(args),
        Command::Agent(args) => crate::agent::run(*args),
        Command::Audit(AuditCommand::Export {
            since,
            until,
            data_dir,
            store,
        }) => audit_export(&data_dir, store.as_ref(), since, until),
        Command::Account(AccountCommand::Create {
            account_id,
            location,
        }) => account_create(&location, account_id.as_deref()),
        Command::Ca(CaCommand::Show { location }) => ca_show(&location),
        Command::Policy(PolicyCommand::Eval { input, strict }) => policy_eval(&input, strict),
        Command::Policy(PolicyCommand::Validate { input, kind }) => policy_validate(&input, kind),
        Command::Policy(PolicyCommand::Generate(args)) => crate::generate::command::run(&args),
        Command::Role(RoleCommand::RevokeSessions {
            name,
            location,
            account_id,
        }) => role_revoke_sessions(&location, &account_id, &name),
        Command::Host(HostCommand::Credentials { host_id, location }) => {
            host_credentials(&location, &host_id)
        }
        Command::Host(HostCommand::RotateCredentials {
            host_id,
            grace,
            location,
        }) => host_rotate_credentials(&location, &host_id, std::time::Duration::from_secs(grace)),
        Command::Store(StoreCommand::Migrate { from, to }) => store_migrate(&from, &to),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("roleplane: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// `roleplane config show`.
fn config_show(
    command: &clap::Command,
    merged: &crate::config::file::Merged,
) -> anyhow::Result<ExitCode> {
    let (_, show, matches) = crate::config::file::innermost(command, &merged.matches);
    let text =
        crate::config::show::render(show, matches, &merged.from_file, merged.file.as_deref());
    print_out(text.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// `roleplane account create`. Beside running servers: SQLite in WAL mode takes this
/// process's write, and every server reads accounts, users and keys from the store.
fn account_create(location: &StoreLocation, account_id: Option<&str>) -> anyhow::Result<ExitCode> {
    use crate::server::bootstrap::{create_admin, new_key_pair};
    use store::Store as _;

    let account_id = match account_id {
        Some(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => id.to_owned(),
        Some(id) => anyhow::bail!("{id} is not an AWS account ID (12 digits)"),
        None => random_account_id()?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (key_id, secret) = runtime.block_on(async {
        let store = location.open().await?;
        // On an empty store the first account must be the bootstrap one, which `serve` creates
        // with its admin; an account added before it would make `serve` skip that bootstrap.
        anyhow::ensure!(
            !store.list_accounts().await?.is_empty(),
            "{} has no bootstrap account yet: run `roleplane serve` on it first",
            location.place()
        );
        let master = location.master_key()?;
        store.create_account(&account_id).await?;
        let created = create_admin(&store, &master, &account_id, new_key_pair()?).await;
        store.close().await;
        created?.context("the new account's admin already had a key")
    })?;
    print_out(&format!(
        "[roleplane-{account_id}]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}"
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `roleplane ca show`: the certificate is public and stored in the clear, so this needs no
/// master key. It creates nothing: a store without a key yet is an error.
fn ca_show(location: &StoreLocation) -> anyhow::Result<ExitCode> {
    let missing = || {
        anyhow::anyhow!(
            "{} has no instance identity key yet: run `roleplane serve` on it once",
            location.place()
        )
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let certificate = runtime.block_on(async {
        let store = location.open().await.map_err(|_| missing())?;
        let certificate = crate::instance_identity::stored::certificate(&store).await;
        store.close().await;
        certificate
    })?;
    let pem = crate::instance_identity::certificate::to_pem(&certificate.ok_or_else(missing)?)?;
    print_out(pem.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// `roleplane audit export`. A closed pipe (`| head`) ends the export quietly.
fn audit_export(
    data_dir: &Path,
    store: Option<&store::DatabaseUrl>,
    since: time::OffsetDateTime,
    until: Option<time::OffsetDateTime>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match runtime.block_on(crate::audit::export::export(
        data_dir, store, since, until, &mut out,
    )) {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {}
        other => {
            other?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `roleplane role revoke-sessions`. The servers follow the store's changes, so they apply
/// the revocation from their next request on.
fn role_revoke_sessions(
    location: &StoreLocation,
    account_id: &str,
    name: &str,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let at = runtime.block_on(async {
        let store = location.open().await?;
        let now = time::OffsetDateTime::now_utc();
        let revoked = crate::iam::revoke::revoke_sessions(&store, account_id, name, now).await;
        store.close().await;
        revoked.with_context(|| format!("revoking the sessions of role {name}"))
    })?;
    print_out(&at.format(&time::format_description::well_known::Rfc3339)?)?;
    Ok(ExitCode::SUCCESS)
}

/// What a host command needs besides the store's location: the master key and a runtime.
struct HostStore {
    master: crate::credentials::SealingKey,
    runtime: tokio::runtime::Runtime,
}

impl HostStore {
    /// The servers' master key, after checking `host_id` is shaped like one.
    fn open(location: &StoreLocation, host_id: &str) -> anyhow::Result<HostStore> {
        let is_host_id = host_id
            .strip_prefix("h-")
            .is_some_and(|hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        anyhow::ensure!(is_host_id, "{host_id} is not a host ID (h-…)");
        location.ensure_made()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(HostStore {
            master: location.master_key()?,
            runtime,
        })
    }

    /// Runs `work` on the store, closed afterwards; a host the store does not have available
    /// is an error naming the place.
    fn with<T>(
        &self,
        location: &StoreLocation,
        host_id: &str,
        work: impl AsyncFnOnce(&crate::any_store::AnyStore) -> Result<T, store::StoreError>,
    ) -> anyhow::Result<T> {
        let result = self.runtime.block_on(async {
            let store = location.open().await?;
            let result = work(&store).await;
            store.close().await;
            anyhow::Ok(result)
        })?;
        match result {
            Ok(value) => Ok(value),
            Err(store::StoreError::NotFound { .. }) => {
                anyhow::bail!("{host_id} is not an available host of {}", location.place())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A key's secret, opened, in shared-credentials format under the host's profile.
    fn credentials_text(&self, key: &store::HostAgentKey) -> anyhow::Result<String> {
        let secret =
            crate::request::open_secret(&self.master, &key.access_key_id, &key.secret_ciphertext)
                .map_err(|_| {
                anyhow::anyhow!("the agent credential does not open under this master key")
            })?;
        let secret = std::str::from_utf8(&secret).context("the agent credential's secret")?;
        Ok(format!(
            "[{}]\naws_access_key_id = {}\naws_secret_access_key = {secret}",
            key.host_id, key.access_key_id
        ))
    }
}

/// `roleplane host credentials`: the host's newest agent key, its secret opened with the
/// master key. Reads only; an unknown or released host is an error.
fn host_credentials(location: &StoreLocation, host_id: &str) -> anyhow::Result<ExitCode> {
    use store::Store as _;
    let hosts = HostStore::open(location, host_id)?;
    let keys = hosts.with(location, host_id, async |store| {
        store.host_agent_keys(host_id).await
    })?;
    let key = keys
        .first()
        .with_context(|| format!("{host_id} has no agent credential"))?;
    print_out(&hosts.credentials_text(key)?)?;
    Ok(ExitCode::SUCCESS)
}

/// `roleplane host rotate-credentials`: a new agent key for the host, printed as `host
/// credentials` prints one; the earlier keys keep working for `grace` (decision 0029).
fn host_rotate_credentials(
    location: &StoreLocation,
    host_id: &str,
    grace: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    use store::Store as _;
    let hosts = HostStore::open(location, host_id)?;
    let access_key_id = store::ids::access_key_id();
    let secret = zeroize::Zeroizing::new(
        crate::credentials::new_secret_access_key().context("reading the random source")?,
    );
    let secret_ciphertext = crate::request::seal_secret(&hosts.master, &access_key_id, &secret)
        .map_err(|_| anyhow::anyhow!("sealing the new agent credential"))?;
    let new = store::NewAccessKey {
        access_key_id,
        secret_ciphertext,
    };
    let key = hosts.with(location, host_id, async |store| {
        store.rotate_host_agent_key(host_id, new, grace).await
    })?;
    print_out(&hosts.credentials_text(&key)?)?;
    let retires = time::OffsetDateTime::now_utc() + grace;
    let retires = retires
        .replace_nanosecond(0)
        .unwrap_or(retires)
        .format(&time::format_description::well_known::Rfc3339)?;
    eprintln!("the earlier agent credentials of {host_id} stop working at {retires}");
    Ok(ExitCode::SUCCESS)
}

fn random_account_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).context("reading the random source")?;
    // The first digit is never 0, so the ID reads as 12 digits everywhere.
    Ok(bytes
        .iter()
        .enumerate()
        .map(|(i, b)| char::from(b'0' + if i == 0 { 1 + b % 9 } else { b % 10 }))
        .collect())
}

fn policy_eval(input: &PathBuf, strict: bool) -> anyhow::Result<ExitCode> {
    let text = read_input(input)?;
    let (mut request, policies, findings) = policy::eval_input::parse_with_findings(&text, strict)?;
    // The engine has no clock: the CLI supplies "now" unless the input pins it.
    let now = time::OffsetDateTime::now_utc();
    let iso = now
        .replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)?;
    request.context.insert_default("aws:CurrentTime", iso);
    request
        .context
        .insert_default("aws:EpochTime", now.unix_timestamp().to_string());
    let decision = policy::evaluate(&request, &policies);
    let mut out = decision.to_json();
    if let Some(fields) = out.as_object_mut() {
        let findings = findings.iter().map(|f| f.to_json()).collect();
        fields.insert("findings".into(), serde_json::Value::Array(findings));
    }
    print_out(&serde_json::to_string_pretty(&out)?)?;
    Ok(ExitCode::SUCCESS)
}

fn policy_validate(input: &PathBuf, kind: Kind) -> anyhow::Result<ExitCode> {
    let text = read_input(input)?;
    let findings = policy::validate(&text, kind.into());
    let has_errors = findings
        .iter()
        .any(|f| f.finding_type == policy::FindingType::Error);
    let rendered: Vec<_> = findings.iter().map(|f| f.to_json()).collect();
    print_out(&serde_json::to_string_pretty(
        &serde_json::json!({ "findings": rendered }),
    )?)?;
    Ok(if has_errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes one result to standard output. A reader that went away (`| head`) is not an error
/// worth a panic, which is what `println!` would do.
fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Reads a file or standard input (`-`), refusing oversized and non-UTF-8 input with a clear message.
fn read_input(path: &PathBuf) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)?;
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        anyhow::bail!("input is larger than {MAX_INPUT_BYTES} bytes");
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("input is not UTF-8"))
}

/// `roleplane store migrate`.
fn store_migrate(from: &Path, to: &store::DatabaseUrl) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        to.is_postgres(),
        "--to must be a PostgreSQL URL (postgres://USER@HOST/DB)"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let copied = runtime
        .block_on(store::copy::sqlite_to_postgres(from, to))
        .with_context(|| format!("copying the store of {} into {to}", from.display()))?;
    let mut text = String::new();
    for (table, rows) in &copied.tables {
        text.push_str(&format!("{table}\t{rows}\n"));
    }
    text.push_str(&format!(
        "copied {} rows of {} tables from {} into {to}\n\
         Secrets in it are sealed under {}'s master key: give every replica that key \
         (ROLEPLANE_MASTER_KEY, or the file master.key in its data dir). S3 object bytes are \
         in {}: make it (or a copy) the replicas' shared --s3-dir. The audit trail stays in \
         the data dir.",
        copied.rows(),
        copied.tables.len(),
        from.display(),
        from.display(),
        from.join("s3").display(),
    ));
    print_out(&text)?;
    Ok(ExitCode::SUCCESS)
}
