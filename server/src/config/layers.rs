//! The layers above the file, and figment's errors in the server's words.
//!
//! Every environment variable and every command-line value is its own figment provider, whose
//! [`Metadata`] names exactly that variable or flag: when a value is wrong, figment's metadata of
//! the value in effect says which layer set it ([`layer_of`]). figment's own `Env` provider is
//! not used: it reads the process environment (the server and its tests pass the variables in,
//! so several servers can run in one process), and it would split `COBROWSE_STORAGE_DATA_DIR`
//! into `storage.data.dir` where the option list knows it is `storage.dataDir`.

use super::error::ConfigError;
use super::options::{OPTIONS, option_for_env};
use figment::error::Kind;
use figment::providers::Serialized;
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider, Source};

/// [`Metadata`] name of an environment variable's provider (its source names the variable).
const ENVIRONMENT: &str = "environment variable";
/// [`Metadata`] name of a command-line value's provider (its source names the flag).
const COMMAND_LINE: &str = "flag";

/// Values given on the command line, applied last, in order (a later one wins).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `(flag, dotted option, value)`.
    values: Vec<(String, String, String)>,
}

impl Overrides {
    /// `--set option=value`. The value is read as a TOML value when it is one (`30`, `true`,
    /// `"quoted"`, `[1, 2]`) and as a plain string otherwise (`30s`, `127.0.0.1`).
    pub fn set(&mut self, option: &str, value: &str) -> &mut Self {
        self.values
            .push(("--set".into(), option.into(), value.into()));
        self
    }

    /// A named flag (`--port`) that sets `option`; the value is read as in [`Overrides::set`].
    pub fn flag(&mut self, flag: &str, option: &str, value: &str) -> &mut Self {
        self.values.push((flag.into(), option.into(), value.into()));
        self
    }

    /// One provider per value; an unknown option is an error (a typo on the command line must
    /// not be ignored).
    pub(crate) fn settings(&self) -> Result<Vec<Setting>, ConfigError> {
        self.values
            .iter()
            .map(|(flag, option, value)| {
                let Some(option) = OPTIONS.iter().find(|o| *o == option) else {
                    return Err(ConfigError::Invalid {
                        option: option.clone(),
                        set_by: Some(format!("{COMMAND_LINE} {flag}")),
                        message: "unknown option".into(),
                    });
                };
                let source = if flag == "--set" {
                    format!("--set {option}")
                } else {
                    flag.clone()
                };
                Ok(Setting::new(COMMAND_LINE, source, option, value))
            })
            .collect()
    }
}

/// One provider per `COBROWSE_*` variable that names an option. Other `COBROWSE_*` variables
/// are ignored: scripts use the prefix for their own settings too.
pub(crate) fn env_settings(env: impl IntoIterator<Item = (String, String)>) -> Vec<Setting> {
    env.into_iter()
        .filter(|(var, _)| var.starts_with("COBROWSE_"))
        .filter_map(|(var, value)| {
            let option = option_for_env(&var)?;
            Some(Setting::new(ENVIRONMENT, var, option, &value))
        })
        .collect()
}

/// One option's value from one environment variable or flag.
pub(crate) struct Setting {
    metadata: Metadata,
    option: &'static str,
    value: toml::Value,
}

impl Setting {
    fn new(kind: &'static str, source: String, option: &'static str, value: &str) -> Setting {
        Setting {
            metadata: Metadata::named(kind).source(Source::Custom(source)),
            option,
            value: parse_value(value),
        }
    }
}

impl Provider for Setting {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::default(self.option, &self.value).data()
    }
}

/// A value as TOML reads it when it is one (numbers, booleans, quoted strings, arrays), else the
/// text itself as a string: `600` is a number, `10m` and `https://a.example` are strings.
fn parse_value(value: &str) -> toml::Value {
    format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()))
}

/// Where a value came from, for error messages: `file /etc/cobrowse.toml`, `environment variable
/// COBROWSE_PORT`, `flag --port`, `flag --set port`, or `the built-in default`.
pub(crate) fn describe(metadata: &Metadata) -> String {
    match &metadata.source {
        Some(Source::File(path)) => format!("file {}", path.display()),
        Some(Source::Custom(what)) => format!("{} {what}", metadata.name),
        _ => "the built-in default".into(),
    }
}

/// The layer whose value of `option` is in effect.
pub(crate) fn layer_of(figment: &Figment, option: &str) -> Option<String> {
    figment.find_metadata(option).map(describe)
}

/// A figment extraction error as a [`ConfigError`]: the option from the error's path, the layer
/// from the metadata of the value at that path.
pub(crate) fn from_figment(figment: &Figment, error: figment::Error) -> ConfigError {
    // figment's path of an unknown field already ends with the field.
    let mut path = error.path.clone();
    if let Kind::UnknownField(field, _) = &error.kind
        && path.last() != Some(field)
    {
        path.push(field.clone());
    }
    let metadata = error.metadata.as_ref();
    if path.is_empty() {
        // Not a value's error but a provider's own: the file is not valid TOML.
        if let Some(file) = metadata.and_then(|m| m.source.as_ref()?.file_path()) {
            return ConfigError::Syntax {
                path: file.to_path_buf(),
                message: error.kind.to_string(),
            };
        }
    }
    let option = path.join(".");
    let message = match &error.kind {
        Kind::UnknownField(_, known) => {
            format!("unknown option (known here: {})", known.join(", "))
        }
        kind => kind.to_string(),
    };
    let set_by = layer_of(figment, &option).or_else(|| metadata.map(describe));
    ConfigError::Invalid {
        option,
        set_by,
        message,
    }
}
