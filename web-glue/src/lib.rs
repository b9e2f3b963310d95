//! Browser glue shared by the customer client (`client-wasm`) and the agent page (`agent-ui`):
//! what both need from the browser and would otherwise write twice.
//!
//! * [`json`] — JSON parsed by the browser's `JSON.parse` (serde_json would add ~20 KB gzip to
//!   each bundle), with a plain-Rust fallback for native unit tests.
//! * [`log`] — debug logging to the console, off unless the page asked for it.
//! * `socket` (wasm32 only) — one binary WebSocket to the relay whose events go to one callback,
//!   and the backoff timer that opens the next one.
//! * `ink` (wasm32 only) — the annotation layer both pages draw the agent's strokes in (an
//!   `<svg>` mirroring `cobrowse_common::ink::Board`, strokes removed when their time is up).
//! * `soon` (wasm32 only) — a closure run once in a later task and freed when it has run (a
//!   forgotten `gloo` timer keeps its closure for the life of the page).
//! * `realm` (wasm32 only) — casts and `Reflect` reads that work on nodes and sheets of another
//!   realm (a same-origin iframe), where `dyn_into` fails.
//! * `testing` (wasm32, feature `test-support`) — what the wasm crates' browser tests share.
//!
//! Owns browser plumbing only: no wire types (`cobrowse-protocol`), no pure rules
//! (`cobrowse-common`), nothing about capture or rendering the page (the ink layer draws over
//! it, never in it), and no page's policy (what to send on
//! open, whether a close is final). `json` and `log` build natively too, each function with a
//! plain-Rust stand-in, so the wasm crates' unit tests run with `cargo test`; `socket` and
//! `realm` are browser objects through and through and exist on wasm32 only.

#[cfg(target_arch = "wasm32")]
pub mod ink;
pub mod json;
pub mod log;
#[cfg(target_arch = "wasm32")]
pub mod realm;
#[cfg(target_arch = "wasm32")]
pub mod socket;
#[cfg(target_arch = "wasm32")]
pub mod soon;
#[cfg(all(target_arch = "wasm32", feature = "test-support"))]
pub mod testing;
