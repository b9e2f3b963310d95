//! Attacks on the network edge, each refused or bounded, from real sockets: bursts of session
//! creations and lookups, idle sockets, spoofed `X-Forwarded-For` (directly and through the
//! operators' nginx sample), one IPv6 /64, oversized first frames, ping floods, the page cache
//! budget, and the headers every answer carries.

use crate::common::*;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::close::{POLICY, rate_limit_retry_after};
use cobrowse_protocol::{ErrorCode, Message, Role};
use cobrowse_server::Config;
use cobrowse_server::net::TrustedProxies;
use futures_util::SinkExt;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

/// The shipped per-address limits (the test harness raises them for everything else).
fn shipped_limits(c: &mut Config) {
    let d = Config::default();
    c.lookups_per_minute = d.lookups_per_minute;
    c.lookup_burst = d.lookup_burst;
    c.creates_per_minute = d.creates_per_minute;
    c.create_burst = d.create_burst;
    c.connections_per_address = d.connections_per_address;
    c.pending_connections_per_address = d.pending_connections_per_address;
}

fn trust(list: &[&str]) -> TrustedProxies {
    TrustedProxies::parse(
        &list.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        false,
    )
    .expect("valid list")
}

/// The status and `Retry-After` of a refused WebSocket upgrade.
fn refused_upgrade(e: &anyhow::Error) -> Option<(u16, Option<String>)> {
    match e.downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Http(resp) => Some((
            resp.status().as_u16(),
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        )),
        _ => None,
    }
}

/// A WebSocket with extra request headers.
async fn connect_with(server: &TestServer, headers: &[(&str, &str)]) -> Result<Ws> {
    let mut req = format!("ws://{}/cobrowse/ws", server.addr).into_client_request()?;
    for (k, v) in headers {
        let name = tungstenite::http::HeaderName::from_bytes(k.as_bytes())?;
        req.headers_mut().insert(name, v.parse()?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

#[tokio::test]
async fn a_burst_of_session_creations_is_throttled_with_retry_after() -> Result<()> {
    let server = TestServer::start(shipped_limits).await?;
    let url = server.url("/cobrowse/rest/live/sessions");
    let (mut created, mut throttled) = (0, 0);
    for _ in 0..150 {
        let r = http("POST", &url, &[], Some("{}")).await?;
        match r.status {
            201 => {
                assert_eq!(throttled, 0, "a creation went through after the limit");
                created += 1;
            }
            429 => {
                throttled += 1;
                assert_eq!(r.json()?["error"]["code"], "rate_limited");
                let retry: u64 = r.header("retry-after").context("Retry-After")?.parse()?;
                assert!((1..=2).contains(&retry), "retry after {retry} s");
            }
            other => bail!("unexpected {other}: {}", r.body),
        }
    }
    let burst = Config::default().create_burst as usize;
    assert_eq!((created, throttled), (burst, 150 - burst));
    server.stop().await
}

#[tokio::test]
async fn history_lookups_are_throttled_too() -> Result<()> {
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 6;
        c.lookup_burst = 3;
    })
    .await?;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let id = uuid::Uuid::new_v4();
        let url = server.url(&format!("/cobrowse/rest/history/sessions/{id}"));
        statuses.push(http("GET", &url, &[AGENT_AUTH], None).await?.status);
    }
    assert_eq!(statuses, [404, 404, 404, 429, 429]);
    server.stop().await
}

#[tokio::test]
async fn idle_sockets_from_one_address_are_capped() -> Result<()> {
    let server = TestServer::start(shipped_limits).await?;
    let (token, _, _) = server.create_session().await?;
    let mut idle = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        match connect(&server, None).await {
            Ok(ws) => idle.push(ws),
            Err(e) => {
                let (status, retry) = refused_upgrade(&e).with_context(|| format!("{e:#}"))?;
                assert_eq!(status, 429);
                assert!(retry.is_some(), "Retry-After");
                refused += 1;
            }
        }
    }
    let pending = Config::default().pending_connections_per_address;
    assert_eq!((idle.len(), refused), (pending, 300 - pending));

    // A socket whose Hello is admitted no longer counts as pending: one more may open.
    let mut customer = idle.pop().context("an idle socket")?;
    send(&mut customer, &hello(Role::Customer, &token)).await?;
    assert!(matches!(frame(&mut customer).await?, Message::Welcome(_)));
    let one_more = connect(&server, None).await?;
    assert!(connect(&server, None).await.is_err(), "pending again full");
    drop((one_more, idle));
    server.stop().await
}

