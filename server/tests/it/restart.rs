//! A single node with embedded storage killed (SIGKILL) and started again over the same port and
//! data directory, on the real binary: every session it held is kept for its parties to come back
//! within `session.maxInterval`, a session nobody comes back to ends with a history record, and a
//! session ended just before the kill has its history record.

use crate::common::*;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::{Message, Role};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BIN: &str = env!("CARGO_BIN_EXE_cobrowse-server");
const MAX_INTERVAL: Duration = Duration::from_secs(4);

struct Node {
    child: Child,
    addr: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn start(port: u16, dir: &Path) -> Result<Node> {
        let www = dir.join("www");
        std::fs::create_dir_all(&www)?;
        let child = Command::new(BIN)
            .args(["--listen", "127.0.0.1", "--port", &port.to_string()])
            .arg("--static-dir")
            .arg(&www)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--log-level", "warn"])
            .args(["--set", &format!("auth.agentToken={TEST_AGENT_TOKEN}")])
            .args([
                "--set",
                &format!("session.maxInterval={}s", MAX_INTERVAL.as_secs()),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server binary")?;
        let mut node = Node {
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&node.addr).is_err() {
            if let Some(status) = node.child.try_wait()? {
                bail!("the server exited during start: {status}");
            }
            if Instant::now() > deadline {
                bail!("the server did not listen on {}", node.addr);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(node)
    }

    /// SIGKILL: no shutdown code runs, queued writes are lost.
    fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn create(&self) -> Result<(String, String)> {
        let r = http(
            "POST",
            &self.url("/cobrowse/rest/live/sessions"),
            &[("Content-Type", "application/json")],
            Some(r#"{"url":"https://shop.example/start"}"#),
        )
        .await?;
        if r.status != 201 {
            bail!("create answered {}: {}", r.status, r.body);
        }
        let v = r.json()?;
        remember_customer_secret(&v);
        Ok((
            v["token"].as_str().context("token")?.to_string(),
            v["historyId"].as_str().context("historyId")?.to_string(),
        ))
    }

    async fn joined(&self, msg: &Message) -> Result<Ws> {
        let req = format!("ws://{}/cobrowse/ws", self.addr).into_client_request()?;
        let mut ws = tokio_tungstenite::connect_async(req).await?.0;
        send(&mut ws, msg).await?;
        match frame(&mut ws).await? {
            Message::Welcome(_) => Ok(ws),
            other => bail!("expected Welcome, got {other:?}"),
        }
    }

    async fn history(&self, id: &str) -> Result<serde_json::Value> {
        http(
            "GET",
            &self.url(&format!("/cobrowse/rest/history/sessions/{id}")),
            &[AGENT_AUTH],
            None,
        )
        .await?
        .json()
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[tokio::test]
async fn a_killed_node_started_again_keeps_its_sessions_and_every_history() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let dir: PathBuf = dir.path().to_path_buf();
    let port = free_port()?;
    let node = Node::start(port, &dir)?;

    // Kept: customer and agent connected and relaying.
    let (kept, _) = node.create().await?;
    let mut customer = node.joined(&hello(Role::Customer, &kept)).await?;
    send(&mut customer, &snapshot("before")).await?;
    let mut agent = node.joined(&agent_hello(&kept, "agent-1")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("before")
    })
    .await?;
    // Abandoned: its customer never comes back after the restart.
    let (abandoned, abandoned_id) = node.create().await?;
    let _gone = node.joined(&hello(Role::Customer, &abandoned)).await?;
    // Ended just before the kill: the stop is answered, then the process dies at once.
    let mut ended = Vec::new();
    for _ in 0..8 {
        ended.push(node.create().await?);
    }
    for (token, _) in &ended {
        let r = http(
            "POST",
            &node.url(&format!("/cobrowse/rest/live/sessions/{token}/stop")),
            &[AGENT_AUTH],
            None,
        )
        .await?;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    node.kill()?;
    drop((customer, agent, _gone));

    let node = Node::start(port, &dir)?;
    let restarted = Instant::now();

    // The kept session's parties come back (same token, the customer's secret) and relay.
    let mut customer = node.joined(&hello(Role::Customer, &kept)).await?;
    let mut agent = node.joined(&agent_hello(&kept, "agent-1")).await?;
    send(&mut customer, &snapshot("after")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("after")
    })
    .await?;
    let live = http(
        "GET",
        &node.url(&format!("/cobrowse/rest/live/sessions/{kept}")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(live.status, 200, "{}", live.body);
    assert_eq!(live.json()?["state"], "active");

    // Every session ended before the kill has its record, with the reason it ended for.
    for (token, id) in &ended {
        let h = node.history(id).await?;
        assert_eq!(h["token"], token.as_str(), "{h}");
        assert_eq!(h["endReason"], "api_stop", "{h}");
        assert!(h["endedAt"].as_u64().is_some(), "{h}");
    }

    // The abandoned session ends once maxInterval has passed since the restart, with a record.
    let h = loop {
        let h = node.history(&abandoned_id).await?;
        if h["endedAt"].as_u64().is_some() {
            break h;
        }
        if restarted.elapsed() > MAX_INTERVAL + Duration::from_secs(10) {
            bail!("the abandoned session never ended: {h}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(h["endReason"], "connection_lost", "{h}");
    assert!(
        restarted.elapsed() >= MAX_INTERVAL - Duration::from_millis(500),
        "ended before its parties had maxInterval to come back"
    );

    // The kept session still relays after that.
    send(&mut customer, &snapshot("later")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("later")
    })
    .await?;
    Ok(())
}
