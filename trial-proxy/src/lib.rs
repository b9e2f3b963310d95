//! `cobrowse-trial`: try Cobrowse on an existing site without changing it. A small reverse proxy
//! that serves the site (a dev server, a staging URL) through itself, puts the co-browse snippet
//! into every page the browser navigates to, forwards `/cobrowse/…` (REST, static files and the
//! WebSocket) to a co-browse server on the same origin, and adjusts — and logs — what would stop
//! the snippet: the Content-Security-Policy (extended, never dropped), cookie `Domain`s,
//! redirects to the site's origin, compressed pages.
//!
//! A trial tool, not production: it terminates no TLS, caches nothing, and rewrites pages the
//! site owner would rather serve with the snippet written in (README "Adding it to a site").
//!
//! # Layout
//!
//! - [`config`] — the site, the co-browse server and the public URL, validated at start.
//! - [`origin`] — the proxy's origin as the browser sees it, per request.
//! - [`headers`] — hop-by-hop headers, `Origin`/`Referer` to the site, `Location` back.
//! - [`cookies`] — `Set-Cookie` for the proxy's host.
//! - [`csp`] — extending a Content-Security-Policy for the snippet.
//! - [`inject`] — the streaming HTML rewriting (decoding, snippet, `<meta>` CSP, links).
//! - [`response`] — a site answer's headers and body on the way back.
//! - [`tunnel`] — WebSocket (upgrade) forwarding.
//! - [`proxy`] — one request: routing and forwarding.
//! - [`logbook`] — each distinct adjustment logged once.

pub mod config;
pub mod cookies;
pub mod csp;
pub mod headers;
pub mod inject;
pub mod logbook;
pub mod origin;
pub mod proxy;
pub mod response;
pub mod tunnel;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use config::{Config, ConfigError};

/// Serves the proxy on `listener` until `shutdown` completes (connections still open then are
/// dropped with the runtime). HTTP/1.1 only: the proxy runs on plain http, where browsers use
/// HTTP/1.1, and its upgrades carry WebSockets.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let proxy = Arc::new(proxy::Proxy::new(config, listener.local_addr()?)?);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: this connection is lost, not the proxy.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let proxy = proxy.clone();
                async move { Ok::<_, std::convert::Infallible>(proxy.handle(req, peer).await) }
            });
            if let Err(e) = http1::Builder::new()
                // The timer lets hyper's default 30 s limit on reading a request's head apply.
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await
            {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}
