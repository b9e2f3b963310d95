//! Links: a party that loses its socket resumes with exactly the frames it missed (no
//! snapshot), a gap the server no longer holds gets the page as a whole, agent actions sent
//! while the customer is away are performed once or refused, and a frame sent or replayed
//! twice is applied once. Real sockets; the clients here number and unwrap frames by hand, as
//! the browser clients do.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{
    ActionRefused, AgentAction, LinkWelcome, Message, ModeChange, RefusalReason, Role, SessionEvent,
};
use std::time::Duration;

fn input(value: &str) -> Message {
    Message::Action(AgentAction::Input {
        node: 7,
        value: value.into(),
    })
}

fn input_value(m: &Message) -> Option<&str> {
    match m {
        Message::Action(AgentAction::Input { value, .. }) => Some(value),
        _ => None,
    }
}

/// A session with a linked customer (its snapshot sent as frame 1) and a linked agent in write
/// mode. Returns (token, customer, its link, agent, its link, customer frames sent, the last
/// server frame the customer applied).
struct Scene {
    token: String,
    customer: Ws,
    customer_link: LinkWelcome,
    agent: Ws,
    agent_link: LinkWelcome,
    customer_sent: u64,
    agent_sent: u64,
    customer_applied: u64,
}

async fn write_mode_scene(server: &TestServer) -> Result<Scene> {
    let (token, _, _) = server.create_session().await?;
    let (mut customer, customer_link) =
        join_linked(server, Role::Customer, &token, 0, false, 0).await?;
    assert!(!customer_link.resumed);
    assert_eq!(customer_link.received, 0);
    send_seq(&mut customer, 1, &snapshot("page-1")).await?;
    let (mut agent, agent_link) = join_linked(server, Role::Agent, &token, 0, false, 0).await?;
    seq_until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("page-1")
    })
    .await?;
    send_seq(&mut agent, 1, &Message::Mode(ModeChange::Request)).await?;
    let (mut applied, _) = seq_until(&mut customer, |m| {
        matches!(m, Message::Mode(ModeChange::Request))
    })
    .await?;
    send_seq(&mut customer, 2, &Message::Mode(ModeChange::Granted)).await?;
    seq_until(&mut agent, |m| {
        matches!(m, Message::Mode(ModeChange::Granted))
    })
    .await?;
    send_seq(&mut agent, 2, &input("typed-1")).await?;
    let (n, _) = seq_until(&mut customer, |m| input_value(m) == Some("typed-1")).await?;
    applied = applied.max(n);
    Ok(Scene {
        token,
        customer,
        customer_link,
        agent,
        agent_link,
        customer_sent: 2,
        agent_sent: 2,
        customer_applied: applied,
    })
}

#[tokio::test]
async fn a_dropped_customer_resumes_with_exactly_the_missed_frames_and_no_snapshot() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_secs(5)).await?;
    let mut s = write_mode_scene(&server).await?;
    assert_eq!(s.customer_link.keepalive_ms, 5000, "the keep-alive period");
    // The customer's socket dies mid-stream (no close), while the agent goes on typing.
    drop(s.customer);
    for (i, v) in ["typed-2", "typed-3", "typed-4"].iter().enumerate() {
        s.agent_sent += 1;
        send_seq(&mut s.agent, s.agent_sent, &input(v)).await?;
        if i == 0 {
            sync(&mut s.agent).await?;
        }
    }
    sync(&mut s.agent).await?;
    // Back on a new socket with the link and the last frame it applied.
    let (mut customer, link) = join_linked(
        &server,
        Role::Customer,
        &s.token,
        s.customer_link.id,
        true,
        s.customer_applied,
    )
    .await?;
    assert!(link.resumed, "{link:?}");
    assert_eq!(link.id, s.customer_link.id);
    assert_eq!(
        link.received, s.customer_sent,
        "the server applied frames 1 and 2"
    );
    let replayed = drain_seq(&mut customer, Duration::from_millis(500)).await?;
    let numbers: Vec<u64> = replayed.iter().map(|(n, _)| *n).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]) && numbers[0] > s.customer_applied,
        "replayed in order after what was applied: {numbers:?}"
    );
    let typed: Vec<&str> = replayed
        .iter()
        .filter_map(|(_, m)| input_value(m))
        .collect();
    assert_eq!(typed, ["typed-2", "typed-3", "typed-4"], "{replayed:?}");
    assert!(
        !replayed
            .iter()
            .any(|(_, m)| matches!(m, Message::RequestSnapshot)),
        "a resumed customer is not asked for its page: {replayed:?}"
    );
    // The customer resends what the server had not applied; the agent gets the change, not a
    // snapshot.
    send_seq(&mut customer, 3, &nav(3, "after the drop")).await?;
    let (_, m) = seq_until(&mut s.agent, |m| {
        nav_index(m).is_some() || snapshot_marker(m).is_some()
    })
    .await?;
    assert_eq!(nav_index(&m), Some(3), "the agent got {m:?}");
    server.stop().await
}

