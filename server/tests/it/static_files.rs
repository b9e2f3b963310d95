//! Static files: MIME types, caching headers, the agent page's CSP, redirect, no traversal, and
//! CORS on the assets a customer's page loads from another origin.

use crate::common::*;
use anyhow::Result;
use cobrowse_server::origin::OriginList;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn mime_types_caching_and_csp() -> Result<()> {
    let server =
        TestServer::start(|c| c.frame_ancestors = "'self' https://desk.example".into()).await?;
    let js = http("GET", &server.url("/cobrowse/js/cobrowse.js"), &[], None).await?;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    // The loader keeps the snippet's stable URL: short-lived, revalidated by its ETag.
    assert_eq!(js.header("cache-control"), Some("public, max-age=300"));
    let last_modified = js.header("last-modified").map(str::to_string);
    assert!(last_modified.is_some());
    assert_eq!(js.header("x-content-type-options"), Some("nosniff"));

    // Revalidation is cheap.
    let again = http(
        "GET",
        &server.url("/cobrowse/js/cobrowse.js"),
        &[("If-Modified-Since", last_modified.as_deref().unwrap_or(""))],
        None,
    )
    .await?;
    assert_eq!(again.status, 304);

    let wasm = http(
        "GET",
        &server.url("/cobrowse/js/agent/cobrowse_agent_bg.wasm"),
        &[],
        None,
    )
    .await?;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));

    let slave = http("GET", &server.url("/cobrowse/slave.html"), &[], None).await?;
    assert_eq!(slave.status, 200);
    let csp = slave.header("content-security-policy").unwrap_or("");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{csp}"
    );
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(csp.contains("base-uri 'self' http: https:"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'self' https://desk.example"),
        "{csp}"
    );
    let demo = http("GET", &server.url("/cobrowse/demo/"), &[], None).await?;
    assert_eq!(demo.status, 200);
    assert!(demo.body.contains("demo"));
    assert_eq!(demo.header("content-security-policy"), None);

    let root = http("GET", &server.url("/"), &[], None).await?;
    assert_eq!(root.status, 302);
    assert_eq!(root.header("location"), Some("/cobrowse/demo/"));
    server.stop().await
}

#[tokio::test]
async fn hard_cache_sets_max_age() -> Result<()> {
    let server = TestServer::start(|c| c.hard_cache = Duration::from_secs(3600)).await?;
    let wasm = http(
        "GET",
        &server.url("/cobrowse/js/agent/cobrowse_agent_bg.wasm"),
        &[],
        None,
    )
    .await?;
    assert_eq!(wasm.header("cache-control"), Some("public, max-age=3600"));
    // The loader stays short-lived whatever the hard cache says: sites pick up an upgrade.
    let js = http("GET", &server.url("/cobrowse/js/cobrowse.js"), &[], None).await?;
    assert_eq!(js.header("cache-control"), Some("public, max-age=300"));
    server.stop().await
}

async fn raw_get(server: &TestServer, path: &str) -> Result<String> {
    let mut s = tokio::net::TcpStream::connect(server.addr).await?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let mut out = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut out)).await??;
    Ok(out)
}

#[tokio::test]
async fn path_traversal_is_impossible() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    for path in [
        "/cobrowse/../secret.txt",
        "/cobrowse/..%2fsecret.txt",
        "/cobrowse/%2e%2e/secret.txt",
        "/cobrowse/js/..%2f..%2fsecret.txt",
        "/cobrowse/..%5csecret.txt",
    ] {
        let answer = raw_get(&server, path).await?;
        assert!(!answer.contains("TOP-SECRET"), "{path} leaked: {answer}");
        assert!(!answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
    }
    server.stop().await
}

