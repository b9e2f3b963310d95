//! The JSON contracts (`rest`, `policy`, `codes`) as the runtimes see them: field names, code
//! strings, strictness, and agreement with ARCHITECTURE.md's REST table, which people code
//! against.

use cobrowse_protocol::Code;
use cobrowse_protocol::policy::{DomPolicy, PolicyError, Rule, RuleAction};
use cobrowse_protocol::rest::{
    ApiError, CreatedSession, DesktopEvent, DesktopEventKind, ErrorBody, EventTicket, HistoryPage,
    LiveSessionList, LiveSessionSummary, NodeRef, PageVisit, SessionHistory, SessionLookup,
    Stopped, UiDefaults, ws_url,
};
use cobrowse_protocol::{EndReason, ErrorCode, Mode, SessionState};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn created() -> CreatedSession {
    CreatedSession {
        token: "123456789".into(),
        history_id: "4f1c2b8e-0000-4000-8000-000000000000".into(),
        state: SessionState::Idle,
        customer_secret: "x8Jc1o2AfQm6Jp3iV0bYk4R7tN5sW9eL1uHdGzqPa2M".into(),
        server_url: Some("https://cb.example".into()),
        ws_url: Some(ws_url("https://cb.example").expect("http url")),
        write_mode_allowed: true,
        created_at: 1,
    }
}

fn lookup() -> SessionLookup {
    SessionLookup {
        token: "123456789".into(),
        history_id: "h".into(),
        state: SessionState::Active,
        agents: None,
        created_at: 1,
        activated_at: Some(2),
        write_mode_allowed: false,
        server_url: Some("http://n1:8700".into()),
        ws_url: Some("ws://n1:8700/cobrowse/ws".into()),
        node: NodeRef {
            name: "n1".into(),
            url: Some("http://n1:8700".into()),
        },
        allowed_external_domains: vec!["https://*.cdn.example".into()],
        allowed_third_party_domains: vec![],
    }
}

fn desktop_event() -> DesktopEvent {
    DesktopEvent {
        kind: DesktopEventKind::Activated,
        token: "123456789".into(),
        history_id: "h".into(),
        state: SessionState::Active,
        created_at: 1,
        activated_at: Some(2),
        agent_id: Some("alice".into()),
        agents: 1,
        mode: Mode::Pointer,
        end_reason: None,
        at: 2,
    }
}

fn history() -> SessionHistory {
    SessionHistory {
        history_id: "h".into(),
        token: "123456789".into(),
        created_at: 1,
        activated_at: None,
        ended_at: Some(3),
        end_reason: Some(EndReason::CustomerExit.code().into()),
        origin: Some("https://shop.example".into()),
        pages: vec![PageVisit {
            url: "https://shop.example/".into(),
            title: "Shop".into(),
            at: 1,
        }],
        agent_id: None,
    }
}

fn policy() -> DomPolicy {
    DomPolicy {
        version: 1,
        rules: vec![Rule {
            selector: "#card".into(),
            action: RuleAction::Mask,
            url_pattern: Some("https://shop/*".into()),
        }],
    }
}

