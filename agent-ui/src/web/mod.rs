//! Browser side (wasm32 only): the real DOM backend and the agent page.
//!
//! * [`dom`] — [`crate::replica::DomBackend`] over web-sys, rendering into the sandboxed iframe.
//! * [`canvas`] — the customer's `<canvas>` frames drawn into the replica's canvases.
//! * [`media`] — the customer's `<video>`/`<audio>` time, paused, rate applied (muted).
//! * [`styles`] — constructed/adopted sheets and the pseudo-state (hover, focus, active) sheet.
//! * [`control`] — write mode: agent input → node-id `AgentAction`s, navigation bar, release.
//! * [`prefs`] — language (texts from `www/locales/agent/`) and theme, the theme picker.
//! * [`app`] — the agent page: join flow, socket, status, toolbar, pointers; `start_agent()`.

pub mod app;
pub mod canvas;
pub mod control;
pub mod dom;
pub mod media;
pub mod prefs;
pub mod styles;

pub use app::start_agent;