/// The agent page's defaults (`ui.locale`, `ui.theme`) and the locale files it and the customer
/// client load (operators add a language by adding a file to the static root).
#[tokio::test]
async fn ui_defaults_and_locale_files() -> Result<()> {
    // The repository's own static root, so the real locale files are served.
    let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    let plain = TestServer::start(|c| c.static_dir = www).await?;
    let v = http("GET", &plain.url("/cobrowse/rest/ui.json"), &[], None)
        .await?
        .json()?;
    assert!(v["locale"].is_null() && v["theme"].is_null(), "{v}");
    for path in [
        "/cobrowse/locales/agent/de.json",
        "/cobrowse/locales/customer/en.json",
    ] {
        let r = http("GET", &plain.url(path), &[], None).await?;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert!(r.json()?.is_object(), "{path}");
    }
    let missing = http(
        "GET",
        &plain.url("/cobrowse/locales/agent/xx.json"),
        &[],
        None,
    )
    .await?;
    assert_eq!(missing.status, 404);
    plain.stop().await?;

    let set = TestServer::start(|c| {
        c.ui_locale = Some("de".into());
        c.ui_theme = Some("dark".into());
    })
    .await?;
    let r = http("GET", &set.url("/cobrowse/rest/ui.json"), &[], None).await?;
    assert_eq!(r.status, 200);
    let v = r.json()?;
    assert_eq!(
        (v["locale"].as_str(), v["theme"].as_str()),
        (Some("de"), Some("dark"))
    );
    let post = http("POST", &set.url("/cobrowse/rest/ui.json"), &[], Some("")).await?;
    assert_eq!(post.status, 405);
    set.stop().await
}

/// What a customer's page on another origin loads: the loader, the client's glue and wasm, a
/// locale file.
const CUSTOMER_ASSETS: [&str; 4] = [
    "/cobrowse/js/cobrowse.js",
    "/cobrowse/js/client/cobrowse_client.js",
    "/cobrowse/js/client/cobrowse_client_bg.wasm",
    "/cobrowse/locales/customer/en.json",
];

/// True when the answer's `Vary` names `Origin` (in any of its lines or list items).
fn varies_on_origin(r: &HttpAnswer) -> bool {
    r.headers_named("vary")
        .iter()
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("origin"))
}

/// `crossOrigin.allowedOrigins` decides, as for REST: an allowed origin is echoed, a refused one
/// gets the file without any CORS header (the browser keeps it from the page), a request without
/// `Origin` gets none either; `Vary: Origin` is on all of them, so caches keep them apart.
#[tokio::test]
async fn customer_assets_answer_cors_by_the_origin_rule() -> Result<()> {
    let server = TestServer::start(|c| {
        c.allowed_origins =
            OriginList::parse(&["https://*.shop.example".to_string()]).expect("pattern");
    })
    .await?;
    for path in CUSTOMER_ASSETS {
        let url = server.url(path);
        let allowed = http("GET", &url, &[("Origin", "https://www.shop.example")], None).await?;
        assert_eq!(allowed.status, 200, "{path}");
        assert_eq!(
            allowed.header("access-control-allow-origin"),
            Some("https://www.shop.example"),
            "{path}"
        );
        assert!(varies_on_origin(&allowed), "{path}: {:?}", allowed.headers);
        // The credentials flag is never set: the client's loads carry no cookies cross-origin.
        assert_eq!(
            allowed.header("access-control-allow-credentials"),
            None,
            "{path}"
        );

        let refused = http("GET", &url, &[("Origin", "https://evil.example")], None).await?;
        assert_eq!(refused.status, 200, "{path}");
        assert_eq!(
            refused.header("access-control-allow-origin"),
            None,
            "{path}"
        );
        assert!(varies_on_origin(&refused), "{path}: {:?}", refused.headers);

        let plain = http("GET", &url, &[], None).await?;
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("access-control-allow-origin"), None, "{path}");
        assert!(varies_on_origin(&plain), "{path}: {:?}", plain.headers);
        assert_eq!(plain.body, allowed.body, "{path}: same file for everyone");
    }

    // The server's own origin is always allowed (same rule as REST).
    let own = format!("http://{}", server.addr);
    let r = http(
        "GET",
        &server.url("/cobrowse/js/cobrowse.js"),
        &[("Origin", own.as_str())],
        None,
    )
    .await?;
    assert_eq!(r.header("access-control-allow-origin"), Some(own.as_str()));

    // A language the server lacks is a 404 the site's page can read (the client then tries the
    // next file), not a CORS failure; outside the customer folders a 404 stays bare.
    let missing = http(
        "GET",
        &server.url("/cobrowse/locales/customer/fr-ca.json"),
        &[("Origin", "https://www.shop.example")],
        None,
    )
    .await?;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("access-control-allow-origin"),
        Some("https://www.shop.example")
    );
    assert!(varies_on_origin(&missing), "{:?}", missing.headers);
    let elsewhere = http(
        "GET",
        &server.url("/cobrowse/demo/missing.html"),
        &[("Origin", "https://www.shop.example")],
        None,
    )
    .await?;
    assert_eq!(elsewhere.status, 404);
    assert_eq!(elsewhere.header("access-control-allow-origin"), None);

    // The agent page and the demo site are not for other origins' scripts.
    for path in ["/cobrowse/slave.html", "/cobrowse/demo/"] {
        let r = http(
            "GET",
            &server.url(path),
            &[("Origin", "https://www.shop.example")],
            None,
        )
        .await?;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), None, "{path}");
        assert!(!varies_on_origin(&r), "{path}");
    }
    server.stop().await
}

