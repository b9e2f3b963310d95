//! Static files: MIME types, caching headers, the agent page's CSP, redirect, no traversal.

mod common;

use anyhow::Result;
use common::*;
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
    assert_eq!(js.header("cache-control"), Some("no-cache"));
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
    let js = http("GET", &server.url("/cobrowse/js/cobrowse.js"), &[], None).await?;
    assert_eq!(js.header("cache-control"), Some("public, max-age=3600"));
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
