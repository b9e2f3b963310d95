//! The supervisor console's REST endpoints against a real server: who gets an answer (the
//! supervisor role only), what the live list says about a session (state, agent, the page as the
//! customer sent it), ending a session with the ordinary stop and the supervisor credential, and
//! the history search with its filters and pages. The cluster-wide list is checked in
//! `cluster` (a session of one node listed by another), the stores' search in `store_suite`.

use crate::common::*;
use anyhow::{Context, Result};
use cobrowse_protocol::{EndReason, Message, Role, SessionEvent};

/// The supervisor token these tests configure.
const SUPERVISOR: &str = "test-supervisor-token-0123456789";
const SUPERVISOR_AUTH: (&str, &str) = ("Authorization", "Bearer test-supervisor-token-0123456789");

async fn supervised() -> Result<TestServer> {
    TestServer::start(|c| c.auth.supervisor_token = Some(SUPERVISOR.into())).await
}

async fn get(server: &TestServer, path: &str, auth: &[(&str, &str)]) -> Result<HttpAnswer> {
    http("GET", &server.url(path), auth, None).await
}

#[tokio::test]
async fn only_the_supervisor_role_gets_an_answer() -> Result<()> {
    let server = supervised().await?;
    for path in [
        "/cobrowse/rest/supervisor/sessions",
        "/cobrowse/rest/supervisor/history",
    ] {
        let none = get(&server, path, &[]).await?;
        assert_eq!(none.status, 401, "{path}: {}", none.body);
        assert_eq!(none.json()?["error"]["code"], "unauthorized");
        let agent = get(&server, path, &[AGENT_AUTH]).await?;
        assert_eq!(agent.status, 403, "{path}: {}", agent.body);
        assert_eq!(agent.json()?["error"]["code"], "forbidden");
        let wrong = get(
            &server,
            path,
            &[("Authorization", "Bearer not-a-credential-at-all")],
        )
        .await?;
        assert_eq!(wrong.status, 401, "{path}");
        let ok = get(&server, path, &[SUPERVISOR_AUTH]).await?;
        assert_eq!(ok.status, 200, "{path}: {}", ok.body);
    }
    server.stop().await?;
    // Nobody is a supervisor unless configured: without a supervisor token, the agent token
    // (the strongest credential there is) is refused.
    let plain = TestServer::start(|_| {}).await?;
    let agent = get(&plain, "/cobrowse/rest/supervisor/sessions", &[AGENT_AUTH]).await?;
    assert_eq!(agent.status, 403, "{}", agent.body);
    plain.stop().await
}

#[tokio::test]
async fn a_live_session_is_listed_with_its_agent_and_page_and_a_supervisor_ends_it() -> Result<()> {
    let server = supervised().await?;
    let (token, history_id, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let mut agent = join(&server, agent_hello(&token, "jane@desk")).await?;
    send(&mut customer, &snapshot("page")).await?;
    send(&mut customer, &nav(3, "Checkout")).await?;
    // The agent has the navigation: the server has handled it.
    until(&mut agent, |m| nav_index(m) == Some(3)).await?;

    let list = get(
        &server,
        "/cobrowse/rest/supervisor/sessions",
        &[SUPERVISOR_AUTH],
    )
    .await?;
    assert_eq!(list.status, 200, "{}", list.body);
    let v = list.json()?;
    let s = v["sessions"]
        .as_array()
        .context("sessions")?
        .iter()
        .find(|s| s["token"] == token.as_str())
        .context("the session is listed")?
        .clone();
    assert_eq!(s["historyId"], history_id.as_str());
    assert_eq!(s["state"], "active");
    assert_eq!(s["node"], "test-node");
    assert_eq!(s["agents"], serde_json::json!(["jane@desk"]));
    assert_eq!(s["agentCount"], 1);
    assert_eq!(s["pageUrl"], "https://shop.example/p/3");
    assert!(v["now"].as_u64().context("now")? >= s["createdAt"].as_u64().context("createdAt")?);

    // Ending it is the ordinary stop, with the supervisor credential.
    let stop = http(
        "POST",
        &server.url(&format!("/cobrowse/rest/live/sessions/{token}/stop")),
        &[SUPERVISOR_AUTH],
        None,
    )
    .await?;
    assert_eq!(stop.status, 200, "{}", stop.body);
    let (_, _, seen) = until_close(&mut customer).await?;
    assert!(seen.contains(&Message::Session(SessionEvent::Ended(EndReason::ApiStop))));

    let list = get(
        &server,
        "/cobrowse/rest/supervisor/sessions",
        &[SUPERVISOR_AUTH],
    )
    .await?;
    assert!(
        !list.body.contains(&token),
        "an ended session is not live: {}",
        list.body
    );
    let found = get(
        &server,
        "/cobrowse/rest/supervisor/history?agent=jane%40desk&endReason=api_stop",
        &[SUPERVISOR_AUTH],
    )
    .await?
    .json()?;
    assert_eq!(found["sessions"][0]["historyId"], history_id.as_str());
    assert_eq!(found["sessions"][0]["endReason"], "api_stop");
    assert_eq!(found["nextCursor"], serde_json::Value::Null);
    let nobody = get(
        &server,
        "/cobrowse/rest/supervisor/history?agent=someone-else",
        &[SUPERVISOR_AUTH],
    )
    .await?
    .json()?;
    assert_eq!(nobody["sessions"], serde_json::json!([]));
    server.stop().await
}

#[tokio::test]
async fn the_history_search_pages_and_checks_its_parameters() -> Result<()> {
    let server = supervised().await?;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (token, history_id, _) = server.create_session().await?;
        let stop = http(
            "POST",
            &server.url(&format!("/cobrowse/rest/live/sessions/{token}/stop")),
            &[SUPERVISOR_AUTH],
            None,
        )
        .await?;
        assert_eq!(stop.status, 200);
        ids.push(history_id);
    }
    let first = get(
        &server,
        "/cobrowse/rest/supervisor/history?limit=2",
        &[SUPERVISOR_AUTH],
    )
    .await?
    .json()?;
    let cursor = first["nextCursor"].as_str().context("a next page")?;
    let second = get(
        &server,
        &format!("/cobrowse/rest/supervisor/history?limit=2&cursor={cursor}"),
        &[SUPERVISOR_AUTH],
    )
    .await?
    .json()?;
    assert_eq!(second["nextCursor"], serde_json::Value::Null);
    let seen: Vec<&str> = first["sessions"]
        .as_array()
        .into_iter()
        .chain(second["sessions"].as_array())
        .flatten()
        .filter_map(|s| s["historyId"].as_str())
        .collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for id in &ids {
        assert!(seen.contains(&id.as_str()), "{id} in {seen:?}");
    }
    // A range that ends before them finds none of them.
    let before = get(
        &server,
        "/cobrowse/rest/supervisor/history?from=0&to=1000",
        &[SUPERVISOR_AUTH],
    )
    .await?
    .json()?;
    assert_eq!(before["sessions"], serde_json::json!([]));
    for bad in ["limit=0", "limit=101", "from=soon", "cursor=nope"] {
        let r = get(
            &server,
            &format!("/cobrowse/rest/supervisor/history?{bad}"),
            &[SUPERVISOR_AUTH],
        )
        .await?;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json()?["error"]["code"], "bad_request");
    }
    server.stop().await
}