#[tokio::test]
async fn all_sockets_of_an_address_are_capped_not_only_pending_ones() -> Result<()> {
    let server = TestServer::start(|c| {
        c.connections_per_address = 3;
        c.pending_connections_per_address = 2;
    })
    .await?;
    let mut admitted = Vec::new();
    for _ in 0..3 {
        let (token, _, _) = server.create_session().await?;
        admitted.push(join(&server, hello(Role::Customer, &token)).await?);
    }
    let e = connect(&server, None).await.expect_err("over the open cap");
    assert_eq!(refused_upgrade(&e).map(|r| r.0), Some(429));
    // A closed socket gives its slot back.
    let mut first = admitted.remove(0);
    first.close(None).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if connect(&server, None).await.is_ok() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.stop().await
}

#[tokio::test]
async fn an_oversized_first_frame_is_refused_before_it_is_read() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let mut ws = connect(&server, None).await?;
    // Far over limits.helloMaxBytes, far under maxFrameBytes: refused as too large for a Hello.
    send_raw(&mut ws, vec![1u8; 1 << 20]).await?;
    let reason = expect_refusal(&mut ws, ErrorCode::TooLarge, 1009).await?;
    assert!(reason.contains("before Hello"), "{reason}");
    // Once admitted, the same size is a normal frame.
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let big = snapshot(&"x".repeat(1 << 20));
    send(&mut customer, &big).await?;
    sync(&mut customer).await?;
    server.stop().await
}

#[tokio::test]
async fn a_rate_limited_hello_is_closed_1008_with_a_reason_that_says_so() -> Result<()> {
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 1;
    })
    .await?;
    let mut first = connect(&server, None).await?;
    send(&mut first, &hello(Role::Agent, "123456789")).await?;
    expect_refusal(&mut first, ErrorCode::UnknownSession, POLICY).await?;
    let mut second = connect(&server, None).await?;
    send(&mut second, &hello(Role::Agent, "123456789")).await?;
    let reason = expect_refusal(&mut second, ErrorCode::RateLimited, POLICY).await?;
    assert!(reason.starts_with("rate_limited; retry-after="), "{reason}");
    let secs = rate_limit_retry_after(POLICY, &reason).context("a rate-limit close")?;
    assert!((1..=60).contains(&secs), "{secs}");
    server.stop().await
}

#[tokio::test]
async fn a_ping_flood_is_closed_as_rate_limited() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut ws = join(&server, hello(Role::Customer, &token)).await?;
    for _ in 0..200 {
        ws.feed(WsMessage::Ping(Default::default())).await?;
    }
    ws.flush().await?;
    let reason = expect_refusal(&mut ws, ErrorCode::RateLimited, POLICY).await?;
    assert!(
        rate_limit_retry_after(POLICY, &reason).is_some(),
        "{reason}"
    );
    assert!(reason.contains("ping/pong"), "{reason}");
    server.stop().await
}

/// REST lookups of a number nobody holds, with the agent credential (an agent guessing: `404`
/// until throttled) and one `X-Forwarded-For` value each; their statuses.
async fn lookups_with_forwarded_for(server: &TestServer, values: &[&str]) -> Result<Vec<u16>> {
    let url = server.url("/cobrowse/rest/live/sessions/123456789");
    let mut out = Vec::new();
    for v in values {
        out.push(
            http("GET", &url, &[("X-Forwarded-For", v), AGENT_AUTH], None)
                .await?
                .status,
        );
    }
    Ok(out)
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() -> Result<()> {
    // The peer (127.0.0.1) is no trusted proxy: every fresh header is still the same client.
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 2;
        c.trusted_proxies = trust(&["10.0.0.0/8"]);
    })
    .await?;
    let statuses = lookups_with_forwarded_for(&server, &["6.6.6.1", "6.6.6.2", "6.6.6.3"]).await?;
    assert_eq!(statuses, [404, 404, 429]);
    // The WebSocket follows the same rule.
    let mut ws = connect_with(&server, &[("X-Forwarded-For", "6.6.6.4")]).await?;
    send(&mut ws, &hello(Role::Agent, "123456789")).await?;
    expect_refusal(&mut ws, ErrorCode::RateLimited, POLICY).await?;
    server.stop().await
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() -> Result<()> {
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 2;
        c.trusted_proxies = trust(&["127.0.0.1", "10.0.0.0/8"]);
    })
    .await?;
    // The client writes any first hop it likes; the proxy appends the address it saw
    // (198.51.100.7), behind another trusted proxy (10.0.0.1).
    let statuses = lookups_with_forwarded_for(
        &server,
        &[
            "6.6.6.1, 198.51.100.7, 10.0.0.1",
            "6.6.6.2, 198.51.100.7, 10.0.0.1",
            "6.6.6.3, 198.51.100.7, 10.0.0.1",
        ],
    )
    .await?;
    assert_eq!(
        statuses,
        [404, 404, 429],
        "the spoofed first hops changed nothing"
    );
    // Another real client behind the same proxy has its own quota.
    let other = lookups_with_forwarded_for(&server, &["198.51.100.8, 10.0.0.1"]).await?;
    assert_eq!(other, [404]);
    // The WebSocket is keyed the same way.
    let mut ws = connect_with(&server, &[("X-Forwarded-For", "6.6.6.9, 198.51.100.7")]).await?;
    send(&mut ws, &hello(Role::Agent, "123456789")).await?;
    expect_refusal(&mut ws, ErrorCode::RateLimited, POLICY).await?;
    server.stop().await
}

