//! Bad input on the socket: malformed, oversized, text, wrong first frame, unknown tags.
//! Each bad connection is closed with a reason while other sessions keep working.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{ErrorCode, Message, Role, SessionEvent, encode};

const MAX: usize = 64 * 1024;

async fn pair(server: &TestServer) -> Result<(Ws, Ws)> {
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("ok")).await?;
    sync(&mut customer).await?;
    let mut agent = join(server, agent_hello(&token, &format!("agent-{token}"))).await?;
    until(&mut agent, |m| snapshot_marker(m).is_some()).await?;
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::AgentJoined { .. }))
    })
    .await?;
    Ok((customer, agent))
}

/// The healthy session still relays after another connection misbehaved.
async fn still_relays(customer: &mut Ws, agent: &mut Ws, n: usize) -> Result<()> {
    send(customer, &nav(n, "still here")).await?;
    assert_eq!(nav_index(&frame(agent).await?), Some(n));
    Ok(())
}

#[tokio::test]
async fn malformed_frames_close_with_1002_and_others_continue() -> Result<()> {
    let server = TestServer::start(|c| c.limits.max_frame_bytes = MAX).await?;
    let (mut customer, mut agent) = pair(&server).await?;

    // Garbage body for a known tag.
    let (bad_customer, _) = pair(&server).await?;
    let mut bad_customer = bad_customer;
    send_raw(&mut bad_customer, vec![1, 5, 0xff, 0xff, 0xff, 0xff, 0xff]).await?;
    let reason = expect_refusal(&mut bad_customer, ErrorCode::BadFrame, 1002).await?;
    assert!(reason.contains("invalid"), "{reason}");

    // Wrong protocol version.
    let (mut other, _) = pair(&server).await?;
    let mut frame_v9 = encode(&nav(1, "x"));
    frame_v9[0] = 9;
    send_raw(&mut other, frame_v9).await?;
    expect_refusal(&mut other, ErrorCode::UnsupportedVersion, 1002).await?;

    // Text frames are not part of the protocol.
    let (mut texter, _) = pair(&server).await?;
    futures_util::SinkExt::send(
        &mut texter,
        tokio_tungstenite::tungstenite::Message::text("hello?"),
    )
    .await?;
    expect_refusal(&mut texter, ErrorCode::BadFrame, 1002).await?;

    still_relays(&mut customer, &mut agent, 1).await?;
    server.stop().await
}

#[tokio::test]
async fn first_frame_must_be_hello() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let mut ws = connect(&server, None).await?;
    send(&mut ws, &snapshot("too early")).await?;
    let reason = expect_refusal(&mut ws, ErrorCode::ProtocolViolation, 1002).await?;
    assert!(reason.contains("Hello"), "{reason}");

    let mut ws = connect(&server, None).await?;
    send_raw(&mut ws, vec![]).await?;
    expect_refusal(&mut ws, ErrorCode::BadFrame, 1002).await?;
    server.stop().await
}

#[tokio::test]
async fn oversized_frames_close_with_1009_and_others_continue() -> Result<()> {
    let server = TestServer::start(|c| c.limits.max_frame_bytes = MAX).await?;
    let (mut customer, mut agent) = pair(&server).await?;

    // Over the decode limit but within the socket's: the decoder names the limit.
    let (mut big, _) = pair(&server).await?;
    send(&mut big, &nav(1, &"x".repeat(MAX + 100))).await?;
    let reason = expect_refusal(&mut big, ErrorCode::TooLarge, 1009).await?;
    assert!(reason.contains("too large"), "{reason}");

    // Far over: the WebSocket layer stops it, still with a 1009 and a reason.
    let (mut huge, _) = pair(&server).await?;
    send(&mut huge, &nav(1, &"y".repeat(4 * MAX))).await?;
    let reason = expect_refusal(&mut huge, ErrorCode::TooLarge, 1009).await?;
    assert!(reason.contains("too large"), "{reason}");

    still_relays(&mut customer, &mut agent, 2).await?;
    let m = server.metrics().await?;
    assert!(
        metric(&m, "cobrowse_rejected_frames_total").unwrap_or(0.0) >= 2.0,
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn unknown_tags_are_relayed_for_forward_compatibility() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (mut customer, mut agent) = pair(&server).await?;
    let future = Message::Unknown {
        tag: 999,
        body: vec![1, 2, 3],
    };
    send(&mut customer, &future).await?;
    assert_eq!(frame(&mut agent).await?, future);
    let back = Message::Unknown {
        tag: 1000,
        body: vec![4],
    };
    send(&mut agent, &back).await?;
    assert_eq!(frame(&mut customer).await?, back);
    server.stop().await
}
