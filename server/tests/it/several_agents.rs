//! Several agents in one session, over real sockets: an observer gets the live page and cannot
//! act, control passes by request and give, write mode needs the customer's consent again after
//! a hand-over, everyone's roster follows joins and leaves, an observer leaving ends nothing.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{
    ActionRefused, AgentAction, ControlChange, ErrorCode, Message, ModeChange, Party, Pointer,
    RefusalReason, Role, Roster, SessionEvent,
};

fn click(node: u32) -> Message {
    Message::Action(AgentAction::Click { node, x: 1, y: 2 })
}

fn refused(node: Option<u32>, reason: RefusalReason) -> Message {
    Message::Refused(ActionRefused { node, reason })
}

/// `(agent id, holds control)` of each agent in seat order.
fn who(r: &Roster) -> Vec<(&str, bool)> {
    r.agents
        .iter()
        .map(|a| (a.agent_id.as_deref().unwrap_or(""), a.control))
        .collect()
}

fn pointer(x: i32) -> Message {
    Message::Pointer(Pointer {
        party: Party::Agent,
        pos: Some((x, 5)),
        frame: None,
    })
}

/// The customer grants the write-mode request that `agent` sends.
async fn grant(agent: &mut Ws, customer: &mut Ws) -> Result<()> {
    send(agent, &Message::Mode(ModeChange::Request)).await?;
    until(customer, |m| *m == Message::Mode(ModeChange::Request)).await?;
    send(customer, &Message::Mode(ModeChange::Granted)).await?;
    until(agent, |m| *m == Message::Mode(ModeChange::Granted)).await?;
    Ok(())
}

#[tokio::test]
async fn an_observer_watches_cannot_act_and_control_is_handed_over_with_consent_again() -> Result<()>
{
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("p")).await?;
    sync(&mut customer).await?;

    // Alice joins first and holds control; the customer's roster names her.
    let mut alice = join(&server, agent_hello(&token, "alice")).await?;
    let r = roster(&mut alice, |_| true).await?;
    assert_eq!((who(&r), r.you), (vec![("alice", true)], Some(1)));
    roster(&mut customer, |r| who(r) == [("alice", true)]).await?;

    // Bob joins to watch: he gets the roster (who he is, who holds control), the page, then the
    // live changes; everyone else gets the new roster.
    let mut bob = join(&server, observer_hello(&token, "bob")).await?;
    let r = roster(&mut bob, |_| true).await?;
    assert_eq!(
        (who(&r), r.you),
        (vec![("alice", true), ("bob", false)], Some(2))
    );
    until(&mut bob, |m| snapshot_marker(m).as_deref() == Some("p")).await?;
    let r = roster(&mut customer, |r| r.agents.len() == 2).await?;
    assert_eq!(who(&r), [("alice", true), ("bob", false)]);
    assert_eq!(r.you, None);
    send(&mut customer, &nav(1, "live")).await?;
    until(&mut bob, |m| nav_index(m) == Some(1)).await?;
    until(&mut alice, |m| nav_index(m) == Some(1)).await?;

    // The observer's pointer stays his own; the controller's reaches the customer.
    send(&mut bob, &pointer(111)).await?;
    sync(&mut bob).await?;
    send(&mut alice, &pointer(222)).await?;
    assert_eq!(
        until(&mut customer, |m| matches!(m, Message::Pointer(_))).await?,
        pointer(222)
    );

    // Write mode for alice; the observer sees the mode but every attempt of his is refused.
    grant(&mut alice, &mut customer).await?;
    until(&mut bob, |m| *m == Message::Mode(ModeChange::Granted)).await?;
    send(&mut bob, &click(7)).await?;
    assert_eq!(
        until(&mut bob, |m| matches!(m, Message::Refused(_))).await?,
        refused(Some(7), RefusalReason::NotInControl)
    );
    for attempt in [
        Message::Mode(ModeChange::Request),
        Message::Mode(ModeChange::Revoked { by: Party::Agent }),
        Message::Control(ControlChange::Give { seat: 2 }),
    ] {
        send(&mut bob, &attempt).await?;
        assert_eq!(
            until(&mut bob, |m| matches!(m, Message::Refused(_))).await?,
            refused(None, RefusalReason::NotInControl),
            "{attempt:?}"
        );
    }
    // Nothing of his reached the customer: alice's action is the next thing it sees.
    send(&mut alice, &click(8)).await?;
    assert_eq!(
        until(&mut customer, |m| matches!(
            m,
            Message::Action(_) | Message::Mode(_) | Message::Pointer(_)
        ))
        .await?,
        click(8)
    );

    // Bob asks; alice is asked and gives. Write mode ends for everyone: the customer's consent
    // was for alice.
    send(&mut bob, &Message::Control(ControlChange::Request)).await?;
    assert_eq!(
        until(&mut alice, |m| matches!(m, Message::Control(_))).await?,
        Message::Control(ControlChange::Requested { seat: 2 })
    );
    send(
        &mut alice,
        &Message::Control(ControlChange::Give { seat: 2 }),
    )
    .await?;
    let revoked = Message::Mode(ModeChange::Revoked { by: Party::Agent });
    until(&mut customer, |m| *m == revoked).await?;
    until(&mut bob, |m| *m == revoked).await?;
    until(&mut alice, |m| *m == revoked).await?;
    let r = roster(&mut customer, |r| r.in_control() == Some(2)).await?;
    assert_eq!(who(&r), [("alice", false), ("bob", true)]);
    roster(&mut bob, |r| r.in_control() == Some(2) && r.you == Some(2)).await?;
    roster(&mut alice, |r| {
        r.in_control() == Some(2) && r.you == Some(1)
    })
    .await?;

    // The new controller acts only after the customer consents again; alice now observes.
    send(&mut bob, &click(9)).await?;
    assert_eq!(
        until(&mut bob, |m| matches!(m, Message::Refused(_))).await?,
        refused(Some(9), RefusalReason::NotInWriteMode)
    );
    grant(&mut bob, &mut customer).await?;
    send(&mut bob, &click(10)).await?;
    until(&mut customer, |m| *m == click(10)).await?;
    send(&mut alice, &click(11)).await?;
    assert_eq!(
        until(&mut alice, |m| matches!(m, Message::Refused(_))).await?,
        refused(Some(11), RefusalReason::NotInControl)
    );

    // Alice, observing, leaves: only she goes; the customer's roster drops her.
    send(&mut alice, &Message::Leave).await?;
    let (code, _, seen) = until_close(&mut alice).await?;
    assert_eq!(code, 1000);
    assert!(seen.contains(&Message::Session(SessionEvent::Ended(
        cobrowse_protocol::EndReason::AgentExit
    ))));
    let r = roster(&mut customer, |r| r.agents.len() == 1).await?;
    assert_eq!(who(&r), [("bob", true)]);
    send(&mut bob, &click(12)).await?;
    until(&mut customer, |m| *m == click(12)).await?;

    let text = server.metrics().await?;
    assert_eq!(metric(&text, "cobrowse_control_handovers_total"), Some(1.0));
    server.stop().await
}

