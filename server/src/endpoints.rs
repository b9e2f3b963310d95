//! The REST API's routes as data: which method on which path under `/cobrowse/rest/` is which
//! endpoint.
//!
//! The router (`crate::rest`) answers exactly what this table names — anything else is
//! `404 not_found`, or `405 method_not_allowed` with an `Allow` header when only the method is
//! wrong — and the OpenAPI document (`crate::openapi`) is checked against it, so a route cannot
//! be added without being described, nor described without being answered.

/// An operation of the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST live/sessions`: the customer's client starts a session.
    CreateSession,
    /// `GET live/sessions/{token}`: the agent's lookup.
    LookupSession,
    /// `POST live/sessions/{token}/stop`: the customer, an agent or a controller ends it.
    StopSession,
    /// `GET history/sessions/{historyId}`: a session's record.
    History,
    /// `GET history/sessions/{historyId}/recording`: what is stored of its audit recording.
    Recording,
    /// `GET history/sessions/{historyId}/recording/frames`: the recorded frames (binary).
    RecordingFrames,
    /// `GET live/sessions/{token}/events`: a session's event stream (`text/event-stream`).
    SessionEvents,
    /// `GET live/agents/{agentId}/events`: the events of every session of one agent.
    AgentEvents,
    /// `POST live/event-tickets`: a single-use ticket that opens an event stream.
    EventTicket,
    /// `GET supervisor/sessions`: every live session of the cluster (supervisor console).
    SupervisorSessions,
    /// `GET supervisor/history`: the history search (supervisor console).
    SupervisorHistory,
    /// `GET ui.json`: the agent page's defaults.
    UiDefaults,
    /// `GET dom-restrictions.json`: the site owner's mask/hide/restrict rules.
    DomRestrictions,
    /// `GET openapi.json`: this API's OpenAPI document.
    OpenApi,
}

/// One route: a method on a path template relative to the REST prefix, where `{name}` stands
/// for one path segment (the endpoint's parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template under `/cobrowse/rest/`, without leading or trailing `/`.
    pub path: &'static str,
    /// What answers it.
    pub endpoint: Endpoint,
}

const fn route(method: &'static str, path: &'static str, endpoint: Endpoint) -> Route {
    Route {
        method,
        path,
        endpoint,
    }
}

/// Every route under `/cobrowse/rest/`. The documents also answer `HEAD` (their headers
/// without the body), for caches and monitors that check them.
pub const ROUTES: &[Route] = &[
    route("POST", "live/sessions", Endpoint::CreateSession),
    route("GET", "live/sessions/{token}", Endpoint::LookupSession),
    route("POST", "live/sessions/{token}/stop", Endpoint::StopSession),
    route("GET", "history/sessions/{historyId}", Endpoint::History),
    route(
        "GET",
        "history/sessions/{historyId}/recording",
        Endpoint::Recording,
    ),
    route(
        "GET",
        "history/sessions/{historyId}/recording/frames",
        Endpoint::RecordingFrames,
    ),
    route(
        "GET",
        "live/sessions/{token}/events",
        Endpoint::SessionEvents,
    ),
    route("GET", "live/agents/{agentId}/events", Endpoint::AgentEvents),
    route("POST", "live/event-tickets", Endpoint::EventTicket),
    route("GET", "supervisor/sessions", Endpoint::SupervisorSessions),
    route("GET", "supervisor/history", Endpoint::SupervisorHistory),
    route("GET", "ui.json", Endpoint::UiDefaults),
    route("HEAD", "ui.json", Endpoint::UiDefaults),
    route("GET", "dom-restrictions.json", Endpoint::DomRestrictions),
    route("HEAD", "dom-restrictions.json", Endpoint::DomRestrictions),
    route("GET", "openapi.json", Endpoint::OpenApi),
    route("HEAD", "openapi.json", Endpoint::OpenApi),
];

