//! WebSocket keepalive: the server pings, and drops a peer that never answers.
//! The client here speaks raw WebSocket over TCP, so nothing answers pings behind our back.

mod common;

use anyhow::{Context, Result, bail};
use cobrowse_protocol::Role;
use common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn masked_binary(payload: &[u8]) -> Vec<u8> {
    let mask = [0x11u8, 0x22, 0x33, 0x44];
    let mut out = vec![0x82];
    if payload.len() < 126 {
        out.push(0x80 | payload.len() as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// Splits unmasked server frames into (opcode, payload).
fn frames(mut buf: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while buf.len() >= 2 {
        let op = buf[0] & 0x0f;
        let (len, head) = match buf[1] & 0x7f {
            126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
            127 if buf.len() >= 10 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                (u64::from_be_bytes(b) as usize, 10)
            }
            n if n < 126 => (n as usize, 2),
            _ => break,
        };
        if buf.len() < head + len {
            break;
        }
        out.push((op, buf[head..head + len].to_vec()));
        buf = &buf[head + len..];
    }
    out
}

#[tokio::test]
async fn silent_peer_is_pinged_then_dropped() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_millis(50)).await?;
    let (token, _, _) = server.create_session().await?;
    let mut s = tokio::net::TcpStream::connect(server.addr).await?;
    s.write_all(
        b"GET /cobrowse/ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await?;
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    if !head.starts_with("HTTP/1.1 101") {
        bail!("upgrade refused: {head}");
    }
    let hello = cobrowse_protocol::encode(&hello(Role::Customer, &token));
    s.write_all(&masked_binary(&hello)).await?;

    // Never answer; the server must give up on us by itself.
    let mut all = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut all))
        .await
        .context("server kept a silent peer open")??;
    let seen = frames(&all);
    let ops: Vec<u8> = seen.iter().map(|(op, _)| *op).collect();
    assert_eq!(ops.first(), Some(&0x2), "Welcome first: {ops:?}");
    assert!(ops.contains(&0x9), "no ping sent: {ops:?}");
    let (op, payload) = seen.last().context("no frames")?;
    assert_eq!(*op, 0x8, "ends with a close frame: {ops:?}");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1001);
    server.stop().await
}