#[tokio::test]
async fn a_dropped_agent_resumes_with_the_missed_page_changes_and_no_snapshot() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_secs(5)).await?;
    let mut s = write_mode_scene(&server).await?;
    let (applied, _) = {
        send_seq(&mut s.customer, 3, &nav(1, "seen")).await?;
        seq_until(&mut s.agent, |m| nav_index(m) == Some(1)).await?
    };
    drop(s.agent);
    for n in 2..=4 {
        send_seq(&mut s.customer, n as u64 + 2, &nav(n, "missed")).await?;
    }
    sync(&mut s.customer).await?;
    let (mut agent, link) = join_linked(
        &server,
        Role::Agent,
        &s.token,
        s.agent_link.id,
        true,
        applied,
    )
    .await?;
    assert!(link.resumed, "{link:?}");
    assert_eq!(link.received, s.agent_sent);
    let got = drain_seq(&mut agent, Duration::from_millis(500)).await?;
    let pages: Vec<usize> = got.iter().filter_map(|(_, m)| nav_index(m)).collect();
    assert_eq!(pages, [2, 3, 4], "{got:?}");
    // In order, so a receiver that applies each number once applies every one of them.
    let numbers: Vec<u64> = got.iter().map(|(n, _)| *n).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(
        !got.iter().any(|(_, m)| snapshot_marker(m).is_some()),
        "a resumed agent gets the gap, not the page: {got:?}"
    );
    // And what comes next, live.
    send_seq(&mut s.customer, 7, &nav(5, "live")).await?;
    let (n, _) = seq_until(&mut agent, |m| nav_index(m) == Some(5)).await?;
    assert!(n > got.last().map_or(0, |(n, _)| *n));
    server.stop().await
}

#[tokio::test]
async fn a_gap_beyond_the_buffer_starts_over_with_the_whole_page() -> Result<()> {
    let server = TestServer::start(|c| {
        c.ping_interval = Duration::from_secs(5);
        c.replay_bytes = 600;
    })
    .await?;
    let mut s = write_mode_scene(&server).await?;
    let (applied, _) = {
        send_seq(&mut s.customer, 3, &nav(1, "seen")).await?;
        seq_until(&mut s.agent, |m| nav_index(m) == Some(1)).await?
    };
    drop(s.agent);
    // Far more than the agent's link keeps.
    let filler = "x".repeat(100);
    for n in 2..=40 {
        send_seq(&mut s.customer, n as u64 + 2, &nav(n, &filler)).await?;
    }
    sync(&mut s.customer).await?;
    let (mut agent, link) = join_linked(
        &server,
        Role::Agent,
        &s.token,
        s.agent_link.id,
        true,
        applied,
    )
    .await?;
    assert!(!link.resumed, "the gap is gone: {link:?}");
    assert_ne!(link.id, s.agent_link.id, "a new link");
    let (n, first) = next_seq(&mut agent).await?;
    assert_eq!(n, 1, "the new link counts from 1 ({first:?})");
    seq_until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("page-1")
    })
    .await?;
    server.stop().await
}

