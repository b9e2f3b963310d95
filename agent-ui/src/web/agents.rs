//! Several agents in one session, as this page shows them: the agents list (`#cobrowse-agents`,
//! one `<li data-seat data-agent data-control>` each, this page's own marked `data-you`),
//! whether this page holds control or observes (`<html data-cobrowse-control="control|observe">`),
//! the observer's `#cobrowse-ask-control` button, and, for the agent holding control, the notice
//! `#cobrowse-control-request` when another agent asks, with `#cobrowse-give-control` to hand
//! control over (`cobrowse_protocol::control` has the rules; the server enforces them, this page
//! only shows them).
//!
//! Every element is optional: a host page without them still works, it just shows no list.
//!
//! # Closure ownership
//!
//! The two click listeners are returned to `app::wire_ui`, which keeps them in
//! `State::listeners` for the life of the page.

use super::prefs::{tr, trf};
use cobrowse_protocol::{ControlChange, Message, Roster};
use gloo_events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::{Document, Element};

/// Sends a message on the current connection.
pub type Sender = Rc<dyn Fn(&Message)>;

thread_local! {
    /// The latest roster (`None` before the first).
    static ROSTER: RefCell<Option<Roster>> = const { RefCell::new(None) };
}

fn by_id(doc: &Document, id: &str) -> Option<Element> {
    doc.get_element_by_id(id)
}

fn set_hidden(el: &Option<Element>, hidden: bool) {
    if let Some(e) = el {
        let _ = if hidden {
            e.set_attribute("hidden", "")
        } else {
            e.remove_attribute("hidden")
        };
    }
}

/// The name an agent is shown by: its verified identity, else a neutral word.
fn name(agent_id: Option<&str>) -> String {
    agent_id
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| tr("unnamedAgent"))
}

/// The name of the agent in `seat`, from the latest roster.
fn name_of(seat: u32) -> String {
    ROSTER.with(|r| {
        let r = r.borrow();
        let id = r
            .as_ref()
            .and_then(|r| r.agents.iter().find(|a| a.seat == seat))
            .and_then(|a| a.agent_id.clone());
        name(id.as_deref())
    })
}

/// Wires the ask and give buttons (the listeners are the caller's to keep).
pub(super) fn install(doc: &Document, send: Sender) -> Vec<EventListener> {
    let mut ls = Vec::new();
    if let Some(b) = by_id(doc, "cobrowse-ask-control") {
        let send = send.clone();
        let button = b.clone();
        ls.push(EventListener::new(&b, "click", move |_| {
            send(&Message::Control(ControlChange::Request));
            button.set_text_content(Some(&tr("controlAsked")));
        }));
    }
    if let Some(b) = by_id(doc, "cobrowse-give-control") {
        let doc = doc.clone();
        let button = b.clone();
        ls.push(EventListener::new(&b, "click", move |_| {
            let seat = button
                .get_attribute("data-seat")
                .and_then(|s| s.parse().ok());
            if let Some(seat) = seat {
                send(&Message::Control(ControlChange::Give { seat }));
            }
            set_hidden(&by_id(&doc, "cobrowse-control-request"), true);
        }));
    }
    ls
}

/// Shows a new roster: the list, this page's part, the ask button.
pub(super) fn show_roster(doc: &Document, roster: Roster) {
    let holder = roster.in_control();
    let mine = roster.you.is_some() && holder == roster.you;
    if let Some(root) = doc.document_element() {
        let _ = root.set_attribute(
            "data-cobrowse-control",
            if mine { "control" } else { "observe" },
        );
    }
    if let Some(list) = by_id(doc, "cobrowse-agents") {
        list.set_text_content(None);
        for a in &roster.agents {
            let Ok(li) = doc.create_element("li") else {
                continue;
            };
            let _ = li.set_attribute("data-seat", &a.seat.to_string());
            let _ = li.set_attribute("data-agent", a.agent_id.as_deref().unwrap_or(""));
            let _ = li.set_attribute("data-control", if a.control { "true" } else { "false" });
            if roster.you == Some(a.seat) {
                let _ = li.set_attribute("data-you", "");
            }
            li.set_text_content(Some(&name(a.agent_id.as_deref())));
            let _ = list.append_child(&li);
        }
    }
    let status = if mine {
        tr("youHoldControl")
    } else {
        match holder.and_then(|h| roster.agents.iter().find(|a| a.seat == h)) {
            Some(h) => trf(
                "youObserve",
                &[("name", name(h.agent_id.as_deref()).as_str())],
            ),
            None => tr("nobodyInControl"),
        }
    };
    if let Some(box_) = by_id(doc, "cobrowse-agents-box") {
        let _ = box_.set_attribute("title", &status);
        let _ = box_.remove_attribute("hidden");
    }
    let ask = by_id(doc, "cobrowse-ask-control");
    if let Some(b) = &ask {
        b.set_text_content(Some(&tr("askControl")));
    }
    set_hidden(&ask, mine);
    if !mine {
        // A request waiting for us is moot once we no longer hold control.
        set_hidden(&by_id(doc, "cobrowse-control-request"), true);
    }
    ROSTER.with(|r| *r.borrow_mut() = Some(roster));
}

/// The agent in `seat` asks this page (which holds control) for control.
pub(super) fn show_request(doc: &Document, seat: u32) {
    let text = trf("asksForControl", &[("name", name_of(seat).as_str())]);
    if let Some(t) = by_id(doc, "cobrowse-control-request-text") {
        t.set_text_content(Some(&text));
    }
    if let Some(b) = by_id(doc, "cobrowse-give-control") {
        let _ = b.set_attribute("data-seat", &seat.to_string());
    }
    set_hidden(&by_id(doc, "cobrowse-control-request"), false);
}
