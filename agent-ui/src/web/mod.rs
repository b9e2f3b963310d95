//! Browser side (wasm32 only): the real DOM backend and the agent page.
//!
//! * [`dom`] — [`crate::replica::DomBackend`] over web-sys, rendering into the sandboxed iframe.
//! * [`control`] — write mode: agent input → node-id `AgentAction`s, navigation bar, release.
//! * [`app`] — the agent page: join flow, socket, status, toolbar, pointers; `start_agent()`.

pub mod app;
pub mod control;
pub mod dom;

pub use app::start_agent;