#[tokio::test]
async fn actions_beyond_the_buffer_are_refused_and_the_customer_starts_over() -> Result<()> {
    let server = TestServer::start(|c| {
        c.ping_interval = Duration::from_secs(5);
        c.replay_bytes = 600;
    })
    .await?;
    let mut s = write_mode_scene(&server).await?;
    let filler = "x".repeat(100);
    // Actions pile up while the customer is away until the buffer drops the oldest, which the
    // agent is told were not performed; the customer's resume then starts over.
    drop(s.customer);
    let mut refused = 0;
    for i in 0..12 {
        s.agent_sent += 1;
        send_seq(&mut s.agent, s.agent_sent, &input(&format!("{i}{filler}"))).await?;
    }
    while let Ok(Ok(m)) =
        tokio::time::timeout(Duration::from_millis(500), next_seq(&mut s.agent)).await
    {
        if let (
            _,
            Message::Refused(ActionRefused {
                reason: RefusalReason::Undelivered,
                node: Some(7),
            }),
        ) = m
        {
            refused += 1;
        }
    }
    assert!(
        refused > 0,
        "no action was refused although the buffer overflowed"
    );
    let (mut customer, clink) = join_linked(
        &server,
        Role::Customer,
        &s.token,
        s.customer_link.id,
        true,
        s.customer_applied,
    )
    .await?;
    assert!(!clink.resumed, "{clink:?}");
    let _ = drain_seq(&mut customer, Duration::from_millis(200)).await?;
    server.stop().await
}

#[tokio::test]
async fn actions_for_a_page_that_reloaded_are_refused_and_legacy_agents_are_told_too() -> Result<()>
{
    let server = TestServer::start(|c| c.ping_interval = Duration::from_secs(5)).await?;
    let mut s = write_mode_scene(&server).await?;
    // A plain (older) agent page in the same session.
    let mut plain = join(&server, hello(Role::Agent, &s.token)).await?;
    drop(s.customer);
    for v in ["lost-1", "lost-2"] {
        s.agent_sent += 1;
        send_seq(&mut s.agent, s.agent_sent, &input(v)).await?;
    }
    sync(&mut s.agent).await?;
    // The customer's next page: the old link's id and what the old page applied, no replay.
    let (_customer, link) = join_linked(
        &server,
        Role::Customer,
        &s.token,
        s.customer_link.id,
        false,
        s.customer_applied,
    )
    .await?;
    assert!(!link.resumed);
    let mut linked = 0;
    while linked < 2 {
        let (_, m) = seq_until(&mut s.agent, |m| matches!(m, Message::Refused(_))).await?;
        assert_eq!(
            m,
            Message::Refused(ActionRefused {
                node: Some(7),
                reason: RefusalReason::Undelivered
            })
        );
        linked += 1;
    }
    // The page applied typed-1 before it went: that one is not refused.
    let m = until(&mut plain, |m| matches!(m, Message::Refused(_))).await?;
    assert_eq!(
        m,
        Message::Refused(ActionRefused {
            node: Some(7),
            reason: RefusalReason::NoSuchNode
        }),
        "an agent page without a link gets a reason it knows"
    );
    let refusals = drain_seq(&mut s.agent, Duration::from_millis(300)).await?;
    assert!(
        !refusals
            .iter()
            .any(|(_, m)| matches!(m, Message::Refused(_))),
        "typed-1 was applied and is not refused: {refusals:?}"
    );
    server.stop().await
}

