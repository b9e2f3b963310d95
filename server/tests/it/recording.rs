//! Audit recordings through the real server: what the relay records (and what it does not), the
//! chunks it stores, the REST answers and who may read them, and the per-site switch.

use crate::common::*;
use anyhow::{Context, Result};
use cobrowse_protocol::recording::{Source, read_recording};
use cobrowse_protocol::{
    AgentAction, EndReason, Message, ModeChange, Party, Pointer, Role, SessionEvent, decode,
};

fn pointer(party: Party, x: i32) -> Message {
    Message::Pointer(Pointer {
        party,
        pos: Some((x, 10)),
        frame: None,
    })
}

/// `GET …/{id}/recording{suffix}` with `auth`: (status, body bytes).
async fn get(server: &TestServer, id: &str, suffix: &str, auth: bool) -> Result<(u16, Vec<u8>)> {
    let url = server.url(&format!(
        "/cobrowse/rest/history/sessions/{id}/recording{suffix}"
    ));
    let mut req = reqwest::Client::new().get(url);
    if auth {
        req = req.header(AGENT_AUTH.0, AGENT_AUTH.1);
    }
    let r = req.send().await?;
    Ok((r.status().as_u16(), r.bytes().await?.to_vec()))
}

/// A session with page state, both pointers, a granted write mode and an action; ended by the
/// customer. Returns its history id once its end is recorded.
async fn recorded_session(server: &TestServer) -> Result<String> {
    let (token, history_id, _) = server.create_session().await?;
    let mut customer = join(server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("recorded-page")).await?;
    sync(&mut customer).await?;
    let mut agent = join(server, agent_hello(&token, "alice")).await?;
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::AgentJoined { .. }))
    })
    .await?;
    send(&mut customer, &pointer(Party::Customer, 1)).await?;
    send(&mut agent, &pointer(Party::Agent, 2)).await?;
    // Refused (not in write mode): relayed to nobody, so not recorded.
    let refused = Message::Action(AgentAction::Click {
        node: 99,
        x: 0,
        y: 0,
    });
    send(&mut agent, &refused).await?;
    until(&mut agent, |m| matches!(m, Message::Refused(_))).await?;
    send(&mut agent, &Message::Mode(ModeChange::Request)).await?;
    until(&mut customer, |m| matches!(m, Message::Mode(_))).await?;
    send(&mut customer, &Message::Mode(ModeChange::Granted)).await?;
    until(&mut agent, |m| matches!(m, Message::Mode(_))).await?;
    let click = Message::Action(AgentAction::Click {
        node: 7,
        x: 1,
        y: 2,
    });
    send(&mut agent, &click).await?;
    until(&mut customer, |m| *m == click).await?;
    send(&mut customer, &Message::Leave).await?;
    until_close(&mut agent).await?;
    Ok(history_id)
}

/// The recording, once its last entry (the end) is stored.
async fn stored(server: &TestServer, id: &str) -> Result<Vec<(Source, Message)>> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = get(server, id, "/frames", true).await?;
        if status == 200 {
            let entries = read_recording(&body).context("read recording")?;
            let msgs: Vec<(Source, Message)> = entries
                .into_iter()
                .map(|e| Ok((e.source, decode(&e.frame)?)))
                .collect::<Result<_>>()?;
            if msgs
                .last()
                .is_some_and(|(_, m)| matches!(m, Message::Session(SessionEvent::Ended(_))))
            {
                return Ok(msgs);
            }
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "recording not complete: HTTP {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_recorded_session_is_stored_in_chunks_and_read_back_with_the_agent_credential()
-> Result<()> {
    let server = TestServer::start(|c| {
        c.recording.enabled = true;
        // Below the configurable minimum (set here directly): every few frames make a chunk.
        c.recording.chunk_bytes = 64;
    })
    .await?;
    let id = recorded_session(&server).await?;
    let msgs = stored(&server, &id).await?;
    let has = |source: Source, f: &dyn Fn(&Message) -> bool| {
        msgs.iter().any(|(s, m)| *s == source && f(m))
    };
    assert!(has(Source::Customer, &|m| snapshot_marker(m).as_deref()
        == Some("recorded-page")));
    assert!(has(Source::Customer, &|m| *m == pointer(Party::Customer, 1)));
    assert!(has(Source::Agent, &|m| *m == pointer(Party::Agent, 2)));
    assert!(has(Source::Agent, &|m| *m == Message::Mode(ModeChange::Request)));
    assert!(has(Source::Customer, &|m| *m
        == Message::Mode(ModeChange::Granted)));
    assert!(has(Source::Agent, &|m| matches!(
        m,
        Message::Action(AgentAction::Click { node: 7, .. })
    )));
    assert!(has(Source::Server, &|m| matches!(
        m,
        Message::Session(SessionEvent::AgentJoined { .. })
    )));
    assert!(
        !has(Source::Agent, &|m| matches!(
            m,
            Message::Action(AgentAction::Click { node: 99, .. })
        )),
        "a refused action was never relayed, so it is not recorded"
    );
    assert_eq!(
        msgs.last().map(|(_, m)| m.clone()),
        Some(Message::Session(SessionEvent::Ended(
            EndReason::CustomerExit
        )))
    );

    let (status, body) = get(&server, &id, "", true).await?;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(info["historyId"], id.as_str());
    assert_eq!(info["frames"], msgs.len() as u64);
    assert!(info["chunks"].as_u64() > Some(1), "chunked by size: {info}");
    assert_eq!(info["nodes"].as_array().map(Vec::len), Some(1), "{info}");
    assert!(info["startedAt"].as_u64() <= info["endedAt"].as_u64());

    // The agent credential only.
    for suffix in ["", "/frames"] {
        assert_eq!(get(&server, &id, suffix, false).await?.0, 401);
    }
    let (status, _) = get(&server, "not-a-uuid", "", true).await?;
    assert_eq!(status, 404);
    let m = server.metrics().await?;
    assert!(
        metric(&m, "cobrowse_recorded_bytes_total").is_some_and(|v| v > 0.0),
        "{m}"
    );
    server.stop().await
}

#[tokio::test]
async fn nothing_is_recorded_unless_the_site_is_recorded() -> Result<()> {
    // Off by default.
    let server = TestServer::start(|_| {}).await?;
    let id = recorded_session(&server).await?;
    assert_eq!(get(&server, &id, "", true).await?.0, 404);
    assert_eq!(get(&server, &id, "/frames", true).await?.0, 404);
    server.stop().await?;
    // On, for another site only (this session was created without a page origin).
    let server = TestServer::start(|c| {
        c.recording.enabled = true;
        c.recording.origins = Some(
            cobrowse_server::origin::OriginList::parse(&["https://bank.example".into()])
                .expect("a valid origin"),
        );
    })
    .await?;
    let id = recorded_session(&server).await?;
    assert_eq!(get(&server, &id, "", true).await?.0, 404);
    server.stop().await
}
