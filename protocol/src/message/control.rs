//! Several agents in one session: who is there ([`Roster`]), who holds control, and how control
//! passes from one agent to another ([`ControlChange`]).
//!
//! # Rules (the server enforces them; `server/src/sessions/control.rs`)
//!
//! * At most one agent **holds control**. Only its pointer, clicks, hover states, mode requests
//!   and write-mode actions reach the customer; every other agent **observes**: it gets the
//!   replica and the events like the agent in control, its pointer is not relayed, and what it
//!   would change is refused with [`crate::RefusalReason::NotInControl`].
//! * An agent joining without [`crate::Hello::observe`] takes control when nobody holds it; one
//!   that joins with `observe` never takes control by joining.
//! * Control passes by [`ControlChange::Give`] from the agent holding it (to an agent that asked
//!   with [`ControlChange::Request`], or unasked). When nobody holds it (its holder left or is
//!   away), a `Request` is granted at once.
//! * Write mode belongs to the customer's consent for one agent: when control passes to another
//!   agent the session returns to pointer mode (`Mode(Revoked { by: Agent })`), and the new
//!   agent in control asks the customer again.

use serde::{Deserialize, Serialize};

/// One agent in a session, as every party sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Present {
    /// The agent's seat: its number in this session (from 1, never reused in the session), the
    /// handle [`ControlChange::Give`] names.
    pub seat: u32,
    /// The agent's identity: a JWT's `sub`, else the id it declared; `None` when it gave none.
    pub agent_id: Option<String>,
    /// True for the one agent that holds control; every other agent observes.
    pub control: bool,
}

/// Server → every party: the agents connected to the session now, in seat order. Sent after
/// `Welcome` and whenever it changes (an agent joins or leaves, control passes), so the
/// customer's UI always lists who is watching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Roster {
    /// The agents, in seat order.
    pub agents: Vec<Present>,
    /// The receiver's own seat (agents only; `None` for the customer and controllers).
    pub you: Option<u32>,
}

impl Roster {
    /// The seat holding control, if any.
    pub fn in_control(&self) -> Option<u32> {
        self.agents.iter().find(|a| a.control).map(|a| a.seat)
    }
}

/// Control hand-over between the agents of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ControlChange {
    /// Agent → server: an observer asks for control. Granted at once when nobody holds it;
    /// otherwise the agent holding it is asked (`Requested`).
    Request,
    /// Server → the agent holding control: the agent in `seat` asks for it.
    Requested {
        /// The asking agent's seat.
        seat: u32,
    },
    /// Agent → server: the agent holding control gives it to the agent in `seat` (answering a
    /// request, or unasked). From any other agent it is refused.
    Give {
        /// The receiving agent's seat.
        seat: u32,
    },
}
