//! Session registry, lifecycle, timers and the relay itself.
//!
//! # Invariants
//!
//! * A token is unique among the sessions in the registry, which includes ended sessions until
//!   `session.endedRetention` has passed (so a returning party hears "ended", not "unknown", and
//!   the token cannot be handed out again meanwhile).
//! * State only moves `Idle → Active → Ended` or `Idle → Ended`; an ended session accepts no
//!   joins and no frames.
//! * All of a session's state sits behind one mutex that is never held across an `.await`;
//!   sockets are written by their own writer tasks from
//!   [`SendQueue`](crate::queue::SendQueue)s, so relaying is a few queue pushes under the lock.
//! * Every transition is announced to every party: customer and agents get
//!   [`SessionEvent`](cobrowse_protocol::SessionEvent)s, controllers get the same plus
//!   [`ControllerEvent`](cobrowse_protocol::ControllerEvent)s (JOIN / ACTIVATED / DEACTIVATED).
//!
//! # Late join and resync
//!
//! A joining or lagging agent gets the cached page (latest snapshot + page-state log) right
//! after `Welcome`; `cache` says what is kept and when the customer is asked for a snapshot.
//!
//! # Layout
//!
//! * `types` — close codes, refusals, server frames, token shape, state and end-reason names.
//! * `ink_gate` — how much annotation ink one agent connection may have relayed.
//! * `render_gate` — at most one render report per agent connection and interval.
//! * `timers` — a session's pending timers, one slot per kind, cancelled once moot.
//! * [`link`] — one party's numbered stream across its sockets: numbering, replay buffer, acks.
//! * `cache` — the late-joiner page cache (snapshot + log) and when to ask for a snapshot.
//! * `recorder` — the audit recording of a session whose site is recorded, in chunks.
//! * `session` — one session's state and parties, what they are sent (also while away), the
//!   registry of all.
//! * `resume` — which link a `Hello` continues, and settling one that does not.
//! * `control` — seats, who holds control among the agents, the roster, hand-overs.
//! * [`agent_limit`] — `agentSessionsLimit` across the cluster, counted in shared storage.
//! * `join` — a party joining: `Welcome`, link, the gap or the cached page, agent limit, events.
//! * `lifecycle` — create/adopt, join/disconnect, timers, end (acknowledged once written),
//!   `Hello` checks.
//! * `restart` — at start: re-adopting (alone) or failing over (cluster) what a crashed run
//!   left live.
//! * `fence` — giving sessions up that this node no longer owns (lost write, failed heartbeat).
//! * `relay` — [`handle`]: who may send what, and where each frame goes.
//! * `shutdown` — ending every session, or handing every session over (cluster mode).
//!
//! Children import only siblings above them in that list (`relay` uses `lifecycle::end`);
//! this module only re-exports.

pub mod agent_limit;
mod cache;
mod control;
mod fence;
mod ink_gate;
mod join;
mod lifecycle;
pub mod link;
mod recorder;
mod relay;
mod render_gate;
mod restart;
mod resume;
mod session;
mod shutdown;
mod timers;
mod types;

#[cfg(test)]
mod tests;

pub use cache::CacheBudget;
pub use fence::{relinquish, relinquish_all};
pub use ink_gate::{InkDrop, InkGate};
pub use join::join;
pub use lifecycle::{CreateError, adopt, create, disconnect, end, find_for_hello};
pub use link::Link;
pub use relay::handle;
pub use render_gate::RenderGate;
pub use restart::{Recovered, recover};
pub use session::{ConnRef, Registry, Session, SessionInfo};
pub use shutdown::{hand_over_all, shutdown_all};
pub use types::{Refusal, close, frame, is_token_shaped, new_token};
