//! `GET /cobrowse/css-proxy?url=…`: fetches a site's stylesheet server-side for the agent.
//!
//! The agent's replica lives on this server's origin, so the customer site's sheets are
//! cross-origin there: they render, but their `cssRules` throw, and the agent cannot copy their
//! `:hover`/`:focus`/`:active` rules into the attribute form its pseudo-state marks use. Through
//! this endpoint the sheet arrives same-origin and already prepared:
//!
//! * every relative `url()` / `@import` resolved against the sheet's *original* URL (the replica
//!   would otherwise resolve them against this server); imports whose origin is allowed are routed
//!   through the proxy again (`css-proxy?url=…`, relative to this endpoint so path prefixes work),
//!   other imports and all resources (images, fonts) stay direct;
//! * every user-action pseudo-class rule followed by its `[data-cobrowse-*]` copy
//!   ([`cobrowse_css_rewrite::rewrite_sheet`]). The agent skips proxied sheets when it builds its
//!   own pseudo-state sheet (`agent-ui/src/web/styles.rs`), so no rule is copied twice.
//!
//! # Security
//!
//! * Only `http`/`https` URLs whose origin matches `proxy.allowedExternalDomains` (origin
//!   patterns, `*` wildcards as `allowedOrigins`): others answer 403 `domain_refused`.
//! * Redirects are followed by hand (at most [`MAX_REDIRECTS`]), each hop checked the same way: a
//!   hop to a refused origin answers 403 `redirect_refused`.
//! * SSRF: a host that resolves to (or is) a loopback, private, link-local, CGNAT, multicast or
//!   otherwise non-public address is refused (403 `address_refused`) unless the allow list names
//!   that host without wildcards (`http://127.0.0.1:8080`, `https://intranet.corp`). Names are
//!   checked in the connector's resolver, so the address checked is the address connected to (no
//!   DNS-rebinding window). With a forward proxy, the proxy resolves target names; literal IPs
//!   are still checked here.
//! * No cookies or credentials are sent; the customer's session never reaches the origin.
//!
//! Sheets in legacy encodings (a BOM, the `Content-Type` charset or `@charset`) are decoded with
//! `encoding_rs` and served as UTF-8.
//!
//! # Limits and errors
//!
//! `proxy.maxCssBytes` (body, checked against `Content-Length` and while reading) → 502
//! `too_large`; non-CSS `Content-Type` → 502 `not_css`; origin status other than 2xx → 502
//! `origin_status`; connection failures → 502 `origin_unreachable`; `proxy.connectTimeout` per
//! connection and `proxy.timeout` for the whole fetch → 504 `origin_timeout`. Errors are the REST
//! JSON shape `{"error":{"code","message"}}` and are never cached.
//!
//! # Cache
//!
//! Rewritten sheets are kept in memory by URL, as a shared cache under `http-cache-semantics`
//! rules (RFC 9111): `max-age`/`s-maxage`/`Expires` freshness, `no-store` and `private` not
//! stored, stale entries revalidated with `If-None-Match`/`If-Modified-Since` (a 304 keeps the
//! stored body). The cache holds at most `proxy.cacheBytes` of rewritten CSS, least recently used
//! evicted first. Our own answer says `Cache-Control: public, max-age=<remaining freshness, at most
//! an hour>` for stored sheets and `no-store` otherwise, plus `X-Cobrowse-Cache: hit|miss|
//! revalidated` for operators and tests.
//!
//! # Layout
//!
//! `guard` (scheme, allow list, address checks, the guarded resolver), `fetch` (one fetch with
//! its redirects and limits, and the failures), `cache` (the RFC 9111 LRU cache); this module
//! answers the request: cache or fetch, rewrite, respond.

mod cache;
mod fetch;
mod guard;

#[cfg(test)]
mod tests;

pub use fetch::MAX_REDIRECTS;
pub use guard::is_public;

use crate::config::CssProxyConfig;
use crate::metrics::Metrics;
use crate::reply::{Resp, error};
use bytes::Bytes;
use cache::{Decision, SheetCache, Stale};
use cobrowse_common::pattern::query_encode;
use cobrowse_css_rewrite::{UrlKind, rewrite_sheet};
use cobrowse_protocol::rest::ApiError;
use fetch::{Failure, Fetched};
use guard::Guard;
use reqwest::Url;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use warp::http::{self, HeaderMap, HeaderValue, StatusCode, header};

/// Longest freshness we promise the agent's browser for a proxied sheet.
const MAX_OUR_AGE: Duration = Duration::from_secs(3600);

/// The proxy's state: HTTP client, allow list, cache.
pub struct CssProxy {
    client: Result<reqwest::Client, String>,
    guard: Guard,
    cfg: CssProxyConfig,
    cache: SheetCache,
}

/// The `url` parameter of a raw query string (form-decoded), if present.
pub fn url_param(query: &str) -> Option<String> {
    let parsed = Url::parse(&format!("http://q.invalid/?{query}")).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned())
}

