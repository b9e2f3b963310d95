//! `agentSessionsLimit` across a cluster: two real nodes sharing the test Cassandra, each owning
//! one session; an agent identity in a session on one node is busy for a session on the other
//! (the count lives in shared storage, `sessions::agent_limit`), observing included, and free
//! again once it left.

use crate::cluster::{Node, join_at};
use crate::common::*;
use anyhow::{Context, Result};
use cobrowse_protocol::{ErrorCode, Message, Role, SessionEvent};
use std::time::Duration;

/// Creates a session on `node` (it owns it) and joins its customer there.
async fn session_on(node: &Node) -> Result<(String, Ws)> {
    let created = http(
        "POST",
        &node.url("/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let body = created.json()?;
    remember_customer_secret(&body);
    let token = body["token"].as_str().context("token")?.to_string();
    let (customer, owner) = join_at(&node.addr, &hello(Role::Customer, &token)).await?;
    assert_eq!(owner, node.name);
    Ok((token, customer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn the_agent_limit_counts_sessions_on_every_node() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), limit_case())
        .await
        .context("the cluster limit case did not finish within 120 s")?
}

async fn limit_case() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    let ks = format!("cbl_{}", uuid::Uuid::new_v4().simple());
    // The default limit (1 session per identity), said out loud.
    let limit = ["session.agentSessionsLimit=1"];
    let n1 = Node::spawn_with("n1", &ks, 0, &www, &limit)?;
    let n2 = Node::spawn_with("n2", &ks, 0, &www, &limit)?;
    let (a, _customer_a) = session_on(&n1).await?;
    let (b, mut customer_b) = session_on(&n2).await?;

    // Alice is in A on n1: n2 refuses her for B and tells B's customer.
    let (mut alice_a, _) = join_at(&n1.addr, &agent_hello(&a, "alice")).await?;
    let mut ws = ws_to_node(&n2).await?;
    send(&mut ws, &agent_hello(&b, "alice")).await?;
    expect_refusal(&mut ws, ErrorCode::AgentBusy, 1008).await?;
    until(&mut customer_b, |m| {
        *m == Message::Session(SessionEvent::AgentBusy)
    })
    .await?;

    // Observing counts too: Sue watching A on n1 cannot watch B on n2.
    let (mut sue_a, _) = join_at(&n1.addr, &observer_hello(&a, "sue")).await?;
    let mut ws = ws_to_node(&n2).await?;
    send(&mut ws, &observer_hello(&b, "sue")).await?;
    expect_refusal(&mut ws, ErrorCode::AgentBusy, 1008).await?;

    // Another identity is not affected.
    let (_bob_b, _) = join_at(&n2.addr, &agent_hello(&b, "bob")).await?;

    // Sue leaves A (alone: she observes), then Alice ends A: its live record is gone before
    // her close arrives, so neither counts any more, whatever rows n1 still has to remove.
    send(&mut sue_a, &Message::Leave).await?;
    until_close(&mut sue_a).await?;
    send(&mut alice_a, &Message::Leave).await?;
    until_close(&mut alice_a).await?;
    let (_sue_b, _) = join_at(&n2.addr, &observer_hello(&b, "sue")).await?;
    // Alice joins B too (bob holds control, so she observes there).
    let (_alice_b, _) = join_at(&n2.addr, &agent_hello(&b, "alice")).await?;
    Ok(())
}

async fn ws_to_node(node: &Node) -> Result<Ws> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let req = format!("ws://{}/cobrowse/ws", node.addr).into_client_request()?;
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}
