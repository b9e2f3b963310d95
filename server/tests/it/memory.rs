//! Memory before anyone is known, measured on the real server binary: 24 anonymous sockets each
//! send one 16 MiB first frame while an honest session runs, and the server's peak resident set
//! (`VmHWM` in `/proc/<pid>/status`) may grow by less than 16 MiB (it grew by ~293 MiB when the
//! first frame was read and decoded in full before the role was known).
//!
//! A process of its own, so the figure is the server's alone: the test's own 24 × 16 MiB of
//! outgoing frames and every other test of this binary live in another process.

use crate::common::*;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::{ErrorCode, Message, MutationBatch, Role};
use futures_util::{SinkExt, StreamExt};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BIN: &str = env!("CARGO_BIN_EXE_cobrowse-server");
const MIB: u64 = 1 << 20;

/// The server binary in a process of its own (killed when dropped).
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server binary on a free loopback port with `extra` `--set` options.
pub(crate) fn spawn(extra: &[&str]) -> Result<Server> {
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", "127.0.0.1", "--port", &port.to_string()])
        .arg("--static-dir")
        .arg(&www)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--log-level", "warn"]);
    for e in extra {
        cmd.args(["--set", e]);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the server binary")?;
    let mut server = Server {
        child,
        addr: format!("127.0.0.1:{port}"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&server.addr).is_err() {
        if let Some(status) = server.child.try_wait()? {
            bail!("the server exited during start: {status}");
        }
        if Instant::now() > deadline {
            bail!("the server did not listen on {}", server.addr);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(server)
}

/// A `kB` field of `/proc/<pid>/status`, in bytes.
pub(crate) fn status_bytes(pid: u32, field: &str) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("a number")?
        .parse()?;
    Ok(kb * 1024)
}

async fn ws(addr: &str) -> Result<Ws> {
    let req = format!("ws://{addr}/cobrowse/ws").into_client_request()?;
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

async fn joined(addr: &str, msg: &Message) -> Result<Ws> {
    let mut s = ws(addr).await?;
    send(&mut s, msg).await?;
    match frame(&mut s).await? {
        Message::Welcome(_) => Ok(s),
        other => bail!("expected Welcome, got {other:?}"),
    }
}

/// One anonymous socket: a 16 MiB first frame, then the server's answer.
async fn oversized_first_frame(addr: String, payload: bytes::Bytes) -> Result<ErrorCode> {
    let mut s = ws(&addr).await?;
    s.send(WsMessage::Binary(payload)).await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(60), s.next()).await? {
            Some(Ok(WsMessage::Binary(b))) => match cobrowse_protocol::decode(&b)? {
                Message::Error(e) => return Ok(e.code),
                other => bail!("unexpected {other:?}"),
            },
            Some(Ok(_)) => continue,
            other => bail!("closed without an Error frame: {other:?}"),
        }
    }
}

#[tokio::test]
async fn anonymous_16_mib_first_frames_do_not_grow_the_server() -> Result<()> {
    // Every socket gets in (the pending cap is what stops more; here the frame limit is tested).
    let agent_token = format!("auth.agentToken={TEST_AGENT_TOKEN}");
    let server = spawn(&["limits.pendingConnectionsPerAddress=64", &agent_token])?;
    let pid = server.child.id();
    let addr = server.addr.clone();

    // An honest session, joined and relaying before the attack.
    let create = http(
        "POST",
        &format!("http://{addr}/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    let created = create.json()?;
    remember_customer_secret(&created);
    let token = created["token"].as_str().context("token")?.to_string();
    let mut customer = joined(&addr, &hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("before")).await?;
    let mut agent = joined(&addr, &agent_hello(&token, "agent-1")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("before")
    })
    .await?;

    // The peak from here on: reset VmHWM to the current RSS (the kernel's clear_refs "5").
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").context("resetting VmHWM")?;
    let before = status_bytes(pid, "VmRSS:")?;

    // A snapshot frame's start (version, tag, an empty name table, first id, a node count of
    // 2^21), then records: what a page would send, for as long as the frame is.
    let mut frame = vec![
        cobrowse_protocol::PROTOCOL_VERSION,
        4,
        0,
        1,
        0x80,
        0x80,
        0x80,
        0x01,
    ];
    frame.resize(16 * MIB as usize, 0x03);
    let payload = bytes::Bytes::from(frame);
    let attacks: Vec<_> = (0..24)
        .map(|_| tokio::spawn(oversized_first_frame(addr.clone(), payload.clone())))
        .collect();
    // The honest session goes on meanwhile.
    for i in 0..20 {
        send(&mut customer, &Message::Mutations(MutationBatch::default())).await?;
        send(&mut customer, &snapshot(&format!("during {i}"))).await?;
        let want = format!("during {i}");
        until(&mut agent, |m| {
            snapshot_marker(m).as_deref() == Some(want.as_str())
        })
        .await?;
    }
    for a in attacks {
        assert_eq!(a.await??, ErrorCode::TooLarge);
    }
    send(&mut customer, &snapshot("after")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("after")
    })
    .await?;

    let peak = status_bytes(pid, "VmHWM:")?;
    let grown = peak.saturating_sub(before);
    println!(
        "server RSS before {} KiB, peak during 24 × 16 MiB anonymous first frames {} KiB: +{} KiB",
        before / 1024,
        peak / 1024,
        grown / 1024
    );
    assert!(grown < 16 * MIB, "the server grew by {} KiB", grown / 1024);
    Ok(())
}