/// Every object key in `v`, recursively.
fn keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.insert(k.clone());
                keys(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

/// The answer cell of the REST table row for `request` (e.g. "GET /cobrowse/rest/ui.json").
fn table_answer(architecture: &str, request: &str) -> String {
    let prefix = format!("| `{request}`");
    let row = architecture
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no REST row for {request}"));
    row.rsplit_once(" | ")
        .map(|(_, a)| a)
        .unwrap_or(row)
        .to_owned()
}

/// Quoted words (`"historyId"`, `"high-contrast"`) of a table cell.
fn quoted(cell: &str) -> BTreeSet<String> {
    cell.split('"')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn architecture_rest_table_names_exactly_the_fields_the_types_write() {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "ARCHITECTURE.md"]
        .iter()
        .collect();
    let doc = std::fs::read_to_string(&path).expect("ARCHITECTURE.md exists");
    let states: Vec<String> = SessionState::ALL.iter().map(|s| s.code().into()).collect();
    let values: BTreeSet<String> = states
        .into_iter()
        .chain(
            [
                "mask",
                "hide",
                "restrict",
                "de",
                "auto",
                "light",
                "dark",
                "high-contrast",
                "ok",
                "pointer",
                "write",
            ]
            .map(String::from),
        )
        .chain(DesktopEventKind::ALL.iter().map(|k| k.code().to_string()))
        .collect();
    let cases: Vec<(&str, Value)> = vec![
        (
            "POST /cobrowse/rest/live/sessions",
            serde_json::to_value(created()).unwrap(),
        ),
        (
            "GET /cobrowse/rest/live/sessions/{token}",
            serde_json::to_value(lookup()).unwrap(),
        ),
        (
            "POST /cobrowse/rest/live/sessions/{token}/stop",
            serde_json::to_value(Stopped {
                state: SessionState::Ended,
            })
            .unwrap(),
        ),
        (
            "GET /cobrowse/rest/history/sessions/{historyId}",
            serde_json::to_value(history()).unwrap(),
        ),
        (
            "GET /cobrowse/rest/dom-restrictions.json",
            serde_json::to_value(policy()).unwrap(),
        ),
        (
            "GET /cobrowse/rest/ui.json",
            serde_json::to_value(UiDefaults::default()).unwrap(),
        ),
        (
            "GET /cobrowse/rest/live/sessions/{token}/events",
            serde_json::to_value(desktop_event()).unwrap(),
        ),
        (
            "GET /cobrowse/rest/supervisor/sessions",
            serde_json::to_value(LiveSessionList {
                now: 2,
                sessions: vec![LiveSessionSummary {
                    token: "123456789".into(),
                    history_id: "h".into(),
                    state: SessionState::Active,
                    node: "n1".into(),
                    agents: vec!["jane".into()],
                    agent_count: 1,
                    created_at: 1,
                    activated_at: Some(2),
                    page_url: None,
                }],
            })
            .unwrap(),
        ),
        (
            "GET /cobrowse/rest/supervisor/history?from=&to=&agent=&endReason=&limit=&cursor=",
            serde_json::to_value(HistoryPage {
                sessions: vec![history()],
                next_cursor: None,
            })
            .unwrap(),
        ),
        (
            "POST /cobrowse/rest/live/event-tickets",
            serde_json::to_value(EventTicket {
                ticket: "t".into(),
                expires_at: 1,
            })
            .unwrap(),
        ),
    ];
    for (request, sample) in cases {
        let answer = table_answer(&doc, request);
        let mut fields = BTreeSet::new();
        keys(&sample, &mut fields);
        let written = quoted(&answer);
        let missing: Vec<_> = fields.iter().filter(|f| !written.contains(*f)).collect();
        assert!(
            missing.is_empty(),
            "{request}: ARCHITECTURE.md lacks {missing:?}"
        );
        let unknown: Vec<_> = written
            .iter()
            .filter(|w| !fields.contains(*w) && !values.contains(*w))
            .collect();
        assert!(
            unknown.is_empty(),
            "{request}: ARCHITECTURE.md names {unknown:?}, which the type does not write"
        );
    }
}

/// Every REST error code is documented, with the status it is sent with.
#[test]
fn architecture_names_every_api_error_with_its_status() {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "ARCHITECTURE.md"]
        .iter()
        .collect();
    let doc = std::fs::read_to_string(&path).expect("ARCHITECTURE.md exists");
    let missing: Vec<String> = ApiError::ALL
        .iter()
        .filter(|e| {
            let code = e.code();
            let status = e.status().to_string();
            // `404 unknown_session`, or a status followed by a `|` list holding the code.
            !doc.match_indices(code).any(|(i, _)| {
                let before = &doc[..i];
                let start = before.rfind(['`', '(', ',']).map_or(0, |j| j + 1);
                before[start..].trim_start().starts_with(&status)
            })
        })
        .map(|e| format!("{} {}", e.status(), e.code()))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not document {missing:?}"
    );
}

