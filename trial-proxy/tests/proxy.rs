//! The proxy against a real local site and a stand-in co-browse server (tests/support): the
//! snippet in navigated pages (also gzip ones), the strict CSP extended, cookies and redirects
//! made to work on the proxy's host, everything else passed through and streamed, `/cobrowse/`
//! incl. its WebSocket forwarded with the proxy's `Host`.

mod support;

use futures_util::{SinkExt, StreamExt};
use reqwest::header;
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message;

struct World {
    site: Site,
    proxy: String,
}

async fn world() -> World {
    let site = start_site().await;
    let cobrowse = start_cobrowse().await;
    let proxy = start_proxy(&site.origin(), &format!("http://{cobrowse}")).await;
    World {
        site,
        proxy: format!("http://{proxy}"),
    }
}

/// A top-level navigation as Chromium sends it.
async fn navigate(w: &World, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", w.proxy))
        .header("sec-fetch-dest", "document")
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_gzip_page_gets_the_snippet_and_an_extended_policy() {
    let w = world().await;
    let resp = navigate(&w, "/").await;
    assert_eq!(resp.status(), 200);
    // The proxy asked the site only for codings it can undo.
    assert_eq!(
        w.site.seen_home.lock().unwrap().accept_encoding.as_deref(),
        Some("gzip, deflate")
    );
    let h = resp.headers().clone();
    assert_eq!(
        h.get(header::CONTENT_ENCODING),
        None,
        "decoded for the browser"
    );
    assert_eq!(
        h.get(header::CONTENT_LENGTH),
        None,
        "the site's length no longer holds"
    );
    assert_eq!(h[header::ETAG], "W/\"home-1\"");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "untouched");
    let ws = w.proxy.replace("http://", "ws://");
    assert_eq!(
        h[header::CONTENT_SECURITY_POLICY],
        format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' {ws}"
        )
        .as_str()
    );
    let body = resp.text().await.unwrap();
    let snippet = format!(
        r#"<script async src="{p}/cobrowse/js/cobrowse.js" data-server-url="{p}" nonce="#,
        p = w.proxy
    );
    let at = body.find(&snippet).expect(&body);
    assert!(at < body.find("</head>").unwrap(), "{body}");
    assert_eq!(body.matches("<script").count(), 1);
    // The rest of the page is the site's, its absolute link now on the proxy.
    let expected = HOME.replace("{site}", &w.proxy);
    let end = at + body[at..].find("</script>").unwrap() + "</script>".len();
    assert_eq!(format!("{}{}", &body[..at], &body[end..]), expected);
}

#[tokio::test]
async fn cookies_and_redirects_work_on_the_proxy_host() {
    let w = world().await;
    let resp = navigate(&w, "/").await;
    let cookies: Vec<&str> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        cookies,
        ["sid=s3cret; Path=/; HttpOnly", "pref=dark; SameSite=Lax"]
    );

    // The browser sends the cookie back; the site gets it, under its own host and origin.
    let echo = client()
        .get(format!("{}/whoami", w.proxy))
        .header(header::COOKIE, "sid=s3cret; pref=dark")
        .header(header::ORIGIN, &w.proxy)
        .header(header::REFERER, format!("{}/cart", w.proxy))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let site = w.site.origin();
    let proxy_host = w.proxy.trim_start_matches("http://");
    assert_eq!(
        echo,
        format!(
            "cookie=sid=s3cret; pref=dark\nhost={}\norigin={site}\nreferer={site}/cart\nx-forwarded-host={proxy_host}\n",
            w.site.addr
        )
    );

    let login = navigate(&w, "/login").await;
    assert_eq!(login.status(), 302);
    assert_eq!(
        login.headers()[header::LOCATION],
        format!("{}/account?from=login", w.proxy).as_str()
    );
    // A redirect to another site is the browser's to follow, unchanged.
    let sso = navigate(&w, "/sso").await;
    assert_eq!(sso.headers()[header::LOCATION], "https://sso.example/auth");
}

#[tokio::test]
async fn non_html_passes_byte_for_byte_with_its_headers() {
    let w = world().await;
    let resp = client()
        .get(format!("{}/asset.bin", w.proxy))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_LENGTH],
        asset_bytes().len().to_string().as_str()
    );
    assert_eq!(resp.bytes().await.unwrap(), asset_bytes());

    // A compressed script stays compressed (and is not an HTML page, though it says <head>).
    let js = client()
        .get(format!("{}/app.js", w.proxy))
        .header("sec-fetch-dest", "script")
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(js.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(
        js.bytes().await.unwrap(),
        gzip(b"console.log('<head></head>')")
    );

    // Request bodies reach the site.
    let posted = client()
        .post(format!("{}/echo", w.proxy))
        .body(asset_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.bytes().await.unwrap(), asset_bytes());
}

