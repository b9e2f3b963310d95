//! Annotations (`Ink`): relayed from an agent to the customer and the other agents, bounded per
//! frame by the decoder and per stroke and second by the relay, refused from a customer.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{
    ErrorCode, Ink, InkTool, Message, Party, Pointer, Role, SessionEvent, encode,
};

fn stroke(stroke: u32, points: usize, done: bool) -> Message {
    let pts: Vec<(i32, i32)> = (0..points as i32).map(|i| (100 + i, 200 - i)).collect();
    Message::Ink(Ink::from_points(stroke, InkTool::Pen, &pts, done).expect("has points"))
}

/// A pointer the agent sends after its ink: once the customer has it, every ink frame relayed
/// before it has arrived too (one connection, in order).
fn marker(x: i32) -> Message {
    Message::Pointer(Pointer {
        party: Party::Agent,
        pos: Some((x, 0)),
        frame: None,
    })
}

/// The ink frames `ws` receives before the marker at `x`.
async fn ink_until_marker(ws: &mut Ws, x: i32) -> Result<Vec<Ink>> {
    let mut got = Vec::new();
    loop {
        match frame(ws).await? {
            Message::Ink(i) => got.push(i),
            m if m == marker(x) => return Ok(got),
            _ => {}
        }
    }
}

#[tokio::test]
async fn ink_reaches_the_customer_and_other_agents_within_its_bounds() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let mut alice = join(&server, agent_hello(&token, "alice")).await?;
    let mut bob = join(&server, agent_hello(&token, "bob")).await?;
    for _ in 0..2 {
        until(&mut customer, |m| {
            matches!(m, Message::Session(SessionEvent::AgentJoined { .. }))
        })
        .await?;
    }

    // One stroke in two frames: relayed unchanged, to the customer and to bob (not back to alice).
    let first = stroke(7, 10, false);
    let last = stroke(7, 3, true);
    send(&mut alice, &first).await?;
    send(&mut alice, &last).await?;
    send(&mut alice, &marker(1)).await?;
    let want: Vec<Ink> = [first, last]
        .into_iter()
        .filter_map(|m| match m {
            Message::Ink(i) => Some(i),
            _ => None,
        })
        .collect();
    assert_eq!(ink_until_marker(&mut customer, 1).await?, want);
    sync(&mut alice).await?;
    let bob_got = until(&mut bob, |m| matches!(m, Message::Ink(_))).await?;
    assert_eq!(bob_got, Message::Ink(want[0].clone()));

    // A stroke gets `MAX_STROKE_POINTS`: what goes beyond is dropped, the agent stays.
    let per = Ink::MAX_FRAME_POINTS;
    let frames = Ink::MAX_STROKE_POINTS as usize / per;
    for _ in 0..=frames {
        send(&mut alice, &stroke(8, per, false)).await?;
    }
    send(&mut alice, &marker(2)).await?;
    let got = ink_until_marker(&mut customer, 2).await?;
    assert!(
        got.len() <= frames,
        "{} frames relayed for one stroke, at most {frames} fit",
        got.len()
    );

    // New strokes beyond `MAX_STROKES_PER_SECOND` (plus what refills while they are sent) are
    // dropped.
    let burst = 4 * Ink::MAX_STROKES_PER_SECOND;
    for s in 0..burst {
        send(&mut alice, &stroke(100 + s, 2, true)).await?;
    }
    send(&mut alice, &marker(3)).await?;
    let got = ink_until_marker(&mut customer, 3).await?;
    assert!(
        !got.is_empty() && got.len() < burst as usize,
        "{} of {burst} strokes relayed",
        got.len()
    );

    // Out of bounds for the decoder: too many points in one frame is a bad frame.
    let mut wide = match stroke(9, 2, false) {
        Message::Ink(i) => i,
        _ => unreachable!(),
    };
    wide.deltas = vec![(1, 1); Ink::MAX_FRAME_POINTS];
    send_raw(&mut bob, encode(&Message::Ink(wide))).await?;
    let reason = expect_refusal(&mut bob, ErrorCode::BadFrame, 1002).await?;
    assert!(reason.contains("ink"), "{reason}");

    // Only agents draw: a customer's ink is a protocol violation.
    send(&mut customer, &stroke(1, 2, true)).await?;
    expect_refusal(&mut customer, ErrorCode::ProtocolViolation, 1008).await?;
    server.stop().await
}
