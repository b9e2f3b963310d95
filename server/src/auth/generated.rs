//! The agent token a server generates when no agent credential is configured: nobody watches a
//! customer without one, even on a server started with every default.
//!
//! It lives in the embedded store's data directory (file [`TOKEN_FILE`], mode 0600), so it
//! survives restarts and agents' links keep working; deleting the file makes the next start
//! generate a new one (revoking every link). The server logs the agent page URL with the token in
//! its fragment (`/cobrowse/slave.html#auth=…`): a fragment never reaches a server's access log or
//! a `Referer`, and the agent page takes it out of the address bar at once.

use crate::config::{Config, StorageConfig};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the generated token in the data directory.
pub const TOKEN_FILE: &str = "agent-token";

/// Random bytes in a generated token.
const TOKEN_BYTES: usize = 32;

/// Why the generated token could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("agent token file {}: {message}", path.display())]
pub struct TokenFileError {
    /// The file.
    pub path: PathBuf,
    /// What failed.
    pub message: String,
}

/// Where the generated token of `config` is kept: the embedded store's data directory; `None`
/// when a credential is configured or anonymous agents are allowed (nothing to generate), or the
/// store is not embedded (configuration refuses that combination: a cluster needs one credential
/// shared by every node).
pub fn token_path(config: &Config) -> Option<PathBuf> {
    match &config.storage {
        StorageConfig::Embedded { data_dir } if config.auth.needs_generated_token() => {
            Some(data_dir.join(TOKEN_FILE))
        }
        _ => None,
    }
}

/// Puts the generated token into `config.auth` when it needs one: read from the data directory,
/// or created there on first start. Returns the file's path when the token came from it.
pub fn resolve(config: &mut Config) -> Result<Option<PathBuf>, TokenFileError> {
    let Some(path) = token_path(config) else {
        return Ok(None);
    };
    let (token, created) = load_or_create(&path)?;
    if created {
        tracing::warn!(file = %path.display(), "no agent credential configured: generated an agent token");
    }
    config.auth.agent_token = Some(token);
    Ok(Some(path))
}

/// Reads the token at `path`, or creates it (mode 0600) when the file does not exist. `true`
/// when it was created now.
pub fn load_or_create(path: &Path) -> Result<(String, bool), TokenFileError> {
    let fail = |message: String| TokenFileError {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("create directory: {e}")))?;
    }
    let token = hex_token();
    match create_private(path) {
        Ok(mut file) => {
            file.write_all(format!("{token}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| fail(format!("write: {e}")))?;
            Ok((token, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            restrict_mode(path).map_err(|e| fail(format!("set mode 0600: {e}")))?;
            let text = std::fs::read_to_string(path).map_err(|e| fail(format!("read: {e}")))?;
            let token = text.trim();
            if token.len() < 16 || token.contains(char::is_whitespace) {
                return Err(fail(
                    "holds no usable token (16 or more characters, no spaces); delete it to \
                     generate a new one"
                        .into(),
                ));
            }
            Ok((token.to_string(), false))
        }
        Err(e) => Err(fail(format!("create: {e}"))),
    }
}

fn hex_token() -> String {
    let bytes: [u8; TOKEN_BYTES] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the file, failing if it exists; readable by its owner only from the first byte.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Narrows an existing file to 0600 (someone may have copied it with wider rights).
fn restrict_mode(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(file = %path.display(), mode = format!("{mode:o}"), "agent token file was readable by others; now 0600");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The agent page URL that carries `token` in its fragment, on `base` (the configured public URL,
/// else the listen address with `localhost` for an unspecified one).
pub fn agent_page_url(base: &str, token: &str) -> String {
    format!(
        "{}/cobrowse/slave.html#auth={token}",
        base.trim_end_matches('/')
    )
}

/// The base URL for [`agent_page_url`] when `config` names none: where this process listens.
pub fn local_base(config: &Config, bound: std::net::SocketAddr) -> String {
    if let Some(url) = config.public_url() {
        return url.to_string();
    }
    let host = match bound.ip() {
        ip if ip.is_unspecified() => "localhost".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", bound.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_created_once_private_and_then_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data").join(TOKEN_FILE);
        let (first, created) = load_or_create(&path).expect("created");
        assert!(created);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = load_or_create(&path).expect("read");
        assert!(!created);
        assert_eq!(again, first);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_readable_by_others_is_narrowed_and_a_bad_one_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(TOKEN_FILE);
        std::fs::write(&path, "0123456789abcdef0123\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let (token, created) = load_or_create(&path).expect("read");
        assert_eq!((token.as_str(), created), ("0123456789abcdef0123", false));
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, "short\n").expect("write");
        let err = load_or_create(&path).expect_err("too short").to_string();
        assert!(err.contains("delete it"), "{err}");
    }

    #[test]
    fn the_url_carries_the_token_in_the_fragment() {
        assert_eq!(
            agent_page_url("https://cb.example/", "abc"),
            "https://cb.example/cobrowse/slave.html#auth=abc"
        );
        let config = Config::default();
        let bound = "0.0.0.0:8700".parse().expect("addr");
        assert_eq!(local_base(&config, bound), "http://localhost:8700");
        let bound = "127.0.0.1:8700".parse().expect("addr");
        assert_eq!(local_base(&config, bound), "http://127.0.0.1:8700");
    }
}