#[tokio::test]
async fn a_request_while_nobody_connected_holds_control_is_granted_at_once() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("p")).await?;
    sync(&mut customer).await?;
    let mut alice = join(&server, agent_hello(&token, "alice")).await?;
    let mut bob = join(&server, observer_hello(&token, "bob")).await?;
    roster(&mut customer, |r| r.agents.len() == 2).await?;
    grant(&mut alice, &mut customer).await?;

    // Alice's socket goes (no link to resume): the roster shows nobody in control.
    drop(alice);
    let r = roster(&mut customer, |r| r.agents.len() == 1).await?;
    assert_eq!(who(&r), [("bob", false)]);
    // Bob asks and gets control at once; the grant was alice's, so write mode ends.
    send(&mut bob, &Message::Control(ControlChange::Request)).await?;
    until(&mut customer, |m| {
        *m == Message::Mode(ModeChange::Revoked { by: Party::Agent })
    })
    .await?;
    roster(&mut bob, |r| r.in_control() == Some(2)).await?;
    send(&mut bob, &click(3)).await?;
    assert_eq!(
        until(&mut bob, |m| matches!(m, Message::Refused(_))).await?,
        refused(Some(3), RefusalReason::NotInWriteMode)
    );

    // An agent joining to take part while bob holds control observes.
    let mut carol = join(&server, agent_hello(&token, "carol")).await?;
    let r = roster(&mut carol, |_| true).await?;
    assert_eq!(
        (who(&r), r.you),
        (vec![("bob", true), ("carol", false)], Some(3))
    );
    send(&mut carol, &Message::Mode(ModeChange::Request)).await?;
    assert_eq!(
        until(&mut carol, |m| matches!(m, Message::Refused(_))).await?,
        refused(None, RefusalReason::NotInControl)
    );
    // Only the server sends `Requested`: from an agent it closes the connection.
    send(
        &mut carol,
        &Message::Control(ControlChange::Requested { seat: 1 }),
    )
    .await?;
    expect_refusal(&mut carol, ErrorCode::ProtocolViolation, 1008).await?;
    // A customer may not hand control around either.
    send(
        &mut customer,
        &Message::Control(ControlChange::Give { seat: 3 }),
    )
    .await?;
    expect_refusal(&mut customer, ErrorCode::ProtocolViolation, 1008).await?;
    server.stop().await
}

#[tokio::test]
async fn observing_counts_toward_the_agent_limit() -> Result<()> {
    let server = TestServer::start(|c| c.agent_sessions_limit = 1).await?;
    let (a, _, _) = server.create_session().await?;
    let (b, _, _) = server.create_session().await?;
    let _ca = join(&server, hello(Role::Customer, &a)).await?;
    let _cb = join(&server, hello(Role::Customer, &b)).await?;
    let mut sue = join(&server, observer_hello(&a, "sue")).await?;
    let mut again = connect(&server, None).await?;
    send(&mut again, &observer_hello(&b, "sue")).await?;
    expect_refusal(&mut again, ErrorCode::AgentBusy, 1008).await?;
    // Once she left A (an observer's leave ends only her part), B takes her.
    send(&mut sue, &Message::Leave).await?;
    until_close(&mut sue).await?;
    let _sue_b = join(&server, observer_hello(&b, "sue")).await?;
    server.stop().await
}
