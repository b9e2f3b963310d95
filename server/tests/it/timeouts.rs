//! Lifecycle timers with short configured durations; each test awaits the resulting frames.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{EndReason, ErrorCode, Message, Role, SessionEvent};
use std::time::Duration;

#[tokio::test]
async fn idle_session_ends_after_inactivity_duration() -> Result<()> {
    let server = TestServer::start(|c| c.inactivity_duration = Duration::from_millis(300)).await?;
    let (token, history_id, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let (code, _, seen) = until_close(&mut customer).await?;
    assert_eq!(code, 1000);
    assert!(
        seen.contains(&Message::Session(SessionEvent::Ended(
            EndReason::InactivityTimeout
        ))),
        "{seen:?}"
    );
    let m = server.metrics().await?;
    assert_eq!(
        metric(&m, "cobrowse_sessions_never_joined_total"),
        Some(1.0),
        "{m}"
    );
    let h = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/history/sessions/{history_id}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(h["endReason"], "inactivity_timeout");
    server.stop().await
}

#[tokio::test]
async fn customer_that_does_not_return_within_max_interval_ends_the_session() -> Result<()> {
    let server = TestServer::start(|c| c.max_interval = Duration::from_millis(300)).await?;
    let (token, _, _) = server.create_session().await?;
    let customer = join(&server, hello(Role::Customer, &token)).await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    drop(customer);
    until(&mut agent, |m| {
        *m == Message::Session(SessionEvent::CustomerDisconnected)
    })
    .await?;
    let (code, _, seen) = until_close(&mut agent).await?;
    assert_eq!(code, 1000);
    assert!(seen.contains(&Message::Session(SessionEvent::Ended(
        EndReason::ConnectionLost
    ))));
    server.stop().await
}

#[tokio::test]
async fn agent_that_does_not_return_within_max_interval_ends_the_session() -> Result<()> {
    let server = TestServer::start(|c| c.max_interval = Duration::from_millis(300)).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let agent = join(&server, agent_hello(&token, "alice")).await?;
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::AgentJoined { .. }))
    })
    .await?;
    drop(agent);
    assert_eq!(
        until(&mut customer, |m| matches!(
            m,
            Message::Session(SessionEvent::AgentLeft { .. })
        ))
        .await?,
        Message::Session(SessionEvent::AgentLeft {
            agent_id: Some("alice".into()),
            agents: 0
        })
    );
    let (code, _, seen) = until_close(&mut customer).await?;
    assert_eq!(code, 1000);
    assert!(seen.contains(&Message::Session(SessionEvent::Ended(
        EndReason::ConnectionLost
    ))));
    server.stop().await
}

#[tokio::test]
async fn agent_returning_in_time_keeps_the_session() -> Result<()> {
    let server = TestServer::start(|c| c.max_interval = Duration::from_secs(30)).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("p")).await?;
    let agent = join(&server, agent_hello(&token, "alice")).await?;
    drop(agent);
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::AgentLeft { .. }))
    })
    .await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    until(&mut agent, |m| snapshot_marker(m).as_deref() == Some("p")).await?;
    server.stop().await
}

#[tokio::test]
async fn socket_without_hello_is_closed() -> Result<()> {
    let server = TestServer::start(|c| c.hello_timeout = Duration::from_millis(200)).await?;
    let mut ws = connect(&server, None).await?;
    expect_refusal(&mut ws, ErrorCode::ProtocolViolation, 1008).await?;
    server.stop().await
}
