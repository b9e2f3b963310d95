//! Cobrowse agent side ("slave" renderer): joins a live session and renders a faithful,
//! script-free replica of the customer's page, with both parties' pointers.
//!
//! The customer page is **untrusted replay data**: everything it sends passes through
//! [`sanitize`] before it reaches the DOM, the replica frame is sandboxed without `allow-scripts`,
//! and the agent page has a strict Content-Security-Policy. Nothing from the customer runs here.
//!
//! # Layout
//!
//! Pure modules over plain types, tested natively with `cargo test -p cobrowse-agent`:
//! * [`sanitize`] — what the replica may contain (elements, attributes, URLs, CSS).
//! * [`frames`] — which third-party iframes the replica loads by URL (the allow-list).
//! * [`sheets`] — which cross-origin stylesheets the replica loads through the server's CSS proxy.
//! * [`url`] — relative URL resolution against the customer's document, scheme checks.
//! * [`replica`] — the replica model: id → node bookkeeping (in `cobrowse_protocol::IdTree`) and
//!   the order page state is applied in, over a [`replica::DomBackend`] trait.
//! * [`edits`] — the edit buffer: DOM operations as opcodes, node slots and a string table, which
//!   `web::dom` hands to its JS interpreter in one call per batch.
//! * [`viewport`] — scaling the customer-sized frame into the agent's area, pointer mapping.
//! * [`render_sample`] — the render-latency sample for the server's metrics, and when it is due.
//! * [`params`] — page parameters (`#sid=`, `debug`, `nosidinput`, `agentId`, `auth`, `lang`,
//!   `theme`), server paths relative to the page.
//! * [`locale`] — the page's texts from `www/locales/agent/*.json`, language and theme choice.
//! * [`log`] — debug logging switched on by `#debug=1`.
//! * [`encode`] — base64 for the `data:` URLs of canvas frames.
//! * [`error`] — [`error::AgentError`], what start-up can fail with.
//!
//! Browser modules (wasm32 only), tested with `wasm-bindgen-test` in headless Chromium:
//! * `web::dom` — the real [`replica::DomBackend`] over web-sys, in a sandboxed iframe.
//! * `web::app` — the agent page's wiring; beside it `web::state` (the session state),
//!   `web::toolbar` (status line, mode text, buttons), `web::link` (lookup, WebSocket, reconnect),
//!   `web::dispatch` (what each server message does) and `web::pointers` (both pointers, rings).
//! * `web::control` — write mode: the agent's input as node-id actions, navigation bar.
//! * `web::canvas`, `web::media` — the customer's canvas frames and media playback state.
//! * `web::prefs` — language and theme in the browser: server defaults, locale files, the theme
//!   picker.
//! * `web::styles` — constructed/adopted stylesheets and the pseudo-state sheet (`:hover`,
//!   `:focus`, `:active` of the customer, and the agent's own hover) via `cobrowse_css_rewrite`.
//!
//! Contracts with the server and the customer's client are not defined here: wire types, the
//! tree model, snake_case codes, close codes and REST answers come from `cobrowse_protocol`;
//! origin lists, reconnect backoff and form decoding from `cobrowse_common`.
//!
//! Entry points (exported to JS): `start_agent()`, called by `www/slave.js`, and `start_replay()`,
//! called by `www/replay.js` (a stored audit recording instead of the live socket).

#![deny(clippy::unwrap_used)]

pub mod edits;
pub mod encode;
pub mod error;
pub mod frames;
pub mod locale;
pub mod log;
pub mod params;
pub mod render_sample;
pub mod replica;
pub mod sanitize;
pub mod sheets;
pub mod url;
pub mod viewport;

/// The in-memory DOM backend of the native tests (also for other crates' contract tests, behind
/// the `test-support` feature).
#[cfg(any(test, feature = "test-support"))]
pub mod memdom;
#[cfg(test)]
mod proptests;

#[cfg(target_arch = "wasm32")]
pub mod web;