/// The default list (`*`) lets any site load the client; revalidation (`If-Modified-Since` →
/// 304) and the hard-cache policy keep working and carry the same CORS answer, so a browser that
/// revalidates a cached module keeps a usable response.
#[tokio::test]
async fn customer_assets_keep_caching_with_cors() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let url = server.url("/cobrowse/js/client/cobrowse_client_bg.wasm");
    let site = [("Origin", "https://any.example")];
    let first = http("GET", &url, &site, None).await?;
    assert_eq!(
        first.header("access-control-allow-origin"),
        Some("https://any.example")
    );
    assert_eq!(first.header("content-type"), Some("application/wasm"));
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let last_modified = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    let again = http(
        "GET",
        &url,
        &[
            ("Origin", "https://any.example"),
            ("If-Modified-Since", last_modified.as_str()),
        ],
        None,
    )
    .await?;
    assert_eq!(again.status, 304);
    assert_eq!(
        again.header("access-control-allow-origin"),
        Some("https://any.example")
    );
    assert!(varies_on_origin(&again), "{:?}", again.headers);
    server.stop().await?;

    let hard = TestServer::start(|c| c.hard_cache = Duration::from_secs(600)).await?;
    let r = http(
        "GET",
        &hard.url("/cobrowse/locales/customer/en.json"),
        &site,
        None,
    )
    .await?;
    assert_eq!(r.header("cache-control"), Some("public, max-age=600"));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://any.example")
    );
    assert!(varies_on_origin(&r), "{:?}", r.headers);
    hard.stop().await
}

/// A raw HTTP/1.1 answer: status, headers, body bytes (compressed bodies are not text).
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every item of every `name` line, lowercased (`Vary: Origin, Accept-Encoding`).
    fn list(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .collect()
    }
}

