//! The warp filter tree: which URL goes to which handler (URL table in ARCHITECTURE.md).
//!
//! Order matters: `/`, `/cobrowse/health`, `/cobrowse/rest/…` and `/cobrowse/ws` are matched
//! before the static directory, so no file in `www/` can shadow an API path. Every answer,
//! rejections included, carries `X-Content-Type-Options: nosniff`, so no browser reads a JSON
//! error or a replica asset as a script or style it was not served as.
//!
//! `/metrics` is not here: it is served on the internal listener (`metrics.listen`, see
//! [`metrics_routes`]), never to the public.

use crate::app::App;
use crate::origin;
use crate::reply;
use crate::rest::{self, RestRequest};
use crate::statics;
use crate::ws;
use bytes::{Buf, Bytes, BytesMut};
use cobrowse_protocol::rest::ApiError;
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use warp::http::{HeaderMap, Method, Uri};
use warp::{Filter, Rejection, Reply};

fn with_app(app: Arc<App>) -> impl Filter<Extract = (Arc<App>,), Error = Infallible> + Clone {
    warp::any().map(move || app.clone())
}

async fn read_body<S, B>(mut body: S) -> Result<Bytes, ()>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let mut out = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| ())?;
        if out.len() + chunk.remaining() > rest::MAX_BODY {
            return Err(());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(out.freeze())
}

/// Every route of the server.
pub fn routes(
    app: Arc<App>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone {
    let root = warp::path::end()
        .and(warp::get().or(warp::head()).unify())
        .map(|| warp::redirect::found(Uri::from_static("/cobrowse/demo/")).into_response());

    let health = warp::path!("cobrowse" / "health")
        .and(warp::get().or(warp::head()).unify())
        .and(with_app(app.clone()))
        .then(rest::health);

    let rest_api = warp::path("cobrowse")
        .and(warp::path("rest"))
        .and(warp::path::tail())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::body::stream())
        .and(with_app(app.clone()))
        .then(
            |tail: warp::path::Tail,
             query: String,
             method: Method,
             headers: HeaderMap,
             remote: Option<SocketAddr>,
             body,
             app: Arc<App>| async move {
                let body = match read_body(Box::pin(body)).await {
                    Ok(b) => b,
                    Err(()) => {
                        return reply::error(ApiError::BodyTooLarge, "request body too large");
                    }
                };
                let trusted = &app.config.trusted_proxies;
                let ip = crate::net::client_addr::from_headers(trusted, &headers, remote);
                let https = crate::net::client_addr::forwarded_https(trusted, &headers, remote)
                    || app
                        .config
                        .public_url()
                        .is_some_and(|u| u.starts_with("https://"));
                rest::handle(
                    app,
                    RestRequest {
                        method,
                        path: tail.as_str().to_string(),
                        query,
                        headers,
                        ip,
                        https,
                        body,
                    },
                )
                .await
            },
        );

    let css_proxy = warp::path!("cobrowse" / "css-proxy")
        .and(warp::get().or(warp::head()).unify())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(with_app(app.clone()))
        .then(|query: String, app: Arc<App>| async move {
            let url = crate::css_proxy::url_param(&query);
            app.css_proxy.handle(&app.metrics, url.as_deref()).await
        });

    let socket = ws::upgrade::route(app.clone());

    // The rule REST and the WebSocket follow, for the assets a site's page loads.
    let request_origin = |app: &App, headers: &HeaderMap| {
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        origin::check(&app.config.allowed_origins, get("origin"), get("host"))
    };
    let cfg = app.clone();
    let files = warp::path("cobrowse")
        .and(warp::header::headers_cloned())
        .and(warp::fs::dir(app.config.static_dir.clone()))
        .then(move |headers: HeaderMap, f: warp::filters::fs::File| {
            let cfg = cfg.clone();
            async move {
                let peers = cfg.cluster.peer_urls();
                let origin = request_origin(&cfg, &headers);
                statics::serve(f, &cfg.config, &peers, &origin, &headers).await
            }
        });
    let cfg = app.clone();
    let missing = warp::path("cobrowse")
        .and(warp::get().or(warp::head()).unify())
        .and(warp::path::tail())
        .and(warp::header::headers_cloned())
        .and_then(move |tail: warp::path::Tail, headers: HeaderMap| {
            let answer = statics::cross_origin_path(std::path::Path::new(tail.as_str()))
                .then(|| statics::not_found(&request_origin(&cfg, &headers)));
            async move { answer.ok_or_else(warp::reject::not_found) }
        });

    // The API's routes outside `/cobrowse/rest/` with a method they do not answer: 405 with
    // `Allow` (RFC 9110), as under the prefix, instead of warp's bare 405.
    let wrong_method = warp::path::full().and_then(|path: warp::path::FullPath| {
        let allow = crate::endpoints::other_methods(path.as_str());
        async move {
            if allow.is_empty() {
                return Err(warp::reject::not_found());
            }
            let mut r = reply::error(
                ApiError::MethodNotAllowed,
                "method not allowed on this resource",
            );
            let allow = warp::http::HeaderValue::from_str(&allow.join(", "))
                .unwrap_or(warp::http::HeaderValue::from_static("GET"));
            r.headers_mut().insert(warp::http::header::ALLOW, allow);
            Ok(r)
        }
    });

    root.or(health)
        .unify()
        .or(rest_api)
        .unify()
        .or(css_proxy)
        .unify()
        .or(socket)
        .unify()
        .or(files)
        .unify()
        .or(missing)
        .unify()
        .or(wrong_method)
        .unify()
        .recover(|r: Rejection| async move { Ok::<_, Rejection>(reply::rejection(&r)) })
        .unify()
        .map(|mut r: warp::reply::Response| {
            r.headers_mut().insert(
                warp::http::header::X_CONTENT_TYPE_OPTIONS,
                warp::http::HeaderValue::from_static("nosniff"),
            );
            r
        })
}

/// The internal listener's routes (`metrics.listen`): `GET /metrics`, Prometheus text format.
pub fn metrics_routes(
    app: Arc<App>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .and(with_app(app))
        .map(|app: Arc<App>| {
            // Gauges read at scrape time, so they are never stale.
            app.metrics.cache_bytes.set(app.page_caches.used() as f64);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                app.metrics
                    .runtime_tasks
                    .set(rt.metrics().num_alive_tasks() as f64);
            }
            let mut r = warp::reply::Response::new(Bytes::from(app.metrics.render()).into());
            r.headers_mut().insert(
                warp::http::header::CONTENT_TYPE,
                warp::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r.headers_mut().insert(
                warp::http::header::X_CONTENT_TYPE_OPTIONS,
                warp::http::HeaderValue::from_static("nosniff"),
            );
            r
        })
}
