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

use crate::config::CssProxyConfig;
use crate::metrics::Metrics;
use crate::origin::OriginList;
use crate::rest::{Resp, error};
use bytes::Bytes;
use cobrowse_common::pattern::query_encode;
use cobrowse_css_rewrite::{UrlKind, rewrite_sheet};
use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};
use lru::LruCache;
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use warp::http::{self, HeaderMap, HeaderValue, StatusCode, header};

/// Redirect hops followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// Longest freshness we promise the agent's browser for a proxied sheet.
const MAX_OUR_AGE: Duration = Duration::from_secs(3600);

/// The proxy's state: HTTP client, allow list, cache.
pub struct CssProxy {
    client: Result<reqwest::Client, String>,
    allowed: OriginList,
    /// Allow entries without wildcards (lower case): origins whose private addresses are allowed.
    explicit: Vec<String>,
    cfg: CssProxyConfig,
    cache: Mutex<Cache>,
}

/// A stored, rewritten sheet.
struct Entry {
    policy: CachePolicy,
    /// The URL after redirects (revalidation goes there).
    final_url: Url,
    css: Bytes,
}

struct Cache {
    lru: LruCache<String, Entry>,
    bytes: usize,
}

/// Why a fetch failed; each maps to a status and a stable code.
#[derive(Debug)]
enum Failure {
    Refused(&'static str, String),
    Origin(&'static str, String),
    Timeout(String),
}

impl Failure {
    fn response(&self) -> Resp {
        match self {
            Failure::Refused(code, m) => error(StatusCode::FORBIDDEN, code, m),
            Failure::Origin(code, m) => error(StatusCode::BAD_GATEWAY, code, m),
            Failure::Timeout(m) => error(StatusCode::GATEWAY_TIMEOUT, "origin_timeout", m),
        }
    }
}

/// The resolver's refusal, found again in reqwest's error chain to answer 403, not 502.
#[derive(Debug)]
struct AddressRefused(String);

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves only to non-public addresses, and no allow entry names it",
            self.0
        )
    }
}

impl std::error::Error for AddressRefused {}

/// True for addresses a server-side fetch may reach without an explicit allow entry.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 CGNAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24 protocol assignments
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x64 && s[1] == 0xff9b)) // NAT64 (embeds v4)
        }
    }
}

/// The host of an origin pattern without wildcards (`http://h:1` → `h`, `http://[::1]:2` → `::1`).
fn host_of_origin(origin: &str) -> Option<String> {
    let rest = origin.split_once("://")?.1;
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        rest.split(':').next()?
    };
    Some(host.to_ascii_lowercase())
}

