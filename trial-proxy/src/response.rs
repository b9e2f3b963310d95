//! A site's answer on its way to the browser: redirects and cookies made to work on the proxy's
//! host, and — for a document we inject into — the policy headers extended and the body streamed
//! through the HTML [`Pipeline`]. Everything else passes as the site sent it, streamed.

use crate::inject::{Coding, Page, Pipeline, Report, encoding_of};
use crate::logbook::Logbook;
use crate::{cookies, csp, headers};
use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, StreamBody, combinators::UnsyncBoxBody};
use hyper::StatusCode;
use hyper::body::Frame;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use lol_html::AsciiCompatibleEncoding;
use tokio::sync::mpsc;
use url::Url;

/// The body type of every answer of the proxy.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;
/// Errors a body can end with (the connection is then cut).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many rewritten chunks may wait for a slow browser before the site is read no further.
const QUEUED_CHUNKS: usize = 8;

/// Policy headers the snippet must pass; report-only ones too, so the site's reports do not
/// fill with our loader.
const CSP_HEADERS: [&str; 2] = [
    "content-security-policy",
    "content-security-policy-report-only",
];

/// `Location` and `Set-Cookie` of a site answer, for the proxy's host. `proxy_origin`: the origin
/// the browser used; `https`: whether that is https.
pub fn rewrite_site_headers(
    h: &mut HeaderMap,
    upstream: &Url,
    proxy_origin: &str,
    https: bool,
    path: &str,
    log: &Logbook,
) {
    for name in [header::LOCATION, header::CONTENT_LOCATION] {
        let Some(v) = h
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
        else {
            continue;
        };
        if let Some(new) = headers::rewrite_location(&v, upstream, proxy_origin) {
            if let Ok(value) = HeaderValue::from_str(&new) {
                log.adjusted(&format!("loc:{v}"), &format!("{path}: {name} {v} → {new}"));
                h.insert(name, value);
            }
        } else if name == header::LOCATION && headers::leaves_site(&v, upstream) {
            log.warn(
                &format!("leave:{v}"),
                &format!("{path}: redirect to another site, not through the proxy: {v}"),
            );
        }
    }
    let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    h.remove(header::SET_COOKIE);
    for value in cookies {
        let rewritten = value.to_str().ok().and_then(|v| cookies::rewrite(v, https));
        match rewritten.and_then(|r| Some((HeaderValue::from_str(&r.value).ok()?, r.changes))) {
            Some((new, changes)) => {
                let name = new
                    .to_str()
                    .unwrap_or_default()
                    .split('=')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let changes = changes.join(", ");
                log.adjusted(
                    &format!("cookie:{name}:{changes}"),
                    &format!("{path}: Set-Cookie {name}: {changes}"),
                );
                h.append(header::SET_COOKIE, new);
            }
            None => {
                h.append(header::SET_COOKIE, value);
            }
        }
    }
}

/// Whether an answer is a page to inject into: `text/html` by its `Content-Type` (never
/// sniffed), with a body, not a download or a range.
pub fn injectable(status: StatusCode, h: &HeaderMap) -> bool {
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/html"));
    let download = h
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("attachment")
        });
    let bodiless = status.is_informational()
        || matches!(
            status,
            StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT
        );
    html && !download && !bodiless
}

/// Extends the policy headers for the snippet (logging each distinct change).
pub fn extend_policies(h: &mut HeaderMap, page: &Page, path: &str, log: &Logbook) {
    let needs = csp::Needs {
        ws_origin: &page.ws_origin,
        nonce: &page.nonce,
    };
    for name in CSP_HEADERS.map(HeaderName::from_static) {
        let values: Vec<HeaderValue> = h.get_all(&name).iter().cloned().collect();
        if values.is_empty() {
            continue;
        }
        h.remove(&name);
        for value in values {
            let Ok(text) = value.to_str() else {
                h.append(&name, value);
                continue;
            };
            let e = csp::extend(text, needs);
            for w in &e.warnings {
                log.warn(&format!("cspw:{w}"), &format!("{path}: {name}: {w}"));
            }
            if e.changes.is_empty() {
                h.append(&name, value);
                continue;
            }
            // The nonce differs per answer: keep it out of the dedupe key.
            log.adjusted(
                &format!("csp:{name}:{text}"),
                &format!("{path}: {name} extended: {}", e.changes.join("; ")),
            );
            match HeaderValue::from_str(&e.value) {
                Ok(v) => h.append(&name, v),
                Err(_) => h.append(&name, value),
            };
        }
    }
}

/// Prepares the headers of an answer whose body is rewritten: its length and digests no longer
/// hold, it is no longer compressed, and its validator no longer names these exact bytes.
pub fn for_rewritten_body(h: &mut HeaderMap, decoded: bool) {
    h.remove(header::CONTENT_LENGTH);
    h.remove("content-md5");
    h.remove("digest");
    h.remove("content-digest");
    h.remove(header::ACCEPT_RANGES);
    if decoded {
        h.remove(header::CONTENT_ENCODING);
    }
    let weak = h
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.starts_with("W/"))
        .and_then(|v| HeaderValue::from_str(&format!("W/{v}")).ok());
    if let Some(w) = weak {
        h.insert(header::ETAG, w);
    }
}

/// Decides how a document answer's body is handled: `Ok((coding, encoding))` to rewrite it,
/// `Err(reason)` to pass it through untouched (logged by the caller).
pub fn plan_rewrite(h: &HeaderMap) -> Result<(Option<Coding>, AsciiCompatibleEncoding), String> {
    let coding = Coding::from_header(
        h.get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    )
    .map_err(|c| format!("Content-Encoding {c} is not one the proxy decodes (gzip, deflate)"))?;
    let content_type = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let encoding = encoding_of(content_type)
        .ok_or_else(|| format!("{content_type}: not an ASCII-compatible charset"))?;
    Ok((coding, encoding))
}

/// Streams `resp`'s body through a fresh [`Pipeline`]; the report is logged at the end.
pub fn rewritten_body(
    mut resp: reqwest::Response,
    mut pipeline: Pipeline,
    path: String,
    done: impl FnOnce(&str, &Report) + Send + 'static,
) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, BoxError>>(QUEUED_CHUNKS);
    tokio::spawn(async move {
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let out = match pipeline.push(&chunk) {
                Ok(out) => out,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            if !out.is_empty() && tx.send(Ok(out)).await.is_err() {
                return; // the browser went away
            }
        }
        match pipeline.finish() {
            Ok((tail, report)) => {
                done(&path, &report);
                if !tail.is_empty() {
                    let _ = tx.send(Ok(tail)).await;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
            }
        }
    });
    let frames = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item.map(Frame::data), rx))
    });
    StreamBody::new(frames).boxed_unsync()
}

/// The site's (or the co-browse server's) body, streamed as it comes.
pub fn passthrough_body(resp: reqwest::Response) -> Body {
    reqwest::Body::from(resp)
        .map_err(|e| -> BoxError { e.into() })
        .boxed_unsync()
}

/// A short body of our own.
pub fn text_body(text: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(text.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}
