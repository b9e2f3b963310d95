//! The OpenAPI document as the running server serves it, held to what the server answers: every
//! documented operation is routed, every other method on a documented path is a `405` naming
//! exactly the documented ones, and every route of the tables is documented. Plus what
//! schemathesis found (`scripts/schemathesis.sh`), kept as regressions.

use crate::common::*;
use anyhow::{Context, Result};
use cobrowse_protocol::rest::REST_PREFIX;
use cobrowse_server::endpoints::{OTHER_ROUTES, ROUTES};
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "TRACE"];

async fn fetch_document(server: &TestServer) -> Result<Value> {
    let r = http("GET", &server.url("/cobrowse/rest/openapi.json"), &[], None).await?;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    r.json()
}

/// (METHOD, path) of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m.to_lowercase()).is_some() {
                out.insert(((*m).to_owned(), path.clone()));
            }
        }
    }
    out
}

/// A concrete URL path for a template.
fn concrete(template: &str) -> String {
    template
        .replace("{token}", "123456789")
        .replace("{historyId}", "4f1c2b8e-0000-4000-8000-000000000000")
        .replace("{agentId}", "agent-7")
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_names_every_route() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let doc = fetch_document(&server).await?;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let ops = documented(&doc);
    let mut routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), format!("{REST_PREFIX}/{}", r.path)))
        .collect();
    routes.extend(
        OTHER_ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned())),
    );
    assert_eq!(ops, routes, "the document and the route tables differ");
    // HEAD answers carry no body; a served document that stated one would be wrong.
    let head = &doc["paths"]["/cobrowse/rest/ui.json"]["head"]["responses"]["200"];
    assert!(head.get("content").is_none(), "{head}");
    server.stop().await
}

#[tokio::test]
async fn the_server_answers_exactly_the_documented_methods() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let doc = fetch_document(&server).await?;
    let ops = documented(&doc);
    let paths: BTreeSet<&String> = ops.iter().map(|(_, p)| p).collect();
    for path in paths {
        let url = server.url(&concrete(path));
        let allowed: BTreeSet<&str> = ops
            .iter()
            .filter(|(_, p)| p == path)
            .map(|(m, _)| m.as_str())
            .collect();
        // An event stream the credential opens never ends (an agent's has no session to end
        // with), and this reads whole answers: its routing is checked without the credential.
        let auth: &[(&str, &str)] = if path.ends_with("/events") {
            &[]
        } else {
            &[AGENT_AUTH]
        };
        for m in METHODS {
            let r = http(m, &url, auth, None).await?;
            let code = || {
                r.json()
                    .with_context(|| format!("{m} {path}: {}", r.status))
                    .map(|v| v["error"]["code"].clone())
            };
            if allowed.contains(m) {
                // Routed: whatever it answers, it is not "no such endpoint" nor "wrong method".
                assert_ne!(r.status, 405, "{m} {path}");
                if r.status == 404 && *m != "HEAD" {
                    assert_ne!(code()?, "not_found", "{m} {path}");
                }
            } else {
                assert_eq!(r.status, 405, "{m} {path} is not documented");
                if *m != "HEAD" {
                    assert_eq!(code()?, "method_not_allowed", "{m} {path}");
                }
                let allow: BTreeSet<&str> = r
                    .header("allow")
                    .unwrap_or_else(|| panic!("{m} {path}: 405 without Allow"))
                    .split(',')
                    .map(str::trim)
                    .collect();
                assert_eq!(allow, allowed, "Allow of {path}");
            }
        }
    }
    server.stop().await
}

#[tokio::test]
async fn preflight_lists_the_methods_of_api_paths_only() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let known = http(
        "OPTIONS",
        &server.url("/cobrowse/rest/live/sessions/123456789"),
        &[],
        None,
    )
    .await?;
    assert_eq!(known.status, 204);
    assert_eq!(known.header("allow"), Some("GET, OPTIONS"));
    let unknown = http(
        "OPTIONS",
        &server.url("/cobrowse/rest/no/such/thing"),
        &[],
        None,
    )
    .await?;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()?["error"]["code"], "not_found");
    server.stop().await
}

#[tokio::test]
async fn a_creation_body_is_an_object_null_or_nothing() -> Result<()> {
    // schemathesis: `[]` created a session (serde fills a struct from an array), though the
    // document says the body is an object.
    let server = TestServer::start(|_| {}).await?;
    let url = server.url("/cobrowse/rest/live/sessions");
    for bad in [
        "[]",
        r#"["https://shop.example/"]"#,
        "1",
        r#""x""#,
        "{",
        r#"{"url":1}"#,
    ] {
        let r = http("POST", &url, &[], Some(bad)).await?;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()?["error"]["code"], "bad_request", "{bad}");
    }
    for good in ["", "  ", "null", "{}", r#"{"url":"https://shop.example/"}"#] {
        let r = http("POST", &url, &[], Some(good)).await?;
        assert_eq!(r.status, 201, "{good:?}: {}", r.body);
    }
    server.stop().await
}

#[tokio::test]
async fn health_and_the_css_proxy_refuse_other_methods_with_allow() -> Result<()> {
    // schemathesis: `TRACE /cobrowse/health` answered 200, and the CSS proxy's 405 had no
    // `Allow`.
    let server = TestServer::start(|_| {}).await?;
    for path in ["/cobrowse/health", "/cobrowse/css-proxy?url=x"] {
        for m in ["TRACE", "POST", "DELETE"] {
            let r = http(m, &server.url(path), &[], None).await?;
            assert_eq!(r.status, 405, "{m} {path}");
            assert_eq!(r.header("allow"), Some("GET, HEAD"), "{m} {path}");
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        }
    }
    let head = http("HEAD", &server.url("/cobrowse/health"), &[], None).await?;
    assert_eq!(head.status, 200);
    server.stop().await
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413_before_any_endpoint_reads_it() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let big = format!(r#"{{"url":"{}"}}"#, "x".repeat(70 * 1024));
    for path in [
        "/cobrowse/rest/live/sessions",
        "/cobrowse/rest/live/sessions/123456789/stop",
        "/cobrowse/rest/no/such/thing",
    ] {
        let r = http("POST", &server.url(path), &[AGENT_AUTH], Some(&big)).await?;
        assert_eq!(r.status, 413, "{path}");
        assert_eq!(r.json()?["error"]["code"], "body_too_large", "{path}");
    }
    let health = http("GET", &server.url("/cobrowse/health"), &[], None).await?;
    assert_eq!(health.status, 200);
    server.stop().await
}
