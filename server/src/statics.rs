//! Static files under `/cobrowse/` from the static directory (`www/` by default).
//!
//! warp's `fs::dir` does the file serving: it refuses `..` and backslash segments (no path
//! traversal), serves `index.html` for directories, and answers `If-Modified-Since` with 304 from
//! `Last-Modified`. This module fixes what it does not: MIME types the browser insists on
//! (`application/wasm` for streaming compilation, `text/javascript` for modules), caching policy,
//! and the Content-Security-Policy of the agent page.

use crate::config::Config;
use warp::Reply;
use warp::http::{HeaderValue, header};

/// The agent page's CSP. Scripts only from this server (plus wasm compilation); nothing
/// inline, so even a renderer bug cannot run a script from the customer's page. Styles, images,
/// fonts and media may come from anywhere: the replica iframe (about:blank, same origin) inherits
/// this policy and shows the customer's site resources. `base-uri` allows http(s) bases because
/// the replica sets `<base>` to the customer's page URL (see `www/slave.html`); a base cannot
/// bring in scripts anyway, since `script-src` is `'self'` only.
pub fn slave_csp(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline' http: https: data:; \
         img-src 'self' http: https: data: blob:; font-src 'self' http: https: data:; \
         media-src 'self' http: https: data: blob:; connect-src 'self' ws: wss: http: https:; \
         frame-src 'self' http: https:; object-src 'none'; base-uri 'self' http: https:; \
         form-action 'none'; \
         frame-ancestors {frame_ancestors}"
    )
}

/// MIME type by extension, for the types where guessing is not good enough.
pub fn content_type(path: &std::path::Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "ts" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Adjusts warp's file reply: MIME, `Cache-Control`, `nosniff`, and the agent page's CSP.
pub fn decorate(file: warp::filters::fs::File, config: &Config) -> warp::reply::Response {
    let path = file.path().to_path_buf();
    let mut resp = file.into_response();
    let h = resp.headers_mut();
    if let Some(ct) = content_type(&path) {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let cache = if config.hard_cache.is_zero() {
        // Revalidate every time (Last-Modified makes that a cheap 304): after an upgrade,
        // browsers must not mix old JS with a new server.
        "no-cache".to_string()
    } else {
        format!("public, max-age={}", config.hard_cache.as_secs())
    };
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if path.file_name().and_then(|n| n.to_str()) == Some("slave.html")
        && let Ok(v) = HeaderValue::from_str(&slave_csp(&config.frame_ancestors))
    {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn mime_types_for_the_bundle() {
        assert_eq!(
            content_type(Path::new("a/x_bg.wasm")),
            Some("application/wasm")
        );
        assert_eq!(
            content_type(Path::new("cobrowse.js")),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(content_type(Path::new("x.png")), None);
    }

    #[test]
    fn csp_forbids_inline_scripts_and_plugins() {
        let csp = slave_csp("*");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(
            !csp.contains("unsafe-inline' 'wasm")
                && !csp.contains("script-src 'self' 'unsafe-inline'")
        );
        assert!(csp.contains("object-src 'none'"));
        assert!(csp.contains("base-uri 'self' http: https:"));
        assert!(csp.ends_with("frame-ancestors *"));
    }
}
