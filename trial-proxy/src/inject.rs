//! The HTML rewriting of a document answer, chunk by chunk as it arrives (no buffering of the
//! page): decode gzip/deflate, then with lol_html put the snippet `<script>` before `</head>`
//! (else first in `<body>`, else at the end of a document that has neither), extend a
//! `<meta http-equiv="Content-Security-Policy">` like the header, and turn absolute links to the
//! site (`https://staging.example/…`) into links to the proxy so clicks stay on it.
//!
//! The snippet is the README's script-tag form with absolute URLs on the proxy's origin: absolute
//! so a `<base href>` of the page cannot send the loader elsewhere (the loader reads its own
//! `src` after the page's `<base>` has been parsed). Fragments (no doctype, `<html>`, `<head>`
//! or `<body>`: an HTML partial fetched by script) get nothing.

use crate::{csp, headers::rewrite_location};
use bytes::Bytes;
use encoding_rs::Encoding;
use flate2::write::{GzDecoder, ZlibDecoder};
use lol_html::html_content::ContentType;
use lol_html::{AsciiCompatibleEncoding, doctype, element, end, end_tag, send};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use thiserror::Error;
use url::Url;

/// The path of the loader on the co-browse server (and so on the proxy).
pub const LOADER_PATH: &str = "/cobrowse/js/cobrowse.js";

/// What failed while rewriting a document; the answer is then cut off (its head is already
/// with the browser).
#[derive(Debug, Error)]
pub enum InjectError {
    /// The compressed body was not valid gzip/deflate.
    #[error("the site's {0} body does not decode: {1}")]
    Decode(&'static str, std::io::Error),
    /// lol_html gave up (memory limit, invalid input it refuses).
    #[error("HTML rewriting failed: {0}")]
    Rewrite(#[from] lol_html::errors::RewritingError),
}

/// A `Content-Encoding` the pipeline can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `gzip` / `x-gzip`.
    Gzip,
    /// `deflate` (zlib-wrapped, RFC 9110).
    Deflate,
}

impl Coding {
    /// The coding for a `Content-Encoding` value: `Ok(None)` for identity, `Err` for codings we
    /// do not decode (the caller then passes the answer through untouched).
    pub fn from_header(value: Option<&str>) -> Result<Option<Self>, String> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "identity") => Ok(None),
            Some("gzip" | "x-gzip") => Ok(Some(Self::Gzip)),
            Some("deflate") => Ok(Some(Self::Deflate)),
            Some(other) => Err(other.to_owned()),
        }
    }
}

enum Decoder {
    Gzip(GzDecoder<Vec<u8>>),
    Deflate(ZlibDecoder<Vec<u8>>),
}

impl Decoder {
    fn new(coding: Coding) -> Self {
        match coding {
            Coding::Gzip => Self::Gzip(GzDecoder::new(Vec::new())),
            Coding::Deflate => Self::Deflate(ZlibDecoder::new(Vec::new())),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Gzip(_) => "gzip",
            Self::Deflate(_) => "deflate",
        }
    }

    fn decode(&mut self, chunk: &[u8]) -> Result<Vec<u8>, InjectError> {
        let name = self.name();
        let out = match self {
            Self::Gzip(d) => d
                .write_all(chunk)
                .and_then(|()| d.flush())
                .map(|()| d.get_mut()),
            Self::Deflate(d) => d
                .write_all(chunk)
                .and_then(|()| d.flush())
                .map(|()| d.get_mut()),
        };
        out.map(std::mem::take)
            .map_err(|e| InjectError::Decode(name, e))
    }

    fn finish(self) -> Result<Vec<u8>, InjectError> {
        let name = self.name();
        match self {
            Self::Gzip(d) => d.finish(),
            Self::Deflate(d) => d.finish(),
        }
        .map_err(|e| InjectError::Decode(name, e))
    }
}

/// The encoding named by a `Content-Type`'s `charset`, UTF-8 when there is none (then a
/// `<meta charset>` in the page is followed). `None`: an encoding that is not ASCII-compatible
/// (UTF-16), where inserting ASCII markup would corrupt the page.
pub fn encoding_of(content_type: &str) -> Option<AsciiCompatibleEncoding> {
    let charset = content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    });
    match charset {
        None => Some(AsciiCompatibleEncoding::utf_8()),
        Some(label) => AsciiCompatibleEncoding::new(
            Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8),
        ),
    }
}