/// `GET path` with `headers`, over a plain socket, read to the end.
async fn raw(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Result<Raw> {
    let mut s = tokio::net::TcpStream::connect(server.addr).await?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await??;
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no header end"))?;
    let head = String::from_utf8_lossy(&out[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Raw {
        status,
        headers,
        body: out[end + 4..].to_vec(),
    })
}

const HASHED_JS: &str = "js/client/cobrowse_client.0123456789abcdef.js";

/// A hashed client file with brotli and gzip variants (the bytes stand for what the build
/// writes), and a locale file with a variant older than itself.
fn write_variants(www: &std::path::Path) -> Result<()> {
    std::fs::write(www.join(HASHED_JS), "export default function init() {}\n")?;
    std::fs::write(www.join(format!("{HASHED_JS}.br")), b"BROTLI-BYTES")?;
    std::fs::write(www.join(format!("{HASHED_JS}.gz")), b"GZIP-BYTES")?;
    let stale = www.join("locales/customer/en.json.br");
    std::fs::write(&stale, b"STALE-BROTLI")?;
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)?
        .set_modified(old)?;
    Ok(())
}

/// brotli where accepted, else gzip, else the file itself; `Vary: Accept-Encoding` on all three
/// (and `Origin`, the CORS rule), each with its own ETag; a variant older than its file is
/// never sent.
#[tokio::test]
async fn precompressed_variants_by_accept_encoding() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), |_| {}).await?;
    write_variants(&dir.path().join("www"))?;
    let path = format!("/cobrowse/{HASHED_JS}");
    let site = ("Origin", "https://shop.example");

    let br = raw(
        &server,
        &path,
        &[site, ("Accept-Encoding", "gzip, deflate, br, zstd")],
    )
    .await?;
    assert_eq!(br.status, 200);
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.body, b"BROTLI-BYTES");
    assert_eq!(br.header("content-length"), Some("12"));
    assert_eq!(
        br.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        br.header("access-control-allow-origin"),
        Some("https://shop.example")
    );

    let gz = raw(&server, &path, &[site, ("Accept-Encoding", "gzip")]).await?;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.body, b"GZIP-BYTES");

    let refused = raw(&server, &path, &[("Accept-Encoding", "br;q=0, gzip;q=0")]).await?;
    let plain = raw(&server, &path, &[]).await?;
    for identity in [&refused, &plain] {
        assert_eq!(identity.status, 200);
        assert_eq!(identity.header("content-encoding"), None);
        assert_eq!(identity.body, b"export default function init() {}\n");
    }
    for r in [&br, &gz, &plain] {
        let vary = r.list("vary");
        assert!(
            vary.contains(&"accept-encoding".to_string()),
            "{:?}",
            r.headers
        );
        assert!(vary.contains(&"origin".to_string()), "{:?}", r.headers);
    }
    let tags: Vec<_> = [&br, &gz, &plain]
        .iter()
        .map(|r| r.header("etag").unwrap_or_default().to_string())
        .collect();
    assert!(tags.iter().all(|t| t.starts_with('"')), "{tags:?}");
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );

    // A variant older than its file (a partial rebuild) is not sent; no fresh one: no Vary.
    let locale = raw(
        &server,
        "/cobrowse/locales/customer/en.json",
        &[("Accept-Encoding", "br")],
    )
    .await?;
    assert_eq!(locale.status, 200);
    assert_eq!(locale.header("content-encoding"), None);
    assert_eq!(locale.body, br#"{"button":"Co-browse"}"#);
    assert!(!locale.list("vary").contains(&"accept-encoding".to_string()));
    server.stop().await
}

/// Content-hashed names are immutable for a year; the loader is short-lived and revalidates
/// by ETag (`If-None-Match` → 304 with the same caching and CORS headers, per representation).
#[tokio::test]
async fn hashed_names_are_immutable_and_the_loader_revalidates() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_in(dir.path(), |_| {}).await?;
    write_variants(&dir.path().join("www"))?;
    let hashed = raw(&server, &format!("/cobrowse/{HASHED_JS}"), &[]).await?;
    assert_eq!(
        hashed.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    // The stable names keep revalidating (the npm package and self-hosting use them).
    let stable = raw(&server, "/cobrowse/js/client/cobrowse_client.js", &[]).await?;
    assert_eq!(stable.header("cache-control"), Some("no-cache"));

    let site = ("Origin", "https://shop.example");
    let first = raw(&server, "/cobrowse/js/cobrowse.js", &[site]).await?;
    assert_eq!(first.header("cache-control"), Some("public, max-age=300"));
    let etag = first
        .header("etag")
        .expect("the loader has an ETag")
        .to_string();
    let again = raw(
        &server,
        "/cobrowse/js/cobrowse.js",
        &[site, ("If-None-Match", etag.as_str())],
    )
    .await?;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(
        again.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    // Another representation's tag does not match; a tag that does not match wins over a date
    // that would.
    let other = raw(
        &server,
        "/cobrowse/js/cobrowse.js",
        &[
            ("If-None-Match", "\"something-else\""),
            (
                "If-Modified-Since",
                first.header("last-modified").unwrap_or_default(),
            ),
        ],
    )
    .await?;
    assert_eq!(other.status, 200);
    assert_eq!(other.body, b"export const x = 1;\n");
    server.stop().await
}
