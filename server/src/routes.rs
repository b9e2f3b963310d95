//! The warp filter tree: which URL goes to which handler (URL table in ARCHITECTURE.md).
//!
//! Order matters: `/metrics`, `/`, `/cobrowse/health`, `/cobrowse/rest/…` and `/cobrowse/ws` are
//! matched before the static directory, so no file in `www/` can shadow an API path.

use crate::app::App;
use crate::origin;
use crate::rest::{self, RestRequest};
use crate::statics;
use crate::ws::{self, ConnMeta};
use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use warp::http::{HeaderMap, Method, StatusCode, Uri};
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
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_app(app.clone()))
        .map(|app: Arc<App>| {
            let mut r = warp::reply::Response::new(Bytes::from(app.metrics.render()).into());
            r.headers_mut().insert(
                warp::http::header::CONTENT_TYPE,
                warp::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        });

    let root = warp::path::end()
        .and(warp::get().or(warp::head()).unify())
        .map(|| warp::redirect::found(Uri::from_static("/cobrowse/demo/")).into_response());

    let health = warp::path!("cobrowse" / "health")
        .and(with_app(app.clone()))
        .then(rest::health);

    let rest_api = warp::path("cobrowse")
        .and(warp::path("rest"))
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::body::stream())
        .and(with_app(app.clone()))
        .then(
            |tail: warp::path::Tail,
             method: Method,
             headers: HeaderMap,
             remote: Option<SocketAddr>,
             body,
             app: Arc<App>| async move {
                let body = match read_body(Box::pin(body)).await {
                    Ok(b) => b,
                    Err(()) => {
                        return rest::error(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "body_too_large",
                            "request body too large",
                        );
                    }
                };
                let ip = rest::client_ip(&app, &headers, remote);
                rest::handle(
                    app,
                    RestRequest {
                        method,
                        path: tail.as_str().to_string(),
                        headers,
                        ip,
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

    let socket = warp::path!("cobrowse" / "ws")
        .and(warp::ws())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(with_app(app.clone()))
        .map(
            |upgrade: warp::ws::Ws,
             headers: HeaderMap,
             remote: Option<SocketAddr>,
             app: Arc<App>| {
                let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
                let meta = ConnMeta {
                    ip: rest::client_ip(&app, &headers, remote),
                    origin: origin::check(&app.config.allowed_origins, get("origin"), get("host")),
                };
                // Slightly above the decode limit so that an oversized frame reaches the decoder
                // (which names what is too large); far larger ones stop at the socket layer.
                let max = app.config.limits.max_frame_bytes.saturating_add(64 * 1024);
                upgrade
                    .max_message_size(max)
                    .max_frame_size(max)
                    .on_upgrade(move |socket| ws::serve(app, socket, meta))
                    .into_response()
            },
        );

    let cfg = app.clone();
    let files = warp::path("cobrowse")
        .and(warp::fs::dir(app.config.static_dir.clone()))
        .map(move |f: warp::filters::fs::File| statics::decorate(f, &cfg.config));

    metrics
        .or(root)
        .unify()
        .or(health)
        .unify()
        .or(rest_api)
        .unify()
        .or(css_proxy)
        .unify()
        .or(socket)
        .unify()
        .or(files)
        .unify()
}
