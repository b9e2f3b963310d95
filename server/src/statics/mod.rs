//! Static files under `/cobrowse/` from the static directory (`www/` by default).
//!
//! warp's `fs::dir` does the file serving: it refuses `..` and backslash segments (no path
//! traversal), serves `index.html` for directories, and answers `If-Modified-Since` with 304 from
//! `Last-Modified`. This module fixes what it does not: MIME types the browser insists on
//! (`application/wasm` for streaming compilation, `text/javascript` for modules), caching policy,
//! the Content-Security-Policy of the agent page, and CORS on the assets a customer's page loads.
//!
//! # Cross-origin assets
//!
//! The snippet runs on the site's own origin (`shop.example`) and loads the client from the
//! co-browse server's. Browsers fetch module scripts, `import()` and `fetch()` in CORS mode, so
//! the client's JS glue, its wasm and the locale files are unusable there unless the answer
//! names the page's origin in `Access-Control-Allow-Origin`. The origin is judged by the same
//! rule as REST and the WebSocket ([`crate::origin::check`] against `crossOrigin.allowedOrigins`):
//! an allowed `Origin` is echoed, a refused one gets no CORS header (the browser then refuses the
//! page the file). `Vary: Origin` is on every answer of those folders, with or without `Origin`,
//! so no cache hands one origin's answer (or a no-CORS answer to the loader's `<script>`) to
//! another. The headers are added to warp's reply as it is, so a 304 revalidation carries them
//! too, and a missing file there is a 404 with the same headers ([`not_found`]): the client asks
//! for language files the server may not have, and must see a 404, not a CORS failure.
//!
//! # Compression and caching
//!
//! The build writes brotli and gzip copies next to the bundle's files; [`serve`] sends the best
//! one the request accepts (`Content-Encoding`, `Vary: Accept-Encoding`), `precompressed` says
//! which and keeps stale copies out. Caching follows what the file is ([`cache_control`]): the
//! client's content-hashed files never change (`immutable`, a year), the loader keeps its stable
//! URL for the snippet and is short-lived ([`LOADER_MAX_AGE`], revalidated by `ETag`), everything
//! else revalidates (or `static.browserHardCacheDuration`).

mod precompressed;

pub use precompressed::{Coding, accepted};

use crate::config::Config;
use crate::origin::OriginCheck;
use std::path::Path;
use warp::Reply;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};

/// Seconds a browser may use the loader (`js/cobrowse.js`, the snippet's stable URL) before it
/// revalidates: short, so an upgrade reaches every site within minutes, yet a visitor's page
/// views in between cost no request for it.
pub const LOADER_MAX_AGE: u64 = 300;

/// The loader's path below the static root.
const LOADER: &str = "js/cobrowse.js";

