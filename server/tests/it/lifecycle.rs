//! Session lifecycle over real sockets: create, join, relay, late join, reconnect, end, history.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{
    Click, ControllerEventKind, EndReason, ErrorCode, Message, Party, Pointer, Role, SessionEvent,
    SessionState,
};

#[tokio::test]
async fn full_lifecycle_with_controller_late_join_and_history() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, history_id, created) = server.create_session().await?;
    assert_eq!(token.len(), 9);
    assert_eq!(created["state"], "idle");
    assert_eq!(created["writeModeAllowed"], true);
    // No public URL configured: none is made up from the request (the client keeps its own).
    assert_eq!(created["wsUrl"], serde_json::Value::Null);

    // Customer connects and streams its page before anyone watches.
    let mut customer = connect(&server, None).await?;
    send(&mut customer, &hello(Role::Customer, &token)).await?;
    match frame(&mut customer).await? {
        Message::Welcome(w) => {
            assert_eq!(w.state, SessionState::Idle);
            assert_eq!(w.history_id, history_id);
            assert_eq!(w.node, "test-node");
        }
        other => panic!("expected Welcome, got {other:?}"),
    }
    send(&mut customer, &snapshot("page-one")).await?;
    send(&mut customer, &nav(1, "Product one")).await?;
    sync(&mut customer).await?;

    // A controller attaches before the agent.
    let mut controller = join(&server, hello(Role::Controller, &token)).await?;
    match frame(&mut controller).await? {
        Message::Controller(e) => {
            assert_eq!(e.kind, ControllerEventKind::Join);
            assert_eq!(e.history_id, history_id);
            assert_eq!(e.token, token);
        }
        other => panic!("expected JOIN, got {other:?}"),
    }

    // The agent joins late and still gets the whole page, in order.
    let mut agent = connect(&server, None).await?;
    send(&mut agent, &agent_hello(&token, "alice")).await?;
    match frame(&mut agent).await? {
        Message::Welcome(w) => {
            assert_eq!(w.state, SessionState::Active);
            assert_eq!(w.agents, 1);
        }
        other => panic!("expected Welcome, got {other:?}"),
    }
    assert_eq!(
        frame(&mut agent).await?,
        Message::Session(SessionEvent::AgentJoined {
            agent_id: Some("alice".into()),
            agents: 1
        })
    );
    assert_eq!(
        snapshot_marker(&frame(&mut agent).await?).as_deref(),
        Some("page-one")
    );
    assert_eq!(nav_index(&frame(&mut agent).await?), Some(1));

    // Everybody hears about the join.
    assert!(matches!(
        frame(&mut customer).await?,
        Message::Session(SessionEvent::AgentJoined { agents: 1, .. })
    ));
    let mut saw_activated = false;
    let mut saw_joined = false;
    while !(saw_activated && saw_joined) {
        match frame(&mut controller).await? {
            Message::Controller(e) if e.kind == ControllerEventKind::Activated => {
                saw_activated = true
            }
            Message::Session(SessionEvent::AgentJoined { .. }) => saw_joined = true,
            other => panic!("unexpected controller frame {other:?}"),
        }
    }

    // REST sees the active session.
    let info = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/live/sessions/{token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(info["state"], "active");
    assert_eq!(info["agents"], 1);
    assert_eq!(info["node"]["name"], "test-node");
    assert!(info["activatedAt"].as_u64().is_some());

    // Live relay both ways.
    let ptr = Message::Pointer(Pointer {
        party: Party::Agent,
        pos: Some((10, 20)),
        frame: None,
    });
    send(&mut agent, &ptr).await?;
    assert_eq!(frame(&mut customer).await?, ptr);
    let click = Message::Click(Click {
        party: Party::Customer,
        x: 5,
        y: 6,
        node: None,
    });
    send(&mut customer, &click).await?;
    send(&mut customer, &nav(2, "Product two")).await?;
    assert_eq!(frame(&mut agent).await?, click);
    assert_eq!(nav_index(&frame(&mut agent).await?), Some(2));

    // The server answers protocol pings itself.
    send(&mut agent, &Message::Ping(42)).await?;
    assert_eq!(frame(&mut agent).await?, Message::Pong(42));

    // The customer exits: everyone is told, then closed normally.
    send(&mut customer, &Message::Leave).await?;
    for ws in [&mut customer, &mut agent] {
        let (code, _, seen) = until_close(ws).await?;
        assert_eq!(code, 1000);
        assert!(
            seen.contains(&Message::Session(SessionEvent::Ended(
                EndReason::CustomerExit
            ))),
            "{seen:?}"
        );
    }
    let (code, _, seen) = until_close(&mut controller).await?;
    assert_eq!(code, 1000);
    assert!(seen.iter().any(
        |m| matches!(m, Message::Controller(e) if e.kind == ControllerEventKind::Deactivated)
    ));

    // Ended sessions cannot be re-joined.
    let mut again = connect(&server, None).await?;
    send(&mut again, &agent_hello(&token, "bob")).await?;
    expect_refusal(&mut again, ErrorCode::SessionEnded, 1008).await?;

    // History has the whole story.
    let h = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/history/sessions/{history_id}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(h["token"], token.as_str());
    assert_eq!(h["endReason"], "customer_exit");
    assert_eq!(h["agentId"], "alice");
    assert!(h["endedAt"].as_u64() >= h["activatedAt"].as_u64());
    let urls: Vec<&str> = h["pages"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["url"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        urls,
        [
            "https://shop.example/start",
            "https://shop.example/p/1",
            "https://shop.example/p/2"
        ]
    );
    server.stop().await
}

#[tokio::test]
async fn customer_reconnect_replaces_old_socket_and_agents_are_told() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut c1 = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut c1, &snapshot("v1")).await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    until(&mut agent, |m| snapshot_marker(m).is_some()).await?;

    let mut c2 = join(&server, hello(Role::Customer, &token)).await?;
    let (code, reason, _) = until_close(&mut c1).await?;
    assert_eq!(code, 1008);
    assert!(reason.contains("replaced"), "{reason}");
    assert_eq!(
        frame(&mut agent).await?,
        Message::Session(SessionEvent::CustomerReconnected)
    );
    send(&mut c2, &snapshot("v2")).await?;
    assert_eq!(
        snapshot_marker(&frame(&mut agent).await?).as_deref(),
        Some("v2")
    );
    server.stop().await
}

