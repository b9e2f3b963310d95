//! `GET /cobrowse/css-proxy?url=…` against real loopback origins: a warp server playing the
//! customer's site (counting its requests) and raw TCP servers for a forward proxy and a body
//! without `Content-Length`.

use crate::common::*;
use anyhow::Result;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warp::Filter;
use warp::http::{HeaderMap, Response};

/// What the origin saw.
#[derive(Default)]
struct Seen {
    /// Requests per path.
    calls: HashMap<String, usize>,
    /// `If-None-Match` values received.
    conditional: Vec<String>,
}

type SeenRef = Arc<Mutex<Seen>>;

const SITE_CSS: &str = "@import \"more.css\";\n\
.menu .sub { display: none }\n\
.menu:hover .sub { display: block; background: url(img/a.png) }\n\
@media (min-width: 1px) { a:focus { outline: 1px solid red } }\n";

fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<String>) -> Response<String> {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).expect("response")
}

/// The customer's site: every path the tests need.
async fn origin(path: String, headers: HeaderMap, seen: SeenRef) -> Response<String> {
    {
        let mut s = seen.lock().expect("seen");
        *s.calls.entry(path.clone()).or_default() += 1;
        if let Some(v) = headers.get("if-none-match").and_then(|v| v.to_str().ok()) {
            s.conditional.push(v.to_string());
        }
    }
    let css = [("content-type", "text/css")];
    match path.as_str() {
        "/css/site.css" => reply(
            200,
            &[
                ("content-type", "text/css"),
                ("cache-control", "max-age=600"),
            ],
            SITE_CSS,
        ),
        "/css/more.css" => reply(200, &css, "b:hover { color: green }"),
        "/css/nostore.css" => reply(
            200,
            &[("content-type", "text/css"), ("cache-control", "no-store")],
            "i { color: blue }",
        ),
        "/css/etag.css" => {
            let matches = headers
                .get("if-none-match")
                .is_some_and(|v| v.as_bytes() == b"\"v1\"");
            if matches {
                reply(
                    304,
                    &[("etag", "\"v1\""), ("cache-control", "no-cache")],
                    "",
                )
            } else {
                reply(
                    200,
                    &[
                        ("content-type", "text/css; charset=utf-8"),
                        ("etag", "\"v1\""),
                        ("cache-control", "no-cache"),
                    ],
                    "u:hover { color: teal }",
                )
            }
        }
        "/css/lm.css" => {
            const LM: &str = "Tue, 01 Sep 2026 10:00:00 GMT";
            let matches = headers
                .get("if-modified-since")
                .is_some_and(|v| v.as_bytes() == LM.as_bytes());
            if matches {
                reply(
                    304,
                    &[("last-modified", LM), ("cache-control", "no-cache")],
                    "",
                )
            } else {
                reply(
                    200,
                    &[
                        ("content-type", "text/css"),
                        ("last-modified", LM),
                        ("cache-control", "no-cache"),
                    ],
                    "q:focus { color: navy }",
                )
            }
        }
        "/css/a.css" | "/css/b.css" => reply(
            200,
            &[
                ("content-type", "text/css"),
                ("cache-control", "max-age=600"),
            ],
            "p { color: red; padding: 1px 2px 3px 4px; margin: 0 }",
        ),
        "/page.html" => reply(200, &[("content-type", "text/html")], "<p>not css</p>"),
        "/css/big.css" => reply(
            200,
            &css,
            format!("p {{ content: \"{}\" }}", "x".repeat(4096)),
        ),
        "/css/slow.css" => {
            // Never answers; the proxy's timeout must end the wait.
            std::future::pending::<()>().await;
            reply(200, &css, "")
        }
        "/css/redirect-in.css" => reply(302, &[("location", "/css/site.css")], ""),
        "/css/redirect-out.css" => reply(302, &[("location", "http://evil.example/steal.css")], ""),
        _ => reply(404, &[], "no such file"),
    }
}

