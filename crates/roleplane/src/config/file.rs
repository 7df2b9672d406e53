//! The `--config FILE` of `serve` (and `config show`): TOML whose keys are the command's long
//! flag names (`api-addr = "127.0.0.1:9100"`, `imds-listen = ["169.254.169.254:80"]`).
//!
//! Precedence: a flag, then its `ROLEPLANE_*` environment twin, then the file, then the
//! built-in default. clap parses the command line (and the environment) once; every setting
//! it then holds only by default takes the file's value, given back to clap as if it were a
//! flag, so the file's values go through the same value parsers and the same typed settings
//! come out. A key that is no flag of the command is refused, naming the key, before anything
//! starts.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

/// The flag naming the file; itself no key of it.
pub const CONFIG_ARG: &str = "config";

/// Larger files are refused unread: a configuration is a few hundred bytes.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// A command line with its configuration file applied.
#[derive(Debug)]
pub struct Merged {
    /// The matches of the whole command line, as clap returns them.
    pub matches: ArgMatches,
    /// The ids of the settings whose value came from the file.
    pub from_file: BTreeSet<String>,
    /// The file, if one was named.
    pub file: Option<PathBuf>,
}

/// Applies the configuration file named by the innermost subcommand of `argv` (if that
/// subcommand takes `--config` and one is given) to `matches`, clap's parse of `argv` by
/// `command`.
pub fn merge(command: &Command, argv: &[OsString], matches: ArgMatches) -> anyhow::Result<Merged> {
    let (path_to_leaf, leaf, leaf_matches) = innermost(command, &matches);
    let file = leaf
        .get_arguments()
        .any(|arg| arg.get_id() == CONFIG_ARG)
        .then(|| leaf_matches.get_one::<PathBuf>(CONFIG_ARG).cloned())
        .flatten();
    let Some(path) = file else {
        return Ok(Merged {
            matches,
            from_file: BTreeSet::new(),
            file: None,
        });
    };
    let table = read(&path)?;
    let in_file = |e: anyhow::Error| e.context(format!("config file {}", path.display()));
    let flags = file_flags(leaf, &table).map_err(in_file)?;
    // Every value of the file through its parser, overridden or not: the subcommand with the
    // file's flags alone. The command line and the environment parsed already, so what fails
    // here is the file's.
    let alone = argv
        .iter()
        .take(1)
        .cloned()
        .chain(path_to_leaf.iter().map(OsString::from))
        .chain(flags.iter().flat_map(|(_, flags)| flags.iter().cloned()));
    if let Err(e) = command.clone().try_get_matches_from(alone) {
        return Err(in_file(anyhow::anyhow!(clap_message(&e))));
    }
    let mut from_file = BTreeSet::new();
    let mut argv = argv.to_vec();
    for (id, flags) in flags {
        let defaulted = matches!(
            leaf_matches.value_source(&id),
            None | Some(ValueSource::DefaultValue)
        );
        if defaulted {
            argv.extend(flags);
            from_file.insert(id);
        }
    }
    let matches = command
        .clone()
        .try_get_matches_from(argv)
        .map_err(|e| in_file(anyhow::anyhow!(clap_message(&e))))?;
    Ok(Merged {
        matches,
        from_file,
        file: Some(path),
    })
}

/// The subcommand `matches` ends in: the names leading to it, it, and its own matches.
pub fn innermost<'a>(
    command: &'a Command,
    matches: &'a ArgMatches,
) -> (Vec<&'a str>, &'a Command, &'a ArgMatches) {
    let (mut names, mut command, mut matches) = (Vec::new(), command, matches);
    while let Some((name, sub)) = matches.subcommand() {
        match command.find_subcommand(name) {
            Some(found) => {
                names.push(name);
                (command, matches) = (found, sub);
            }
            None => break,
        }
    }
    (names, command, matches)
}

fn read(path: &Path) -> anyhow::Result<toml::Table> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading config file {}", path.display()))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "config file {} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        );
    }
    text.parse::<toml::Table>()
        .map_err(|e| anyhow::anyhow!("config file {}: {}", path.display(), e.to_string().trim()))
}

/// Each key's setting (its id) and the flags that give clap the key's value; a key that is no
/// flag of `command` is refused.
fn file_flags(
    command: &Command,
    table: &toml::Table,
) -> anyhow::Result<Vec<(String, Vec<OsString>)>> {
    let mut all = Vec::new();
    for (key, value) in table {
        let arg = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(key.as_str()) && arg.get_id() != CONFIG_ARG)
            .filter(|arg| !matches!(arg.get_action(), ArgAction::Help | ArgAction::Version))
            .ok_or_else(|| anyhow::anyhow!("unknown key `{key}`"))?;
        let values = scalars(key, value)?;
        let flags: Vec<OsString> = match arg.get_action() {
            ArgAction::SetTrue => match value {
                toml::Value::Boolean(true) => vec![format!("--{key}").into()],
                toml::Value::Boolean(false) => Vec::new(),
                _ => bail!("key `{key}`: expected true or false"),
            },
            ArgAction::Append => values
                .iter()
                .map(|v| format!("--{key}={v}").into())
                .collect(),
            _ => match values.as_slice() {
                [one] => vec![format!("--{key}={one}").into()],
                _ => bail!("key `{key}` takes one value, not a list"),
            },
        };
        all.push((arg.get_id().as_str().to_owned(), flags));
    }
    Ok(all)
}

/// A value as the strings a flag would carry: a list's items, or the value itself.
fn scalars(key: &str, value: &toml::Value) -> anyhow::Result<Vec<String>> {
    let scalar = |value: &toml::Value| match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(anyhow::anyhow!(
            "key `{key}`: expected a string, number, boolean or a list of them"
        )),
    };
    match value {
        toml::Value::Array(items) => items.iter().map(scalar).collect(),
        value => Ok(vec![scalar(value)?]),
    }
}

/// A clap error as one line: what was wrong, without clap's usage advice. A value error
/// names the flag, whose long name is the file's key.
fn clap_message(error: &clap::Error) -> String {
    let rendered = error.to_string();
    let first = rendered.lines().next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    match invalid_key(error) {
        Some(key) => format!("key `{key}`: {message}"),
        None => message.to_owned(),
    }
}

fn invalid_key(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    // `--api-addr <API_ADDR>`
    let flag = arg.split_whitespace().next()?;
    Some(flag.strip_prefix("--")?.to_owned())
}
