//! What the proxy is pointed at: the site (an origin), the co-browse server, and optionally the
//! proxy's own public URL. Validated once at start, so a typo stops the tool with a message
//! instead of answering every request with an error.

use thiserror::Error;
use url::Url;

/// A validated configuration for [`crate::run`].
#[derive(Debug, Clone)]
pub struct Config {
    /// The site served through the proxy: an `http(s)://host[:port]` origin, no path.
    pub upstream: Url,
    /// The co-browse server that `/cobrowse/…` (incl. the WebSocket) is forwarded to.
    pub cobrowse: Url,
    /// The proxy's own origin as browsers reach it, when it is not `http://<Host header>`
    /// (e.g. behind a TLS tunnel). `None`: taken from each request's `Host`.
    pub public_url: Option<Url>,
    /// Accept any certificate from an `https://` upstream (self-signed staging hosts).
    pub insecure_upstream_tls: bool,
}

/// A configuration value that cannot work.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Not a URL at all.
    #[error("{what}: {value:?} is not a URL ({reason})")]
    NotUrl {
        /// Which option.
        what: &'static str,
        /// The value given.
        value: String,
        /// The parser's reason.
        reason: String,
    },
    /// A scheme other than http/https.
    #[error("{what}: {value:?} must start with http:// or https://")]
    Scheme {
        /// Which option.
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// A path, query or fragment where an origin is expected.
    #[error(
        "{what}: {value:?} must be an origin (scheme://host[:port]) without a path; open the path through the proxy instead"
    )]
    NotOrigin {
        /// Which option.
        what: &'static str,
        /// The value given.
        value: String,
    },
}

/// Parses `value` as an `http(s)` origin: scheme, host and port only (a trailing `/` is fine).
pub fn parse_origin(what: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim()).map_err(|e| ConfigError::NotUrl {
        what,
        value: value.into(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::Scheme {
            what,
            value: value.into(),
        });
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(ConfigError::NotOrigin {
            what,
            value: value.into(),
        });
    }
    Ok(url)
}

/// `scheme://host[:port]` of an origin URL, without the trailing slash `Url` keeps.
pub fn origin_string(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl Config {
    /// Validates the three URLs (see [`parse_origin`]).
    pub fn new(
        upstream: &str,
        cobrowse: &str,
        public_url: Option<&str>,
        insecure_upstream_tls: bool,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            upstream: parse_origin("upstream", upstream)?,
            cobrowse: parse_origin("cobrowse server", cobrowse)?,
            public_url: public_url
                .map(|p| parse_origin("public URL", p))
                .transpose()?,
            insecure_upstream_tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_accepted_with_or_without_slash() {
        let u = parse_origin("upstream", "http://localhost:5173").unwrap();
        assert_eq!(origin_string(&u), "http://localhost:5173");
        let u = parse_origin("upstream", "https://staging.example/").unwrap();
        assert_eq!(origin_string(&u), "https://staging.example");
    }

    #[test]
    fn paths_schemes_and_garbage_are_refused() {
        assert!(matches!(
            parse_origin("upstream", "http://x.example/app/"),
            Err(ConfigError::NotOrigin { .. })
        ));
        assert!(matches!(
            parse_origin("upstream", "ftp://x.example"),
            Err(ConfigError::Scheme { .. })
        ));
        assert!(matches!(
            parse_origin("upstream", "localhost:3000"),
            Err(ConfigError::Scheme { .. }) | Err(ConfigError::NotUrl { .. })
        ));
        assert!(matches!(
            parse_origin("upstream", "not a url"),
            Err(ConfigError::NotUrl { .. })
        ));
    }
}