/// Decodes a stylesheet as CSS Syntax §3.2 says: a BOM wins, then the `Content-Type` charset,
/// then a leading `@charset "…";` (where UTF-16 labels mean UTF-8), else UTF-8. Undecodable
/// bytes become U+FFFD. A leftover `@charset` rule is harmless: our `Content-Type` says UTF-8,
/// which browsers prefer to it.
fn decode(body: &[u8], content_type: Option<&str>) -> String {
    use encoding_rs::{Encoding, UTF_8};
    if let Some((enc, _)) = Encoding::for_bom(body) {
        return enc.decode_with_bom_removal(body).0.into_owned();
    }
    let from_header = content_type.and_then(|ct| {
        ct.split(';').skip(1).find_map(|param| {
            let (k, v) = param.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| Encoding::for_label(v.trim().trim_matches('"').as_bytes()))
                .flatten()
        })
    });
    let from_rule = || {
        let rest = body.strip_prefix(b"@charset \"")?;
        let end = rest.iter().take(64).position(|&b| b == b'"')?;
        rest[end..]
            .starts_with(b"\";")
            .then(|| Encoding::for_label(&rest[..end]))
            .flatten()
            .map(Encoding::output_encoding)
    };
    let enc = from_header.or_else(from_rule).unwrap_or(UTF_8);
    enc.decode_without_bom_handling(body).0.into_owned()
}

