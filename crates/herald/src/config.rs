//! Configuration of `herald serve`: every setting is a flag, an environment variable and an
//! entry of a TOML file (`--config FILE` / `HERALD_CONFIG`), taken in that order of precedence:
//! **flag > environment > file > built-in default**.
//!
//! clap already gives flags precedence over environment variables and both over defaults; the
//! file is laid in between by parsing twice: the first parse finds the file, whose entries then
//! become the defaults of the same arguments for the second. So a file entry exists for every
//! `serve` argument, including ones added later, under the argument's name (`data_dir` or
//! `data-dir`), and an entry that names no argument is an error.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, ValueEnum};

/// Settings the process reads besides [`crate::serve::ServeArgs`]: the configuration file
/// itself, logging, and the keys and the first dashboard user installed at start.
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    /// Configuration file (TOML): `setting = value` for any of these options, by its long name
    /// (`data_dir` or `data-dir`). Precedence: flag > environment variable > file > default.
    #[arg(long, env = "HERALD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log filter (`info`, `herald=debug,tower_http=warn`, ...).
    #[arg(long, env = "HERALD_LOG")]
    pub log: Option<String>,
    /// Log format.
    #[arg(long, env = "HERALD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// A write key to accept (created at start if new). Prefer the environment or the file:
    /// other users of the machine can read a process's flags.
    #[arg(long, env = "HERALD_WRITE_KEY", hide_env_values = true)]
    pub write_key: Option<String>,
    /// An admin key to accept (created at start if new); as for `--write-key`.
    #[arg(long, env = "HERALD_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
    /// The email of the dashboard admin created at first start (when there is no user yet).
    #[arg(long, env = "HERALD_ADMIN_EMAIL", default_value = crate::users::DEFAULT_ADMIN_EMAIL)]
    pub admin_email: String,
    /// The password of that first admin (10 characters or more); without it one is generated
    /// and printed once. Only used while there is no user. Prefer the environment or the file.
    #[arg(long, env = "HERALD_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl ProcessArgs {
    /// Hand the settings read through the environment by the rest of the process (logging,
    /// `ensure_keys`) to it, whichever layer they came from. Called before any thread starts.
    pub fn export(&self) {
        let vars = [
            ("HERALD_LOG", self.log.clone()),
            (
                "HERALD_LOG_FORMAT",
                self.log_format.map(|f| match f {
                    LogFormat::Text => "text".to_owned(),
                    LogFormat::Json => "json".to_owned(),
                }),
            ),
            ("HERALD_WRITE_KEY", self.write_key.clone()),
            ("HERALD_ADMIN_KEY", self.admin_key.clone()),
            ("HERALD_ADMIN_EMAIL", Some(self.admin_email.clone())),
            ("HERALD_ADMIN_PASSWORD", self.admin_password.clone()),
        ];
        for (var, value) in vars {
            if let Some(value) = value {
                std::env::set_var(var, value);
            }
        }
    }
}

/// Arguments that are not settings.
const NOT_SETTINGS: [&str; 3] = ["config", "help", "version"];

/// What the file layer gave: the file and the settings taken from it.
#[derive(Debug, Default)]
pub struct FileLayer {
    pub path: Option<PathBuf>,
    pub settings: BTreeSet<String>,
}

/// Parse the command line of `P` with the configuration file laid under flags and environment.
/// Like `P::parse()`, prints help or errors and exits on a bad command line.
pub fn parse<P: CommandFactory + FromArgMatches>() -> anyhow::Result<(P, ArgMatches, FileLayer)> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let matches = P::command().get_matches_from(&args);
    let (path, leaf) = leaf(&matches);
    let file = leaf
        .try_get_one::<PathBuf>("config")
        .ok()
        .flatten()
        .cloned();
    let (matches, layer) = match file {
        None => (matches, FileLayer::default()),
        Some(file) => {
            let table = read(&file)?;
            let mut settings = BTreeSet::new();
            let command = with_file_defaults(P::command(), &path, &table, &file, &mut settings)?;
            (
                command.get_matches_from(&args),
                FileLayer {
                    path: Some(file),
                    settings,
                },
            )
        }
    };
    let parsed = P::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    Ok((parsed, matches, layer))
}

/// The names of the subcommands chosen and the innermost one's matches.
fn leaf(matches: &ArgMatches) -> (Vec<String>, &ArgMatches) {
    let mut path = Vec::new();
    let mut at = matches;
    while let Some((name, sub)) = at.subcommand() {
        path.push(name.to_owned());
        at = sub;
    }
    (path, at)
}

fn read(file: &Path) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the configuration file {}", file.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration file {}", file.display()))
}

