//! The relay under test as a child process: the real `cobrowse-server` or the [`crate::baseline`]
//! relay (this binary re-run with the `baseline` subcommand), on a free loopback port.
//!
//! Each load step gets a fresh process so its CPU time and RSS belong to that step alone.

use crate::LoadError;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The agent credential the real server is started with and the load's agents present.
pub const AGENT_TOKEN: &str = "cobrowse-loadgen-agent-token";
/// Which relay a step runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `cobrowse-server` at this path, serving `static_dir`.
    Server {
        /// The server binary.
        bin: PathBuf,
        /// Its static root (the relay does not need it, but the server checks it exists).
        static_dir: PathBuf,
    },
    /// The baseline relay (`<this exe> baseline --port N`).
    Baseline,
}

impl Kind {
    /// Short name for tables.
    pub fn label(&self) -> &'static str {
        match self {
            Kind::Server { .. } => "cobrowse-server",
            Kind::Baseline => "baseline",
        }
    }
}

/// A running relay process; killed when dropped.
#[derive(Debug)]
pub struct Target {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Whether it is the real server (sessions are created over REST) or the baseline.
    pub kind: Kind,
    _data_dir: Option<tempfile::TempDir>,
}

/// A loopback port nothing listens on now.
pub fn free_port() -> Result<u16, LoadError> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

impl Target {
    /// Starts the relay and waits (bounded) until it accepts requests.
    pub async fn start(kind: Kind) -> Result<Target, LoadError> {
        let port = free_port()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let (child, data_dir) = match &kind {
            Kind::Server { bin, static_dir } => {
                let dir = tempfile::tempdir()?;
                let child = Command::new(bin)
                    .env("COBROWSE_LISTEN", "127.0.0.1")
                    .env("COBROWSE_PORT", port.to_string())
                    .env("COBROWSE_STATIC_DIR", static_dir)
                    .env("COBROWSE_STORAGE_TYPE", "embedded")
                    .env("COBROWSE_STORAGE_DATA_DIR", dir.path())
                    // Every pair comes from 127.0.0.1: lift the per-address limits (lookups,
                    // creations, sockets of one address).
                    .env("COBROWSE_LIMITS_LOOKUPS_PER_MINUTE", "100000000")
                    .env("COBROWSE_LIMITS_LOOKUP_BURST", "1000000")
                    .env("COBROWSE_LIMITS_CREATES_PER_MINUTE", "100000000")
                    .env("COBROWSE_LIMITS_CREATE_BURST", "1000000")
                    .env("COBROWSE_LIMITS_CONNECTIONS_PER_ADDRESS", "1000000")
                    .env("COBROWSE_LIMITS_PENDING_CONNECTIONS_PER_ADDRESS", "1000000")
                    .env("COBROWSE_LOG_LEVEL", "warn")
                    // Agents authenticate as on any real server (the load's agents present it).
                    .env("COBROWSE_AUTH_AGENT_TOKEN", AGENT_TOKEN)
                    .env("RUST_LOG", "warn")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()?;
                (child, Some(dir))
            }
            Kind::Baseline => {
                let exe = std::env::current_exe()?;
                let child = Command::new(exe)
                    .args(["baseline", "--port", &port.to_string()])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()?;
                (child, None)
            }
        };
        let mut target = Target {
            child,
            addr,
            kind,
            _data_dir: data_dir,
        };
        target.wait_ready().await?;
        Ok(target)
    }

    /// The process id, for `/proc` readings.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self) -> Result<(), LoadError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(LoadError::Unexpected(format!(
                    "{} exited before it was ready: {status}",
                    self.kind.label()
                )));
            }
            let ready = match self.kind {
                Kind::Server { .. } => matches!(
                    http(self.addr, "GET", "/cobrowse/health", "").await,
                    Ok((200, _))
                ),
                Kind::Baseline => TcpStream::connect(self.addr).await.is_ok(),
            };
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(LoadError::Timeout(format!(
                    "{} not ready within 30 s",
                    self.kind.label()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A session token and its customer secret: created over REST on the real server, made up
    /// for the baseline (which pairs connections by whatever token they present, and has no
    /// secrets).
    pub async fn create_session(
        &self,
        index: usize,
    ) -> Result<(String, Option<String>), LoadError> {
        match self.kind {
            Kind::Baseline => Ok((format!("{:09}", 100_000_000 + index), None)),
            Kind::Server { .. } => {
                let (status, body) = http(
                    self.addr,
                    "POST",
                    cobrowse_protocol::rest::LIVE_SESSIONS_PATH,
                    r#"{"url":"http://shop.example/list"}"#,
                )
                .await?;
                if status != 201 {
                    return Err(LoadError::Unexpected(format!(
                        "POST sessions answered {status}: {body}"
                    )));
                }
                let json = json_body(&body);
                let created: cobrowse_protocol::rest::CreatedSession =
                    serde_json::from_str(json)
                        .map_err(|e| LoadError::Unexpected(format!("session JSON: {e}: {body}")))?;
                Ok((created.token, Some(created.customer_secret)))
            }
        }
    }

    /// The WebSocket URL.
    pub fn ws_url(&self) -> String {
        match self.kind {
            Kind::Server { .. } => {
                cobrowse_protocol::rest::ws_url(&format!("http://{}", self.addr))
                    .expect("an http URL with a host has a WebSocket URL")
            }
            Kind::Baseline => format!("ws://{}/", self.addr),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // A benchmark relay holds nothing worth a graceful shutdown; its data dir is temporary.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-shot HTTP/1.1 request (`Connection: close`); returns the status and body. Enough for
/// the two REST calls the load generator makes, without an HTTP client dependency.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, String), LoadError> {
    let a = http_with(addr, method, path, &[], body).await?;
    Ok((a.status, a.body))
}

/// What [`http_with`] got back.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The header lines, as sent.
    pub head: String,
    /// The body (possibly still chunk-encoded).
    pub body: String,
}

impl Answer {
    /// The value of the first `Set-Cookie` setting `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let v = v.trim().strip_prefix(name)?.strip_prefix('=')?;
            Some(v.split(';').next().unwrap_or_default().to_owned())
        })
    }
}

/// The JSON object of a body that may arrive chunked: what lies between its outer braces.
pub fn json_body(body: &str) -> &str {
    match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if a < b => &body[a..=b],
        _ => body,
    }
}

/// [`http`] with extra request headers, answering the response's header lines too.
pub async fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Answer, LoadError> {
    let mut s = TcpStream::connect(addr).await?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .map_err(|_| LoadError::Timeout(format!("{method} {path}")))??;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| LoadError::Unexpected(format!("not HTTP: {text}")))?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok(Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}
