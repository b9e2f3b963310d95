//! The network edge: who a client is, how much it may ask, and how its WebSocket is read before
//! anyone knows it.
//!
//! # Layout
//!
//! * [`client_addr`] — the client's address behind trusted proxies (right-most untrusted
//!   `X-Forwarded-For` hop) and the key its limits count under (IPv6 per /64).
//! * [`limits`] — per-address rate limits (governor: lookups, session creations) and the
//!   per-address connection slots.
//! * [`frame_head`] — the WebSocket frame header, parsed by hand for the first frame.
//! * [`socket`] — the upgraded socket as the relay sees it: a first frame read with a small
//!   limit, the full limit only once the `Hello` is admitted, control frames bounded.
//! * [`deflate`] — permessage-deflate: the answer to a client's offer, the compressed first
//!   frame, the options of a compressed socket.
//! * [`replay`] — a connection with bytes read by hand put back in front of it.
//! * [`close_once`] — nothing written after a close frame (yawc does not track it).
//!
//! Nothing here knows sessions or the server's state; `ws` (whose `upgrade` puts these together),
//! `rest`, `cluster` and `app` call in.

pub mod client_addr;
pub mod close_once;
pub mod deflate;
pub mod frame_head;
pub mod limits;
pub mod replay;
pub mod socket;

pub use client_addr::{TrustedProxies, limit_key};
pub use limits::{Admission, Throttled};
