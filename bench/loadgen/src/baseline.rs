//! The baseline: a bare tokio-tungstenite fan-out relay, the physical limit of this box.
//!
//! It does the least any relay must: accept WebSockets, read the first frame's `Hello` to learn
//! role and token, answer `Welcome`, keep the latest snapshot for a joining agent, and forward
//! every other frame's bytes unchanged from the customer to the session's agents (and back). No
//! REST, no validation beyond the `Hello`, no log, no metrics, no storage, no limits. The real
//! server's throughput is reported as a ratio of this one's under the same load.

use crate::LoadError;
use bytes::Bytes;
use cobrowse_protocol::{
    Message, Mode, Role, SessionState, Welcome, decode, encode, peek_tag, tags,
};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Ws;

type Tx = mpsc::UnboundedSender<Bytes>;

#[derive(Default)]
struct Room {
    customer: Option<Tx>,
    agents: Vec<Tx>,
    snapshot: Option<Bytes>,
}

type Rooms = Arc<Mutex<HashMap<String, Room>>>;

/// Runs the baseline relay on `127.0.0.1:port` until the process is killed.
pub async fn serve(port: u16) -> Result<(), LoadError> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    let rooms: Rooms = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let rooms = rooms.clone();
        tokio::spawn(async move {
            // A failed connection only ends that connection.
            let _ = connection(stream, rooms).await;
        });
    }
}

fn lock(rooms: &Rooms) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
    // A panic elsewhere cannot leave a room half-updated in a way that matters to a benchmark.
    rooms.lock().unwrap_or_else(|p| p.into_inner())
}

async fn connection(stream: TcpStream, rooms: Rooms) -> Result<(), LoadError> {
    stream.set_nodelay(true)?;
    let ws = tokio_tungstenite::accept_async(stream).await?;
    let (mut sink, mut source) = ws.split();
    let hello = loop {
        match source.next().await {
            Some(Ok(Ws::Binary(b))) => match decode(&b)? {
                Message::Hello(h) => break h,
                other => return Err(LoadError::Unexpected(format!("first frame {other:?}"))),
            },
            Some(Ok(Ws::Close(_))) | None => return Ok(()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    let welcome = encode(&Message::Welcome(Welcome {
        role: hello.role,
        token: hello.token.clone(),
        history_id: String::new(),
        state: SessionState::Active,
        mode: Mode::Pointer,
        write_mode_allowed: false,
        agents: 0,
        server_time_ms: 0,
        node: "baseline".into(),
        link: None,
        batch: false,
    }));
    let _ = tx.send(Bytes::from(welcome));
    {
        let mut map = lock(&rooms);
        let room = map.entry(hello.token.clone()).or_default();
        match hello.role {
            Role::Customer => room.customer = Some(tx.clone()),
            _ => {
                if let Some(s) = &room.snapshot {
                    let _ = tx.send(s.clone());
                }
                room.agents.push(tx.clone());
            }
        }
    }
    let writer = tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            if sink.send(Ws::Binary(b)).await.is_err() {
                break;
            }
        }
    });
    while let Some(item) = source.next().await {
        let bytes = match item {
            Ok(Ws::Binary(b)) => b,
            Ok(Ws::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let mut map = lock(&rooms);
        let Some(room) = map.get_mut(&hello.token) else {
            break;
        };
        if hello.role == Role::Customer {
            if matches!(peek_tag(&bytes), Ok((tags::SNAPSHOT, _))) {
                room.snapshot = Some(bytes.clone());
            }
            room.agents.retain(|a| a.send(bytes.clone()).is_ok());
        } else if let Some(c) = &room.customer {
            let _ = c.send(bytes);
        }
    }
    {
        let mut map = lock(&rooms);
        if let Some(room) = map.get_mut(&hello.token) {
            if hello.role == Role::Customer {
                room.customer = None;
            } else {
                room.agents.retain(|a| !a.same_channel(&tx));
            }
            if room.customer.is_none() && room.agents.is_empty() {
                map.remove(&hello.token);
            }
        }
    }
    drop(tx);
    writer.abort();
    Ok(())
}