#[test]
fn rest_answers_use_camel_case_and_code_strings() {
    let v = serde_json::to_value(created()).unwrap();
    assert_eq!(v["state"], "idle");
    assert_eq!(v["wsUrl"], "wss://cb.example/cobrowse/ws");
    assert_eq!(v["historyId"], "4f1c2b8e-0000-4000-8000-000000000000");
    assert!(v["customerSecret"].is_string());
    let back: CreatedSession = serde_json::from_value(v).unwrap();
    assert_eq!(back, created());
    // A server without a configured public URL says so with `null`, never with a URL it made up.
    let unconfigured = CreatedSession {
        server_url: None,
        ws_url: None,
        ..created()
    };
    let v = serde_json::to_value(&unconfigured).unwrap();
    assert_eq!((&v["serverUrl"], &v["wsUrl"]), (&Value::Null, &Value::Null));
    assert_eq!(
        serde_json::from_value::<CreatedSession>(v).unwrap(),
        unconfigured
    );

    let v = serde_json::to_value(lookup()).unwrap();
    assert_eq!(v["agents"], Value::Null);
    assert_eq!(v["node"], json!({"name": "n1", "url": "http://n1:8700"}));
    assert_eq!(
        serde_json::from_value::<SessionLookup>(v).unwrap(),
        lookup()
    );

    let bad = json!({"state": "paused"});
    let err = serde_json::from_value::<Stopped>(bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown code `paused`"), "{err}");
}

#[test]
fn error_bodies_carry_the_code_and_the_message() {
    let v =
        serde_json::to_value(ErrorBody::new(ApiError::UnknownSession, "no live session")).unwrap();
    assert_eq!(
        v,
        json!({"error": {"code": "unknown_session", "message": "no live session"}})
    );
    assert_eq!(ApiError::UnknownSession.status(), 404);
    // The WebSocket error codes and the REST codes that mean the same thing are spelt the same.
    for (ws, rest) in [
        (ErrorCode::UnknownSession, ApiError::UnknownSession),
        (ErrorCode::Unauthorized, ApiError::Unauthorized),
        (ErrorCode::OriginRefused, ApiError::OriginRefused),
        (ErrorCode::RateLimited, ApiError::RateLimited),
    ] {
        assert_eq!(ws.code(), rest.code());
    }
}

#[test]
fn the_policy_document_is_strict_on_both_ends() {
    let text = r##"{"version":1,"rules":[{"selector":"#card","action":"mask","urlPattern":"https://shop/*"}]}"##;
    let doc: DomPolicy = serde_json::from_str(text).unwrap();
    assert_eq!(doc.clone().validate(), Ok(policy()));
    assert_eq!(serde_json::to_string(&doc).unwrap(), text);

    // A misspelt field must not silently apply a rule to every page.
    let typo = r##"{"version":1,"rules":[{"selector":"#card","action":"mask","urlPatern":"x"}]}"##;
    let err = serde_json::from_str::<DomPolicy>(typo)
        .unwrap_err()
        .to_string();
    assert!(err.contains("urlPatern"), "{err}");
    assert!(serde_json::from_str::<DomPolicy>(r#"{"version":1,"rules":[],"extra":1}"#).is_err());
    assert!(
        serde_json::from_str::<DomPolicy>(
            r#"{"version":1,"rules":[{"selector":"a","action":"explode"}]}"#
        )
        .is_err()
    );
    let v2: DomPolicy = serde_json::from_str(r#"{"version":2,"rules":[]}"#).unwrap();
    assert_eq!(v2.validate(), Err(PolicyError::Version(2)));
}
