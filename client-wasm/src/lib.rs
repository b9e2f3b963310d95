//! Cobrowse customer side, compiled to wasm: captures the customer's page (full snapshot, then
//! coalesced MutationObserver deltas, form state, scroll, pointer, clicks, viewport), masks what
//! must never leave the browser, relays it over the WebSocket, and shows the customer UI.
//!
//! The pure logic takes plain Rust types and is tested natively with
//! `cargo test -p cobrowse-client`; the `web` modules (wasm32 only) bind it to the DOM and are
//! tested in headless Chromium with `wasm-bindgen-test`. Page scripts use the loader's
//! `window.Cobrowse` or the npm package, which wrap `web::client::CobrowseClient`.
//!
//! # Layout
//!
//! Pure modules over plain types, tested natively:
//! * [`mirror`] — node ↔ id mapping plus the replica's tree shape as the agent last saw it.
//! * [`capture`] — the [`capture::DomTree`] abstraction and the subtree serializer.
//! * [`record`] — one MutationObserver record as plain data.
//! * [`coalesce`] — the net effect of one MutationObserver callback as one `MutationBatch`.
//! * [`mask`] — what may leave the browser: the always-on rules (passwords, also revealed
//!   ones, secret `autocomplete` fields, hidden inputs) and the policy hook for site rules.
//! * [`page_mask`] — the page's address and title as they may leave the browser.
//! * [`placeholder`] — the same-length placeholders masked content becomes.
//! * [`restrictions`] — the site's mask / hide / restrict rules (the protocol's policy types)
//!   merged with the page's, per URL.
//! * [`selection`] — selection offsets as they may leave the browser (masked text in placeholder units).
//! * [`throttle`] — animation-frame coalescing of scroll, pointer and resize events.
//! * [`slots`] — what goes through the throttle and the message each slot becomes.
//! * [`media`] — when a `<video>`/`<audio>` state is worth sending.
//! * [`paint`] — the rules behind `Paint` frames: custom element names, top-layer order, the
//!   guessed `<select>` popup, pairing script-made faces with downloads, animation numbers.
//! * [`actions`] — write-mode rules: what the agent may click or type into, same-origin navigation.
//! * [`ui`] — the actions the customer UI's buttons name, HTML escaping.
//! * [`session`] — the stored session record made from the REST answer, the session's phases,
//!   the page's errors.
//! * [`backoff`] — reconnect delays with jitter (`cobrowse_common::backoff`, re-exported).
//! * [`config`] — the site's configuration.
//! * [`batching`] — the frames of one task grouped into as few WebSocket messages as the server
//!   takes (`Batch`).
//! * [`upload_budget`] — the byte budget of the customer's uploads: which frames it pays for,
//!   when deltas are held, when the one resync snapshot is due.
//! * [`consent`] — reconciling the customer's write-mode consent with the server's on reconnect.
//! * [`fields`] — the serde field list of a type (strict object checks, declaration tests).
//! * [`locale`] — the UI texts from `www/locales/customer/*.json`, language choice and fallbacks.
//!
//! Browser modules (wasm32 only), tested with `wasm-bindgen-test` in headless Chromium:
//! `web::dom` (DomTree over `web_sys`), `web::facts` (masking facts of live elements, fields
//! that were ever passwords), `web::recorder` (observer and listeners), `web::sheets`
//! (CSSOM capture), `web::canvas` and `web::media` (sampled canvas and media state),
//! `web::images` (images the agent cannot load, sent inline), `web::selection` (the text
//! selection in wire ids), `web::restrict` (restriction rules in the browser, the customer's
//! mask marker), `web::strict` (browser objects read without unknown keys), `web::actions`
//! (write-mode actions), `web::ui` (customer UI), `web::lang` (language in the browser),
//! `web::client` (session, socket, exported class).
//!
//! Every contract with the server and the agent page — frames, REST bodies and paths, event
//! codes, close codes, the DOM restriction document — is `cobrowse_protocol`'s, and the shared
//! helpers (URL glob, reconnect backoff) are `cobrowse_common`'s: this crate keeps no copies.
#![deny(clippy::unwrap_used)]

pub mod actions;
pub mod batching;
pub use cobrowse_common::backoff;
pub mod capture;
pub mod coalesce;
pub mod config;
pub mod consent;
pub mod fields;
pub mod locale;
pub mod mask;
pub mod media;
pub mod mirror;
pub mod page_mask;
pub mod paint;
pub mod placeholder;
pub mod record;
pub mod restrictions;
pub mod rule_texts;
pub mod selection;
pub mod session;
pub mod slots;
pub mod throttle;
pub mod ui;
pub mod upload_budget;
pub mod walk;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub use web::client::CobrowseClient;
