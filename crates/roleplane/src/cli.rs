//! Command-line entry points: `serve`, `policy eval`, `policy validate`.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::ServeArgs;

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
    Serve(ServeArgs),
    /// Work with IAM policy documents offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Evaluate one request; prints {"decision": …, "matchedStatements": […]}.
    Eval {
        /// The request as JSON (see the interface contract), or `-` for standard input.
        input: PathBuf,
    },
    /// Validate a policy document; prints AWS-style findings, exits 1 on errors.
    Validate {
        /// The policy document, or `-` for standard input.
        input: PathBuf,
        /// Which kind of policy the document is, since the rules differ by kind.
        #[arg(long = "type", value_enum, default_value_t = Kind::Identity)]
        kind: Kind,
    },
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => crate::server::run(args),
        Command::Policy(PolicyCommand::Eval { input }) => policy_eval(&input),
        Command::Policy(PolicyCommand::Validate { input, kind }) => policy_validate(&input, kind),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("roleplane: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn policy_eval(input: &PathBuf) -> anyhow::Result<ExitCode> {
    let text = read_input(input)?;
    let (mut request, policies) = policy::eval_input::parse(&text)?;
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
    println!("{}", serde_json::to_string_pretty(&decision.to_json())?);
    Ok(ExitCode::SUCCESS)
}

fn policy_validate(input: &PathBuf, kind: Kind) -> anyhow::Result<ExitCode> {
    let text = read_input(input)?;
    let findings = policy::validate(&text, kind.into());
    let has_errors = findings
        .iter()
        .any(|f| f.finding_type == policy::FindingType::Error);
    let rendered: Vec<_> = findings.iter().map(|f| f.to_json()).collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({ "findings": rendered }))?
    );
    Ok(if has_errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
