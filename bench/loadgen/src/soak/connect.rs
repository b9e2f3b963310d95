//! The soak's connections: the run's schedule ([`Plan`]), opening a socket through nginx with the
//! node cookie (retrying with backoff until the run's hard end), the `Hello` its parties send and
//! what a `Welcome`'s link means for them.

use super::tally::Tally;
use bytes::Bytes;
use cobrowse_protocol::link::{Endpoint, Welcomed};
use cobrowse_protocol::{ErrorCode, Hello, LinkHello, Message, Role, Welcome, decode, encode};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub(super) type Sink = SplitSink<Socket, Ws>;
pub(super) type Source = SplitStream<Socket>;

/// The cookie the nodes set and the nginx sample routes by.
const NODE_COOKIE: &str = "gcbSessionServer";

/// The run's shared schedule.
#[derive(Debug)]
pub struct Plan {
    /// nginx: where every client connects.
    pub front: SocketAddr,
    /// Frames per second each customer sends.
    pub rate: f64,
    /// Traffic starts (reconnect schedules are spread from here).
    pub start: Instant,
    /// Customers stop producing frames.
    pub stop: Instant,
    /// Customers leave (their session ends with `customer_exit`).
    pub leave: Instant,
    /// Everyone gives up.
    pub hard_end: Instant,
    /// Each party drops its socket this often (`None`: never on purpose).
    pub reconnect_every: Option<Duration>,
    /// Sessions in the run (to spread schedules).
    pub sessions: usize,
}

impl Plan {
    /// Party `slot`'s first planned drop: schedules are spread evenly over one period, so drops
    /// are a steady trickle rather than a wave.
    pub(super) fn first_drop(&self, slot: usize) -> Option<Instant> {
        let every = self.reconnect_every?;
        let spread = (2 * self.sessions).max(1);
        Some(self.start + every.mul_f64(((slot % spread) as f64 + 0.5) / spread as f64))
    }

    pub(super) fn ws_request(
        &self,
        cookie: &str,
    ) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, String> {
        let url = cobrowse_protocol::rest::ws_url(&format!("http://{}", self.front))
            .ok_or("no WebSocket URL for the front")?;
        let mut req = url.into_client_request().map_err(|e| e.to_string())?;
        req.headers_mut().insert(
            "Cookie",
            HeaderValue::from_str(&format!("{NODE_COOKIE}={cookie}")).map_err(|e| e.to_string())?,
        );
        Ok(req)
    }
}

/// Why opening a socket failed.
pub(super) enum Open {
    /// The server refused the `Hello` with a final error.
    Refused(ErrorCode, String),
    /// Anything worth another try (transport, timeout, a transient refusal).
    Retry(String),
}

pub(super) async fn open(
    plan: &Plan,
    cookie: &str,
    hello: &Message,
) -> Result<(Socket, Welcome), Open> {
    let req = plan.ws_request(cookie).map_err(Open::Retry)?;
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, None, true)
        .await
        .map_err(|e| Open::Retry(format!("connect: {e}")))?;
    ws.send(Ws::Binary(Bytes::from(encode(hello))))
        .await
        .map_err(|e| Open::Retry(format!("send Hello: {e}")))?;
    loop {
        match ws.next().await {
            Some(Ok(Ws::Binary(b))) => match decode(&b) {
                Ok(Message::Welcome(w)) => return Ok((ws, w)),
                Ok(Message::Error(e)) => {
                    return Err(match e.code {
                        // A reconnect that beat the server's notice of the old socket, or a
                        // node busy restarting: try again like a browser client does.
                        ErrorCode::CustomerPresent
                        | ErrorCode::Internal
                        | ErrorCode::RateLimited => {
                            Open::Retry(format!("{:?}: {}", e.code, e.message))
                        }
                        code => Open::Refused(code, e.message),
                    });
                }
                Ok(_) => continue,
                Err(e) => return Err(Open::Retry(format!("decode before Welcome: {e}"))),
            },
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(Open::Retry(format!("before Welcome: {e}"))),
            None => return Err(Open::Retry("closed before Welcome".into())),
        }
    }
}

/// Opens a socket, retrying with backoff until the run's hard end.
pub(super) async fn open_retrying(
    plan: &Plan,
    cookie: &str,
    hello: &Message,
) -> Result<(Socket, Welcome), Open> {
    let mut backoff = Duration::from_millis(50);
    loop {
        let why = match timeout(Duration::from_secs(10), open(plan, cookie, hello)).await {
            Ok(Ok(x)) => return Ok(x),
            Ok(Err(Open::Refused(code, m))) => return Err(Open::Refused(code, m)),
            Ok(Err(Open::Retry(why))) => why,
            Err(_) => "no Welcome within 10 s".into(),
        };
        if Instant::now() + backoff > plan.hard_end {
            return Err(Open::Retry(format!("gave up reconnecting: {why}")));
        }
        sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

pub(super) fn hello(
    ep: &Endpoint,
    role: Role,
    token: &str,
    auth: &str,
    agent_id: Option<String>,
) -> Message {
    let (resume_from, link): (Option<u64>, LinkHello) = ep.hello(true);
    Message::Hello(Hello {
        role,
        token: token.to_owned(),
        auth: Some(auth.to_owned()),
        agent_id,
        resume_from,
        client: "cobrowse-soak".into(),
        link: Some(link),
        observe: false,
    })
}

pub(super) async fn send(sink: &mut Sink, bytes: Vec<u8>) -> bool {
    sink.send(Ws::Binary(Bytes::from(bytes))).await.is_ok()
}

/// Takes the `Welcome`'s link; returns what to send first (resends), and whether the page must
/// go whole (a new link, or a resume whose gap this client no longer holds).
pub(super) fn welcomed(
    ep: &mut Endpoint,
    w: &Welcome,
    tally: &Tally,
    reconnect: bool,
) -> Result<(Vec<Vec<u8>>, bool), String> {
    match ep.welcome(w.link) {
        Welcomed::Plain => Err("the server answered without a link".into()),
        Welcomed::Resumed { resend, gap_lost } => {
            Tally::add(&tally.resumed, 1);
            Ok((resend, gap_lost))
        }
        Welcomed::Fresh { .. } => {
            if reconnect {
                Tally::add(&tally.fresh, 1);
            }
            Ok((Vec::new(), true))
        }
    }
}
