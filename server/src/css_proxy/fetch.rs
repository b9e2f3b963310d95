//! One fetch of a stylesheet from its origin: redirects followed by hand with every hop
//! guarded, the content checks and size limit, and why a fetch failed (each [`Failure`] maps to
//! a status and a stable code).

use super::guard::{AddressRefused, Guard, Refused};
use crate::reply::{Resp, error_at};
use bytes::Bytes;
use cobrowse_protocol::rest::ApiError;
use reqwest::Url;
use warp::http::{self, HeaderMap, StatusCode, header};

/// Redirect hops followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// Why a fetch failed; each maps to a status and a stable code.
#[derive(Debug)]
pub(super) enum Failure {
    /// Refused by us (403): the code says which check.
    Refused(ApiError, String),
    /// The origin failed us (502): unreachable, wrong status or type, too large.
    Origin(ApiError, String),
    /// Too slow (504).
    Timeout(String),
}

impl Failure {
    /// The JSON error answer for this failure.
    pub(super) fn response(&self) -> Resp {
        match self {
            Failure::Refused(code, m) => error_at(StatusCode::FORBIDDEN, *code, m),
            Failure::Origin(code, m) => error_at(StatusCode::BAD_GATEWAY, *code, m),
            Failure::Timeout(m) => {
                error_at(StatusCode::GATEWAY_TIMEOUT, ApiError::OriginTimeout, m)
            }
        }
    }
}

impl From<Refused> for Failure {
    fn from(r: Refused) -> Failure {
        Failure::Refused(r.code, r.message)
    }
}

/// One fetched response (after redirects).
pub(super) struct Fetched {
    /// The request as sent to the final URL (for the cache policy).
    pub(super) request: http::request::Parts,
    /// Status and headers of the answer.
    pub(super) response: http::response::Parts,
    /// The URL after redirects.
    pub(super) final_url: Url,
    /// The body (empty for a 304).
    pub(super) body: Bytes,
}

/// GET `url` following redirects by hand, with `headers` (conditional ones on revalidation);
/// every hop passes the guard, and the body stops at `max_css_bytes`.
pub(super) async fn fetch(
    client: &reqwest::Client,
    guard: &Guard,
    max_css_bytes: usize,
    url: Url,
    headers: &HeaderMap,
) -> Result<Fetched, Failure> {
    let mut url = url;
    for hop in 0..=MAX_REDIRECTS {
        guard.check_hop(&url, hop)?;
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
                        ApiError::OriginStatus,
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
            .map_err(|e| Failure::Origin(ApiError::BadUrl, e.to_string()))?
            .into_parts()
            .0;
        request.headers = headers.clone();
        let mut response = http::Response::builder()
            .status(status)
            .body(())
            .map_err(|e| Failure::Origin(ApiError::OriginStatus, e.to_string()))?
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
                ApiError::OriginStatus,
                format!("{url} answered {status}"),
            ));
        }
        if let Some(ct) = response.headers.get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").trim().to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if essence != "text/css" {
                return Err(Failure::Origin(
                    ApiError::NotCss,
                    format!("{url} is `{essence}`, not text/css"),
                ));
            }
        }
        let max = max_css_bytes;
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
        ApiError::TooManyRedirects,
        format!("more than {MAX_REDIRECTS} redirects"),
    ))
}

fn too_large(url: &Url, max: usize) -> Failure {
    Failure::Origin(
        ApiError::TooLarge,
        format!("{url} is larger than proxy.maxCssBytes ({max} bytes)"),
    )
}

/// Maps a reqwest error: our resolver's refusal → 403, timeouts → 504, the rest → 502.
fn classify(e: &reqwest::Error, url: &Url) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<AddressRefused>() {
            return Failure::Refused(ApiError::AddressRefused, r.to_string());
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
    Failure::Origin(ApiError::OriginUnreachable, format!("{url}: {cause}"))
}
