//! The DOM restriction policy served at `/cobrowse/rest/dom-restrictions.json`: per CSS selector,
//! *mask* (content replaced before it leaves the customer's browser), *hide* (not shown to the
//! agent) or *restrict* (the agent cannot click or type there, even in write mode).
//!
//! The server only validates and serves the policy; the customer client enforces it. It is loaded
//! once at start from a file or an `http://` URL, so a broken policy stops the server instead of
//! silently leaving fields unmasked.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

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

/// What a rule does to matching elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Content replaced before it leaves the browser.
    Mask,
    /// Not shown to the agent at all.
    Hide,
    /// The agent cannot interact with it.
    Restrict,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// CSS selector.
    pub selector: String,
    /// What to do.
    pub action: RuleAction,
    /// Only on pages whose URL matches this `*` pattern, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_pattern: Option<String>,
}

/// The whole policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomPolicy {
    /// Format version; only 1 exists.
    pub version: u32,
    /// Rules in order.
    pub rules: Vec<Rule>,
}

impl Default for DomPolicy {
    /// The reference product's default: submit buttons are restricted for the agent.
    fn default() -> Self {
        DomPolicy {
            version: 1,
            rules: vec![
                Rule {
                    selector: "input[type=submit]".into(),
                    action: RuleAction::Restrict,
                    url_pattern: None,
                },
                Rule {
                    selector: "button[type=submit]".into(),
                    action: RuleAction::Restrict,
                    url_pattern: None,
                },
                Rule {
                    selector: "form button:not([type])".into(),
                    action: RuleAction::Restrict,
                    url_pattern: None,
                },
            ],
        }
    }
}

impl DomPolicy {
    /// Loads from a file path or an `http://` URL and validates.
    pub fn load(location: &str) -> Result<DomPolicy, PolicyError> {
        let text = if location.starts_with("http://") {
            fetch_http(location)
        } else if location.starts_with("https://") {
            Err("https URLs are not supported (no TLS client in the server); use a file or an http:// URL on the internal network".to_string())
        } else {
            std::fs::read_to_string(location).map_err(|e| e.to_string())
        }
        .map_err(|message| PolicyError::Load {
            source_name: location.to_string(),
            message,
        })?;
        DomPolicy::parse(&text).map_err(|message| PolicyError::Invalid {
            source_name: location.to_string(),
            message,
        })
    }

    /// Parses and validates a JSON policy document.
    pub fn parse(text: &str) -> Result<DomPolicy, String> {
        let policy: DomPolicy = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if policy.version != 1 {
            return Err(format!(
                "unsupported version {} (expected 1)",
                policy.version
            ));
        }
        for (i, rule) in policy.rules.iter().enumerate() {
            let sel = rule.selector.trim();
            if sel.is_empty() || sel.len() > 1024 || sel.contains(['{', '}']) {
                return Err(format!(
                    "rules[{i}].selector `{sel}` is not a plausible CSS selector"
                ));
            }
        }
        Ok(policy)
    }
}

/// A minimal blocking HTTP/1.0 GET (the policy is loaded once, before the runtime serves).
fn fetch_http(url: &str) -> Result<String, String> {
    let rest = &url["http://".len()..];
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let host = hostport.split(':').next().unwrap_or(hostport);
    let timeout = std::time::Duration::from_secs(10);
    let sock = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("host did not resolve")?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&sock, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    stream
        .take(4 * 1024 * 1024)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8(buf).map_err(|_| "response is not UTF-8".to_string())?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("HTTP status {status}"));
    }
    Ok(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_restricts_submit_buttons() {
        let p = DomPolicy::default();
        assert!(
            p.rules
                .iter()
                .any(|r| r.selector.contains("submit") && r.action == RuleAction::Restrict)
        );
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(DomPolicy::parse(&json), Ok(p));
    }

    #[test]
    fn invalid_policies_are_refused() {
        assert!(DomPolicy::parse("{}").is_err());
        assert!(DomPolicy::parse(r#"{"version":2,"rules":[]}"#).is_err());
        assert!(
            DomPolicy::parse(r#"{"version":1,"rules":[{"selector":"","action":"mask"}]}"#).is_err()
        );
        assert!(
            DomPolicy::parse(r#"{"version":1,"rules":[{"selector":"a","action":"explode"}]}"#)
                .is_err()
        );
        let ok = DomPolicy::parse(
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
        let from_file = DomPolicy::load(&path.to_string_lossy()).expect("file");
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
        let from_url = DomPolicy::load(&format!("http://{addr}/policy.json")).expect("url");
        assert_eq!(from_url, from_file);
        server.join().expect("server thread");

        let err = DomPolicy::load("https://example.invalid/p.json").expect_err("https");
        assert!(err.to_string().contains("https"), "{err}");
    }
}