#[tokio::test]
async fn trust_forwarded_for_keeps_working_but_takes_the_right_most_hop() -> Result<()> {
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 1;
        c.trusted_proxies = TrustedProxies::parse(&[], true).expect("valid");
    })
    .await?;
    let statuses =
        lookups_with_forwarded_for(&server, &["6.6.6.1, 198.51.100.7", "6.6.6.2, 198.51.100.7"])
            .await?;
    assert_eq!(statuses, [404, 429]);
    server.stop().await
}

#[tokio::test]
async fn one_ipv6_64_shares_a_bucket() -> Result<()> {
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 2;
        c.trusted_proxies = trust(&["127.0.0.1"]);
    })
    .await?;
    let statuses = lookups_with_forwarded_for(
        &server,
        &[
            "2001:db8:1:2::1",
            "2001:db8:1:2:ffff:ffff:ffff:fffe",
            "2001:db8:1:2:abcd::9",
        ],
    )
    .await?;
    assert_eq!(statuses, [404, 404, 429], "one /64, one bucket");
    let next_64 = lookups_with_forwarded_for(&server, &["2001:db8:1:3::1"]).await?;
    assert_eq!(next_64, [404], "the next /64 is another subscriber");
    server.stop().await
}

#[tokio::test]
async fn every_answer_says_nosniff() -> Result<()> {
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 1;
    })
    .await?;
    let (token, _, _) = server.create_session().await?;
    let mut answers = Vec::new();
    for (method, path) in [
        ("POST", "/cobrowse/rest/live/sessions".to_string()),
        ("GET", format!("/cobrowse/rest/live/sessions/{token}")),
        ("GET", "/cobrowse/rest/live/sessions/123123123".to_string()), // 429 now
        ("DELETE", "/cobrowse/rest/live/sessions".to_string()),
        ("GET", "/cobrowse/rest/nothing".to_string()),
        ("GET", "/cobrowse/rest/dom-restrictions.json".to_string()),
        ("GET", "/cobrowse/health".to_string()),
        ("GET", "/cobrowse/slave.html".to_string()),
        ("GET", "/cobrowse/js/cobrowse.js".to_string()),
        ("GET", "/cobrowse/no-such-file.js".to_string()),
        ("GET", "/cobrowse/css-proxy".to_string()),
        ("GET", "/cobrowse/ws".to_string()),
        ("GET", "/".to_string()),
        ("GET", "/elsewhere".to_string()),
        ("PUT", "/".to_string()),
    ] {
        let r = http(method, &server.url(&path), &[], None).await?;
        answers.push((
            method,
            path,
            r.status,
            r.header("x-content-type-options").map(str::to_string),
        ));
    }
    let missing: Vec<_> = answers
        .iter()
        .filter(|(.., nosniff)| nosniff.as_deref() != Some("nosniff"))
        .collect();
    assert!(missing.is_empty(), "without nosniff: {missing:?}");
    let statuses: Vec<u16> = answers.iter().map(|a| a.2).collect();
    assert!(statuses.contains(&429) && statuses.contains(&405) && statuses.contains(&404));
    // The WebSocket upgrade too.
    let req = format!("ws://{}/cobrowse/ws", server.addr).into_client_request()?;
    let (_ws, resp) = tokio_tungstenite::connect_async(req).await?;
    assert_eq!(
        resp.headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    server.stop().await
}

