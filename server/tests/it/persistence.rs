//! History survives a restart over the same data directory; graceful shutdown notifies parties.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{EndReason, Message, Role, SessionEvent};

#[tokio::test]
async fn history_survives_restart_and_shutdown_tells_parties() -> Result<()> {
    let dir = tempfile::tempdir()?;

    // Run 1: one session ends normally, one is still live at shutdown.
    let server = TestServer::start_in(dir.path(), |_| {}).await?;
    let (token, done_id, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("p")).await?;
    send(&mut customer, &nav(3, "Checkout")).await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    until(&mut agent, |m| nav_index(m) == Some(3)).await?;
    send(&mut agent, &Message::Leave).await?;
    until_close(&mut customer).await?;

    let (live_token, live_id, _) = server.create_session().await?;
    let mut c2 = join(&server, hello(Role::Customer, &live_token)).await?;
    let mut a2 = join(&server, agent_hello(&live_token, "bob")).await?;
    let mut server = server;
    server.trigger_shutdown();
    for ws in [&mut c2, &mut a2] {
        let (code, reason, seen) = until_close(ws).await?;
        assert_eq!(code, 1001, "{reason}");
        assert!(
            seen.contains(&Message::Session(SessionEvent::ServerGoingAway)),
            "{seen:?}"
        );
    }
    server.stop().await?;

    // Run 2 over the same directory.
    let server = TestServer::start_in(dir.path(), |_| {}).await?;
    let h = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/history/sessions/{done_id}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(h["token"], token.as_str());
    assert_eq!(h["endReason"], "agent_exit");
    assert_eq!(h["agentId"], "alice");
    assert!(h["createdAt"].as_u64().is_some());
    assert!(h["activatedAt"].as_u64().is_some());
    assert!(h["endedAt"].as_u64().is_some());
    assert_eq!(h["pages"][1]["url"], "https://shop.example/p/3");
    assert_eq!(h["pages"][1]["title"], "Checkout");

    let h2 = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/history/sessions/{live_id}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(h2["endReason"], "server_shutdown");
    assert_eq!(h2["agentId"], "bob");

    // The old live token means nothing to the new run.
    let r = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/live/sessions/{live_token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(r.status, 404);
    let _ = EndReason::ServerShutdown;
    server.stop().await
}

#[tokio::test]
async fn new_connections_during_shutdown_are_turned_away() -> Result<()> {
    let mut server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    // Keep one party connected so shutdown waits for it and the listener stays reachable.
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    server.trigger_shutdown();
    let (code, _, _) = until_close(&mut customer).await?;
    assert_eq!(code, 1001);
    server.stop().await
}
