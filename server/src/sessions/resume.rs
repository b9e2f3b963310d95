//! Which link a party's `Hello` continues (`super::link`): the customer's current one or an
//! agent's that is away, when the party still holds what it applied and the gap is all here;
//! otherwise a new link, after settling the old one (write-mode actions its page never applied
//! are refused to the agents, never dropped silently).

use super::link::Link;
use super::session::{ConnRef, Inner};
use super::types::close;
use crate::app::App;
use cobrowse_protocol::link::Kept;
use cobrowse_protocol::{Hello, Role};
use std::sync::Arc;

/// Frames a link replays after a resume.
pub(super) type Replay = Option<Vec<Kept<bytes::Bytes>>>;

fn new_link(app: &App, role: Role, agent_id: Option<String>) -> Arc<Link> {
    Arc::new(Link::new(
        role,
        agent_id,
        app.config.send_queue_frames,
        app.config.replay_bytes,
    ))
}

/// The customer's link for this `Hello`: the current one continued when the page still holds
/// what it applied and the gap is all here (`Some` replay), else a new one. A link that does not
/// continue is settled first: write-mode actions the old page never applied are refused to the
/// agents (`Hello::resume_from` says what it applied when it is the same link).
pub(super) fn customer_link(
    app: &App,
    i: &mut Inner,
    hello: &Hello,
) -> (Option<Arc<Link>>, Replay) {
    let old = i.customer_link.take();
    let Some(lh) = hello.link else {
        if let Some(old) = old {
            i.refuse_undelivered(actions(old.settle(None)));
        }
        return (None, None);
    };
    if let Some(old) = old {
        let same = lh.id == old.id;
        if same
            && lh.replay
            && let Some(replay) = old.replay_after(hello.resume_from.unwrap_or(0))
        {
            return (Some(old), Some(replay));
        }
        let applied = if same { hello.resume_from } else { None };
        i.refuse_undelivered(actions(old.settle(applied)));
    }
    (Some(new_link(app, Role::Customer, None)), None)
}

/// An agent's link for this `Hello`: a link of the same agent that is away (or whose socket the
/// server has not seen die yet) continued when the gap is all here, else a new one (which keeps
/// that old link's seat).
pub(super) fn agent_link(
    app: &App,
    i: &mut Inner,
    conn: &ConnRef,
    hello: &Hello,
) -> (Option<Arc<Link>>, Replay) {
    let Some(lh) = hello.link else {
        return (None, None);
    };
    let mine = |l: &Arc<Link>| l.id == lh.id && l.agent_id == conn.agent_id;
    let found = if let Some(pos) = i.detached_agents.iter().position(mine) {
        Some(i.detached_agents.remove(pos))
    } else if let Some(pos) = i
        .agents
        .iter()
        .position(|a| a.link.as_ref().is_some_and(mine))
    {
        // The old socket is half-open as far as we know: this one replaces it.
        let old = i.agents.remove(pos);
        old.queue
            .close(close::POLICY, "replaced by a newer connection of the agent");
        old.link
    } else {
        None
    };
    if lh.replay
        && let Some(l) = &found
        && let Some(replay) = l.replay_after(hello.resume_from.unwrap_or(0))
    {
        tracing::info!(link = l.id, resume_from = ?hello.resume_from, replayed = replay.len(), "agent link resumed");
        return (found, Some(replay));
    }
    if lh.id != 0 {
        tracing::info!(asked = lh.id, found = found.is_some(), resume_from = ?hello.resume_from, "agent link starts over");
    }
    let link = new_link(app, Role::Agent, conn.agent_id.clone());
    // The same agent's page (or that tab's next page) starting over keeps its seat, and with it
    // control when it held it: it is not another agent taking over.
    if let Some(old) = &found {
        i.control.continue_seat(old.id, link.id);
    }
    (Some(link), None)
}

/// The encoded write-mode actions among settled frames.
fn actions(kept: Vec<Kept<bytes::Bytes>>) -> impl Iterator<Item = bytes::Bytes> {
    kept.into_iter()
        .filter(|k| k.tag == cobrowse_protocol::tags::ACTION)
        .map(|k| k.frame)
}

/// Links of agents that are away, per session: enough for a few agents that drop at once.
pub(super) const DETACHED_AGENT_LINKS: usize = 4;