#[tokio::test]
async fn log_outgrowing_the_snapshot_asks_the_customer_for_a_new_one() -> Result<()> {
    let server = TestServer::start(|c| c.min_log_bytes = 64).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("s")).await?;
    for i in 0..4 {
        send(
            &mut customer,
            &nav(i, "a title long enough to grow the log"),
        )
        .await?;
    }
    assert_eq!(frame(&mut customer).await?, Message::RequestSnapshot);
    // A new snapshot resets the log: a late joiner gets just the snapshot and what follows.
    send(&mut customer, &snapshot("fresh")).await?;
    send(&mut customer, &nav(9, "t")).await?;
    sync(&mut customer).await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    assert!(matches!(
        frame(&mut agent).await?,
        Message::Session(SessionEvent::AgentJoined { .. })
    ));
    assert_eq!(
        snapshot_marker(&frame(&mut agent).await?).as_deref(),
        Some("fresh")
    );
    assert_eq!(nav_index(&frame(&mut agent).await?), Some(9));
    server.stop().await
}

/// A client sends its page as `Navigation` then `Snapshot`; asking for a snapshot on the
/// navigation made it send the whole page twice at every start.
#[tokio::test]
async fn a_page_sent_as_navigation_then_snapshot_is_not_asked_for_again() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &nav(0, "home")).await?;
    send(&mut customer, &snapshot("page")).await?;
    send(&mut customer, &Message::Ping(77)).await?;
    let mut seen = Vec::new();
    loop {
        let m = frame(&mut customer).await?;
        if m == Message::Pong(77) {
            break;
        }
        seen.push(m);
    }
    assert!(
        !seen.contains(&Message::RequestSnapshot),
        "asked for the page it was sent: {seen:?}"
    );
    server.stop().await
}

#[tokio::test]
async fn agent_joining_before_any_page_asks_the_customer_for_one() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let _agent = join(&server, agent_hello(&token, "alice")).await?;
    until(&mut customer, |m| *m == Message::RequestSnapshot).await?;
    server.stop().await
}

#[tokio::test]
async fn rest_stop_and_controller_leave_end_sessions() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let r = http(
        "POST",
        &server.url(&format!("/cobrowse/rest/live/sessions/{token}/stop")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()?["state"], "ended");
    let (code, _, seen) = until_close(&mut customer).await?;
    assert_eq!(code, 1000);
    assert!(seen.contains(&Message::Session(SessionEvent::Ended(EndReason::ApiStop))));
    let info = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/live/sessions/{token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(info["state"], "ended");

    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let mut controller = join(&server, hello(Role::Controller, &token)).await?;
    send(&mut controller, &Message::Leave).await?;
    let (_, _, seen) = until_close(&mut customer).await?;
    assert!(seen.contains(&Message::Session(SessionEvent::Ended(
        EndReason::ControllerStop
    ))));
    server.stop().await
}

#[tokio::test]
async fn health_answers_ok() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let r = http("GET", &server.url("/cobrowse/health"), &[], None).await?;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()?["status"], "ok");
    server.stop().await
}

#[tokio::test]
async fn live_session_cap_answers_503_until_one_ends() -> Result<()> {
    let server = TestServer::start(|c| c.max_live_sessions = 1).await?;
    let (token, _, _) = server.create_session().await?;
    let url = server.url("/cobrowse/rest/live/sessions");
    let full = http("POST", &url, &[], None).await?;
    assert_eq!(full.status, 503);
    assert_eq!(full.json()?["error"]["code"], "server_full");
    let stop = server.url(&format!("/cobrowse/rest/live/sessions/{token}/stop"));
    assert_eq!(http("POST", &stop, &[AGENT_AUTH], None).await?.status, 200);
    assert_eq!(http("POST", &url, &[], None).await?.status, 201);
    server.stop().await
}

/// The agent learns which stylesheet hosts the CSS proxy serves and which third-party iframe
/// origins it may load, from the session answer it already fetches.
#[tokio::test]
async fn session_answer_carries_the_proxy_allow_lists() -> Result<()> {
    let server = TestServer::start(|c| {
        c.allowed_external_domains = vec!["https://*.cdn.example".into()];
        c.allowed_third_party_domains = vec!["https://maps.example".into()];
    })
    .await?;
    let (token, _, _) = server.create_session().await?;
    let info = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/live/sessions/{token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(
        info["allowedExternalDomains"],
        serde_json::json!(["https://*.cdn.example"])
    );
    assert_eq!(
        info["allowedThirdPartyDomains"],
        serde_json::json!(["https://maps.example"])
    );
    server.stop().await
}
