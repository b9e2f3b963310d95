//! Browser side (wasm32 only): the real DOM backend and the agent page.
//!
//! * [`dom`] — [`crate::replica::DomBackend`] over web-sys, rendering into the sandboxed iframe.
//! * [`canvas`] — the customer's `<canvas>` frames drawn into the replica's canvases.
//! * [`media`] — the customer's `<video>`/`<audio>` time, paused, rate applied (muted).
//! * [`styles`] — constructed/adopted sheets and the pseudo-state (hover, focus, active) sheet.
//! * [`control`] — write mode: agent input → node-id `AgentAction`s, navigation bar, release.
//! * [`prefs`] — language (texts from `www/locales/agent/`) and theme, the theme picker.
//! * `clock` — `performance.now()`, the clock of every timing on the page.
//! * `desktop` — the session's events relayed to the embedding agent desktop (`postMessage`,
//!   configured origins only).
//! * `credential` — the agent credential: from the fragment, out of the address bar, kept for
//!   the tab.
//! * `agents` — several agents: the agents list, holding control or observing, asking for and
//!   giving control.
//! * [`app`] — the agent page's wiring: `start_agent()`, listeners. It uses, each on its own:
//!   * `state` — the page's session state, shared by every handler;
//!   * `toolbar` — the page's elements, status line, mode text, request button;
//!   * `link` — session lookup, the WebSocket, `Hello`, reconnect, end of session;
//!   * `dispatch` — what each message from the server does (handed up by `link`);
//!   * `pointers` — both pointers, click rings, and the scaled layout they map through;
//!   * `ink` — annotations: pen and highlight strokes over the replica, sent to the customer;
//!   * `select_popup` — the customer's open native `<select>` popup, drawn over the replica;
//!   * `render` — how long page changes take to paint, reported to the server for its metrics.
//! * `replay` — the replay page: a stored audit recording played into the same replica, with a
//!   timeline (seek, speed, markers); `start_replay()`.

mod agents;
pub mod app;
pub mod canvas;
mod clock;
pub mod control;
mod credential;
mod desktop;
mod dispatch;
pub mod dom;
mod ink;
mod link;
pub mod media;
mod pointers;
pub mod prefs;
mod render;
mod replay;
mod select_popup;
mod state;
pub mod styles;
mod toolbar;

pub use app::start_agent;
pub use replay::start_replay;
