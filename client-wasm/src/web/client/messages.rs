//! The conversation with the relay: the `Hello` once the socket is open, and what each frame
//! from the server does (welcome, snapshots on request, agent pointer and clicks, write-mode
//! consent and actions, session events, errors).

use super::inner::{Inner, error_js};
use crate::session::{ClientError, Phase, ends_session, socket_url};
use crate::web::actions::perform_at;
use cobrowse_protocol::link::Welcomed;
use cobrowse_protocol::{
    ActionRefused, AgentAction, Code, EndReason, Hello, Message, Mode, ModeChange, NavKind, Party,
    RefusalReason, Role, SessionEvent, tags,
};

/// Frames applied between two `Ack`s (one also goes with every keep-alive `Ping`).
const ACK_EVERY: u64 = 32;

impl Inner {
    /// The socket is open: introduce ourselves for the stored session.
    pub(super) fn on_open(&mut self) {
        let Some(s) = &self.session else { return };
        // This page still holds what it applied only if it was welcomed before; a new page of
        // the session names the last page's link so the server can settle it.
        let Ok((resume_from, link)) = self
            .outbox
            .try_borrow()
            .map(|o| o.link.hello(self.page_welcomed))
        else {
            return;
        };
        let hello = Message::Hello(Hello {
            role: Role::Customer,
            token: s.token.clone(),
            auth: Some(s.customer_secret.clone()),
            agent_id: None,
            resume_from,
            client: concat!("cobrowse-client/", env!("CARGO_PKG_VERSION")).into(),
            link: Some(link),
            observe: false,
        });
        self.send(&hello);
    }

    /// The server accepted this socket: take its side of the link, then send what the stream
    /// needs — frames the server missed (a resumed link), or the page as a whole (a new link, a
    /// gap the client no longer holds, or a server without links).
    fn on_welcome_link(&mut self, link: Option<cobrowse_protocol::LinkWelcome>) {
        let welcomed = {
            let Ok(mut out) = self.outbox.try_borrow_mut() else {
                return;
            };
            out.set_sender(self.conn.as_ref().map(|c| c.sender()));
            let welcomed = out.link.welcome(link);
            if let Welcomed::Resumed { resend, .. } = &welcomed
                && out.accepted()
            {
                for frame in resend {
                    out.queue(frame.to_vec());
                }
                out.flush();
            }
            welcomed
        };
        if let Some(conn) = self.conn.take() {
            // Restarted with the server's period.
            self.watch(&conn);
            self.conn = Some(conn);
        }
        self.store_link();
        if let Some(ui) = &self.ui {
            ui.set_reconnecting(false);
        }
        self.ensure_recorder();
        let whole_page = !matches!(
            welcomed,
            Welcomed::Resumed {
                gap_lost: false,
                ..
            }
        );
        let page = self
            .recorder
            .as_ref()
            .filter(|_| whole_page)
            .map(|r| [r.navigation(NavKind::Load), r.snapshot()]);
        if page.is_some()
            && let Ok(mut out) = self.outbox.try_borrow_mut()
        {
            out.budget.link_snapshot();
        }
        for msg in page.into_iter().flatten().flatten() {
            self.send(&msg);
        }
    }

    /// One binary frame from the server.
    pub(super) fn on_frame(&mut self, bytes: &[u8]) {
        let received = match self.outbox.try_borrow_mut() {
            Ok(mut out) => out.link.receive_only::<{ tags::CUSTOMER_RECEIVES }>(bytes),
            Err(_) => return,
        };
        let msg = match received {
            Ok(Some(m)) => m,
            // A frame applied before (a replay), or an acknowledgement.
            Ok(None) => return,
            Err(e) => {
                self.log(&format!("bad frame from server: {e}"));
                return;
            }
        };
        let action = matches!(msg, Message::Action(_));
        self.on_message(msg);
        if action {
            // What this page performed, for the next page of the session should it reload.
            self.store_link();
        }
        let ack = self
            .outbox
            .try_borrow_mut()
            .ok()
            .and_then(|mut o| o.link.ack(ACK_EVERY));
        if let Some(ack) = ack {
            self.send(&ack);
        }
    }

