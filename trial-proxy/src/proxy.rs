//! One request through the proxy: `/cobrowse/…` goes to the co-browse server (with the proxy's
//! `Host`, so the URLs it hands out — `wsUrl` — name the proxy, as behind the operators' nginx
//! sample); everything else goes to the site. A site answer that is a page the browser navigated
//! to is rewritten (`response.rs`); the rest streams through.

use crate::config::{Config, origin_string};
use crate::headers;
use crate::inject::{Page, Pipeline, Report};
use crate::logbook::Logbook;
use crate::origin::ProxyOrigin;
use crate::response::{self, Body};
use crate::tunnel;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The path prefix of everything the co-browse server serves.
pub const COBROWSE_PREFIX: &str = "/cobrowse";

/// How long a TCP/TLS connection to the site or the co-browse server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The proxy's state shared by all connections.
pub struct Proxy {
    config: Config,
    client: reqwest::Client,
    /// `host:port` the proxy listens on, for requests without a usable `Host`.
    listen_host: String,
    log: Arc<Logbook>,
}

/// Which of the two the request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Site,
    Cobrowse,
}

impl Proxy {
    /// A proxy for `config`, listening on `listen` (used when a request has no `Host`).
    pub fn new(config: Config, listen: SocketAddr) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // Redirects are the browser's to follow (rewritten to the proxy), never ours.
            .redirect(reqwest::redirect::Policy::none())
            // The site and the co-browse server are addressed directly, whatever HTTP_PROXY says.
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .danger_accept_invalid_certs(config.insecure_upstream_tls)
            .build()?;
        Ok(Self {
            config,
            client,
            listen_host: listen.to_string(),
            log: Arc::default(),
        })
    }

    /// Answers one request. Never fails: an unreachable target is a `502` that says which.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Body> {
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let target =
            if req.uri().path() == COBROWSE_PREFIX || req.uri().path().starts_with("/cobrowse/") {
                Target::Cobrowse
            } else {
                Target::Site
            };
        let method = req.method().clone();
        match self.forward(req, target, &path, peer).await {
            Ok(resp) => {
                tracing::debug!("{method} {path} → {}", resp.status());
                resp
            }
            Err(e) => {
                let base = match target {
                    Target::Site => &self.config.upstream,
                    Target::Cobrowse => &self.config.cobrowse,
                };
                let what = match target {
                    Target::Site => "the site",
                    Target::Cobrowse => "the co-browse server (is it running?)",
                };
                let msg = format!(
                    "cobrowse-trial: {what} at {} did not answer {method} {path}: {e}\n",
                    origin_string(base)
                );
                tracing::warn!("{}", msg.trim_end());
                let mut resp = Response::new(response::text_body(msg));
                *resp.status_mut() = StatusCode::BAD_GATEWAY;
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                resp
            }
        }
    }

    async fn forward(
        &self,
        mut req: Request<Incoming>,
        target: Target,
        path: &str,
        peer: SocketAddr,
    ) -> Result<Response<Body>, reqwest::Error> {
        let proxy = ProxyOrigin::for_request(
            req.headers(),
            self.config.public_url.as_ref(),
            &self.listen_host,
        );
        let upgrade = is_upgrade(req.headers());
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
        let (parts, body) = req.into_parts();
        let base = match target {
            Target::Site => &self.config.upstream,
            Target::Cobrowse => &self.config.cobrowse,
        };
        let url = format!("{}{path}", origin_string(base));

        let mut h = parts.headers;
        headers::strip_hop_by_hop(&mut h, upgrade);
        h.remove(header::HOST);
        add_forwarded(&mut h, &proxy, peer);
        // A page navigation (or a client that does not say) may be rewritten.
        let document = target == Target::Site
            && !upgrade
            && h.get("sec-fetch-dest")
                .is_none_or(|d| d.as_bytes().eq_ignore_ascii_case(b"document"));
        match target {
            Target::Cobrowse => {
                if let Ok(host) = HeaderValue::from_str(&proxy.host) {
                    h.insert(header::HOST, host);
                }
            }
            Target::Site => {
                headers::to_upstream(&mut h, &proxy.origin, &origin_string(base));
                if document {
                    // Only codings the pipeline decodes (br/zstd pages would pass uninjected).
                    h.insert(
                        header::ACCEPT_ENCODING,
                        HeaderValue::from_static("gzip, deflate"),
                    );
                }
            }
        }

        let mut out = self.client.request(parts.method.clone(), &url).headers(h);
        if !upgrade {
            out = out.body(reqwest::Body::wrap(body));
        }
        let resp = out.send().await?;

        if let Some(client_upgrade) = client_upgrade
            && resp.status() == StatusCode::SWITCHING_PROTOCOLS
        {
            let mut answer = Response::new(response::text_body(""));
            *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            *answer.headers_mut() = resp.headers().clone();
            tunnel::join(client_upgrade, resp, format!("upgrade {path}"));
            return Ok(answer);
        }

        let status = resp.status();
        let mut h = resp.headers().clone();
        headers::strip_hop_by_hop(&mut h, false);
        if target == Target::Cobrowse {
            let mut answer = Response::new(response::passthrough_body(resp));
            *answer.status_mut() = status;
            *answer.headers_mut() = h;
            return Ok(answer);
        }

        response::rewrite_site_headers(
            &mut h,
            &self.config.upstream,
            &proxy.origin,
            proxy.https,
            path,
            &self.log,
        );
        let body = if document && response::injectable(status, &h) {
            self.document_body(resp, &mut h, &proxy, path, &parts.method)
        } else {
            response::passthrough_body(resp)
        };
        let mut answer = Response::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = h;
        Ok(answer)
    }

    /// The body (and headers) of a page the snippet goes into; passed through untouched, with a
    /// warning, when its coding or charset cannot be rewritten.
    fn document_body(
        &self,
        resp: reqwest::Response,
        h: &mut HeaderMap,
        proxy: &ProxyOrigin,
        path: &str,
        method: &Method,
    ) -> Body {
        let (coding, encoding) = match response::plan_rewrite(h) {
            Ok(plan) => plan,
            Err(why) => {
                self.log.warn(
                    &format!("skip:{why}"),
                    &format!("{path}: not injected: {why}"),
                );
                return response::passthrough_body(resp);
            }
        };
        let page = Page {
            proxy_origin: proxy.origin.clone(),
            ws_origin: proxy.ws_origin(),
            upstream: self.config.upstream.clone(),
            nonce: format!("{:032x}", rand::random::<u128>()),
        };
        response::extend_policies(h, &page, path, &self.log);
        response::for_rewritten_body(h, coding.is_some());
        if method == Method::HEAD {
            return response::text_body("");
        }
        if let Some(c) = coding {
            tracing::debug!("{path}: decoding {c:?} to inject");
        }
        let pipeline = Pipeline::new(&page, encoding, coding);
        let log = self.log.clone();
        response::rewritten_body(resp, pipeline, path.to_owned(), move |path, report| {
            log_report(&log, path, report);
        })
    }
}

