//! The document against the route table and the OpenAPI rules a reader relies on.

use super::*;
use serde_json::Value;

fn json() -> Value {
    serde_json::to_value(document()).expect("serialisable")
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every (METHOD, path, operationId) in the document.
fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(*m) {
                let id = op["operationId"].as_str().expect("operationId").to_owned();
                out.push((m.to_uppercase(), path.clone(), id));
            }
        }
    }
    out
}

#[test]
fn it_is_openapi_3_1_with_the_server_version() {
    let doc = json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn it_describes_exactly_the_route_tables() {
    let mut want: Vec<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), format!("{REST_PREFIX}/{}", r.path)))
        .collect();
    want.extend(
        OTHER_ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned())),
    );
    want.sort();
    let mut got: Vec<(String, String)> = operations(&json())
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn each_endpoint_has_its_operation_id_and_ids_are_unique() {
    let ops = operations(&json());
    for r in ROUTES.iter().filter(|r| r.method != "HEAD") {
        let path = format!("{REST_PREFIX}/{}", r.path);
        assert!(
            ops.iter()
                .any(|(m, p, id)| *m == r.method && *p == path && id == operation_id(r.endpoint)),
            "{} {path} is not {}",
            r.method,
            operation_id(r.endpoint)
        );
    }
    let mut ids: Vec<&String> = ops.iter().map(|(_, _, id)| id).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate operationId");
}

#[test]
fn every_response_has_a_description_and_errors_carry_their_status() {
    let doc = json();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            let Some(op) = item.get(*m) else { continue };
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{m} {path} has no responses");
            for (status, r) in responses {
                let text = r["description"].as_str().unwrap_or("");
                assert!(!text.is_empty(), "{m} {path} {status}: no description");
                if path == "/cobrowse/css-proxy" || !status.starts_with(['4', '5']) {
                    continue;
                }
                // REST errors: every code named is answered with this status.
                for e in ApiError::ALL {
                    if text.contains(&format!("`{}`:", e.code())) {
                        assert_eq!(status, &e.status().to_string(), "{m} {path}: {e:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn rate_limited_answers_require_retry_after_and_credentials_are_declared() {
    let doc = json();
    let lookup = &doc["paths"]["/cobrowse/rest/live/sessions/{token}"]["get"];
    let retry = &lookup["responses"]["429"]["headers"]["Retry-After"];
    assert_eq!(retry["required"], true);
    assert_eq!(retry["schema"]["type"], "integer");
    assert_eq!(
        lookup["security"],
        serde_json::json!([{ AGENT_SCHEME: [] }])
    );
    let stop = &doc["paths"]["/cobrowse/rest/live/sessions/{token}/stop"]["post"];
    assert_eq!(
        stop["security"],
        serde_json::json!([{ AGENT_SCHEME: [] }, { CUSTOMER_SCHEME: [] }])
    );
    for scheme in [AGENT_SCHEME, CUSTOMER_SCHEME] {
        assert_eq!(
            doc["components"]["securitySchemes"][scheme]["scheme"],
            "bearer"
        );
    }
}

#[test]
fn event_streams_are_event_streams_of_desktop_events_behind_the_agent_credential_or_a_ticket() {
    let doc = json();
    for path in [
        "/cobrowse/rest/live/sessions/{token}/events",
        "/cobrowse/rest/live/agents/{agentId}/events",
    ] {
        let op = &doc["paths"][path]["get"];
        let ok = &op["responses"]["200"]["content"]["text/event-stream"]["schema"]["$ref"];
        assert_eq!(ok, "#/components/schemas/DesktopEvent", "{path}");
        assert_eq!(
            op["security"],
            serde_json::json!([{ AGENT_SCHEME: [] }, { TICKET_SCHEME: [] }]),
            "{path}"
        );
        assert!(op["responses"]["401"].is_object(), "{path}");
    }
    let ticket = &doc["components"]["securitySchemes"][TICKET_SCHEME];
    assert_eq!(
        (&ticket["type"], &ticket["in"], &ticket["name"]),
        (
            &Value::from("apiKey"),
            &Value::from("query"),
            &Value::from("ticket")
        )
    );
    let agent = &doc["paths"]["/cobrowse/rest/live/agents/{agentId}/events"]["get"];
    assert!(
        agent["responses"]["403"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("`forbidden`"))
    );
    let kinds = &doc["components"]["schemas"]["DesktopEvent"]["properties"]["type"]["enum"];
    assert_eq!(
        kinds,
        &serde_json::json!([
            "state",
            "join",
            "activated",
            "deactivated",
            "mode",
            "ended",
            "observe",
            "control"
        ])
    );
}

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = json();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 5);
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} is not a schema reference"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
}

#[test]
fn session_states_are_their_codes() {
    let doc = json();
    let state = &doc["components"]["schemas"]["CreatedSession"]["properties"]["state"];
    assert_eq!(
        state["enum"],
        serde_json::json!(["idle", "active", "ended"])
    );
}

/// (METHOD, path) of every row of ARCHITECTURE.md's REST table (query strings dropped).
fn architecture_rows() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).expect("ARCHITECTURE.md exists");
    let table = text
        .split("\n## REST")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("ARCHITECTURE.md has a REST section");
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter_map(|request| {
            let (method, path) = request.split_once(' ')?;
            let path = path.split('?').next().unwrap_or(path);
            Some((method.to_owned(), path.to_owned()))
        })
        .collect()
}

#[test]
fn architecture_rest_table_has_a_row_for_every_operation_but_head() {
    let mut rows = architecture_rows();
    rows.sort();
    let mut ops: Vec<(String, String)> = operations(&json())
        .into_iter()
        .filter(|(m, _, _)| m != "HEAD")
        .map(|(m, p, _)| (m, p))
        .collect();
    ops.sort();
    assert_eq!(
        rows, ops,
        "ARCHITECTURE.md's REST table and the OpenAPI document differ"
    );
}

#[test]
fn the_console_operations_need_the_supervisor_credential() {
    let doc = json();
    for path in [
        "/cobrowse/rest/supervisor/sessions",
        "/cobrowse/rest/supervisor/history",
    ] {
        let op = &doc["paths"][path]["get"];
        assert_eq!(
            op["security"],
            serde_json::json!([{ SUPERVISOR_SCHEME: [] }]),
            "{path}"
        );
        for status in ["401", "403", "429", "503"] {
            assert!(op["responses"][status].is_object(), "{path} {status}");
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"][SUPERVISOR_SCHEME]["scheme"],
        "bearer"
    );
}