fn node_cookie(r: &HttpAnswer) -> Result<String> {
    r.headers_named("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("gcbSessionServer="))
        .map(str::to_string)
        .context("no node cookie")
}

#[tokio::test]
async fn the_node_cookie_is_http_only_same_site_and_secure_over_https() -> Result<()> {
    let server = TestServer::start(|c| c.trusted_proxies = trust(&["127.0.0.1"])).await?;
    let url = server.url("/cobrowse/rest/live/sessions");
    let plain = node_cookie(&http("POST", &url, &[], None).await?)?;
    assert!(plain.contains("; HttpOnly"), "{plain}");
    assert!(plain.contains("; SameSite=Lax"), "{plain}");
    assert!(!plain.contains("Secure"), "not over plain http: {plain}");
    let via_tls_proxy = http("POST", &url, &[("X-Forwarded-Proto", "https")], None).await?;
    let secure = node_cookie(&via_tls_proxy)?;
    assert!(
        secure.contains("; Secure") && secure.contains("; HttpOnly"),
        "{secure}"
    );
    server.stop().await?;

    // A peer that is no trusted proxy cannot claim https; a configured https URL can.
    let untrusted = TestServer::start(|_| {}).await?;
    let url = untrusted.url("/cobrowse/rest/live/sessions");
    let claimed = http("POST", &url, &[("X-Forwarded-Proto", "https")], None).await?;
    assert!(!node_cookie(&claimed)?.contains("Secure"));
    untrusted.stop().await?;
    let configured = TestServer::start(|c| c.server_url = "https://cb.example".into()).await?;
    let url = configured.url("/cobrowse/rest/live/sessions");
    assert!(node_cookie(&http("POST", &url, &[], None).await?)?.contains("; Secure"));
    configured.stop().await
}

#[tokio::test]
async fn metrics_are_served_only_on_the_internal_listener() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let public = http("GET", &server.url("/metrics"), &[], None).await?;
    assert_eq!(public.status, 404);
    assert!(!public.body.contains("cobrowse_"), "{}", public.body);
    let internal = server.metrics().await?;
    assert!(internal.contains("cobrowse_live_sessions"), "{internal}");
    server.stop().await?;

    // Off unless configured: `run` binds nothing for it.
    assert_eq!(Config::default().metrics_listen, None);
    Ok(())
}

#[tokio::test]
async fn page_caches_share_one_budget_and_a_session_over_it_relays_without_one() -> Result<()> {
    let server = TestServer::start(|c| {
        c.limits.max_frame_bytes = 100_000;
        c.max_log_bytes = 100_000;
        c.cache_bytes = 100_000;
    })
    .await?;
    let page = |m: &str| snapshot(&format!("{m}{}", "x".repeat(60_000)));
    let (t1, _, _) = server.create_session().await?;
    let mut c1 = join(&server, hello(Role::Customer, &t1)).await?;
    send(&mut c1, &page("one")).await?;
    sync(&mut c1).await?;
    let (t2, _, _) = server.create_session().await?;
    let mut c2 = join(&server, hello(Role::Customer, &t2)).await?;
    send(&mut c2, &page("two")).await?;
    sync(&mut c2).await?;

    // Session one's late joiner gets the cached page at once.
    let mut a1 = join(&server, hello(Role::Agent, &t1)).await?;
    let first = until(&mut a1, |m| matches!(m, Message::Snapshot(_))).await?;
    assert!(snapshot_marker(&first).is_some_and(|m| m.starts_with("one")));
    // Session two's page did not fit: its customer is asked for a fresh one when an agent
    // joins, and that snapshot reaches the agent live.
    let mut a2 = join(&server, hello(Role::Agent, &t2)).await?;
    until(&mut c2, |m| matches!(m, Message::RequestSnapshot)).await?;
    send(&mut c2, &page("two again")).await?;
    let live = until(&mut a2, |m| matches!(m, Message::Snapshot(_))).await?;
    assert!(snapshot_marker(&live).is_some_and(|m| m.starts_with("two again")));
    let m = server.metrics().await?;
    assert!(
        metric(&m, "cobrowse_page_caches_over_budget_total").unwrap_or(0.0) >= 1.0,
        "{m}"
    );
    let held = metric(&m, "cobrowse_page_cache_bytes").context("gauge")?;
    assert!(held <= 100_000.0, "{held}");
    server.stop().await
}

// ---- Through nginx ----------------------------------------------------------------------------

