//! [`ConfigError`]: why a configuration cannot be used, naming the option and the layer that set it.

use std::path::PathBuf;

/// Why the configuration cannot be used. The message always names the option and, when the
/// option was set somewhere, where (file, environment variable or flag), so an operator knows
/// which of the layers to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// An option has a bad value or is unknown.
    #[error("config option `{option}`{}: {message}", set_by_suffix(.set_by))]
    Invalid {
        /// Dotted option name.
        option: String,
        /// The layer that set it (`file /etc/cobrowse.toml`, `environment variable COBROWSE_PORT`,
        /// `flag --port`, `the built-in default`); `None` when not known.
        set_by: Option<String>,
        /// What is wrong.
        message: String,
    },
}

fn set_by_suffix(set_by: &Option<String>) -> String {
    set_by
        .as_ref()
        .map(|layer| format!(" (from {layer})"))
        .unwrap_or_default()
}

/// An [`ConfigError::Invalid`] whose layer the loader fills in (sections only know the option).
pub(crate) fn invalid(option: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        option: option.to_string(),
        set_by: None,
        message: message.into(),
    }
}

impl ConfigError {
    /// Names the layer of an [`ConfigError::Invalid`] that does not name one yet, looking the
    /// option up with `layer_of`.
    pub(crate) fn with_layer(self, layer_of: impl FnOnce(&str) -> Option<String>) -> ConfigError {
        match self {
            ConfigError::Invalid {
                option,
                set_by: None,
                message,
            } => ConfigError::Invalid {
                set_by: layer_of(&option),
                option,
                message,
            },
            other => other,
        }
    }
}