impl CssProxy {
    /// Builds the client (forward proxy, timeouts, guarded resolver, no redirects) and the cache.
    pub fn new(allowed_external_domains: &[String], cfg: &CssProxyConfig) -> CssProxy {
        let guard = Guard::new(allowed_external_domains);
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .user_agent(concat!("cobrowse-css-proxy/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(guard.resolver(cfg.forward_proxy.as_deref())));
        builder = match &cfg.forward_proxy {
            Some(p) => match reqwest::Proxy::all(p) {
                Ok(proxy) => builder.proxy(proxy),
                Err(e) => {
                    tracing::error!(error = %e, "proxy.forwardProxy unusable; CSS proxy disabled");
                    return CssProxy::with_client(guard, cfg, Err(e.to_string()));
                }
            },
            None => builder.no_proxy(),
        };
        let client = builder.build().map_err(|e| {
            tracing::error!(error = %e, "CSS proxy HTTP client could not be built");
            e.to_string()
        });
        CssProxy::with_client(guard, cfg, client)
    }

    /// `client` is `Err(why)` when the proxy is disabled (every fetch answers 502 with `why`).
    fn with_client(
        guard: Guard,
        cfg: &CssProxyConfig,
        client: Result<reqwest::Client, String>,
    ) -> CssProxy {
        CssProxy {
            client,
            guard,
            cfg: cfg.clone(),
            cache: SheetCache::new(cfg.cache_bytes),
        }
    }

    /// GET `url` following redirects (see [`fetch::fetch`]), unless the client is unusable.
    async fn fetch(&self, url: Url, headers: &HeaderMap) -> Result<Fetched, Failure> {
        let client = self.client.as_ref().map_err(|e| {
            Failure::Origin(
                ApiError::ProxyUnavailable,
                format!("the CSS proxy is not configured correctly: {e}"),
            )
        })?;
        fetch::fetch(client, &self.guard, self.cfg.max_css_bytes, url, headers).await
    }

    /// The rewritten CSS of a fetched sheet (served as UTF-8 whatever it came in).
    fn rewrite(&self, sheet_url: &Url, body: &[u8], content_type: Option<&str>) -> Bytes {
        let text = decode(body, content_type);
        let text = text.as_str();
        let mut map = |u: &str, kind: UrlKind| -> Option<String> {
            let u = u.trim();
            if u.starts_with('#') {
                return Some(u.to_string());
            }
            let abs = sheet_url.join(u).ok()?;
            match (abs.scheme(), kind) {
                ("http" | "https", UrlKind::Import) if self.guard.allows(&abs) => {
                    Some(format!("css-proxy?url={}", query_encode(abs.as_str())))
                }
                ("http" | "https", _) => Some(abs.to_string()),
                // Inline images and fonts; an import must not escape the rewriting.
                ("data", UrlKind::Resource) => Some(abs.to_string()),
                _ => None,
            }
        };
        Bytes::from(rewrite_sheet(text, &mut map))
    }

    /// Handles one proxy request; `target` is the `url` query parameter.
    pub async fn handle(&self, metrics: &Metrics, target: Option<&str>) -> Resp {
        let resp = self.answer(target).await;
        let counter = match resp.1 {
            Outcome::Hit => &metrics.css_proxy[0],
            Outcome::Miss => &metrics.css_proxy[1],
            Outcome::Revalidated => &metrics.css_proxy[2],
            Outcome::Refused => &metrics.css_proxy[3],
            Outcome::Error => &metrics.css_proxy[4],
        };
        counter.increment(1);
        resp.0
    }

    async fn answer(&self, target: Option<&str>) -> (Resp, Outcome) {
        let Some(target) = target.filter(|t| !t.trim().is_empty()) else {
            return (
                error(
                    ApiError::BadRequest,
                    "the `url` parameter (an absolute http(s) stylesheet URL) is required",
                ),
                Outcome::Refused,
            );
        };
        let mut url = match Url::parse(target.trim()) {
            Ok(u) => u,
            Err(e) => {
                return (
                    error(
                        ApiError::BadUrl,
                        &format!("`url` is not an absolute URL: {e}"),
                    ),
                    Outcome::Refused,
                );
            }
        };
        url.set_fragment(None);
        if let Err(r) = self.guard.check_hop(&url, 0) {
            let f = Failure::from(r);
            tracing::info!(url = %url, reason = ?f, "CSS proxy refused");
            return (f.response(), Outcome::Refused);
        }
        let key = url.to_string();
        let fut = self.fetch_or_cached(key, url);
        match tokio::time::timeout(self.cfg.timeout, fut).await {
            Ok(Ok(done)) => done,
            Ok(Err(f)) => {
                tracing::info!(reason = ?f, "CSS proxy fetch failed");
                let outcome = match f {
                    Failure::Refused(..) => Outcome::Refused,
                    _ => Outcome::Error,
                };
                (f.response(), outcome)
            }
            Err(_) => (
                Failure::Timeout(format!(
                    "the stylesheet did not arrive within {:?} (proxy.timeout)",
                    self.cfg.timeout
                ))
                .response(),
                Outcome::Error,
            ),
        }
    }

    async fn fetch_or_cached(&self, key: String, url: Url) -> Result<(Resp, Outcome), Failure> {
        let now = SystemTime::now();
        let probe = http::Request::builder()
            .method(http::Method::GET)
            .uri(url.as_str())
            .body(())
            .map_err(|e| Failure::Refused(ApiError::BadUrl, e.to_string()))?
            .into_parts()
            .0;
        let decision = self.cache.decide(&key, &probe, now).ok_or_else(|| {
            Failure::Origin(ApiError::ProxyUnavailable, "cache lock poisoned".into())
        })?;
        match decision {
            Decision::Fresh { css, ttl } => {
                return Ok((css_response(css, Some(ttl), "hit"), Outcome::Hit));
            }
            Decision::Stale(stale) => {
                let Stale {
                    request,
                    policy,
                    final_url,
                    css,
                } = *stale;
                let fetched = self.fetch(final_url, &request.headers).await?;
                match cache::revalidated(&policy, &request, &fetched.response) {
                    Some(new_policy) => {
                        let ttl = self
                            .cache
                            .keep(key, new_policy, fetched.final_url, css.clone());
                        return Ok((css_response(css, ttl, "revalidated"), Outcome::Revalidated));
                    }
                    None => {
                        if fetched.response.status == StatusCode::NOT_MODIFIED {
                            // A 304 that matches nothing we hold: fetch it whole.
                            let fresh = self.fetch(url, &HeaderMap::new()).await?;
                            return Ok(self.complete(key, fresh));
                        }
                        return Ok(self.complete(key, fetched));
                    }
                }
            }
            Decision::Miss => {}
        }
        let fetched = self.fetch(url, &HeaderMap::new()).await?;
        if fetched.response.status == StatusCode::NOT_MODIFIED {
            return Err(Failure::Origin(
                ApiError::OriginStatus,
                "the origin answered 304 to an unconditional request".into(),
            ));
        }
        Ok(self.complete(key, fetched))
    }

    /// Rewrites a fetched sheet, stores it when its headers allow, answers it.
    fn complete(&self, key: String, f: Fetched) -> (Resp, Outcome) {
        let content_type = f
            .response
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let css = self.rewrite(&f.final_url, &f.body, content_type);
        let policy = cache::policy(&f.request, &f.response);
        let ttl = self.cache.keep(key, policy, f.final_url, css.clone());
        (css_response(css, ttl, "miss"), Outcome::Miss)
    }

    /// Bytes of rewritten CSS held in the cache (for tests and operators).
    pub fn cached_bytes(&self) -> usize {
        self.cache.bytes()
    }
}

/// How a request ended, for the metrics.
enum Outcome {
    Hit,
    Miss,
    Revalidated,
    Refused,
    Error,
}

/// A `text/css` answer; `ttl` is the stored sheet's remaining freshness (`None`: not stored).
fn css_response(css: Bytes, ttl: Option<Duration>, cache: &'static str) -> Resp {
    let mut r = Resp::new(css.into());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let cc = match ttl {
        Some(t) => format!("public, max-age={}", t.min(MAX_OUR_AGE).as_secs()),
        None => "no-store".to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&cc) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert("x-cobrowse-cache", HeaderValue::from_static(cache));
    r
}