/// The API's routes outside the REST prefix (method, full path), each answered by its own warp
/// filter (`crate::routes`, which answers their other methods with `405` and `Allow`): health
/// for load balancers, and the CSS proxy, whose success is a stylesheet rather than JSON.
pub const OTHER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/cobrowse/health"),
    ("HEAD", "/cobrowse/health"),
    ("GET", "/cobrowse/css-proxy"),
    ("HEAD", "/cobrowse/css-proxy"),
];

/// The methods [`OTHER_ROUTES`] answers on `path` (empty: not one of them).
pub fn other_methods(path: &str) -> Vec<&'static str> {
    OTHER_ROUTES
        .iter()
        .filter(|(_, p)| *p == path)
        .map(|(m, _)| *m)
        .collect()
}

/// What the table says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<'a> {
    /// A route answers it; `param` is the segment in the template's `{…}`, if it has one.
    Endpoint {
        /// The endpoint.
        endpoint: Endpoint,
        /// The path parameter (still percent-encoded, as it arrived).
        param: Option<&'a str>,
    },
    /// The path is a resource, the method is not one of its `allow`ed methods.
    WrongMethod {
        /// The methods the path answers, in table order.
        allow: Vec<&'static str>,
    },
    /// No route has this path.
    Nothing,
}

/// Matches `path` (after the prefix; leading and trailing `/` ignored) against `template`:
/// `Some(param)` when it matches.
fn matches<'a>(template: &str, path: &'a str) -> Option<Option<&'a str>> {
    let mut param = None;
    let mut want = template.split('/');
    let mut got = path.trim_matches('/').split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(param),
            (Some(w), Some(g)) if w.starts_with('{') => param = Some(g),
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// Looks a request up in [`ROUTES`].
pub fn find<'a>(method: &str, path: &'a str) -> Found<'a> {
    let mut allow = Vec::new();
    for r in ROUTES {
        if let Some(param) = matches(r.path, path) {
            if r.method == method {
                return Found::Endpoint {
                    endpoint: r.endpoint,
                    param,
                };
            }
            allow.push(r.method);
        }
    }
    if allow.is_empty() {
        Found::Nothing
    } else {
        Found::WrongMethod { allow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_found_by_its_own_template_with_its_parameter() {
        for r in ROUTES {
            let concrete = r
                .path
                .replace("{token}", "123456789")
                .replace("{historyId}", "4f1c2b8e-0000-4000-8000-000000000000")
                .replace("{agentId}", "agent-7");
            let param = matches(r.path, &concrete).expect("the template matches");
            assert_eq!(
                find(r.method, &concrete),
                Found::Endpoint {
                    endpoint: r.endpoint,
                    param
                },
                "{} {}",
                r.method,
                r.path
            );
            assert_eq!(param.is_some(), r.path.contains('{'));
        }
    }

    #[test]
    fn slashes_around_the_path_do_not_matter_but_segments_do() {
        let found = |m, p| match find(m, p) {
            Found::Endpoint { endpoint, param } => Some((endpoint, param)),
            _ => None,
        };
        assert_eq!(
            found("GET", "/live/sessions/123456789/"),
            Some((Endpoint::LookupSession, Some("123456789")))
        );
        assert_eq!(
            found("POST", "live/sessions"),
            Some((Endpoint::CreateSession, None))
        );
        assert_eq!(found("GET", "live/sessions/1/2"), None);
        assert_eq!(found("GET", "live"), None);
        assert_eq!(found("GET", "ui.json/x"), None);
    }

    #[test]
    fn a_known_path_with_another_method_lists_the_methods_it_answers() {
        assert_eq!(
            find("DELETE", "live/sessions/123456789"),
            Found::WrongMethod { allow: vec!["GET"] }
        );
        assert_eq!(
            find("POST", "ui.json"),
            Found::WrongMethod {
                allow: vec!["GET", "HEAD"]
            }
        );
        assert_eq!(find("GET", "nothing/here"), Found::Nothing);
    }
}