#[tokio::test]
async fn bodies_stream_instead_of_waiting_for_the_end() {
    let w = world().await;
    let mut resp = client()
        .get(format!("{}/stream", w.proxy))
        .send()
        .await
        .unwrap();
    // The site holds its second half back until the first arrived here through the proxy.
    let first = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
        .await
        .expect("the first half did not arrive while the site held the rest: buffered?")
        .unwrap()
        .unwrap();
    assert_eq!(first, "first-half;");
    w.site.release.notify_one();
    let mut rest = Vec::new();
    while let Some(c) = resp.chunk().await.unwrap() {
        rest.extend_from_slice(&c);
    }
    assert_eq!(rest, b"second-half");
}

#[tokio::test]
async fn only_navigations_are_rewritten() {
    let w = world().await;
    // fetch() of HTML (an htmx partial, a template) keeps its body and policy.
    let resp = client()
        .get(format!("{}/partial", w.proxy))
        .header("sec-fetch-dest", "empty")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[header::CONTENT_SECURITY_POLICY], SITE_CSP);
    assert_eq!(
        resp.text().await.unwrap(),
        "<html><head></head><li>fragment-like</li></html>"
    );
    // A coding the proxy cannot undo passes untouched rather than corrupted.
    let br = navigate(&w, "/brotli").await;
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(br.text().await.unwrap(), "<html><head></head></html>");
    // Error pages are pages too.
    let missing = navigate(&w, "/nope").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.text().await.unwrap(),
        "not found",
        "text/plain is not HTML"
    );
}

#[tokio::test]
async fn cobrowse_paths_and_the_websocket_reach_the_cobrowse_server() {
    let w = world().await;
    let proxy_host = w.proxy.trim_start_matches("http://").to_owned();
    let rest = client()
        .get(format!("{}/cobrowse/rest/live/sessions/123456789", w.proxy))
        .header(header::COOKIE, "gcbSessionServer=node-1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        rest,
        format!(
            r#"{{"path":"/cobrowse/rest/live/sessions/123456789","host":"{proxy_host}","cookie":"gcbSessionServer=node-1"}}"#
        )
    );

    let (mut ws, answer) =
        tokio_tungstenite::connect_async(format!("ws://{proxy_host}/cobrowse/ws"))
            .await
            .unwrap();
    assert_eq!(answer.status(), 101);
    let hello = ws.next().await.unwrap().unwrap();
    assert_eq!(hello, Message::text(format!("host={proxy_host}")));
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![1u8, 2, 3])
    );
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_target_is_a_502_that_says_which() {
    let site = start_site().await;
    // A port nothing listens on: bound, then closed.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start_proxy(&site.origin(), &format!("http://{dead}")).await;
    let resp = client()
        .get(format!("http://{proxy}/cobrowse/js/cobrowse.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let text = resp.text().await.unwrap();
    assert!(text.contains("co-browse server (is it running?)"), "{text}");
    assert!(text.contains(&dead.to_string()), "{text}");
}

#[tokio::test]
async fn a_head_request_gets_the_page_headers_without_a_stale_length() {
    let w = world().await;
    let resp = client()
        .head(format!("{}/", w.proxy))
        .header("sec-fetch-dest", "document")
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert!(
        h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("'wasm-unsafe-eval'")
    );
    assert_eq!(h.get(header::CONTENT_ENCODING), None);
    assert_eq!(
        h.get(header::CONTENT_LENGTH),
        None,
        "the site's length is not ours"
    );
}

#[tokio::test]
async fn a_dev_servers_own_websocket_reaches_the_site_under_its_own_host() {
    // The stand-in plays a dev server with a hot-reload socket at /hmr.
    let dev = start_cobrowse().await;
    let cobrowse = start_cobrowse().await;
    let proxy = start_proxy(&format!("http://{dev}"), &format!("http://{cobrowse}")).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{proxy}/hmr"))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text(format!("host={dev}"))
    );
    ws.send(Message::text("reload?")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("reload?"));
}