/// `Cache-Control` for hashed file names: they never change, a new build has new names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// True for a content-hashed file name the build writes (`name.<16 hex>.ext`).
pub fn is_hashed_name(name: &str) -> bool {
    let mut parts = name.rsplitn(3, '.');
    let (Some(ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !ext.is_empty()
        && !stem.is_empty()
        && hash.len() == 16
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `Cache-Control` for `rel` (a path below the static root): immutable for content-hashed
/// names, [`LOADER_MAX_AGE`] for the loader, else revalidate (or the configured hard cache).
pub fn cache_control(config: &Config, rel: &Path) -> String {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if is_hashed_name(name) {
        IMMUTABLE.to_string()
    } else if rel == Path::new(LOADER) {
        format!("public, max-age={LOADER_MAX_AGE}")
    } else if config.hard_cache.is_zero() {
        // Revalidate every time (ETag / Last-Modified make that a cheap 304): after an upgrade,
        // browsers must not mix old JS with a new server.
        "no-cache".to_string()
    } else {
        format!("public, max-age={}", config.hard_cache.as_secs())
    }
}

/// Folders of the static root that a customer's page loads from its own origin: `js/` (the
/// loader, the client's glue and wasm) and `locales/` (the UI texts the client fetches). The
/// agent page and the demo site are used on the server's own origin only.
pub const CROSS_ORIGIN_DIRS: [&str; 2] = ["js", "locales"];

/// True when `rel` (a path relative to the static root, or a URL path below `/cobrowse/`)
/// lies in one of [`CROSS_ORIGIN_DIRS`].
pub fn cross_origin_path(rel: &Path) -> bool {
    rel.components()
        .next()
        .and_then(|first| first.as_os_str().to_str())
        .is_some_and(|first| CROSS_ORIGIN_DIRS.contains(&first))
}

/// True when `file` (a path warp built under `static_dir`) lies in one of [`CROSS_ORIGIN_DIRS`].
pub fn cross_origin_asset(static_dir: &Path, file: &Path) -> bool {
    file.strip_prefix(static_dir).is_ok_and(cross_origin_path)
}

/// `Vary: Origin`, and `Access-Control-Allow-Origin` when the origin is allowed.
fn cors(h: &mut HeaderMap, origin: &OriginCheck) {
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let OriginCheck::Allowed(o) = origin
        && let Ok(v) = HeaderValue::from_str(o)
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
}

/// The answer for a file missing under [`CROSS_ORIGIN_DIRS`]: 404 with the CORS headers, so
/// the site's page reads the status instead of a CORS error.
pub fn not_found(origin: &OriginCheck) -> warp::reply::Response {
    let mut resp = warp::reply::Response::new(Default::default());
    *resp.status_mut() = StatusCode::NOT_FOUND;
    cors(resp.headers_mut(), origin);
    resp
}

/// The agent page's CSP. Scripts only from this server (plus wasm compilation); nothing
/// inline, so even a renderer bug cannot run a script from the customer's page. Styles, images,
/// fonts and media may come from anywhere: the replica iframe (about:blank, same origin) inherits
/// this policy and shows the customer's site resources. `base-uri` allows http(s) bases because
/// the replica sets `<base>` to the customer's page URL (see `www/slave.html`); a base cannot
/// bring in scripts anyway, since `script-src` is `'self'` only. `connect` is the
/// [`connect_sources`] list: the page talks to its own origin and the configured node URLs, no
/// other host. `frame_ancestors` says who may embed the page (`'self'` and the agent desktops).
pub fn slave_csp(frame_ancestors: &str, connect: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline' http: https: data:; \
         img-src 'self' http: https: data: blob:; font-src 'self' http: https: data:; \
         media-src 'self' http: https: data: blob:; connect-src {connect}; \
         frame-src 'self' http: https:; object-src 'none'; base-uri 'self' http: https:; \
         form-action 'none'; \
         frame-ancestors {frame_ancestors}"
    )
}

/// The supervisor console's CSP (`admin/*.html`): its own scripts, styles and REST calls only,
/// nothing inline, no frames in or out, no form posts. The console shows customers' page URLs
/// and agents' names; they are written as text, and this policy is the second line behind that.
pub const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; \
     base-uri 'none'; object-src 'none'";

/// The agent page's `connect-src`: `'self'` (its REST calls and, by CSP Level 3, WebSockets to
/// its own host) and, for each configured node URL (`serverUrl`, `cluster.url`, the public URLs
/// of the cluster's registered nodes in `peers`), its origin in both its http(s) and ws(s) form,
/// because REST answers send the agent's socket to the session's owner there. Nothing is taken
/// from the request.
pub fn connect_sources(config: &Config, peers: &[String]) -> String {
    let mut out = vec!["'self'".to_string()];
    let configured = [config.server_url.as_str(), config.cluster_url.as_str()];
    for url in configured
        .into_iter()
        .chain(peers.iter().map(String::as_str))
    {
        let Some((scheme, rest)) = url.split_once("://") else {
            continue;
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let ws = match scheme.to_ascii_lowercase().as_str() {
            "https" => "wss",
            "http" => "ws",
            _ => continue,
        };
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == ';' || c == ',') {
            continue;
        }
        for source in [format!("{scheme}://{host}"), format!("{ws}://{host}")] {
            if !out.contains(&source) {
                out.push(source);
            }
        }
    }
    out.join(" ")
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

/// Answers a static file request: warp's reply for `file` (`fs::dir` refused traversal and
/// evaluated `If-Modified-Since`), with the body swapped for the best precompressed variant the
/// request accepts, `If-None-Match` against the representation's `ETag`, and [`decorate`]'s
/// headers.
pub async fn serve(
    file: warp::filters::fs::File,
    config: &Config,
    peers: &[String],
    origin: &OriginCheck,
    request: &HeaderMap,
) -> warp::reply::Response {
    let path = file.path().to_path_buf();
    let mut resp = file.into_response();
    let Ok(meta) = tokio::fs::metadata(&path).await else {
        return decorate(resp, &path, config, peers, origin);
    };
    let get = |n: header::HeaderName| request.get(n).and_then(|v| v.to_str().ok());
    // A range is a range of one representation: ranged requests get the file as it is.
    let ranged = request.contains_key(header::RANGE);
    let mut chosen = None;
    if !ranged {
        for coding in accepted(get(header::ACCEPT_ENCODING)) {
            if let Some(v) = precompressed::variant(&path, coding).await {
                chosen = Some((coding, v));
                break;
            }
        }
    }
    let varies = chosen.is_some() || precompressed::has_variants(&path).await;
    let etag = precompressed::etag(&meta, chosen.as_ref().map(|(c, _)| *c));
    let if_none_match = get(header::IF_NONE_MATCH);
    let not_modified = if_none_match.is_some_and(|t| precompressed::none_match(t, &etag));
    if not_modified {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        *resp.body_mut() = Default::default();
        resp.headers_mut().remove(header::CONTENT_LENGTH);
    } else if let Some((coding, variant)) = &chosen {
        if let Ok(bytes) = tokio::fs::read(variant).await {
            // Also when warp said 304 by date: an `If-None-Match` that did not match wins.
            if resp.status() == StatusCode::NOT_MODIFIED && if_none_match.is_some() {
                *resp.status_mut() = StatusCode::OK;
            }
            let h = resp.headers_mut();
            h.remove(header::ACCEPT_RANGES);
            if resp.status() != StatusCode::NOT_MODIFIED {
                let h = resp.headers_mut();
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                *resp.body_mut() = bytes::Bytes::from(bytes).into();
            }
            resp.headers_mut().insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(coding.token()),
            );
        }
    } else if resp.status() == StatusCode::NOT_MODIFIED
        && if_none_match.is_some()
        && let Ok(bytes) = tokio::fs::read(&path).await
    {
        *resp.status_mut() = StatusCode::OK;
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        *resp.body_mut() = bytes::Bytes::from(bytes).into();
    }
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if varies {
        h.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    decorate(resp, &path, config, peers, origin)
}

/// Adjusts a file reply for `path`: MIME, `Cache-Control`, `nosniff`, the agent page's CSP
/// (`peers`: the cluster's node URLs, see [`connect_sources`]), and CORS for the cross-origin
/// assets (`origin` is what [`crate::origin::check`] said of the request).
pub fn decorate(
    mut resp: warp::reply::Response,
    path: &Path,
    config: &Config,
    peers: &[String],
    origin: &OriginCheck,
) -> warp::reply::Response {
    let h = resp.headers_mut();
    if cross_origin_asset(&config.static_dir, path) {
        cors(h, origin);
    }
    if let Some(ct) = content_type(path) {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let rel = path.strip_prefix(&config.static_dir).unwrap_or(path);
    if let Ok(v) = HeaderValue::from_str(&cache_control(config, rel)) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if rel.starts_with("admin") && path.extension().and_then(|e| e.to_str()) == Some("html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(ADMIN_CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    // The replay page renders the same untrusted replay data into the same replica: same policy.
    if matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("slave.html" | "replay.html")
    ) && let Ok(v) = HeaderValue::from_str(&slave_csp(
        &config.frame_ancestors,
        &connect_sources(config, peers),
    )) {
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
    fn the_console_allows_no_inline_script_and_no_framing() {
        assert!(ADMIN_CSP.contains("script-src 'self';"));
        assert!(!ADMIN_CSP.contains("unsafe"));
        assert!(ADMIN_CSP.contains("frame-ancestors 'none'"));
    }

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
    fn hashed_names_are_immutable_the_loader_short_the_rest_revalidates() {
        assert!(is_hashed_name("cobrowse_client.0123456789abcdef.js"));
        assert!(is_hashed_name("cobrowse_client_bg.0123456789abcdef.wasm"));
        for no in [
            "cobrowse_client.js",
            "x.0123456789ABCDEF.js",
            "x.0123456789abcde.js",
            ".0123456789abcdef.js",
            "0123456789abcdef.js",
        ] {
            assert!(!is_hashed_name(no), "{no}");
        }
        let c = Config::default();
        let policy = |p: &str| cache_control(&c, Path::new(p));
        assert_eq!(
            policy("js/client/cobrowse_client_bg.0123456789abcdef.wasm"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(policy("js/cobrowse.js"), "public, max-age=300");
        assert_eq!(policy("js/client/cobrowse_client.js"), "no-cache");
        assert_eq!(policy("slave.html"), "no-cache");
    }

    #[test]
    fn only_the_customer_folders_are_cross_origin_assets() {
        let root = Path::new("www");
        for yes in [
            "www/js/cobrowse.js",
            "www/js/client/cobrowse_client_bg.wasm",
            "www/locales/customer/de.json",
        ] {
            assert!(cross_origin_asset(root, Path::new(yes)), "{yes}");
        }
        for no in [
            "www/slave.html",
            "www/demo/index.html",
            "www/jsx/a.js",
            "elsewhere/js/cobrowse.js",
        ] {
            assert!(!cross_origin_asset(root, Path::new(no)), "{no}");
        }
    }

    #[test]
    fn csp_forbids_inline_scripts_and_plugins() {
        let csp = slave_csp("*", "'self'");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(
            !csp.contains("unsafe-inline' 'wasm")
                && !csp.contains("script-src 'self' 'unsafe-inline'")
        );
        assert!(csp.contains("object-src 'none'"));
        assert!(csp.contains("base-uri 'self' http: https:"));
        assert!(csp.ends_with("frame-ancestors *"));
        assert!(csp.contains("connect-src 'self';"));
    }

    #[test]
    fn connect_sources_are_self_and_the_configured_node_urls_only() {
        let config = Config::default();
        assert_eq!(connect_sources(&config, &[]), "'self'");
        let config = Config {
            server_url: "https://cb1.example.com".into(),
            cluster_url: "https://lb.example.com/cobrowse-prefix".into(),
            ..Config::default()
        };
        let peers = [
            "http://10.0.0.2:8700".to_string(),
            "https://cb1.example.com".to_string(),
        ];
        assert_eq!(
            connect_sources(&config, &peers),
            "'self' https://cb1.example.com wss://cb1.example.com https://lb.example.com \
             wss://lb.example.com http://10.0.0.2:8700 ws://10.0.0.2:8700"
        );
    }
}
