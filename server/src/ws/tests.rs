//! `serve` driven over in-memory channels, and the small helpers.

use super::frames::close_reason;
use super::*;
use crate::origin::OriginCheck;
use cobrowse_protocol::{ErrorCode, Hello, Role, SessionState, decode, encode};
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// An in-memory "socket": what the test sends arrives as inbound messages, and what the
/// server sends lands in `out`. Shows why `serve` is generic over `Sink + Stream`.
struct ChannelSocket {
    inbound: mpsc::UnboundedReceiver<WsMessage>,
    out: mpsc::UnboundedSender<WsMessage>,
}

impl Stream for ChannelSocket {
    type Item = Result<WsMessage, std::convert::Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inbound.poll_recv(cx).map(|m| m.map(Ok))
    }
}

impl Sink<WsMessage> for ChannelSocket {
    type Error = std::convert::Infallible;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: WsMessage) -> Result<(), Self::Error> {
        // A closed receiver means the test is done with this socket.
        let _ = self.out.send(item);
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<WsMessage>) -> WsMessage {
    tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("server answered in time")
        .expect("server still connected")
}

#[tokio::test]
async fn handshake_and_bad_frame_over_channels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (app, _writer) = crate::app::test_app(dir.path()).await;
    let secret = crate::auth::customer::new_secret();
    let key = crate::auth::customer::digest(&secret);
    let session = sessions::create(&app, None, None, "http://t".into(), key)
        .await
        .expect("session");

    let (to_server, inbound) = mpsc::unbounded_channel();
    let (out, mut from_server) = mpsc::unbounded_channel();
    let meta = ConnMeta {
        ip: IpAddr::from([127, 0, 0, 1]),
        origin: OriginCheck::Absent,
        admission: crate::net::Admission::detached(),
    };
    let task = tokio::spawn(serve(app.clone(), ChannelSocket { inbound, out }, meta));
    let hello = Message::Hello(Hello {
        role: Role::Customer,
        token: session.token.clone(),
        auth: Some(secret),
        agent_id: None,
        resume_from: None,
        client: "unit".into(),
        link: None,
        observe: false,
    });
    to_server
        .send(WsMessage::binary(encode(&hello)))
        .expect("send");
    match decode(recv(&mut from_server).await.as_bytes()) {
        Ok(Message::Welcome(w)) => assert_eq!(w.state, SessionState::Idle),
        other => panic!("expected Welcome, got {other:?}"),
    }
    to_server
        .send(WsMessage::binary(vec![1u8, 4, 0xff]))
        .expect("send");
    match decode(recv(&mut from_server).await.as_bytes()) {
        Ok(Message::Error(e)) => assert_eq!(e.code, ErrorCode::BadFrame),
        other => panic!("expected Error, got {other:?}"),
    }
    let close = recv(&mut from_server).await;
    assert_eq!(
        close.close_frame().map(|(code, _)| code),
        Some(close::PROTOCOL)
    );
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("serve returned")
        .expect("no panic");
}

#[test]
fn close_reasons_fit_the_frame() {
    let long = "é".repeat(200);
    let r = close_reason(&long);
    assert!(r.len() <= 123);
    assert!(r.ends_with("..."));
    assert_eq!(close_reason("short"), "short");
}
