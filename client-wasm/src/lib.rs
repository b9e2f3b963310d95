//! Cobrowse customer side, compiled to wasm: captures the customer's page (full snapshot, then
//! coalesced MutationObserver deltas, form state, scroll, pointer, clicks, viewport), masks what
//! must never leave the browser, relays it over the WebSocket, and shows the customer UI.
//!
//! The pure logic (id mirror, mutation coalescing, throttling, masking, backoff, config) takes
//! plain Rust types and is tested natively with `cargo test -p cobrowse-client`; the [`web`]
//! modules bind it to the DOM and are tested in headless Chromium with `wasm-bindgen-test`.
//! Page scripts use the loader's `window.Cobrowse` or the npm package, which wrap
//! [`web::client::CobrowseClient`].
//!
//! # Layout
//!
//! * [`mirror`] — node ↔ id mapping plus the replica's tree shape as the agent last saw it.
//! * [`capture`] — the [`capture::DomTree`] abstraction and the subtree serializer.
//! * [`coalesce`] — the net effect of one MutationObserver callback as one `MutationBatch`.
//! * [`mask`] — masking policy hook and the always-on password rule.
//! * [`restrictions`] — the site's mask / hide / restrict rules merged with the page's, per URL.
//! * [`selection`] — selection offsets as they may leave the browser (masked text in placeholder units).
//! * [`throttle`] — animation-frame coalescing of scroll, pointer and resize events.
//! * [`backoff`] — reconnect delays with jitter.
//! * [`config`] — the site's configuration.
//! * [`consent`] — reconciling the customer's write-mode consent with the server's on reconnect.
//! * [`locale`] — the UI texts from `www/locales/customer/*.json` and language fallbacks.
//! * [`web`] — the browser side: [`web::dom`] (DomTree over `web_sys`), [`web::recorder`]
//!   (observer and listeners), [`web::sheets`] (CSSOM capture), [`web::ui`] (customer UI), [`web::actions`] (write-mode actions),
//!   [`web::restrict`] (restriction rules in the browser, the customer's mask marker),
//!   [`web::selection`] (the text selection in wire ids), [`web::images`] (images the agent
//!   cannot load, sent inline), [`web::client`] (session, socket, exported class).
#![deny(clippy::unwrap_used)]

pub mod backoff;
pub mod capture;
pub mod coalesce;
pub mod config;
pub mod consent;
pub mod locale;
pub mod mask;
pub mod mirror;
pub mod restrictions;
pub mod selection;
pub mod throttle;
pub mod web;

pub use web::client::CobrowseClient;
