//! Event-stream tickets: `POST live/event-tickets` (agent credential) → a random ticket that
//! opens one stream as `?ticket=…` within [`TTL`], once. The browser's `EventSource` cannot
//! send `Authorization`, and a long-lived credential in a URL ends up in logs and histories; a
//! ticket there is worth one stream for a minute.
//!
//! Tickets live in this node's memory: ask the node that will serve the stream (in a cluster,
//! the session's owner, which the balancer's sticky cookie from the lookup selects).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a ticket opens a stream.
pub const TTL: Duration = Duration::from_secs(60);
/// Tickets held at most (unused ones expire); beyond it new ones are refused.
const MAX_TICKETS: usize = 10_000;

/// What a ticket stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The credential's agent identity (a JWT's `sub`); `None` for the agent token.
    pub subject: Option<String>,
}

/// The tickets handed out.
#[derive(Debug, Default)]
pub struct Tickets {
    held: Mutex<HashMap<String, (Instant, Grant)>>,
}

impl Tickets {
    /// A new ticket for `grant`; `None` when too many are outstanding.
    pub fn issue(&self, grant: Grant) -> Option<String> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        held.retain(|_, (expires, _)| *expires > now);
        if held.len() >= MAX_TICKETS {
            return None;
        }
        let bytes: [u8; 24] = rand::random();
        let ticket: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        held.insert(ticket.clone(), (now + TTL, grant));
        Some(ticket)
    }

    /// Uses up `ticket`: its grant when it is held and not expired.
    pub fn redeem(&self, ticket: &str) -> Option<Grant> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let (expires, grant) = held.remove(ticket)?;
        (expires > Instant::now()).then_some(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_once() {
        let t = Tickets::default();
        let grant = Grant {
            subject: Some("a1".into()),
        };
        let ticket = t.issue(grant.clone()).expect("issued");
        assert_eq!(ticket.len(), 48);
        assert_eq!(t.redeem("nope"), None);
        assert_eq!(t.redeem(&ticket), Some(grant));
        assert_eq!(t.redeem(&ticket), None, "single use");
    }
}
