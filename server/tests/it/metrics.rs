//! The operator's metrics on `/metrics`, read over HTTP after driving real sessions to each
//! outcome: every counter and histogram must move by exactly what happened.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{ErrorCode, Message, ModeChange, RenderReport, Role, SessionEvent};
use std::time::Duration;

/// The value of `series` now (0 when absent, so a metric that is never exported fails the
/// comparisons below rather than the parse).
async fn value(server: &TestServer, series: &str) -> Result<f64> {
    Ok(metric(&server.metrics().await?, series).unwrap_or(0.0))
}

fn ended(reason: &str) -> String {
    format!("cobrowse_sessions_ended_total{{reason=\"{reason}\"}}")
}

const TOTAL: &str = "cobrowse_session_duration_seconds_count{span=\"total\"}";
const ACTIVE: &str = "cobrowse_session_duration_seconds_count{span=\"active\"}";

/// Joins a customer and an agent, and waits until the customer heard the agent (active).
async fn active_session(server: &TestServer, agent: &str) -> Result<(String, Ws, Ws)> {
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(server, hello(Role::Customer, &token)).await?;
    let agent = join(server, agent_hello(&token, agent)).await?;
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::AgentJoined { .. }))
    })
    .await?;
    Ok((token, customer, agent))
}

#[tokio::test]
async fn ended_sessions_are_counted_by_reason_with_their_durations() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;

    // Customer exit, after an agent joined: total and active durations.
    let (_, mut customer, mut agent) = active_session(&server, "alice").await?;
    send(&mut customer, &Message::Leave).await?;
    until_close(&mut agent).await?;
    assert_eq!(value(&server, &ended("customer_exit")).await?, 1.0);
    assert_eq!(value(&server, TOTAL).await?, 1.0);
    assert_eq!(value(&server, ACTIVE).await?, 1.0);

    // Agent exit.
    let (_, mut customer, mut agent) = active_session(&server, "bob").await?;
    send(&mut agent, &Message::Leave).await?;
    until_close(&mut customer).await?;
    assert_eq!(value(&server, &ended("agent_exit")).await?, 1.0);
    assert_eq!(value(&server, ACTIVE).await?, 2.0);

    // REST stop of an idle session: a total duration, no active one.
    let (token, _, _) = server.create_session().await?;
    let stop = server.url(&format!("/cobrowse/rest/live/sessions/{token}/stop"));
    assert_eq!(http("POST", &stop, &[AGENT_AUTH], None).await?.status, 200);
    assert_eq!(value(&server, &ended("api_stop")).await?, 1.0);
    assert_eq!(value(&server, TOTAL).await?, 3.0);
    assert_eq!(value(&server, ACTIVE).await?, 2.0);

    // A controller ends it.
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let mut controller = join(&server, hello(Role::Controller, &token)).await?;
    send(&mut controller, &Message::Leave).await?;
    until_close(&mut customer).await?;

    let m = server.metrics().await?;
    for (reason, n) in [
        ("customer_exit", 1.0),
        ("agent_exit", 1.0),
        ("api_stop", 1.0),
        ("controller_stop", 1.0),
        ("inactivity_timeout", 0.0),
        ("other", 0.0),
    ] {
        assert_eq!(metric(&m, &ended(reason)), Some(n), "{reason}\n{m}");
    }
    assert_eq!(metric(&m, TOTAL), Some(4.0), "{m}");
    assert_eq!(metric(&m, ACTIVE), Some(2.0), "{m}");
    server.stop().await
}

#[tokio::test]
async fn an_inactivity_timeout_is_counted_under_its_reason() -> Result<()> {
    let server = TestServer::start(|c| c.inactivity_duration = Duration::from_millis(300)).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    until_close(&mut customer).await?;
    let m = server.metrics().await?;
    assert_eq!(metric(&m, &ended("inactivity_timeout")), Some(1.0), "{m}");
    assert_eq!(metric(&m, TOTAL), Some(1.0), "{m}");
    assert_eq!(metric(&m, ACTIVE), Some(0.0), "{m}");
    server.stop().await
}

