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
//!
//! Nothing here knows sessions or the server's state; `ws` (whose `upgrade` puts these together),
//! `rest`, `cluster` and `app` call in.

pub mod client_addr;
pub mod frame_head;
pub mod limits;
pub mod socket;

pub use client_addr::{TrustedProxies, limit_key};
pub use limits::{Admission, Throttled};
