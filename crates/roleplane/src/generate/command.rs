//! `roleplane policy generate`: the same generation as the API, straight from a data dir's
//! `audit.db` (beside a running server: WAL readers never block its writer), or with `--store`
//! from the trail replicas share in PostgreSQL. Prints the GetGeneratedPolicy-shaped JSON on
//! stdout; progress and what was left out go to stderr.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;
use store::DatabaseUrl;
use time::OffsetDateTime;

use super::output::{JobDetails, JobStatus, Properties, generated_policy};
use super::{Activity, Directory, Options, Progress, Window, render, scan};

/// Progress lines at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The role or user whose activity to read (`arn:aws:iam::ACCOUNT:role/NAME`); a role's
    /// activity includes every session of it, every instance's included.
    #[arg(long)]
    pub principal: String,
    /// RFC 3339 (`2024-05-01T00:00:00Z`) or epoch seconds; inclusive.
    #[arg(long, value_parser = crate::audit::export::parse_time)]
    pub since: OffsetDateTime,
    /// Same forms; inclusive. Defaults to now.
    #[arg(long, value_parser = crate::audit::export::parse_time)]
    pub until: Option<OffsetDateTime>,
    #[arg(long, env = "ROLEPLANE_DATA_DIR", default_value = "roleplane-data")]
    pub data_dir: PathBuf,
    /// The PostgreSQL store (`postgres://…`) the servers share: its audit trail (every
    /// replica's records) and its ARNs, instead of the data dir's. The password is never
    /// printed.
    #[arg(long, env = "ROLEPLANE_STORE", hide_env_values = true)]
    pub store: Option<DatabaseUrl>,
    /// Resource templates (`arn:aws:iam::${Account}:role/${RoleNameWithPath}`) instead of the
    /// ARNs actually touched, as Access Analyzer's `includeResourcePlaceholders`.
    #[arg(long)]
    pub resource_placeholders: bool,
}

pub fn run(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        super::is_principal_arn(&args.principal),
        "--principal must be a role or user ARN (arn:aws:iam::ACCOUNT:role/NAME), not {:?}",
        args.principal
    );
    let started = OffsetDateTime::now_utc();
    let until = args.until.unwrap_or(started);
    anyhow::ensure!(until >= args.since, "--until is before --since");
    let window = Window {
        start_ms: epoch_ms(args.since),
        end_ms: epoch_ms(until),
    };
    // Two workers: one reads the next page while the other folds this one.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (activity, documents) = runtime.block_on(generate(args, window))?;
    report(&activity);

    let trails = Value::Array(Vec::new());
    let job = JobDetails {
        job_id: crate::request::request_id::new(),
        status: JobStatus::Succeeded,
        started_on: started,
        completed_on: Some(OffsetDateTime::now_utc()),
        error: None,
    };
    let properties = Properties {
        principal_arn: &args.principal,
        window,
        trails: &trails,
        is_complete: true,
        data_events: activity.data_events(),
    };
    let body = generated_policy(&job, &properties, Some(&documents));
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &body)?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}

async fn generate(args: &GenerateArgs, window: Window) -> anyhow::Result<(Activity, Vec<String>)> {
    let dir = args.data_dir.as_path();
    let log = crate::audit::export::open_trail(dir, args.store.as_ref()).await?;
    let mut activity = Activity::new(&args.principal, window);
    let mut meter = Meter::new();
    let never = AtomicBool::new(false);
    scan(&log, &mut activity, &never, |p| meter.show(p)).await?;
    meter.finish();
    log.close().await;

    let directory = directory(dir, args.store.as_ref(), &activity).await?;
    let options = Options {
        resource_placeholders: args.resource_placeholders,
    };
    let documents = render(&activity, options, &directory)?;
    Ok((activity, documents))
}

/// ARNs for the names the records spell, from the PostgreSQL store or the data dir's when it
/// has one.
async fn directory(
    dir: &Path,
    url: Option<&DatabaseUrl>,
    activity: &Activity,
) -> anyhow::Result<Directory> {
    if url.is_none() && !dir.join(store::DATABASE_FILE).exists() {
        return Ok(Directory::default());
    }
    let store = crate::any_store::AnyStore::open(url, dir)
        .await
        .context("opening the store")?;
    let directory = Directory::load(&store, activity.touched(), activity.passed_roles()).await;
    store.close().await;
    Ok(directory)
}

/// Progress on stderr: records scanned of the estimated total, rate. Rewritten in place on
/// a terminal, one line per update otherwise (logs, CI).
struct Meter {
    last: Option<Instant>,
    shown: bool,
    terminal: bool,
}

impl Meter {
    fn new() -> Self {
        Self {
            last: None,
            shown: false,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, progress: &Progress) {
        let now = Instant::now();
        // The first update waits a full period, so small scans print no progress at all.
        let last = *self.last.get_or_insert(now);
        if now.duration_since(last) < PROGRESS_EVERY {
            return;
        }
        self.last = Some(now);
        self.shown = true;
        let line = format!(
            "scanned {} of ~{} records ({:.0}%), {} records/s",
            thousands(progress.scanned),
            thousands(progress.estimated_total()),
            progress.fraction * 100.0,
            thousands(progress.rate() as u64),
        );
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.shown && self.terminal {
            eprintln!();
        }
    }
}

/// What went into the policy and what was left out, on stderr.
fn report(activity: &Activity) {
    eprintln!(
        "scanned {} records: {} successful calls of {} actions by {}",
        thousands(activity.scanned()),
        thousands(activity.used()),
        activity.actions().len(),
        activity.principal()
    );
    if activity.data_events() > 0 {
        eprintln!(
            "of which {} S3 data events (object-level calls), which AWS's Access Analyzer does not read",
            thousands(activity.data_events())
        );
    }
    for (what, tally) in [("denied", activity.denied()), ("failed", activity.failed())] {
        if !tally.is_empty() {
            let list: Vec<String> = tally.iter().map(|(a, n)| format!("{a} ({n})")).collect();
            eprintln!("left out, {what}: {}", list.join(", "));
        }
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn epoch_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_read_with_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
    }
}
