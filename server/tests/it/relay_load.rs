//! A slow agent is resynced from the page cache instead of stalling the customer or losing DOM
//! frames; metrics show the relay.

use crate::common::*;
use anyhow::{Result, bail};
use cobrowse_protocol::{Message, Party, Pointer, Role, SessionEvent};
use futures_util::SinkExt;

#[tokio::test]
async fn slow_agent_is_resynced_and_ends_with_every_frame_since_the_snapshot() -> Result<()> {
    const FRAMES: usize = 200;
    let server = TestServer::start(|c| {
        c.send_queue_frames = 8;
        c.limits.max_frame_bytes = 1 << 20;
        c.min_log_bytes = 1 << 30; // never ask for a new snapshot in this test
        c.max_log_bytes = 256 << 20;
    })
    .await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("base")).await?;
    sync(&mut customer).await?;

    // The slow agent: a tiny receive buffer, and it does not read while the customer streams.
    let mut slow = connect_small_buffer(&server).await?;
    send(&mut slow, &agent_hello(&token, "slow")).await?;
    let title = "t".repeat(64 * 1024);
    for i in 0..FRAMES {
        customer
            .feed(tokio_tungstenite::tungstenite::Message::binary(
                cobrowse_protocol::encode(&nav(i, &title)),
            ))
            .await?;
        if i % 10 == 0 {
            // Pointers interleave; they may be coalesced, never block.
            send(
                &mut customer,
                &Message::Pointer(Pointer {
                    party: Party::Customer,
                    pos: Some((i as i32, 0)),
                    frame: None,
                }),
            )
            .await?;
        }
    }
    customer.flush().await?;
    // The customer was never stalled by the agent that does not read: the server still
    // answers it at once.
    sync(&mut customer).await?;

    // Now the slow agent reads. After its last snapshot it must see 0..FRAMES contiguously.
    let mut after_snapshot: Option<Vec<usize>> = None;
    let mut snapshots = 0;
    loop {
        let m = frame(&mut slow).await?;
        if snapshot_marker(&m).is_some() {
            snapshots += 1;
            after_snapshot = Some(Vec::new());
        } else if let Some(n) = nav_index(&m) {
            match after_snapshot.as_mut() {
                Some(v) => v.push(n),
                None => bail!("navigation before any snapshot"),
            }
            if n == FRAMES - 1 {
                break;
            }
        } else if !matches!(
            m,
            Message::Welcome(_)
                | Message::Session(SessionEvent::AgentJoined { .. })
                | Message::Pointer(_)
        ) {
            bail!("unexpected frame {m:?}");
        }
    }
    let seq = after_snapshot.unwrap_or_default();
    assert_eq!(
        seq,
        (0..FRAMES).collect::<Vec<_>>(),
        "frames since the last snapshot"
    );
    assert!(
        snapshots >= 2,
        "the slow agent should have been resynced (snapshots: {snapshots})"
    );

    let m = server.metrics().await?;
    assert!(
        metric(&m, "cobrowse_agent_resyncs_total").unwrap_or(0.0) >= 1.0,
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn metrics_expose_sessions_connections_relay_and_latency() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("m")).await?;
    sync(&mut customer).await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    until(&mut agent, |m| snapshot_marker(m).is_some()).await?;
    send(&mut customer, &nav(1, "x")).await?;
    until(&mut agent, |m| nav_index(m) == Some(1)).await?;
    let _idle = server.create_session().await?;

    let m = server.metrics().await?;
    // The server's runtime holds at least the two parties' reader and writer tasks.
    assert!(
        metric(&m, "cobrowse_runtime_alive_tasks").unwrap_or(0.0) >= 4.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "cobrowse_live_sessions{state=\"active\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "cobrowse_live_sessions{state=\"idle\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "cobrowse_connections{role=\"customer\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "cobrowse_connections{role=\"agent\"}"),
        Some(1.0),
        "{m}"
    );
    assert!(
        metric(
            &m,
            "cobrowse_frames_relayed_total{direction=\"customer_to_agent\"}"
        )
        .unwrap_or(0.0)
            >= 2.0,
        "{m}"
    );
    assert!(
        metric(
            &m,
            "cobrowse_bytes_relayed_total{direction=\"customer_to_agent\"}"
        )
        .unwrap_or(0.0)
            > 0.0,
        "{m}"
    );
    assert!(
        metric(&m, "cobrowse_relay_latency_seconds_count").unwrap_or(0.0) >= 1.0,
        "{m}"
    );
    assert!(
        m.contains("cobrowse_relay_latency_seconds_bucket{le=\"0.001\"}"),
        "{m}"
    );
    assert_eq!(
        metric(&m, "cobrowse_sessions_created_total"),
        Some(2.0),
        "{m}"
    );
    server.stop().await
}