/// Resolves names with the system resolver and drops non-public addresses unless the name is
/// explicitly allowed.
struct GuardedResolver {
    explicit_hosts: Arc<Vec<String>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let explicit = self.explicit_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| explicit || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(
                    Box::new(AddressRefused(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// One fetched response (after redirects).
struct Fetched {
    request: http::request::Parts,
    response: http::response::Parts,
    final_url: Url,
    body: Bytes,
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
        let allowed = OriginList::parse(allowed_external_domains).unwrap_or_default();
        let explicit: Vec<String> = allowed_external_domains
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.contains('*'))
            .collect();
        let mut hosts: Vec<String> = explicit.iter().filter_map(|o| host_of_origin(o)).collect();
        if let Some(p) = &cfg.forward_proxy
            && let Some(h) = host_of_origin(p.trim_end_matches('/'))
        {
            hosts.push(h);
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .user_agent(concat!("cobrowse-css-proxy/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                explicit_hosts: Arc::new(hosts),
            }));
        builder = match &cfg.forward_proxy {
            Some(p) => match reqwest::Proxy::all(p) {
                Ok(proxy) => builder.proxy(proxy),
                Err(e) => {
                    tracing::error!(error = %e, "proxy.forwardProxy unusable; CSS proxy disabled");
                    return CssProxy::disabled(allowed, explicit, cfg, e.to_string());
                }
            },
            None => builder.no_proxy(),
        };
        let client = builder.build().map_err(|e| {
            tracing::error!(error = %e, "CSS proxy HTTP client could not be built");
            e.to_string()
        });
        CssProxy {
            client,
            allowed,
            explicit,
            cfg: cfg.clone(),
            cache: Mutex::new(Cache {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    fn disabled(
        allowed: OriginList,
        explicit: Vec<String>,
        cfg: &CssProxyConfig,
        why: String,
    ) -> CssProxy {
        CssProxy {
            client: Err(why),
            allowed,
            explicit,
            cfg: cfg.clone(),
            cache: Mutex::new(Cache {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    /// Whether `url`'s origin is on the allow list (and http(s)).
    fn allows(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && self.allowed.allows(&url.origin().ascii_serialization())
    }

    /// Checks one hop: scheme, allow list, literal non-public addresses.
    fn check_hop(&self, url: &Url, hop: usize) -> Result<(), Failure> {
        let origin = url.origin().ascii_serialization();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Failure::Refused(
                if hop == 0 {
                    "unsupported_scheme"
                } else {
                    "redirect_refused"
                },
                format!(
                    "only http and https stylesheets are proxied, not `{}:`",
                    url.scheme()
                ),
            ));
        }
        if !self.allowed.allows(&origin) {
            return Err(if hop == 0 {
                Failure::Refused(
                    "domain_refused",
                    format!("{origin} is not in proxy.allowedExternalDomains"),
                )
            } else {
                Failure::Refused(
                    "redirect_refused",
                    format!(
                        "the stylesheet redirects to {origin}, which is not in proxy.allowedExternalDomains"
                    ),
                )
            });
        }
        let ip = url.host_str().and_then(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
        if let Some(ip) = ip
            && !is_public(ip)
            && !self.explicit.contains(&origin)
        {
            return Err(Failure::Refused(
                "address_refused",
                format!(
                    "{ip} is not a public address; only an allow entry naming {origin} exactly permits it"
                ),
            ));
        }
        Ok(())
    }

    /// GET `url` following redirects by hand, with `headers` (conditional ones on revalidation).
    async fn fetch(&self, url: Url, headers: &HeaderMap) -> Result<Fetched, Failure> {
        let client = self.client.as_ref().map_err(|e| {
            Failure::Origin(
                "proxy_unavailable",
                format!("the CSS proxy is not configured correctly: {e}"),
            )
        })?;
        let mut url = url;
        for hop in 0..=MAX_REDIRECTS {
            self.check_hop(&url, hop)?;
            let mut req = client
                .get(url.clone())
                .header(header::ACCEPT, "text/css,*/*;q=0.1");
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let resp = req.send().await.map_err(|e| classify(&e, &url))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| {
                        Failure::Origin(
                            "origin_status",
                            format!("{url} answered {status} without a usable Location"),
                        )
                    })?;
                url = next;
                continue;
            }
            let mut request = http::Request::builder()
                .method(http::Method::GET)
                .uri(url.as_str())
                .body(())
                .map_err(|e| Failure::Origin("bad_url", e.to_string()))?
                .into_parts()
                .0;
            request.headers = headers.clone();
            let mut response = http::Response::builder()
                .status(status)
                .body(())
                .map_err(|e| Failure::Origin("origin_status", e.to_string()))?
                .into_parts()
                .0;
            response.headers = resp.headers().clone();
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched {
                    request,
                    response,
                    final_url: url,
                    body: Bytes::new(),
                });
            }
            if !status.is_success() {
                return Err(Failure::Origin(
                    "origin_status",
                    format!("{url} answered {status}"),
                ));
            }
            if let Some(ct) = response.headers.get(header::CONTENT_TYPE) {
                let ct = ct.to_str().unwrap_or("").trim().to_ascii_lowercase();
                let essence = ct.split(';').next().unwrap_or("").trim();
                if essence != "text/css" {
                    return Err(Failure::Origin(
                        "not_css",
                        format!("{url} is `{essence}`, not text/css"),
                    ));
                }
            }
            let max = self.cfg.max_css_bytes;
            if resp.content_length().is_some_and(|n| n > max as u64) {
                return Err(too_large(&url, max));
            }
            let mut body = Vec::new();
            let mut resp = resp;
            while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, &url))? {
                if body.len() + chunk.len() > max {
                    return Err(too_large(&url, max));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                request,
                response,
                final_url: url,
                body: body.into(),
            });
        }
        Err(Failure::Origin(
            "too_many_redirects",
            format!("more than {MAX_REDIRECTS} redirects"),
        ))
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
                ("http" | "https", UrlKind::Import) if self.allows(&abs) => {
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

    /// Stores `entry` under `key` when it fits, evicting least recently used entries.
    fn store(&self, key: String, entry: Entry) {
        let size = entry.css.len();
        if size > self.cfg.cache_bytes {
            return;
        }
        let Ok(mut c) = self.cache.lock() else {
            return;
        };
        if let Some(old) = c.lru.put(key, entry) {
            c.bytes -= old.css.len();
        }
        c.bytes += size;
        while c.bytes > self.cfg.cache_bytes {
            match c.lru.pop_lru() {
                Some((_, old)) => c.bytes -= old.css.len(),
                None => break,
            }
        }
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
                    StatusCode::BAD_REQUEST,
                    "bad_request",
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
                        StatusCode::BAD_REQUEST,
                        "bad_url",
                        &format!("`url` is not an absolute URL: {e}"),
                    ),
                    Outcome::Refused,
                );
            }
        };
        url.set_fragment(None);
        if let Err(f) = self.check_hop(&url, 0) {
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
            .map_err(|e| Failure::Refused("bad_url", e.to_string()))?
            .into_parts()
            .0;
        // What the cache says, decided under the lock, acted on without it.
        let cached = {
            let Ok(mut c) = self.cache.lock() else {
                return Err(Failure::Origin(
                    "proxy_unavailable",
                    "cache lock poisoned".into(),
                ));
            };
            c.lru.get(&key).map(|e| {
                (
                    e.policy.before_request(&probe, now),
                    e.policy.clone(),
                    e.final_url.clone(),
                    e.css.clone(),
                )
            })
        };
        if let Some((decision, policy, final_url, css)) = cached {
            match decision {
                BeforeRequest::Fresh(_) => {
                    return Ok((
                        css_response(css, Some(policy.time_to_live(now)), "hit"),
                        Outcome::Hit,
                    ));
                }
                BeforeRequest::Stale { request, .. } => {
                    let fetched = self.fetch(final_url, &request.headers).await?;
                    match policy.after_response(&request, &fetched.response, SystemTime::now()) {
                        AfterResponse::NotModified(new_policy, _) => {
                            let ttl = new_policy.time_to_live(SystemTime::now());
                            let storable = new_policy.is_storable();
                            if storable {
                                self.store(
                                    key,
                                    Entry {
                                        policy: new_policy,
                                        final_url: fetched.final_url,
                                        css: css.clone(),
                                    },
                                );
                            }
                            return Ok((
                                css_response(css, storable.then_some(ttl), "revalidated"),
                                Outcome::Revalidated,
                            ));
                        }
                        AfterResponse::Modified(..) => {
                            if fetched.response.status == StatusCode::NOT_MODIFIED {
                                // A 304 that matches nothing we hold: fetch it whole.
                                let fresh = self.fetch(url, &HeaderMap::new()).await?;
                                return Ok(self.complete(key, fresh));
                            }
                            return Ok(self.complete(key, fetched));
                        }
                    }
                }
            }
        }
        let fetched = self.fetch(url, &HeaderMap::new()).await?;
        if fetched.response.status == StatusCode::NOT_MODIFIED {
            return Err(Failure::Origin(
                "origin_status",
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
        let policy = CachePolicy::new_options(
            &f.request,
            &f.response,
            SystemTime::now(),
            CacheOptions::default(),
        );
        let storable = policy.is_storable();
        let ttl = policy.time_to_live(SystemTime::now());
        if storable {
            self.store(
                key,
                Entry {
                    policy,
                    final_url: f.final_url,
                    css: css.clone(),
                },
            );
        }
        (
            css_response(css, storable.then_some(ttl), "miss"),
            Outcome::Miss,
        )
    }

    /// Bytes of rewritten CSS held in the cache (for tests and operators).
    pub fn cached_bytes(&self) -> usize {
        self.cache.lock().map(|c| c.bytes).unwrap_or(0)
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

fn too_large(url: &Url, max: usize) -> Failure {
    Failure::Origin(
        "too_large",
        format!("{url} is larger than proxy.maxCssBytes ({max} bytes)"),
    )
}

/// Maps a reqwest error: our resolver's refusal → 403, timeouts → 504, the rest → 502.
fn classify(e: &reqwest::Error, url: &Url) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<AddressRefused>() {
            return Failure::Refused("address_refused", r.to_string());
        }
        source = s.source();
    }
    if e.is_timeout() {
        return Failure::Timeout(format!("{url} did not answer in time"));
    }
    // reqwest's own message ("error sending request") hides the cause; name the innermost one
    // (connection refused, TLS, DNS …) so the operator can act on it.
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    Failure::Origin("origin_unreachable", format!("{url}: {cause}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn hosts_of_origins() {
        assert_eq!(
            host_of_origin("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            host_of_origin("https://Intranet.Corp").as_deref(),
            Some("intranet.corp")
        );
        assert_eq!(host_of_origin("http://[::1]:9").as_deref(), Some("::1"));
    }

    #[test]
    fn url_parameter_is_decoded() {
        let enc = query_encode("https://a.example/x y.css?v=1&z");
        assert_eq!(
            url_param(&format!("a=1&url={enc}")).as_deref(),
            Some("https://a.example/x y.css?v=1&z")
        );
        assert_eq!(url_param("a=1"), None);
        assert_eq!(url_param(""), None);
    }

    #[test]
    fn sheets_are_decoded_by_bom_header_and_charset_rule() {
        let latin1 = b"p::before { content: \"caf\xe9\" }";
        assert!(decode(latin1, Some("text/css; charset=ISO-8859-1")).contains("café"));
        assert!(decode(latin1, Some("text/css")).contains("caf\u{fffd}"));
        let rule = b"@charset \"windows-1252\"; p::before { content: \"\x80\" }";
        assert!(decode(rule, None).contains('€'));
        // The header wins over the rule, a BOM over both.
        assert!(decode(rule, Some("text/css;charset=utf-8")).contains('\u{fffd}'));
        let bom = b"\xef\xbb\xbfp::before { content: \"\xc3\xa9\" }";
        assert_eq!(
            decode(bom, Some("text/css; charset=iso-8859-1")),
            "p::before { content: \"é\" }"
        );
        let sjis = b"p { font-family: \"\x82\x6c\x82\x72 \x83\x53\x83\x56\x83\x62\x83\x4e\" }";
        assert!(decode(sjis, Some("text/css; charset=Shift_JIS")).contains("ＭＳ ゴシック"));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            query_encode("https://a.example/x y.css?v=1&z"),
            "https%3A%2F%2Fa.example%2Fx%20y.css%3Fv%3D1%26z"
        );
    }
}
