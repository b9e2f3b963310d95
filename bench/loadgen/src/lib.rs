//! Relay load generator for Cobrowse, and the bare baseline relay it is compared with.
//!
//! The question this crate answers: how many live co-browsing sessions does the real
//! `cobrowse-server` relay on this machine before its relay latency p99 passes 50 ms, and how does
//! its throughput compare with the physical limit of the box — a WebSocket fan-out relay that does
//! nothing but forward bytes ([`baseline`]).
//!
//! A run opens N customer/agent pairs on loopback. Each customer creates its session over REST
//! (for the real server), says `Hello`, sends a snapshot and then a realistic frame mix at a set
//! rate ([`frames`]); every frame carries a send timestamp the agent side reads back, so relay
//! latency is measured end to end in one process with one clock. N is stepped upwards until the
//! p99 passes the limit; each step runs against a fresh server process whose CPU time and RSS are
//! read from `/proc` ([`procstat`]). Everything is bounded: a step lasts a fixed time, the steps
//! are a fixed list, and the run stops by itself.
//!
//! Benchmarks report figures; nothing here fails because a machine is slow.
//!
//! # Layout
//!
//! * [`frames`] — the frame mix customers send and the timestamp agents read back.
//! * [`load`] — one load step: connect N pairs, drive them, collect latencies and counts.
//! * [`baseline`] — the bare tokio-tungstenite fan-out relay (the physical limit).
//! * [`target`] — starting and stopping the relay under test (real server or baseline) as a child
//!   process, and the minimal HTTP client for its REST API.
//! * [`procstat`] — CPU time and RSS of a process from `/proc`.
//! * [`stats`] — percentiles and the markdown report.
//! * [`soak`] — the cluster soak (`scripts/soak.sh`): three nodes behind nginx under steady load,
//!   reconnects and a rolling restart, with memory, descriptors and tasks sampled throughout.

pub mod baseline;
pub mod frames;
pub mod load;
pub mod procstat;
pub mod soak;
pub mod stats;
pub mod target;

/// Errors at this crate's boundaries.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A socket or process operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket layer failed.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// A frame from the relay could not be decoded.
    #[error("protocol: {0}")]
    Decode(#[from] cobrowse_protocol::DecodeError),
    /// The relay answered something the load generator did not expect.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// The relay did not become ready or answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
}
