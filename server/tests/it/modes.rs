//! Agent limits, write mode enforcement, role rules and agent auth.

use crate::common::*;
use anyhow::Result;
use cobrowse_protocol::{
    ActionRefused, AgentAction, ErrorCode, Hello, Message, ModeChange, Party, Pointer,
    RefusalReason, Role, SessionEvent,
};

#[tokio::test]
async fn agent_limit_refuses_a_busy_agent_and_tells_the_customer() -> Result<()> {
    let server = TestServer::start(|c| c.agent_sessions_limit = 1).await?;
    let (a, _, _) = server.create_session().await?;
    let (b, _, _) = server.create_session().await?;
    let _ca = join(&server, hello(Role::Customer, &a)).await?;
    let mut cb = join(&server, hello(Role::Customer, &b)).await?;
    let mut alice_a = join(&server, agent_hello(&a, "alice")).await?;

    let mut alice_b = connect(&server, None).await?;
    send(&mut alice_b, &agent_hello(&b, "alice")).await?;
    expect_refusal(&mut alice_b, ErrorCode::AgentBusy, 1008).await?;
    assert_eq!(
        frame(&mut cb).await?,
        Message::Session(SessionEvent::AgentBusy)
    );

    // Another agent may join B; and alice may once she left A.
    let _bob = join(&server, agent_hello(&b, "bob")).await?;
    send(&mut alice_a, &Message::Leave).await?;
    until_close(&mut alice_a).await?;
    let _alice_b = join(&server, agent_hello(&b, "alice")).await?;
    server.stop().await
}

#[tokio::test]
async fn write_mode_must_be_granted_before_actions_pass() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("p")).await?;
    sync(&mut customer).await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::AgentJoined { .. }))
    })
    .await?;

    let click = Message::Action(AgentAction::Click {
        node: 7,
        x: 1,
        y: 2,
    });
    send(&mut agent, &click).await?;
    assert_eq!(
        until(&mut agent, |m| matches!(m, Message::Refused(_))).await?,
        Message::Refused(ActionRefused {
            node: Some(7),
            reason: RefusalReason::NotInWriteMode
        })
    );

    // A grant nobody asked for changes nothing.
    send(&mut customer, &Message::Mode(ModeChange::Granted)).await?;
    send(&mut agent, &click).await?;
    assert!(matches!(
        until(&mut agent, |m| matches!(
            m,
            Message::Refused(_) | Message::Mode(_)
        ))
        .await?,
        Message::Refused(_)
    ));

    send(&mut agent, &Message::Mode(ModeChange::Request)).await?;
    assert_eq!(
        frame(&mut customer).await?,
        Message::Mode(ModeChange::Request)
    );
    send(&mut customer, &Message::Mode(ModeChange::Granted)).await?;
    assert_eq!(
        until(&mut agent, |m| matches!(m, Message::Mode(_))).await?,
        Message::Mode(ModeChange::Granted)
    );
    send(&mut agent, &click).await?;
    assert_eq!(frame(&mut customer).await?, click);

    let revoke = Message::Mode(ModeChange::Revoked {
        by: Party::Customer,
    });
    send(&mut customer, &revoke).await?;
    assert_eq!(frame(&mut agent).await?, revoke);
    send(&mut agent, &click).await?;
    assert!(matches!(frame(&mut agent).await?, Message::Refused(_)));
    server.stop().await
}

#[tokio::test]
async fn write_mode_disabled_refuses_requests() -> Result<()> {
    let server = TestServer::start(|c| c.write_mode_allowed = false).await?;
    let (token, _, created) = server.create_session().await?;
    assert_eq!(created["writeModeAllowed"], false);
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("p")).await?;
    sync(&mut customer).await?;
    let mut agent = connect(&server, None).await?;
    send(&mut agent, &agent_hello(&token, "alice")).await?;
    match frame(&mut agent).await? {
        Message::Welcome(w) => assert!(!w.write_mode_allowed),
        other => panic!("expected Welcome, got {other:?}"),
    }
    send(&mut agent, &Message::Mode(ModeChange::Request)).await?;
    assert_eq!(
        until(&mut agent, |m| matches!(m, Message::Refused(_))).await?,
        Message::Refused(ActionRefused {
            node: None,
            reason: RefusalReason::WriteModeDisabled
        })
    );
    // The request never reached the customer: its next frames are the join and our pong.
    send(&mut customer, &Message::Ping(1)).await?;
    let seen = [frame(&mut customer).await?, frame(&mut customer).await?];
    assert!(matches!(
        seen[0],
        Message::Session(SessionEvent::AgentJoined { .. })
    ));
    assert_eq!(seen[1], Message::Pong(1));
    server.stop().await
}

#[tokio::test]
async fn messages_outside_a_role_close_the_connection() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    send(&mut agent, &snapshot("forged")).await?;
    let reason = expect_refusal(&mut agent, ErrorCode::ProtocolViolation, 1008).await?;
    assert!(reason.contains("Snapshot"), "{reason}");

    // Pretending to be the other party is refused too.
    let mut agent2 = join(&server, agent_hello(&token, "bob")).await?;
    send(
        &mut agent2,
        &Message::Pointer(Pointer {
            party: Party::Customer,
            pos: Some((1, 1)),
            frame: None,
        }),
    )
    .await?;
    expect_refusal(&mut agent2, ErrorCode::ProtocolViolation, 1008).await?;

    send(
        &mut customer,
        &Message::Action(AgentAction::Focus { node: 1 }),
    )
    .await?;
    expect_refusal(&mut customer, ErrorCode::ProtocolViolation, 1008).await?;
    server.stop().await
}

#[tokio::test]
async fn agent_auth_token_is_required_when_configured() -> Result<()> {
    const SECRET: &str = "0123456789abcdef-secret";
    let server = TestServer::start(|c| c.auth.agent_token = Some(SECRET.into())).await?;
    let (token, history_id, _) = server.create_session().await?;
    // Customers need no agent token.
    let _customer = join(&server, hello(Role::Customer, &token)).await?;

    let mut agent = connect(&server, None).await?;
    send(&mut agent, &agent_hello(&token, "alice")).await?;
    expect_refusal(&mut agent, ErrorCode::Unauthorized, 1008).await?;
    let mut controller = connect(&server, None).await?;
    send(&mut controller, &hello(Role::Controller, &token)).await?;
    expect_refusal(&mut controller, ErrorCode::Unauthorized, 1008).await?;

    let _agent = join(
        &server,
        Message::Hello(Hello {
            role: Role::Agent,
            token: token.clone(),
            auth: Some(SECRET.into()),
            agent_id: Some("alice".into()),
            resume_from: None,
            client: "t".into(),
            link: None,
            observe: false,
        }),
    )
    .await?;

    let url = server.url(&format!("/cobrowse/rest/live/sessions/{token}"));
    assert_eq!(http("GET", &url, &[], None).await?.status, 401);
    let bearer = format!("Bearer {SECRET}");
    assert_eq!(
        http("GET", &url, &[("Authorization", &bearer)], None)
            .await?
            .status,
        200
    );
    let hurl = server.url(&format!("/cobrowse/rest/history/sessions/{history_id}"));
    let r = http("GET", &hurl, &[], None).await?;
    assert_eq!(
        (r.status, r.json()?["error"]["code"].clone()),
        (401, "unauthorized".into())
    );
    assert_eq!(
        http("GET", &hurl, &[("Authorization", &bearer)], None)
            .await?
            .status,
        200
    );
    server.stop().await
}
