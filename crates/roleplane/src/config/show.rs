//! `roleplane config show`: the effective `serve` configuration as TOML a `--config` file
//! takes back, each setting with where it came from, secrets redacted.
//!
//! A secret setting is one declared `hide_env_values = true` (clap then also keeps its value
//! out of `--help`): it prints as `"<redacted>"`. Any value that is a URL with a password
//! (`postgres://user:PASSWORD@host/db`) prints with the password redacted, whatever the
//! setting. Secrets that only the environment carries (the master key, the admin's key pair)
//! are named when set, never shown.

use std::any::TypeId;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

use super::file::CONFIG_ARG;

pub const REDACTED: &str = "<redacted>";

/// Environment variables outside the flags that hold secrets or credentials.
const SECRET_ENVIRONMENT: [&str; 3] = [
    crate::datadir::MASTER_KEY_ENV,
    crate::server::bootstrap::ADMIN_KEY_ID_ENV,
    crate::server::bootstrap::ADMIN_SECRET_ENV,
];

/// The configuration `matches` (of `command`) holds, `from_file` naming the settings the file
/// `file` gave.
pub fn render(
    command: &Command,
    matches: &ArgMatches,
    from_file: &BTreeSet<String>,
    file: Option<&Path>,
) -> String {
    let mut out = String::from(
        "# roleplane serve's effective configuration. Each setting comes from its flag, else\n\
         # its ROLEPLANE_* environment variable, else the config file, else its default.\n",
    );
    if let Some(file) = file {
        let _ = writeln!(out, "# Config file: {}", file.display());
    }
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(key) = arg.get_long() else { continue };
        if id == CONFIG_ARG || matches!(arg.get_action(), ArgAction::Help | ArgAction::Version) {
            continue;
        }
        let source = if from_file.contains(id) {
            "config file".to_owned()
        } else {
            match matches.value_source(id) {
                Some(ValueSource::CommandLine) => "flag".to_owned(),
                Some(ValueSource::EnvVariable) => match arg.get_env() {
                    Some(name) => format!("env {}", name.to_string_lossy()),
                    None => "env".to_owned(),
                },
                _ => "default".to_owned(),
            }
        };
        match value(arg, matches) {
            Some(value) => {
                let _ = writeln!(out, "{key} = {value}  # {source}");
            }
            None => {
                let _ = writeln!(out, "# {key} is unset");
            }
        }
    }
    let set: Vec<&str> = SECRET_ENVIRONMENT
        .into_iter()
        .filter(|name| std::env::var_os(name).is_some())
        .collect();
    if !set.is_empty() {
        let _ = writeln!(
            out,
            "# Set in the environment, not shown: {}",
            set.join(", ")
        );
    }
    out
}

/// The setting's value as TOML, `None` when it has none.
fn value(arg: &Arg, matches: &ArgMatches) -> Option<String> {
    let id = arg.get_id().as_str();
    let raw: Vec<String> = matches
        .get_raw(id)?
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if arg.is_hide_env_values_set() {
        return Some(toml_string(REDACTED));
    }
    let typed = arg.get_value_parser().type_id();
    let one = |raw: &str| -> String {
        if typed == TypeId::of::<bool>() && matches!(raw, "true" | "false") {
            return raw.to_owned();
        }
        let integer = [
            TypeId::of::<u64>(),
            TypeId::of::<u32>(),
            TypeId::of::<u16>(),
        ]
        .iter()
        .any(|t| typed == *t);
        if integer && let Ok(n) = raw.parse::<u64>() {
            return n.to_string();
        }
        if typed == TypeId::of::<f64>()
            && let Ok(f) = raw.parse::<f64>()
            && f.is_finite()
        {
            return format!("{f:?}");
        }
        toml_string(&redact_url_password(raw))
    };
    Some(match arg.get_action() {
        ArgAction::Append => {
            let items: Vec<String> = raw.iter().map(|r| one(r)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => one(raw.first()?),
    })
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

/// `scheme://user:password@host…` with the password replaced by [`REDACTED`]; any other
/// value as it is.
pub fn redact_url_password(value: &str) -> String {
    let Some(scheme_end) = value.find("://") else {
        return value.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &value[authority_start..];
    // The userinfo ends at the last `@` before the query: a password written with a raw `/`,
    // `@` or `:` in it is still covered whole (a path holding `@` may be cut too: harmless).
    let before_query = rest.find(['?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..before_query].rfind('@') else {
        return value.to_owned();
    };
    // The password follows the user name's `:`.
    let Some(colon) = rest[..at].find(':') else {
        return value.to_owned();
    };
    let password_start = authority_start + colon + 1;
    let password_end = authority_start + at;
    format!(
        "{}{REDACTED}{}",
        &value[..password_start],
        &value[password_end..]
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::{Arg, Command};

    use super::*;

    #[test]
    fn a_url_password_is_redacted_and_nothing_else() {
        let cases = [
            (
                "postgres://roleplane:s3cret@db.internal:5432/roleplane",
                "postgres://roleplane:<redacted>@db.internal:5432/roleplane",
            ),
            (
                "postgres://u:p@ss/w:rd@host/db?sslmode=require",
                "postgres://u:<redacted>@host/db?sslmode=require",
            ),
            ("postgres://u:%40x@host", "postgres://u:<redacted>@host"),
            // No password: nothing to hide.
            (
                "postgres://roleplane@host/db",
                "postgres://roleplane@host/db",
            ),
            (
                "https://oidc.example.com/id/X",
                "https://oidc.example.com/id/X",
            ),
            ("127.0.0.1:9100", "127.0.0.1:9100"),
            ("s3.localhost", "s3.localhost"),
            ("user:pass@host", "user:pass@host"),
        ];
        for (value, shown) in cases {
            assert_eq!(redact_url_password(value), shown, "{value}");
        }
    }

    #[test]
    fn a_secret_setting_and_a_url_password_never_print() {
        let command = Command::new("serve")
            .arg(
                Arg::new("store")
                    .long("store")
                    .env("ROLEPLANE_TEST_SHOW_STORE")
                    .default_value("postgres://app:hunter2@db/roleplane"),
            )
            .arg(
                Arg::new("token")
                    .long("token")
                    .env("ROLEPLANE_TEST_SHOW_TOKEN")
                    .hide_env_values(true),
            )
            .arg(
                Arg::new("port")
                    .long("port")
                    .value_parser(clap::value_parser!(u16))
                    .default_value("9100"),
            );
        let matches = command
            .clone()
            .try_get_matches_from(["serve", "--token", "tok-en-value"])
            .unwrap();
        let text = render(&command, &matches, &BTreeSet::new(), None);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("tok-en-value"), "{text}");
        assert!(
            text.contains("store = \"postgres://app:<redacted>@db/roleplane\"  # default\n"),
            "{text}"
        );
        assert!(text.contains("token = \"<redacted>\"  # flag\n"), "{text}");
        assert!(text.contains("port = 9100  # default\n"), "{text}");
    }
}