fn log_report(log: &Logbook, path: &str, report: &Report) {
    if report.injected {
        log.adjusted(
            &format!("injected:{path}"),
            &format!("{path}: snippet injected"),
        );
    } else {
        tracing::debug!("{path}: no <head>, <body> or doctype: an HTML fragment, left alone");
    }
    if !report.meta_csp.is_empty() {
        tracing::info!(
            "{path}: <meta> Content-Security-Policy extended: {}",
            report.meta_csp.join("; ")
        );
    }
    if report.links > 0 {
        tracing::info!(
            "{path}: {} link(s) to the site now point to the proxy",
            report.links
        );
    }
}

/// A handshake that asks to switch protocols (`Connection: upgrade` + `Upgrade`).
fn is_upgrade(h: &HeaderMap) -> bool {
    h.contains_key(header::UPGRADE)
        && h.get_all(header::CONNECTION).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
            })
        })
}

/// `X-Forwarded-For/-Host/-Proto`: where the request came from and which host and scheme the
/// browser used (frameworks that build absolute URLs from them then name the proxy).
fn add_forwarded(h: &mut HeaderMap, proxy: &ProxyOrigin, peer: SocketAddr) {
    let ip = peer.ip().to_string();
    let chain = match h.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(prev) => format!("{prev}, {ip}"),
        None => ip,
    };
    for (name, value) in [
        ("x-forwarded-for", chain.as_str()),
        ("x-forwarded-host", proxy.host.as_str()),
        (
            "x-forwarded-proto",
            if proxy.https { "https" } else { "http" },
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
}