#[tokio::test]
async fn frames_sent_or_replayed_twice_are_applied_once() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_secs(5)).await?;
    let mut s = write_mode_scene(&server).await?;
    // The customer resends frame 3 (its ack was lost, say): relayed once.
    send_seq(&mut s.customer, 3, &nav(1, "once")).await?;
    send_seq(&mut s.customer, 3, &nav(1, "once")).await?;
    send_seq(&mut s.customer, 2, &nav(99, "older than applied")).await?;
    send_seq(&mut s.customer, 4, &nav(2, "next")).await?;
    let got = drain_seq(&mut s.agent, Duration::from_millis(400)).await?;
    let pages: Vec<usize> = got.iter().filter_map(|(_, m)| nav_index(m)).collect();
    assert_eq!(pages, [1, 2], "{got:?}");
    // The agent resends an action: the customer performs it once.
    s.agent_sent += 1;
    for _ in 0..2 {
        send_seq(&mut s.agent, s.agent_sent, &input("only-once")).await?;
    }
    sync(&mut s.agent).await?;
    let got = drain_seq(&mut s.customer, Duration::from_millis(400)).await?;
    let typed: Vec<&str> = got.iter().filter_map(|(_, m)| input_value(m)).collect();
    assert_eq!(typed, ["only-once"]);
    // A customer that resumes and gets the server's replay again applies nothing twice: the
    // replay starts after what it says it applied.
    let applied = got
        .iter()
        .map(|(n, _)| *n)
        .max()
        .unwrap_or(s.customer_applied);
    s.customer.close(None).await.ok();
    let (mut again, link) = join_linked(
        &server,
        Role::Customer,
        &s.token,
        s.customer_link.id,
        true,
        applied,
    )
    .await?;
    assert!(link.resumed);
    let replay = drain_seq(&mut again, Duration::from_millis(400)).await?;
    assert!(
        replay
            .iter()
            .all(|(n, m)| *n > applied && input_value(m).is_none()),
        "nothing applied before is replayed: {replay:?}"
    );
    // Plain page-state frames on a link are refused: everything travels numbered.
    send(&mut again, &nav(5, "plain")).await?;
    let (code, _, _) = until_close(&mut again).await?;
    assert_eq!(code, 1008);
    server.stop().await
}

#[tokio::test]
async fn write_mode_waits_for_an_agent_that_resumes_and_ends_for_anyone_else() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_secs(5)).await?;
    let mut s = write_mode_scene(&server).await?;
    let applied = drain_seq(&mut s.agent, Duration::from_millis(200))
        .await?
        .iter()
        .map(|(n, _)| *n)
        .max()
        .unwrap_or(0);
    s.agent.close(None).await.ok();
    drop(s.agent);
    let left = |m: &Message| matches!(m, Message::Session(SessionEvent::AgentLeft { .. }));
    seq_until(&mut s.customer, left).await?;
    let (mut agent, link) = join_linked(
        &server,
        Role::Agent,
        &s.token,
        s.agent_link.id,
        true,
        applied.max(3),
    )
    .await?;
    assert!(link.resumed);
    send_seq(&mut agent, s.agent_sent + 1, &input("after-resume")).await?;
    let (_, m) = seq_until(&mut s.customer, |m| {
        input_value(m).is_some() || matches!(m, Message::Mode(_))
    })
    .await?;
    assert_eq!(
        input_value(&m),
        Some("after-resume"),
        "write mode held: {m:?}"
    );
    // Another agent page (a new link) joining while the first is away ends it.
    agent.close(None).await.ok();
    drop(agent);
    seq_until(&mut s.customer, left).await?;
    let (_other, _) = join_linked(&server, Role::Agent, &s.token, 0, false, 0).await?;
    let (_, m) = seq_until(&mut s.customer, |m| matches!(m, Message::Mode(_))).await?;
    assert!(
        matches!(m, Message::Mode(ModeChange::Revoked { .. })),
        "{m:?}"
    );
    server.stop().await
}