/// Starts the origin on 127.0.0.1:0.
async fn start_origin() -> Result<(SocketAddr, SeenRef)> {
    let seen: SeenRef = Arc::default();
    let s = seen.clone();
    let route = warp::path::full().and(warp::header::headers_cloned()).then(
        move |p: warp::path::FullPath, h: HeaderMap| origin(p.as_str().to_string(), h, s.clone()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(warp::serve(route).incoming(listener).run());
    Ok((addr, seen))
}

/// A raw TCP server answering every connection with `response` and recording request heads.
async fn raw_server(response: &'static str) -> Result<(SocketAddr, Arc<Mutex<Vec<String>>>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let heads: Arc<Mutex<Vec<String>>> = Arc::default();
    let h = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let h = h.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                h.lock()
                    .expect("heads")
                    .push(String::from_utf8_lossy(&buf).to_string());
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Ok((addr, heads))
}

fn proxied(server: &TestServer, url: &str) -> String {
    server.url(&format!(
        "/cobrowse/css-proxy?url={}",
        url.replace('%', "%25")
            .replace(':', "%3A")
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('&', "%26")
    ))
}

async fn get(url: &str) -> Result<HttpAnswer> {
    http("GET", url, &[], None).await
}

fn calls(seen: &SeenRef, path: &str) -> usize {
    seen.lock()
        .expect("seen")
        .calls
        .get(path)
        .copied()
        .unwrap_or(0)
}

fn code(a: &HttpAnswer) -> String {
    a.json()
        .ok()
        .and_then(|j| j["error"]["code"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("(no JSON error: {})", a.body))
}

async fn server_for(
    origin: SocketAddr,
    tweak: impl FnOnce(&mut cobrowse_server::Config),
) -> Result<TestServer> {
    TestServer::start(|c| {
        c.allowed_external_domains = vec![format!("http://{origin}")];
        tweak(c);
    })
    .await
}

#[tokio::test]
async fn allowed_sheet_is_absolutised_rewritten_and_then_served_from_cache() -> Result<()> {
    let (o, seen) = start_origin().await?;
    let server = server_for(o, |_| {}).await?;
    let sheet = format!("http://{o}/css/site.css");

    let first = get(&proxied(&server, &sheet)).await?;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        first.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(first.header("x-cobrowse-cache"), Some("miss"));
    let cc = first.header("cache-control").unwrap_or_default();
    assert!(cc.starts_with("public, max-age="), "{cc}");
    let body = &first.body;
    // Originals kept, copies right after them, inside their @media.
    assert!(body.contains(".menu:hover .sub {"), "{body}");
    assert!(body.contains(".menu[data-cobrowse-hover] .sub {"), "{body}");
    assert!(body.contains("a[data-cobrowse-focus] { outline"), "{body}");
    // Relative URLs resolved against the sheet's own URL, not the proxy's.
    assert!(
        body.contains(&format!("url(\"http://{o}/css/img/a.png\")")),
        "{body}"
    );
    // The import of an allowed origin goes through the proxy again (relative to it).
    let import = format!(
        "css-proxy?url=http%3A%2F%2F{}%3A{}%2Fcss%2Fmore.css",
        o.ip(),
        o.port()
    );
    assert!(
        body.contains(&format!("@import url(\"{import}\")")),
        "{body}"
    );
    let imported = get(&server.url(&format!("/cobrowse/{import}"))).await?;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert!(
        imported.body.contains("b[data-cobrowse-hover]"),
        "{}",
        imported.body
    );

    // max-age=600: the second answer comes from the cache; the origin saw one request.
    let second = get(&proxied(&server, &sheet)).await?;
    assert_eq!(second.status, 200);
    assert_eq!(second.header("x-cobrowse-cache"), Some("hit"));
    assert_eq!(second.body, first.body);
    assert_eq!(calls(&seen, "/css/site.css"), 1);

    let m = server.metrics().await?;
    assert_eq!(
        metric(&m, "cobrowse_css_proxy_requests_total{result=\"hit\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "cobrowse_css_proxy_requests_total{result=\"miss\"}"),
        Some(2.0),
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn refused_domains_schemes_and_missing_urls_get_clear_errors() -> Result<()> {
    let (o, seen) = start_origin().await?;
    let server = server_for(o, |_| {}).await?;

    let other = get(&proxied(&server, "http://other.example/x.css")).await?;
    assert_eq!(other.status, 403);
    assert_eq!(code(&other), "domain_refused");
    assert!(
        other.body.contains("allowedExternalDomains"),
        "{}",
        other.body
    );

    // Same host, another port: a different origin.
    let port = get(&proxied(&server, &format!("http://{}:1/x.css", o.ip()))).await?;
    assert_eq!((port.status, code(&port).as_str()), (403, "domain_refused"));

    let file = get(&proxied(&server, "file:///etc/passwd")).await?;
    assert_eq!(
        (file.status, code(&file).as_str()),
        (403, "unsupported_scheme")
    );

    let missing = get(&server.url("/cobrowse/css-proxy")).await?;
    assert_eq!(
        (missing.status, code(&missing).as_str()),
        (400, "bad_request")
    );
    let garbage = get(&server.url("/cobrowse/css-proxy?url=not%20a%20url")).await?;
    assert_eq!((garbage.status, code(&garbage).as_str()), (400, "bad_url"));

    assert!(seen.lock().expect("seen").calls.is_empty());
    let m = server.metrics().await?;
    assert_eq!(
        metric(&m, "cobrowse_css_proxy_requests_total{result=\"refused\"}"),
        Some(5.0),
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn non_css_and_oversized_bodies_are_refused_with_502() -> Result<()> {
    let (o, _seen) = start_origin().await?;
    // A body without Content-Length (read until close) must be cut while reading.
    let (raw, _) = raw_server(
        "HTTP/1.1 200 OK\r\ncontent-type: text/css\r\nconnection: close\r\n\r\np { content: \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\" }",
    )
    .await?;
    let server = TestServer::start(|c| {
        c.allowed_external_domains = vec![format!("http://{o}"), format!("http://{raw}")];
        c.css_proxy.max_css_bytes = 100;
    })
    .await?;

    let html = get(&proxied(&server, &format!("http://{o}/page.html"))).await?;
    assert_eq!((html.status, code(&html).as_str()), (502, "not_css"));
    assert!(html.body.contains("text/html"), "{}", html.body);

    let big = get(&proxied(&server, &format!("http://{o}/css/big.css"))).await?;
    assert_eq!((big.status, code(&big).as_str()), (502, "too_large"));
    assert!(big.body.contains("maxCssBytes"), "{}", big.body);

    let streamed = get(&proxied(&server, &format!("http://{raw}/s.css"))).await?;
    assert_eq!(
        (streamed.status, code(&streamed).as_str()),
        (502, "too_large")
    );

    // A port nothing listens on (bound, then released): the connection is refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    let server2 =
        TestServer::start(|c| c.allowed_external_domains = vec![format!("http://{closed}")])
            .await?;
    let down = get(&proxied(&server2, &format!("http://{closed}/x.css"))).await?;
    assert_eq!(
        (down.status, code(&down).as_str()),
        (502, "origin_unreachable")
    );
    assert!(
        down.body.to_lowercase().contains("refused"),
        "the cause is named: {}",
        down.body
    );
    server2.stop().await?;

    let missing = get(&proxied(&server, &format!("http://{o}/css/none.css"))).await?;
    assert_eq!(
        (missing.status, code(&missing).as_str()),
        (502, "origin_status")
    );
    assert!(missing.body.contains("404"), "{}", missing.body);

    let m = server.metrics().await?;
    assert_eq!(
        metric(&m, "cobrowse_css_proxy_requests_total{result=\"error\"}"),
        Some(4.0),
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn a_slow_origin_answers_504() -> Result<()> {
    let (o, seen) = start_origin().await?;
    let server = server_for(o, |c| c.css_proxy.timeout = Duration::from_millis(400)).await?;
    let slow = get(&proxied(&server, &format!("http://{o}/css/slow.css"))).await?;
    assert_eq!((slow.status, code(&slow).as_str()), (504, "origin_timeout"));
    assert_eq!(calls(&seen, "/css/slow.css"), 1);
    server.stop().await
}

#[tokio::test]
async fn no_store_sheets_are_fetched_every_time() -> Result<()> {
    let (o, seen) = start_origin().await?;
    let server = server_for(o, |_| {}).await?;
    let url = proxied(&server, &format!("http://{o}/css/nostore.css"));
    for _ in 0..2 {
        let a = get(&url).await?;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("x-cobrowse-cache"), Some("miss"));
        assert_eq!(a.header("cache-control"), Some("no-store"));
    }
    assert_eq!(calls(&seen, "/css/nostore.css"), 2);
    server.stop().await
}

#[tokio::test]
async fn stale_sheets_are_revalidated_with_their_etag() -> Result<()> {
    let (o, seen) = start_origin().await?;
    let server = server_for(o, |_| {}).await?;
    let url = proxied(&server, &format!("http://{o}/css/etag.css"));
    let first = get(&url).await?;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-cobrowse-cache"), Some("miss"));
    assert!(
        first.body.contains("u[data-cobrowse-hover]"),
        "{}",
        first.body
    );

    // `no-cache`: stored, but every use asks the origin, which answers 304 to the ETag.
    let second = get(&url).await?;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.header("x-cobrowse-cache"), Some("revalidated"));
    assert_eq!(second.body, first.body);
    assert_eq!(calls(&seen, "/css/etag.css"), 2);
    assert_eq!(
        seen.lock().expect("seen").conditional,
        vec!["\"v1\"".to_string()]
    );
    let m = server.metrics().await?;
    assert_eq!(
        metric(
            &m,
            "cobrowse_css_proxy_requests_total{result=\"revalidated\"}"
        ),
        Some(1.0),
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn stale_sheets_are_revalidated_with_their_last_modified_date() -> Result<()> {
    let (o, seen) = start_origin().await?;
    let server = server_for(o, |_| {}).await?;
    let url = proxied(&server, &format!("http://{o}/css/lm.css"));
    let first = get(&url).await?;
    assert_eq!(first.header("x-cobrowse-cache"), Some("miss"));
    assert!(
        first.body.contains("q[data-cobrowse-focus]"),
        "{}",
        first.body
    );
    let second = get(&url).await?;
    assert_eq!(second.header("x-cobrowse-cache"), Some("revalidated"));
    assert_eq!(second.body, first.body);
    assert_eq!(calls(&seen, "/css/lm.css"), 2);
    server.stop().await
}

#[tokio::test]
async fn the_cache_is_bounded_and_evicts_the_least_recently_used_sheet() -> Result<()> {
    let (o, seen) = start_origin().await?;
    // Room for one of the two (identical-size) sheets only.
    let server = server_for(o, |c| c.css_proxy.cache_bytes = 80).await?;
    let a = proxied(&server, &format!("http://{o}/css/a.css"));
    let b = proxied(&server, &format!("http://{o}/css/b.css"));
    let mut outcomes = Vec::new();
    for url in [&a, &a, &b, &a] {
        let r = get(url).await?;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.len() <= 80,
            "sheet of {} bytes fits the cache",
            r.body.len()
        );
        outcomes.push(r.header("x-cobrowse-cache").unwrap_or_default().to_string());
    }
    assert_eq!(outcomes, ["miss", "hit", "miss", "miss"], "b evicted a");
    assert_eq!(
        (calls(&seen, "/css/a.css"), calls(&seen, "/css/b.css")),
        (2, 1)
    );
    server.stop().await
}

#[tokio::test]
async fn redirects_are_followed_only_to_allowed_origins() -> Result<()> {
    let (o, seen) = start_origin().await?;
    let server = server_for(o, |_| {}).await?;

    let inside = get(&proxied(
        &server,
        &format!("http://{o}/css/redirect-in.css"),
    ))
    .await?;
    assert_eq!(inside.status, 200, "{}", inside.body);
    assert!(
        inside.body.contains(".menu[data-cobrowse-hover]"),
        "{}",
        inside.body
    );
    // Resolved against the final URL.
    assert!(
        inside.body.contains(&format!("http://{o}/css/img/a.png")),
        "{}",
        inside.body
    );

    let out = get(&proxied(
        &server,
        &format!("http://{o}/css/redirect-out.css"),
    ))
    .await?;
    assert_eq!((out.status, code(&out).as_str()), (403, "redirect_refused"));
    assert!(out.body.contains("evil.example"), "{}", out.body);
    assert_eq!(calls(&seen, "/css/redirect-out.css"), 1);
    server.stop().await
}

#[tokio::test]
async fn private_addresses_need_an_allow_entry_naming_them() -> Result<()> {
    let (o, seen) = start_origin().await?;
    // Wildcards allow the origins but do not name the hosts: loopback stays off limits.
    let server = TestServer::start(|c| {
        c.allowed_external_domains = vec!["http://127.0.0.*:*".into(), "http://localhost:*".into()];
    })
    .await?;
    let literal = get(&proxied(&server, &format!("http://{o}/css/site.css"))).await?;
    assert_eq!(
        (literal.status, code(&literal).as_str()),
        (403, "address_refused")
    );
    let named = get(&proxied(
        &server,
        &format!("http://localhost:{}/css/site.css", o.port()),
    ))
    .await?;
    assert_eq!(
        (named.status, code(&named).as_str()),
        (403, "address_refused"),
        "{}",
        named.body
    );
    assert_eq!(calls(&seen, "/css/site.css"), 0);
    server.stop().await
}

#[tokio::test]
async fn the_forward_proxy_carries_the_fetch() -> Result<()> {
    // The target host does not resolve: only a proxy that is really used can answer.
    let (proxy, heads) = raw_server(
        "HTTP/1.1 200 OK\r\ncontent-type: text/css\r\ncontent-length: 47\r\nconnection: close\r\n\r\na:hover { color: red } b { background: url(x) }",
    )
    .await?;
    let server = TestServer::start(|c| {
        c.allowed_external_domains = vec!["http://css.example.test".into()];
        c.css_proxy.forward_proxy = Some(format!("http://{proxy}"));
    })
    .await?;
    let a = get(&proxied(&server, "http://css.example.test/theme/a.css")).await?;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body.contains("a[data-cobrowse-hover] { color: red }"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("url(\"http://css.example.test/theme/x\")"),
        "{}",
        a.body
    );
    let heads = heads.lock().expect("heads").clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("GET http://css.example.test/theme/a.css HTTP/1.1\r\n"),
        "{heads:?}"
    );
    server.stop().await
}
