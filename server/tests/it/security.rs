//! Origins (REST CORS and WebSocket), token guessing, wrong tokens.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{ErrorCode, Role};
use cobrowse_server::origin::OriginList;

fn shop_only(c: &mut cobrowse_server::Config) {
    c.allowed_origins =
        OriginList::parse(&["https://*.shop.example".to_string()]).expect("pattern");
}

#[tokio::test]
async fn rest_cors_follows_allowed_origins() -> Result<()> {
    let server = TestServer::start(shop_only).await?;
    let url = server.url("/cobrowse/rest/live/sessions");

    let evil = http(
        "POST",
        &url,
        &[("Origin", "https://evil.example")],
        Some("{}"),
    )
    .await?;
    assert_eq!(evil.status, 403);
    assert_eq!(evil.json()?["error"]["code"], "origin_refused");
    assert_eq!(evil.header("access-control-allow-origin"), None);

    let good = http(
        "POST",
        &url,
        &[("Origin", "https://www.shop.example")],
        Some("{}"),
    )
    .await?;
    assert_eq!(good.status, 201);
    assert_eq!(
        good.header("access-control-allow-origin"),
        Some("https://www.shop.example")
    );
    assert_eq!(good.header("vary"), Some("Origin"));
    assert!(
        good.header("set-cookie")
            .is_some_and(|c| c.starts_with("gcbSessionServer=test-node"))
    );

    let pre = http(
        "OPTIONS",
        &url,
        &[
            ("Origin", "https://www.shop.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    )
    .await?;
    assert_eq!(pre.status, 204);
    assert!(
        pre.header("access-control-allow-methods")
            .is_some_and(|m| m.contains("POST"))
    );
    let pre_evil = http("OPTIONS", &url, &[("Origin", "https://evil.example")], None).await?;
    assert_eq!(pre_evil.status, 403);

    // No Origin: not a browser cross-site request; allowed (documented).
    assert_eq!(http("POST", &url, &[], None).await?.status, 201);
    // The server's own origin is always allowed (the agent page lives there).
    let own = format!("http://{}", server.addr);
    assert_eq!(
        http("POST", &url, &[("Origin", &own)], None).await?.status,
        201
    );

    let bad_body = http("POST", &url, &[], Some("not json")).await?;
    assert_eq!(bad_body.status, 400);
    assert_eq!(bad_body.json()?["error"]["code"], "bad_request");
    let nowhere = http("GET", &server.url("/cobrowse/rest/nothing"), &[], None).await?;
    assert_eq!(nowhere.json()?["error"]["code"], "not_found");
    server.stop().await
}

#[tokio::test]
async fn websocket_checks_the_origin_too() -> Result<()> {
    let server = TestServer::start(shop_only).await?;
    let (token, _, _) = server.create_session().await?;
    let mut evil = connect(&server, Some("https://evil.example")).await?;
    let reason = expect_refusal(&mut evil, ErrorCode::OriginRefused, 1008).await?;
    assert!(reason.contains("evil.example"), "{reason}");

    let mut good = connect(&server, Some("https://a.shop.example")).await?;
    send(&mut good, &hello(Role::Customer, &token)).await?;
    assert!(matches!(
        frame(&mut good).await?,
        cobrowse_protocol::Message::Welcome(_)
    ));
    server.stop().await
}

#[tokio::test]
async fn wrong_tokens_answer_404_alike_and_guessing_is_throttled() -> Result<()> {
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 6;
        c.lookup_burst = 3;
    })
    .await?;
    let a = http(
        "GET",
        &server.url("/cobrowse/rest/live/sessions/123456789"),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    let b = http(
        "GET",
        &server.url("/cobrowse/rest/live/sessions/not-a-token"),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!((a.status, b.status), (404, 404));
    assert_eq!(
        a.body, b.body,
        "a wrong token reveals nothing about its shape"
    );
    assert_eq!(a.json()?["error"]["code"], "unknown_session");
    let c = http(
        "POST",
        &server.url("/cobrowse/rest/live/sessions/987654321/stop"),
        &[],
        None,
    )
    .await?;
    assert_eq!(c.status, 404);

    // Burst of 3 used up: the next lookups are throttled, REST and WebSocket alike.
    let t = http(
        "GET",
        &server.url("/cobrowse/rest/live/sessions/111111111"),
        &[],
        None,
    )
    .await?;
    assert_eq!(t.status, 429);
    assert_eq!(t.json()?["error"]["code"], "rate_limited");
    assert!(t.header("retry-after").is_some());
    let mut ws = connect(&server, None).await?;
    send(&mut ws, &hello(Role::Agent, "222222222")).await?;
    expect_refusal(&mut ws, ErrorCode::RateLimited, 1008).await?;

    let m = server.metrics().await?;
    assert!(
        metric(&m, "cobrowse_rate_limited_total").unwrap_or(0.0) >= 2.0,
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn unknown_token_on_the_socket_is_refused() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let mut ws = connect(&server, None).await?;
    send(&mut ws, &hello(Role::Customer, "123123123")).await?;
    expect_refusal(&mut ws, ErrorCode::UnknownSession, 1008).await?;
    server.stop().await
}

#[tokio::test]
async fn dom_restrictions_are_served_from_the_configured_policy() -> Result<()> {
    let default = TestServer::start(|_| {}).await?;
    let r = http(
        "GET",
        &default.url("/cobrowse/rest/dom-restrictions.json"),
        &[],
        None,
    )
    .await?;
    assert_eq!(r.status, 200);
    let v = r.json()?;
    assert_eq!(v["version"], 1);
    assert!(
        v["rules"]
            .as_array()
            .is_some_and(|rules| rules.iter().any(|r| r["action"] == "restrict"
                && r["selector"].as_str().is_some_and(|s| s.contains("submit")))),
        "{v}"
    );
    default.stop().await?;

    let policy = cobrowse_server::policy::parse(
        r##"{"version":1,"rules":[{"selector":"#card","action":"mask","urlPattern":"https://shop.example/*"}]}"##,
    )
    .map_err(anyhow::Error::msg)?;
    let custom = TestServer::start(move |c| c.dom_policy = policy).await?;
    let v = http(
        "GET",
        &custom.url("/cobrowse/rest/dom-restrictions.json"),
        &[],
        None,
    )
    .await?
    .json()?;
    assert_eq!(v["rules"][0]["selector"], "#card");
    assert_eq!(v["rules"][0]["urlPattern"], "https://shop.example/*");
    custom.stop().await
}