/// One HTTP/1.1 request (the callers pass the agent credential) on a socket bound to `from` (another loopback
/// address than nginx's own, so the server can tell the client from the proxy); the status.
async fn status_from(from: IpAddr, to: &str, path: &str, headers: &[(&str, &str)]) -> Result<u16> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(SocketAddr::new(from, 0))?;
    let mut stream = sock.connect(to.parse()?).await?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut answer)).await??;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status in {text:?}"))
}

/// A WebSocket through `to` on a socket bound to `from`.
async fn ws_from(from: IpAddr, to: &str, headers: &[(&str, &str)]) -> Result<Ws> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(SocketAddr::new(from, 0))?;
    let stream = sock.connect(to.parse()?).await?;
    let mut req = format!("ws://{to}/cobrowse/ws").into_client_request()?;
    for (k, v) in headers {
        let name = tungstenite::http::HeaderName::from_bytes(k.as_bytes())?;
        req.headers_mut().insert(name, v.parse()?);
    }
    let (ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await?;
    Ok(ws)
}

/// The operators' same-origin sample (`ci/nginx/same-origin.conf`) in front of `server`.
fn same_origin_nginx(server: &TestServer, root: &std::path::Path) -> Result<crate::nginx::Nginx> {
    let addr = crate::nginx::free_addr()?;
    let conf = crate::nginx::render(
        "same-origin.conf",
        &[
            ("listen 127.0.0.1:8080", &format!("listen {addr}")),
            ("root /var/www/shop", &format!("root {}", root.display())),
            (
                "proxy_pass http://127.0.0.1:8700",
                &format!("proxy_pass http://{}", server.addr),
            ),
        ],
    )?;
    crate::nginx::Nginx::start(&conf, &addr, "$remote_addr $http_x_forwarded_for $status")
}

#[tokio::test]
async fn through_nginx_spoofed_forwarded_for_headers_do_not_escape_the_limit() -> Result<()> {
    let root = tempfile::tempdir()?;
    // nginx reaches the server from 127.0.0.1; clients come from 127.0.0.2 and 127.0.0.3.
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 3;
        c.trusted_proxies = trust(&["127.0.0.1"]);
    })
    .await?;
    let lb = same_origin_nginx(&server, root.path())?;
    let attacker: IpAddr = "127.0.0.2".parse()?;
    let neighbour: IpAddr = "127.0.0.3".parse()?;
    let lookup = "/cobrowse/rest/live/sessions/123456789";
    let mut statuses = Vec::new();
    for i in 0..5 {
        let spoof = format!("6.6.6.{i}");
        statuses.push(
            status_from(
                attacker,
                &lb.addr,
                lookup,
                &[("X-Forwarded-For", &spoof), AGENT_AUTH],
            )
            .await?,
        );
    }
    assert_eq!(statuses, [404, 404, 404, 429, 429], "{:?}", lb.access_log());
    // Through nginx the WebSocket is throttled the same way, whatever it claims.
    let mut ws = ws_from(attacker, &lb.addr, &[("X-Forwarded-For", "6.6.6.99")]).await?;
    send(&mut ws, &hello(Role::Agent, "123456789")).await?;
    let reason = expect_refusal(&mut ws, ErrorCode::RateLimited, POLICY).await?;
    assert!(reason.starts_with("rate_limited"), "{reason}");
    // The client next door, behind the same nginx, still has its own quota.
    assert_eq!(
        status_from(neighbour, &lb.addr, lookup, &[AGENT_AUTH]).await?,
        404
    );
    // nginx did append what it saw to the spoofed header: the server read past the spoof.
    let log = lb.access_log();
    assert!(
        log.iter().any(|l| l.starts_with("127.0.0.2 6.6.6.0 ")),
        "{log:?}"
    );
    drop(lb);
    server.stop().await?;

    // Without trusting nginx, every client behind it is nginx: one bucket for all of them.
    let server = TestServer::start(|c| {
        c.lookups_per_minute = 1;
        c.lookup_burst = 3;
    })
    .await?;
    let lb = same_origin_nginx(&server, root.path())?;
    for _ in 0..3 {
        assert_eq!(
            status_from(attacker, &lb.addr, lookup, &[AGENT_AUTH]).await?,
            404
        );
    }
    assert_eq!(
        status_from(neighbour, &lb.addr, lookup, &[AGENT_AUTH]).await?,
        429
    );
    drop(lb);
    server.stop().await
}