#[tokio::test]
async fn busy_refusals_are_counted_by_reason() -> Result<()> {
    let server = TestServer::start(|c| {
        c.agent_sessions_limit = 1;
        c.max_live_sessions = 2;
    })
    .await?;
    let (a, _, _) = server.create_session().await?;
    let (b, _, _) = server.create_session().await?;
    let full = http(
        "POST",
        &server.url("/cobrowse/rest/live/sessions"),
        &[],
        None,
    )
    .await?;
    assert_eq!(full.status, 503);
    let _alice_a = join(&server, agent_hello(&a, "alice")).await?;
    let mut alice_b = connect(&server, None).await?;
    send(&mut alice_b, &agent_hello(&b, "alice")).await?;
    expect_refusal(&mut alice_b, ErrorCode::AgentBusy, 1008).await?;

    let m = server.metrics().await?;
    let busy = |reason: &str| format!("cobrowse_busy_refusals_total{{reason=\"{reason}\"}}");
    assert_eq!(metric(&m, &busy("agent_busy")), Some(1.0), "{m}");
    assert_eq!(metric(&m, &busy("server_full")), Some(1.0), "{m}");
    server.stop().await
}

fn write_mode(outcome: &str) -> String {
    format!("cobrowse_write_mode_requests_total{{outcome=\"{outcome}\"}}")
}

#[tokio::test]
async fn write_mode_answers_are_counted_by_outcome() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (_, mut customer, mut agent) = active_session(&server, "alice").await?;
    for answer in [ModeChange::Denied, ModeChange::Granted] {
        send(&mut agent, &Message::Mode(ModeChange::Request)).await?;
        until(&mut customer, |m| *m == Message::Mode(ModeChange::Request)).await?;
        send(&mut customer, &Message::Mode(answer)).await?;
        until(&mut agent, |m| *m == Message::Mode(answer)).await?;
    }
    // A grant or denial nobody asked for counts as nothing.
    send(&mut customer, &Message::Mode(ModeChange::Denied)).await?;
    sync(&mut customer).await?;
    let m = server.metrics().await?;
    assert_eq!(metric(&m, &write_mode("granted")), Some(1.0), "{m}");
    assert_eq!(metric(&m, &write_mode("denied")), Some(1.0), "{m}");
    assert_eq!(
        metric(&m, &write_mode("write_mode_disabled")),
        Some(0.0),
        "{m}"
    );
    server.stop().await?;

    let server = TestServer::start(|c| c.write_mode_allowed = false).await?;
    let (_, _customer, mut agent) = active_session(&server, "alice").await?;
    send(&mut agent, &Message::Mode(ModeChange::Request)).await?;
    until(&mut agent, |m| matches!(m, Message::Refused(_))).await?;
    let m = server.metrics().await?;
    assert_eq!(
        metric(&m, &write_mode("write_mode_disabled")),
        Some(1.0),
        "{m}"
    );
    assert_eq!(metric(&m, &write_mode("granted")), Some(0.0), "{m}");
    server.stop().await
}

const RENDER_COUNT: &str = "cobrowse_agent_render_latency_seconds_count";

fn report(samples_us: Vec<u32>) -> Message {
    Message::Render(RenderReport { samples_us })
}

#[tokio::test]
async fn agent_render_reports_fill_the_histogram_within_bounds_and_rate() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, mut customer, mut agent) = active_session(&server, "alice").await?;
    send(&mut agent, &report(vec![16_000, 34_000])).await?;
    sync(&mut agent).await?;
    let m = server.metrics().await?;
    assert_eq!(metric(&m, RENDER_COUNT), Some(2.0), "{m}");
    assert_eq!(
        metric(
            &m,
            "cobrowse_agent_render_latency_seconds_bucket{le=\"0.017\"}"
        ),
        Some(1.0),
        "{m}"
    );
    let sum = metric(&m, "cobrowse_agent_render_latency_seconds_sum").unwrap_or(0.0);
    assert!((sum - 0.05).abs() < 1e-9, "{m}");

    // Sooner than the interval: dropped (the agent page never sends that often).
    send(&mut agent, &report(vec![20_000])).await?;
    sync(&mut agent).await?;
    assert_eq!(value(&server, RENDER_COUNT).await?, 2.0);

    // Out of bounds (checked before the rate, so both are refused for their bounds): dropped,
    // the agent stays.
    let mut other = join(&server, agent_hello(&token, "bob")).await?;
    send(&mut other, &report(vec![RenderReport::MAX_LATENCY_US + 1])).await?;
    send(&mut other, &report(vec![1; RenderReport::MAX_SAMPLES + 1])).await?;
    sync(&mut other).await?;
    assert_eq!(value(&server, RENDER_COUNT).await?, 2.0);

    // Only agents report: a customer's report is a protocol violation.
    send(&mut customer, &report(vec![1_000])).await?;
    expect_refusal(&mut customer, ErrorCode::ProtocolViolation, 1008).await?;
    assert_eq!(value(&server, RENDER_COUNT).await?, 2.0);
    server.stop().await
}
