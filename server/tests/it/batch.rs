//! `Batch` frames: several frames in one WebSocket message, applied one by one as if each had
//! come alone (link numbering, duplicates, role rules, limits), and refused with a reason the
//! way a single bad frame is. Real sockets; the clients batch by hand, as the customer's client
//! does for what one task of its page produced.

use crate::common::*;
use anyhow::{Result, bail};
use cobrowse_protocol::{
    ErrorCode, MAX_BATCH_FRAMES, Message, Role, encode, encode_batch, encode_seq,
};
use std::time::Duration;

/// A linked customer whose page (frame 1) the linked agent has; returns both sockets.
async fn scene(server: &TestServer) -> Result<(Ws, Ws)> {
    let (token, _, _) = server.create_session().await?;
    let (mut customer, _) = join_linked(server, Role::Customer, &token, 0, false, 0).await?;
    send_seq(&mut customer, 1, &snapshot("page-1")).await?;
    let (mut agent, _) = join_linked(server, Role::Agent, &token, 0, false, 0).await?;
    seq_until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("page-1")
    })
    .await?;
    Ok((customer, agent))
}

/// Frame `seq` of the link carrying `msg`, as bytes for a batch.
fn seq(n: u64, msg: &Message) -> Vec<u8> {
    encode_seq(n, &encode(msg))
}

/// The navigations the agent got, in order, until its socket is quiet.
async fn pages(agent: &mut Ws) -> Result<Vec<usize>> {
    let got = drain_seq(agent, Duration::from_millis(400)).await?;
    Ok(got.iter().filter_map(|(_, m)| nav_index(m)).collect())
}

#[tokio::test]
async fn every_party_is_told_batches_are_taken() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    for role in [Role::Customer, Role::Agent] {
        let mut ws = connect(&server, None).await?;
        send(&mut ws, &hello(role, &token)).await?;
        match frame(&mut ws).await? {
            Message::Welcome(w) => assert!(w.batch, "{role:?}"),
            other => bail!("expected Welcome, got {other:?}"),
        }
    }
    server.stop().await
}

#[tokio::test]
async fn a_batch_is_applied_frame_by_frame_in_order_and_duplicates_once() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_secs(5)).await?;
    let (mut customer, mut agent) = scene(&server).await?;
    let batch = encode_batch(&[
        seq(2, &nav(1, "one")),
        seq(3, &nav(2, "two")),
        seq(3, &nav(2, "two")), // resent within the batch: applied once
        encode(&Message::Ping(77)),
        seq(4, &nav(3, "three")),
    ]);
    send_raw(&mut customer, batch).await?;
    until(&mut customer, |m| *m == Message::Pong(77)).await?;
    assert_eq!(pages(&mut agent).await?, [1, 2, 3]);
    // A later batch goes on from there; one resending frames already applied adds nothing.
    send_raw(
        &mut customer,
        encode_batch(&[seq(4, &nav(3, "three")), seq(5, &nav(4, "four"))]),
    )
    .await?;
    assert_eq!(pages(&mut agent).await?, [4]);
    server.stop().await
}

#[tokio::test]
async fn a_bad_frame_in_a_batch_closes_only_that_socket_after_the_frames_before_it() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_secs(5)).await?;
    let (mut customer, mut agent) = scene(&server).await?;
    send_raw(
        &mut customer,
        encode_batch(&[
            seq(2, &nav(1, "before")),
            vec![1, 0x05, 0xff, 0xff],
            seq(3, &nav(2, "after")),
        ]),
    )
    .await?;
    let reason = expect_refusal(&mut customer, ErrorCode::BadFrame, 1002).await?;
    assert!(reason.contains("invalid frame"), "{reason}");
    assert_eq!(
        pages(&mut agent).await?,
        [1],
        "the frame before it was applied, none after"
    );
    sync(&mut agent).await?; // the agent's socket is untouched
    server.stop().await
}

#[tokio::test]
async fn batches_neither_nest_nor_carry_a_hello_nor_skip_the_link() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let cases: [(&str, Vec<u8>); 3] = [
        (
            "Batch inside a Batch",
            encode_batch(&[encode_batch(&[encode(&Message::Ping(1))])]),
        ),
        (
            "Hello may only be the first frame",
            encode_batch(&[encode(&hello(Role::Customer, &token))]),
        ),
        (
            "must travel in a Seq frame",
            encode_batch(&[encode(&nav(1, "plain"))]),
        ),
    ];
    for (why, batch) in cases {
        let (mut customer, _agent) = scene(&server).await?;
        send_raw(&mut customer, batch).await?;
        let reason = expect_refusal(&mut customer, ErrorCode::ProtocolViolation, 1008).await?;
        assert!(reason.contains(why), "{why:?} not in {reason:?}");
    }
    server.stop().await
}

#[tokio::test]
async fn a_batch_is_not_a_way_past_hello_or_the_limits() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    // First frame: a batch holding the Hello is not a Hello.
    let mut ws = connect(&server, None).await?;
    send_raw(
        &mut ws,
        encode_batch(&[encode(&hello(Role::Customer, &token))]),
    )
    .await?;
    let (code, reason, seen) = until_close(&mut ws).await?;
    assert!(
        !seen.iter().any(|m| matches!(m, Message::Welcome(_))),
        "not admitted: {seen:?}"
    );
    assert!(code == 1002 || code == 1008, "closed {code} {reason}");
    // More frames than a batch may hold.
    let (mut customer, mut agent) = scene(&server).await?;
    let over: Vec<Vec<u8>> = (0..=MAX_BATCH_FRAMES as u64)
        .map(|i| seq(2 + i, &nav(1, "x")))
        .collect();
    send_raw(&mut customer, encode_batch(&over)).await?;
    let reason = expect_refusal(&mut customer, ErrorCode::TooLarge, 1009).await?;
    assert!(reason.contains("batch"), "{reason}");
    assert_eq!(
        pages(&mut agent).await?,
        Vec::<usize>::new(),
        "none of it applied"
    );
    server.stop().await
}