fn with_file_defaults(
    command: clap::Command,
    path: &[String],
    table: &toml::Table,
    file: &Path,
    taken: &mut BTreeSet<String>,
) -> anyhow::Result<clap::Command> {
    let Some((first, rest)) = path.split_first() else {
        let known: Vec<String> = command
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .filter(|id| !NOT_SETTINGS.contains(&id.as_str()))
            .collect();
        let mut command = command;
        for (key, value) in table {
            let id = key.replace('-', "_");
            if !known.contains(&id) {
                anyhow::bail!(
                    "{}: unknown setting `{key}` (settings: {})",
                    file.display(),
                    known.join(", ")
                );
            }
            let values = file_values(value).with_context(|| {
                format!(
                    "{}: `{key}` must be a string, number, boolean or array of them",
                    file.display()
                )
            })?;
            command = command.mut_arg(&id, |arg| {
                let values: Vec<clap::builder::OsStr> = values
                    .into_iter()
                    .map(|v| clap::builder::OsStr::from(&*Box::leak(v.into_boxed_str())))
                    .collect();
                arg.default_values(values)
            });
            taken.insert(id);
        }
        return Ok(command);
    };
    let mut result = Ok(());
    let command = command.mut_subcommand(first, |sub| {
        match with_file_defaults(sub.clone(), rest, table, file, taken) {
            Ok(sub) => sub,
            Err(e) => {
                result = Err(e);
                sub
            }
        }
    });
    result.map(|()| command)
}

fn file_values(value: &toml::Value) -> Option<Vec<String>> {
    Some(match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Integer(i) => vec![i.to_string()],
        toml::Value::Float(f) => vec![f.to_string()],
        toml::Value::Boolean(b) => vec![b.to_string()],
        toml::Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match file_values(item)?.as_slice() {
                    [one] => out.push(one.clone()),
                    _ => return None,
                }
            }
            out
        }
        _ => return None,
    })
}

/// Hide secrets: the password of any `scheme://user:password@host` URL (and a `password=`
/// parameter), and the whole of a key but its prefix.
pub fn mask(id: &str, value: &str) -> String {
    if ["key", "secret", "password", "token"]
        .iter()
        .any(|w| id.contains(w))
    {
        let shown: String = value.chars().take(4).collect();
        return format!("{shown}****");
    }
    value.split(',').map(mask_url).collect::<Vec<_>>().join(",")
}

fn mask_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let start = scheme_end + 3;
        let end = out[start..].find('/').map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@') {
            let userinfo = &out[start..start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(start + colon + 1..start + at, "****");
            }
        }
    }
    if let Some(p) = out.find("password=") {
        let from = p + "password=".len();
        let to = out[from..].find('&').map_or(out.len(), |i| from + i);
        out.replace_range(from..to, "****");
    }
    out
}

/// A value as TOML: numbers and booleans bare, anything else a string.
fn toml_value(value: &str) -> String {
    if value.parse::<i64>().is_ok() || value == "true" || value == "false" {
        value.to_owned()
    } else {
        serde_json::to_string(value).expect("a string serialises")
    }
}

/// The effective configuration of `command` (the `serve` arguments) as a TOML document that
/// can be used as a configuration file, each setting commented with where it came from.
pub fn describe(command: &clap::Command, matches: &ArgMatches, layer: &FileLayer) -> String {
    let mut out = String::from(
        "# Effective configuration of `herald serve` (precedence: flag > environment > file > default).\n",
    );
    if let Some(file) = &layer.path {
        out.push_str(&format!("# Configuration file: {}\n", file.display()));
    }
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if NOT_SETTINGS.contains(&id) {
            continue;
        }
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => "flag".to_owned(),
            Some(ValueSource::EnvVariable) => format!(
                "environment {}",
                arg.get_env()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            Some(ValueSource::DefaultValue) if layer.settings.contains(id) => "file".to_owned(),
            Some(_) => "default".to_owned(),
            None => {
                out.push_str(&format!("# {id} is not set\n"));
                continue;
            }
        };
        let values: Vec<String> = matches
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|v| toml_value(&mask(id, &v.to_string_lossy())))
            .collect();
        let value = match values.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        out.push_str(&format!("{id} = {value}  # {source}\n"));
    }
    out
}

/// Check what clap cannot: the backend's flags go together, the identity rules file reads.
pub fn check(args: &crate::serve::ServeArgs) -> anyhow::Result<()> {
    match args.backend()? {
        crate::serve::Backend::Embedded => {
            if args.data_dir.exists() && !args.data_dir.is_dir() {
                anyhow::bail!("--data-dir {} is not a directory", args.data_dir.display());
            }
        }
        crate::serve::Backend::Cluster(_) => {}
    }
    crate::serve::load_rules(args.identity_rules.as_deref())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            mask("database_url", "postgres://herald:s3cret@db:5432/herald"),
            "postgres://herald:****@db:5432/herald"
        );
        assert_eq!(
            mask(
                "database_url",
                "postgres://db/herald?user=h&password=x&sslmode=require"
            ),
            "postgres://db/herald?user=h&password=****&sslmode=require"
        );
        assert_eq!(
            mask("bus_url", "nats://a:b@n1:4222,nats://n2:4222"),
            "nats://a:****@n1:4222,nats://n2:4222"
        );
        assert_eq!(mask("admin_key", "hak_abcdef"), "hak_****");
        assert_eq!(mask("listen", "0.0.0.0:8080"), "0.0.0.0:8080");
    }
}