    fn on_message(&mut self, msg: Message) {
        match msg {
            Message::Welcome(w) => {
                self.log(&format!("welcome: {} agents", w.agents));
                self.reconnect.reset();
                self.welcomed_once = true;
                let reconnect = std::mem::replace(&mut self.page_welcomed, true);
                self.set_phase(Phase::welcomed(w.state, w.agents));
                if let Ok(mut out) = self.outbox.try_borrow_mut() {
                    out.batch = w.batch;
                }
                // The link first: what follows is numbered on the stream the server continues.
                self.on_welcome_link(w.link);
                match crate::consent::on_welcome(reconnect, self.mode, w.mode) {
                    crate::consent::OnWelcome::Keep => {}
                    // The server remembers a grant made before a reload (or on a lost node).
                    crate::consent::OnWelcome::Follow => self.set_mode(w.mode),
                    // Taken back while the socket was down: the customer's word counts.
                    crate::consent::OnWelcome::Revoke => {
                        self.send(&Message::Mode(ModeChange::Revoked {
                            by: Party::Customer,
                        }))
                    }
                }
            }
            // Within the upload budget: while a storm has spent it, the resync answers.
            Message::RequestSnapshot => self.send_snapshot_within_budget(),
            Message::Ping(n) => self.send(&Message::Pong(n)),
            Message::Session(ev) => self.on_session_event(ev),
            Message::Pointer(p) if p.party == Party::Agent => {
                if let Some(ui) = &self.ui {
                    ui.draw_pointer(p.pos);
                }
            }
            Message::Click(c) if c.party == Party::Agent => {
                if let Some(ui) = &self.ui {
                    ui.ring(c.x, c.y);
                }
            }
            // Annotations: only ink, in both modes, no consent (see `Ui::draw_ink`). Bounded by
            // the decoder (`Ink::check`) and the relay.
            Message::Ink(ink) => {
                if let Some(ui) = &mut self.ui {
                    ui.draw_ink(u64::from(ink.stroke), &ink);
                }
            }
            Message::Mode(ModeChange::Request) => {
                let ask = self.config.write_mode && self.mode == Mode::Pointer;
                match &self.ui {
                    Some(ui) if ask => ui.show_write_request(),
                    _ => self.send(&Message::Mode(ModeChange::Denied)),
                }
            }
            Message::Mode(ModeChange::Revoked { .. }) => {
                if let Some(ui) = &self.ui {
                    ui.close_write_request();
                }
                if self.mode == Mode::Write {
                    self.set_mode(Mode::Pointer);
                }
            }
            Message::Action(a) => {
                let result = if self.mode != Mode::Write {
                    Err(RefusalReason::NotInWriteMode)
                } else {
                    let resolve = |id: u32| self.recorder.as_ref().and_then(|r| r.node(id));
                    let node = a.target().and_then(resolve);
                    let caret = match &a {
                        AgentAction::Edit { caret: Some(c), .. } => resolve(c.node),
                        _ => None,
                    };
                    perform_at(&self.window, node, caret, &a)
                };
                self.log(&format!("agent action on {:?}: {result:?}", a.target()));
                if let Err(reason) = result {
                    self.send(&Message::Refused(ActionRefused {
                        node: a.target(),
                        reason,
                    }));
                }
            }
            Message::Roster(r) => {
                if let Some(ui) = &self.ui {
                    let agents: Vec<_> = r
                        .agents
                        .into_iter()
                        .map(|a| (a.agent_id, a.control))
                        .collect();
                    ui.show_watchers(&agents);
                }
            }
            Message::Error(e) => {
                self.log(&format!("server error: {}", e.message));
                self.last_error = Some(e.code);
                let err = ClientError::Server {
                    code: e.code.code(),
                    message: e.message.clone(),
                };
                self.emit("error", error_js(&err));
                if ends_session(e.code) {
                    self.end(EndReason::Other(e.message), false);
                }
            }
            other => self.log(&format!("ignored frame tag {}", other.tag())),
        }
    }

    fn on_session_event(&mut self, ev: SessionEvent) {
        match ev {
            SessionEvent::AgentJoined { agent_id, .. } => {
                self.set_phase(Phase::Active);
                if let Some(ui) = &self.ui {
                    ui.status(&self.texts.agent_joined);
                }
                let o = js_sys::Object::new();
                if let Some(id) = agent_id {
                    let _ = js_sys::Reflect::set(&o, &"agentId".into(), &id.into());
                }
                self.emit("agentJoined", o.into());
            }
            SessionEvent::AgentLeft { agent_id, .. } => {
                if let Some(ui) = &self.ui {
                    ui.status(&self.texts.agent_left);
                    ui.draw_pointer(None);
                }
                let o = js_sys::Object::new();
                if let Some(id) = agent_id {
                    let _ = js_sys::Reflect::set(&o, &"agentId".into(), &id.into());
                }
                self.emit("agentLeft", o.into());
            }
            SessionEvent::Ended(reason) => self.end(reason, false),
            SessionEvent::AgentBusy => {
                if let Some(ui) = &self.ui {
                    ui.status(&self.texts.agent_busy);
                }
            }
            SessionEvent::OwnerChanged { server_url } => match socket_url(&server_url) {
                Ok(ws_url) => {
                    if let Some(s) = &mut self.session {
                        s.ws_url = ws_url;
                    }
                    self.store_session();
                }
                // The node we are connected to serves the session; its URL stays the one to
                // reconnect to rather than a socket URL that cannot open.
                Err(e) => self.log(&format!("owner changed: {e}")),
            },
            SessionEvent::ServerGoingAway
            | SessionEvent::CustomerDisconnected
            | SessionEvent::CustomerReconnected => {}
        }
    }
}
