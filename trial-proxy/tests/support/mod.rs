//! Real local servers for the proxy's integration tests: a small site (HTML with a strict CSP,
//! cookies, a redirect, gzip and brotli-labelled pages, assets, a held-back stream, an echo), a
//! stand-in co-browse server (REST echo and a WebSocket echo), and the proxy in front of both,
//! all on 127.0.0.1 port 0.

#![allow(dead_code, missing_docs)] // shared by several test files, each using a part

use bytes::Bytes;
use flate2::{Compression, write::GzEncoder};
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio_tungstenite::tungstenite::{Message, handshake::derive_accept_key, protocol::Role};

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The site's strict policy (README's, with `'self'` only).
pub const SITE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'";

/// 1 MiB of non-text bytes.
pub fn asset_bytes() -> Vec<u8> {
    (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect()
}

/// The site's home page; `{site}` is replaced by the site's origin.
pub const HOME: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Shop</title>
  <link rel="stylesheet" href="/shop.css">
</head>
<body>
  <h1>Nordlicht</h1>
  <a id="cart" href="{site}/cart">Cart</a>
</body>
</html>
"#;

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into()).boxed_unsync()
}

/// What the site saw of the last request to a path.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub accept_encoding: Option<String>,
}

/// A real HTTP/1.1 site on 127.0.0.1.
pub struct Site {
    pub addr: SocketAddr,
    /// Released by the test to let `/stream` send its second half.
    pub release: Arc<Notify>,
    pub seen_home: Arc<Mutex<Seen>>,
}

impl Site {
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

pub async fn start_site() -> Site {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let release = Arc::new(Notify::new());
    let seen_home = Arc::new(Mutex::new(Seen::default()));
    let site = Site {
        addr,
        release: release.clone(),
        seen_home: seen_home.clone(),
    };
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (release, seen_home) = (release.clone(), seen_home.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let (release, seen_home) = (release.clone(), seen_home.clone());
                    async move { Ok::<_, Infallible>(site_answer(req, addr, release, seen_home).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    site
}

async fn site_answer(
    req: Request<Incoming>,
    addr: SocketAddr,
    release: Arc<Notify>,
    seen_home: Arc<Mutex<Seen>>,
) -> Response<Body> {
    let origin = format!("http://{addr}");
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut b = Response::builder();
    match req.uri().path() {
        "/" => {
            let accept = header("accept-encoding");
            seen_home.lock().unwrap().accept_encoding = Some(accept.clone());
            let html = HOME.replace("{site}", &origin);
            b = b
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(header::CONTENT_SECURITY_POLICY, SITE_CSP)
                .header(header::X_FRAME_OPTIONS, "DENY")
                .header(header::ETAG, "\"home-1\"")
                .header(
                    header::SET_COOKIE,
                    "sid=s3cret; Domain=shop.example; Path=/; HttpOnly",
                )
                .header(header::SET_COOKIE, "pref=dark; Secure; SameSite=None");
            if accept.contains("gzip") {
                let body = gzip(html.as_bytes());
                b.header(header::CONTENT_ENCODING, "gzip")
                    .header(header::CONTENT_LENGTH, body.len())
                    .body(full(body))
            } else {
                b.body(full(html))
            }
        }
        "/login" => b
            .status(StatusCode::FOUND)
            .header(header::LOCATION, format!("{origin}/account?from=login"))
            .body(full("")),
        "/sso" => b
            .status(StatusCode::FOUND)
            .header(header::LOCATION, "https://sso.example/auth")
            .body(full("")),
        "/whoami" => {
            let text = format!(
                "cookie={}\nhost={}\norigin={}\nreferer={}\nx-forwarded-host={}\n",
                header("cookie"),
                header("host"),
                header("origin"),
                header("referer"),
                header("x-forwarded-host"),
            );
            b.header(header::CONTENT_TYPE, "text/plain")
                .body(full(text))
        }
        "/echo" => {
            let body = req.into_body().collect().await.unwrap().to_bytes();
            b.header(header::CONTENT_TYPE, "application/octet-stream")
                .body(full(body))
        }
        "/asset.bin" => {
            let data = asset_bytes();
            b.header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::CONTENT_LENGTH, data.len())
                .body(full(data))
        }
        "/app.js" => {
            let body = gzip(b"console.log('<head></head>')");
            b.header(header::CONTENT_TYPE, "text/javascript")
                .header(header::CONTENT_ENCODING, "gzip")
                .header(header::CONTENT_LENGTH, body.len())
                .body(full(body))
        }
        "/brotli" => b
            // Labelled br although it is not (the proxy must not touch a coding it cannot undo).
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::CONTENT_ENCODING, "br")
            .body(full("<html><head></head></html>")),
        "/partial" => b
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::CONTENT_SECURITY_POLICY, SITE_CSP)
            .body(full("<html><head></head><li>fragment-like</li></html>")),
        "/stream" => {
            let (tx, rx) = oneshot::channel::<()>();
            tokio::spawn(async move {
                release.notified().await;
                let _ = tx.send(());
            });
            let first = futures_util::stream::once(async {
                Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"first-half;")))
            });
            let second = futures_util::stream::once(async move {
                let _ = rx.await;
                Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"second-half")))
            });
            b.header(header::CONTENT_TYPE, "text/plain")
                .body(StreamBody::new(first.chain(second)).boxed_unsync())
        }
        _ => b
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(full("not found")),
    }
    .unwrap()
}

/// A stand-in co-browse server: `/cobrowse/rest/…` answers with the `Host` and `Cookie` it was
/// given; `/cobrowse/ws` (and `/hmr`, when it stands in for a dev server) is a WebSocket that
/// first sends `host=<Host>`, then echoes.
pub async fn start_cobrowse() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let svc =
                    service_fn(|req| async move { Ok::<_, Infallible>(cobrowse_answer(req)) });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

fn cobrowse_answer(mut req: Request<Incoming>) -> Response<Body> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if matches!(req.uri().path(), "/cobrowse/ws" | "/hmr") {
        let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
            return Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body(full("not a websocket"))
                .unwrap();
        };
        let upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            let io = TokioIo::new(upgrade.await.unwrap());
            let mut ws =
                tokio_tungstenite::WebSocketStream::from_raw_socket(io, Role::Server, None).await;
            ws.send(Message::text(format!("host={host}")))
                .await
                .unwrap();
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() || m.is_binary() {
                    ws.send(m).await.unwrap();
                }
            }
        });
        return Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "websocket")
            .header(
                "sec-websocket-accept",
                HeaderValue::from_str(&derive_accept_key(key.as_bytes())).unwrap(),
            )
            .body(full(""))
            .unwrap();
    }
    let cookie = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(full(format!(
            r#"{{"path":"{}","host":"{host}","cookie":"{cookie}"}}"#,
            req.uri().path()
        )))
        .unwrap()
}

/// The proxy in front of `site` and `cobrowse`, in this process.
pub async fn start_proxy(site: &str, cobrowse: &str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = cobrowse_trial::Config::new(site, cobrowse, None, false).unwrap();
    tokio::spawn(async move {
        cobrowse_trial::run(listener, config, std::future::pending())
            .await
            .unwrap();
    });
    addr
}

/// A client like a browser's network stack as far as the tests need: no redirects followed,
/// nothing decompressed behind the test's back.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}
