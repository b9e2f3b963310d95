//! Loading the DOM restriction policy served at `/cobrowse/rest/dom-restrictions.json`. The
//! document itself — its rules, its validation — is `cobrowse_protocol::policy`, the same types
//! the customer client reads it with; the server only loads, validates and serves it.
//!
//! It is loaded once at start from a file or an `http://` URL, so a broken policy stops the server
//! instead of silently leaving fields unmasked.

pub use cobrowse_protocol::policy::{DomPolicy, Rule, RuleAction};
use std::time::Duration;

/// Why a policy cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Reading the file or URL failed.
    #[error("cannot load policy from `{source_name}`: {message}")]
    Load {
        /// File path or URL.
        source_name: String,
        /// What failed.
        message: String,
    },
    /// The document is not a valid policy.
    #[error("invalid policy `{source_name}`: {message}")]
    Invalid {
        /// File path or URL.
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// How long an `http://` policy may take to arrive.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest policy document accepted.
const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

/// Loads a policy from a file path or an `http://` URL and validates it.
pub fn load(location: &str) -> Result<DomPolicy, PolicyError> {
    let text = if location.starts_with("http://") {
        fetch_http(location)
    } else if location.starts_with("https://") {
        Err("https URLs are not supported (no TLS client for this); use a file or an http:// URL on the internal network".to_string())
    } else {
        std::fs::read_to_string(location).map_err(|e| e.to_string())
    }
    .map_err(|message| PolicyError::Load {
        source_name: location.to_string(),
        message,
    })?;
    parse(&text).map_err(|message| PolicyError::Invalid {
        source_name: location.to_string(),
        message,
    })
}

/// Parses and validates a JSON policy document (unknown fields are refused, as the client does).
pub fn parse(text: &str) -> Result<DomPolicy, String> {
    let policy: DomPolicy = serde_json::from_str(text).map_err(|e| e.to_string())?;
    policy.validate().map_err(|e| e.to_string())
}

/// A blocking GET (the policy is loaded once, before the runtime serves).
fn fetch_http(url: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .max_redirects(0)
        .build()
        .into();
    let mut resp = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| match e {
            ureq::Error::StatusCode(code) => format!("HTTP status {code}"),
            other => other.to_string(),
        })?;
    resp.body_mut()
        .with_config()
        .limit(MAX_POLICY_BYTES)
        .read_to_string()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn default_restricts_submit_buttons() {
        let p = DomPolicy::default();
        assert!(
            p.rules
                .iter()
                .any(|r| r.selector.contains("submit") && r.action == RuleAction::Restrict)
        );
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(parse(&json), Ok(p));
    }

    #[test]
    fn invalid_policies_are_refused() {
        assert!(parse("{}").is_err());
        assert!(parse(r#"{"version":2,"rules":[]}"#).is_err());
        assert!(parse(r#"{"version":1,"rules":[{"selector":"","action":"mask"}]}"#).is_err());
        assert!(parse(r#"{"version":1,"rules":[{"selector":"a","action":"explode"}]}"#).is_err());
        let ok = parse(
            r##"{"version":1,"rules":[{"selector":"#card","action":"mask","urlPattern":"https://shop/*"}]}"##,
        )
        .expect("valid");
        assert_eq!(ok.rules[0].url_pattern.as_deref(), Some("https://shop/*"));
    }

    #[test]
    fn policy_loads_from_a_file_and_an_http_url() {
        let body = r#"{"version":1,"rules":[{"selector":".card","action":"mask"}]}"#;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.json");
        std::fs::write(&path, body).expect("write");
        let from_file = load(&path.to_string_lossy()).expect("file");
        assert_eq!(from_file.rules[0].action, RuleAction::Mask);

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut req = Vec::new();
                let mut b = [0u8; 1];
                while !req.ends_with(b"\r\n\r\n") && s.read(&mut b).is_ok_and(|n| n == 1) {
                    req.push(b[0]);
                }
                let reply =
                    format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{body}");
                let _ = s.write_all(reply.as_bytes());
            }
        });
        let from_url = load(&format!("http://{addr}/policy.json")).expect("url");
        assert_eq!(from_url, from_file);
        server.join().expect("server thread");

        let err = load("https://example.invalid/p.json").expect_err("https");
        assert!(err.to_string().contains("https"), "{err}");
    }
}