/// Per-document inputs of the rewriting.
#[derive(Debug, Clone)]
pub struct Page {
    /// The proxy's origin (`http://127.0.0.1:8780`).
    pub proxy_origin: String,
    /// The proxy's WebSocket origin, for a `<meta>` CSP.
    pub ws_origin: String,
    /// The site.
    pub upstream: Url,
    /// The nonce the snippet carries (see [`crate::csp`]).
    pub nonce: String,
}

impl Page {
    /// The `<script>` that loads the co-browse client from the proxy's origin.
    pub fn snippet(&self) -> String {
        let o = &self.proxy_origin;
        format!(
            r#"<script async src="{o}{LOADER_PATH}" data-server-url="{o}" nonce="{}" data-cobrowse-trial></script>"#,
            self.nonce
        )
    }
}

/// What the rewriting did to one document, for the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// The snippet was inserted.
    pub injected: bool,
    /// Changes to `<meta>` policies.
    pub meta_csp: Vec<String>,
    /// Links to the site made links to the proxy.
    pub links: usize,
    seen_document: bool,
}

type Shared<T> = Arc<Mutex<T>>;
/// Where lol_html writes the rewritten bytes (into the pipeline's shared buffer).
type Sink = Box<dyn FnMut(&[u8]) + Send>;

fn with<T, R>(m: &Shared<T>, f: impl FnOnce(&mut T) -> R) -> R {
    f(&mut m.lock().unwrap_or_else(PoisonError::into_inner))
}

/// The streaming pipeline of one document: feed it the site's bytes with [`Pipeline::push`],
/// send what it returns on, and end with [`Pipeline::finish`].
pub struct Pipeline {
    decoder: Option<Decoder>,
    rewriter: send::HtmlRewriter<'static, Sink>,
    out: Shared<Vec<u8>>,
    report: Shared<Report>,
}

/// Element attributes that hold a URL a person follows or a page loads.
const URL_ATTRS: [(&str, &str); 11] = [
    ("a[href]", "href"),
    ("area[href]", "href"),
    ("link[href]", "href"),
    ("form[action]", "action"),
    ("button[formaction]", "formaction"),
    ("input[formaction]", "formaction"),
    ("img[src]", "src"),
    ("script[src]", "src"),
    ("iframe[src]", "src"),
    ("source[src]", "src"),
    ("video[src]", "src"),
];

impl Pipeline {
    /// A pipeline for a document in `encoding`, compressed with `coding` (if any).
    pub fn new(page: &Page, encoding: AsciiCompatibleEncoding, coding: Option<Coding>) -> Self {
        let out: Shared<Vec<u8>> = Arc::default();
        let report: Shared<Report> = Arc::default();
        let snippet = page.snippet();
        let mut handlers = vec![
            element!("html", {
                let report = report.clone();
                move |_| {
                    with(&report, |r| r.seen_document = true);
                    Ok(())
                }
            }),
            element!("head", {
                let (report, snippet) = (report.clone(), snippet.clone());
                move |el| {
                    with(&report, |r| r.seen_document = true);
                    let (report, snippet) = (report.clone(), snippet.clone());
                    // A head without an end tag (implied by the parser) is handled at <body>.
                    el.on_end_tag(end_tag!(move |end| {
                        with(&report, |r| {
                            if !r.injected {
                                end.before(&snippet, ContentType::Html);
                                r.injected = true;
                            }
                        });
                        Ok(())
                    }))
                }
            }),
            element!("body", {
                let (report, snippet) = (report.clone(), snippet.clone());
                move |el| {
                    with(&report, |r| {
                        r.seen_document = true;
                        if !r.injected {
                            el.prepend(&snippet, ContentType::Html);
                            r.injected = true;
                        }
                    });
                    Ok(())
                }
            }),
            element!("meta[http-equiv][content]", {
                let (report, page) = (report.clone(), page.clone());
                move |el| {
                    let is_csp = el
                        .get_attribute("http-equiv")
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("content-security-policy"));
                    let Some(policy) = el.get_attribute("content").filter(|_| is_csp) else {
                        return Ok(());
                    };
                    let needs = csp::Needs {
                        ws_origin: &page.ws_origin,
                        nonce: &page.nonce,
                    };
                    let extended = csp::extend(&policy, needs);
                    if !extended.changes.is_empty() {
                        el.set_attribute("content", &extended.value)?;
                        with(&report, |r| r.meta_csp.extend(extended.changes));
                    }
                    Ok(())
                }
            }),
        ];
        for (selector, attr) in URL_ATTRS {
            let (report, page) = (report.clone(), page.clone());
            handlers.push(element!(selector, move |el| {
                let moved = el
                    .get_attribute(attr)
                    .and_then(|v| rewrite_location(v.trim(), &page.upstream, &page.proxy_origin));
                if let Some(v) = moved {
                    el.set_attribute(attr, &v)?;
                    with(&report, |r| r.links += 1);
                }
                Ok(())
            }));
        }
        let doc = vec![
            doctype!({
                let report = report.clone();
                move |_| {
                    with(&report, |r| r.seen_document = true);
                    Ok(())
                }
            }),
            end!({
                let report = report.clone();
                move |end| {
                    with(&report, |r| {
                        if r.seen_document && !r.injected {
                            end.append(&snippet, ContentType::Html);
                            r.injected = true;
                        }
                    });
                    Ok(())
                }
            }),
        ];
        let mut settings = send::Settings::new_send();
        for h in handlers {
            settings = settings.append_element_content_handler(h);
        }
        for h in doc {
            settings = settings.append_document_content_handler(h);
        }
        let settings = settings
            .with_encoding(encoding)
            .with_adjust_charset_on_meta_tag(true)
            // Real pages hold markup lol_html calls ambiguous; we only insert around head/body.
            .with_strict(false);
        let sink_out = out.clone();
        let sink: Sink =
            Box::new(move |chunk: &[u8]| with(&sink_out, |o| o.extend_from_slice(chunk)));
        Self {
            decoder: coding.map(Decoder::new),
            rewriter: send::HtmlRewriter::new(settings, sink),
            out,
            report,
        }
    }

    fn take(&self) -> Bytes {
        Bytes::from(with(&self.out, std::mem::take))
    }

    /// Feeds one chunk of the site's body; returns the rewritten bytes ready so far.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Bytes, InjectError> {
        match &mut self.decoder {
            Some(d) => {
                let plain = d.decode(chunk)?;
                self.rewriter.write(&plain)?;
            }
            None => self.rewriter.write(chunk)?,
        }
        Ok(self.take())
    }

    /// Ends the document; returns the last bytes and what was done.
    pub fn finish(mut self) -> Result<(Bytes, Report), InjectError> {
        if let Some(d) = self.decoder.take() {
            let rest = d.finish()?;
            self.rewriter.write(&rest)?;
        }
        self.rewriter.end()?;
        let tail = Bytes::from(with(&self.out, std::mem::take));
        let report = with(&self.report, |r| r.clone());
        Ok((tail, report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};

    fn page() -> Page {
        Page {
            proxy_origin: "http://p.test:8780".into(),
            ws_origin: "ws://p.test:8780".into(),
            upstream: Url::parse("https://site.example").unwrap(),
            nonce: "abc".into(),
        }
    }

    /// Runs `html` through a pipeline `chunk` bytes at a time.
    fn rewrite(html: &[u8], coding: Option<Coding>, chunk: usize) -> (String, Report) {
        let mut p = Pipeline::new(&page(), AsciiCompatibleEncoding::utf_8(), coding);
        let mut out = Vec::new();
        for c in html.chunks(chunk) {
            out.extend_from_slice(&p.push(c).unwrap());
        }
        let (tail, report) = p.finish().unwrap();
        out.extend_from_slice(&tail);
        (String::from_utf8(out).unwrap(), report)
    }

    const SNIPPET: &str = r#"<script async src="http://p.test:8780/cobrowse/js/cobrowse.js" data-server-url="http://p.test:8780" nonce="abc" data-cobrowse-trial></script>"#;

    #[test]
    fn the_snippet_goes_before_the_end_of_head_once() {
        let html = "<!doctype html><html><head><title>t</title></head><body><p>x</p></body></html>";
        let (out, report) = rewrite(html.as_bytes(), None, 3);
        assert_eq!(
            out,
            format!(
                "<!doctype html><html><head><title>t</title>{SNIPPET}</head><body><p>x</p></body></html>"
            )
        );
        assert!(report.injected);
    }

    #[test]
    fn gzip_pages_are_decoded_even_a_byte_at_a_time() {
        let html = "<html><head></head><body>ünïcode</body></html>";
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(html.as_bytes()).unwrap();
        let (out, _) = rewrite(&gz.finish().unwrap(), Some(Coding::Gzip), 1);
        assert_eq!(
            out,
            format!("<html><head>{SNIPPET}</head><body>ünïcode</body></html>")
        );
    }

    #[test]
    fn broken_gzip_is_an_error_not_a_page() {
        let mut p = Pipeline::new(
            &page(),
            AsciiCompatibleEncoding::utf_8(),
            Some(Coding::Gzip),
        );
        let err = p
            .push(b"<html>not gzip at all</html>")
            .and_then(|_| p.finish().map(|_| Bytes::new()));
        assert!(
            matches!(err, Err(InjectError::Decode("gzip", _))),
            "{err:?}"
        );
    }

    #[test]
    fn a_head_without_end_tag_gets_it_first_in_body() {
        let (out, _) = rewrite(b"<head><title>t</title><body>x", None, 64);
        assert_eq!(out, format!("<head><title>t</title><body>{SNIPPET}x"));
    }

    #[test]
    fn a_document_without_head_or_body_gets_it_at_the_end() {
        let (out, report) = rewrite(b"<!DOCTYPE html><p>hi", None, 64);
        assert_eq!(out, format!("<!DOCTYPE html><p>hi{SNIPPET}"));
        assert!(report.injected);
    }

    #[test]
    fn fragments_are_left_alone() {
        let (out, report) = rewrite(b"<li>one</li><li>two</li>", None, 64);
        assert_eq!(out, "<li>one</li><li>two</li>");
        assert!(!report.injected);
    }

    #[test]
    fn a_meta_policy_is_extended() {
        let html = r#"<head><meta http-equiv="Content-Security-Policy" content="default-src 'self'"></head>"#;
        let (out, report) = rewrite(html.as_bytes(), None, 64);
        assert!(out.contains(r#"content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws://p.test:8780""#), "{out}");
        assert_eq!(report.meta_csp.len(), 2);
    }

    #[test]
    fn links_to_the_site_point_to_the_proxy() {
        let html = r#"<body><a href="https://site.example/cart?x=1">c</a><a href="https://other.example/">o</a><form action="//site.example/buy"></form><img src="/rel.png"></body>"#;
        let (out, report) = rewrite(html.as_bytes(), None, 64);
        assert!(
            out.contains(r#"<a href="http://p.test:8780/cart?x=1">"#),
            "{out}"
        );
        assert!(out.contains(r#"<a href="https://other.example/">"#));
        assert!(out.contains(r#"<form action="http://p.test:8780/buy">"#));
        assert!(out.contains(r#"<img src="/rel.png">"#));
        assert_eq!(report.links, 2);
    }

    #[test]
    fn legacy_charsets_survive() {
        // "日本" in Shift_JIS, declared by the Content-Type.
        let enc = encoding_of("text/html; charset=Shift_JIS").unwrap();
        let mut p = Pipeline::new(&page(), enc, None);
        let mut out = p
            .push(b"<head></head><p>\x93\xfa\x96\x7b</p>")
            .unwrap()
            .to_vec();
        out.extend_from_slice(&p.finish().unwrap().0);
        assert!(out.ends_with(b"</head><p>\x93\xfa\x96\x7b</p>"), "{out:?}");
        assert!(encoding_of("text/html; charset=utf-16le").is_none());
        assert!(encoding_of("text/html").is_some());
    }

    #[test]
    fn codings_we_cannot_decode_are_named() {
        assert_eq!(Coding::from_header(Some("GZIP")), Ok(Some(Coding::Gzip)));
        assert_eq!(Coding::from_header(None), Ok(None));
        assert_eq!(Coding::from_header(Some("br")), Err("br".into()));
    }
}
