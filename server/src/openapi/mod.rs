//! The REST API's OpenAPI 3.1 document, served at `GET /cobrowse/rest/openapi.json`.
//!
//! Built with utoipa from the types the handlers write (`cobrowse_protocol::rest`, `::policy`,
//! whose `ToSchema` derives the server turns on), the operations in `paths`, and tables here:
//! which errors each endpoint answers (grouped by `ApiError::status`, so the document and the
//! server cannot disagree on a status), the credentials, and a `HEAD` twin for every route in
//! `crate::endpoints` that answers one. Tests hold it to the route table and to the
//! running server (`tests/it/openapi.rs`), and schemathesis fuzzes the server against it.

mod paths;

use crate::endpoints::{Endpoint, OTHER_ROUTES, ROUTES};
use crate::reply::Resp;
use bytes::Bytes;
use cobrowse_protocol::Code;
use cobrowse_protocol::rest::{ApiError, ErrorBody, ErrorDetail, REST_PREFIX};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use utoipa::OpenApi as _;
use utoipa::openapi::content::Content;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::tag::Tag;
use utoipa::openapi::{Components, Info, License, OpenApi, RefOr};
use utoipa::{PartialSchema, ToSchema};
use warp::http::{HeaderValue, header};

/// Security scheme of the agent credential (token or JWT).
pub const AGENT_SCHEME: &str = "agent";
/// Security scheme of a session's customer secret.
pub const CUSTOMER_SCHEME: &str = "customer";
/// Security scheme of an event-stream ticket (`?ticket=`).
pub const TICKET_SCHEME: &str = "ticket";
/// Security scheme of a credential with the supervisor role.
pub const SUPERVISOR_SCHEME: &str = "supervisor";

/// The operation id of each REST endpoint in the document.
pub fn operation_id(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::CreateSession => "createSession",
        Endpoint::LookupSession => "lookupSession",
        Endpoint::StopSession => "stopSession",
        Endpoint::History => "getHistory",
        Endpoint::Recording => "getRecording",
        Endpoint::RecordingFrames => "getRecordingFrames",
        Endpoint::SessionEvents => "streamSessionEvents",
        Endpoint::AgentEvents => "streamAgentEvents",
        Endpoint::EventTicket => "createEventTicket",
        Endpoint::SupervisorSessions => "listLiveSessions",
        Endpoint::SupervisorHistory => "searchHistory",
        Endpoint::UiDefaults => "getUiDefaults",
        Endpoint::DomRestrictions => "getDomRestrictions",
        Endpoint::OpenApi => "getOpenApi",
    }
}

/// Errors any request under `/cobrowse/rest/` may get before its endpoint runs: the origin
/// check and the body size limit.
const REST_ERRORS: &[ApiError] = &[ApiError::OriginRefused, ApiError::BodyTooLarge];

/// The errors each endpoint answers besides [`REST_ERRORS`] (`crate::rest`).
fn endpoint_errors(endpoint: Endpoint) -> &'static [ApiError] {
    use ApiError::*;
    match endpoint {
        Endpoint::CreateSession => &[
            BadRequest,
            RateLimited,
            ServerFull,
            ShuttingDown,
            StorageUnavailable,
        ],
        Endpoint::LookupSession | Endpoint::StopSession => {
            &[Unauthorized, UnknownSession, RateLimited]
        }
        Endpoint::History | Endpoint::Recording | Endpoint::RecordingFrames => &[
            Unauthorized,
            UnknownHistory,
            RateLimited,
            StorageUnavailable,
        ],
        Endpoint::SessionEvents => &[Unauthorized, UnknownSession, RateLimited],
        Endpoint::AgentEvents => &[BadRequest, Unauthorized, Forbidden, RateLimited],
        Endpoint::EventTicket => &[Unauthorized, RateLimited, ServerFull],
        Endpoint::SupervisorSessions => &[Unauthorized, Forbidden, RateLimited, StorageUnavailable],
        Endpoint::SupervisorHistory => &[
            BadRequest,
            Unauthorized,
            Forbidden,
            RateLimited,
            StorageUnavailable,
        ],
        Endpoint::UiDefaults | Endpoint::DomRestrictions | Endpoint::OpenApi => &[],
    }
}

/// The CSS proxy answers by who failed, not by the code's own status (`css_proxy::fetch`):
/// `403` we refused, `502` the origin failed, `504` it was too slow.
const CSS_PROXY_ERRORS: &[(u16, &[ApiError])] = {
    use ApiError::*;
    &[
        (400, &[BadRequest, BadUrl]),
        (
            403,
            &[
                DomainRefused,
                UnsupportedScheme,
                RedirectRefused,
                AddressRefused,
                BadUrl,
            ],
        ),
        (
            502,
            &[
                NotCss,
                TooLarge,
                OriginStatus,
                OriginUnreachable,
                TooManyRedirects,
                ProxyUnavailable,
                BadUrl,
            ],
        ),
        (504, &[OriginTimeout]),
    ]
};

/// What an error code tells the caller, for the responses' descriptions.
fn meaning(e: ApiError) -> &'static str {
    match e {
        ApiError::BadRequest => "the body or query is malformed",
        ApiError::Unauthorized => "the credential is missing or wrong",
        ApiError::OriginRefused => "the page's origin may not use this server (`allowedOrigins`)",
        ApiError::Forbidden => {
            "the credential may not do this: it speaks for another agent (its JWT's `sub`), or \
             it has no supervisor role"
        }
        ApiError::NotFound => "no such endpoint",
        ApiError::MethodNotAllowed => "the endpoint does not answer this method (see `Allow`)",
        ApiError::UnknownSession => "no live session has this number",
        ApiError::UnknownHistory => "no history record has this id",
        ApiError::RateLimited => "too many requests from this address; wait `Retry-After` seconds",
        ApiError::ServerFull => "the node holds as many sessions as it may",
        ApiError::ShuttingDown => "the node is stopping",
        ApiError::StorageUnavailable => "the store did not answer",
        ApiError::BadUrl => "`url` is not an absolute http(s) URL the proxy may request",
        ApiError::DomainRefused => "the sheet's origin is not in `proxy.allowedExternalDomains`",
        ApiError::UnsupportedScheme => "not http or https",
        ApiError::RedirectRefused => "the origin redirected somewhere not allowed",
        ApiError::AddressRefused => "the address is private, loopback or otherwise refused",
        ApiError::NotCss => "the answer is not a stylesheet",
        ApiError::TooLarge => "the sheet is over the size limit",
        ApiError::OriginStatus => "the origin answered an error status",
        ApiError::OriginUnreachable => "the origin could not be reached",
        ApiError::OriginTimeout => "the origin did not answer in time",
        ApiError::TooManyRedirects => "the origin redirected more often than the proxy follows",
        ApiError::ProxyUnavailable => "the proxy's HTTP client is not configured correctly",
        ApiError::BodyTooLarge => "the request body is over 64 KiB",
    }
}

/// `ErrorBody` whose `code` is one of `codes`.
fn error_schema(codes: &[ApiError]) -> RefOr<Schema> {
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(Code::code)));
    let detail = ObjectBuilder::new().property("code", code);
    let narrowed = ObjectBuilder::new().property("error", detail);
    AllOfBuilder::new()
        .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            ErrorBody::name(),
        )))
        .item(narrowed)
        .into()
}

/// The answer of one status, naming each code it may carry and what it means.
fn error_response(status: u16, codes: &[ApiError]) -> Response {
    let description = codes
        .iter()
        .map(|c| format!("`{}`: {}.", c.code(), meaning(*c)))
        .collect::<Vec<_>>()
        .join(" ");
    let mut r = Response::new(description);
    r.content.insert(
        "application/json".into(),
        RefOr::T(Content::new(Some(error_schema(codes)))),
    );
    if status == ApiError::RateLimited.status() {
        let mut retry = Header::new(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        );
        retry.description = Some("Seconds until a request from this address is allowed.".into());
        // The Header Object's `required` (OpenAPI 3.1 §4.8.21, as for parameters), which
        // utoipa's `Header` has no field for: serialized through its flattened extensions.
        retry
            .extensions
            .get_or_insert_with(Default::default)
            .insert("required".into(), true.into());
        r.headers.insert("Retry-After".into(), RefOr::T(retry));
    }
    r
}

/// `codes` grouped by their status.
fn by_status(codes: impl IntoIterator<Item = ApiError>) -> BTreeMap<u16, Vec<ApiError>> {
    let mut out: BTreeMap<u16, Vec<ApiError>> = BTreeMap::new();
    for c in codes {
        let v = out.entry(c.status()).or_default();
        if !v.contains(&c) {
            v.push(c);
        }
    }
    out
}

fn add_errors(op: &mut Operation, groups: &BTreeMap<u16, Vec<ApiError>>) {
    for (status, codes) in groups {
        op.responses
            .responses
            .insert(status.to_string(), RefOr::T(error_response(*status, codes)));
    }
}

/// The operation with `id` in `doc`, wherever it is.
fn operation_mut<'a>(doc: &'a mut OpenApi, id: &str) -> Option<&'a mut Operation> {
    doc.paths.paths.values_mut().find_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.head,
            &mut item.patch,
        ]
        .into_iter()
        .filter_map(Option::as_mut)
        .find(|op| op.operation_id.as_deref() == Some(id))
    })
}

/// A `HEAD` twin of a `GET`: the same answers' statuses and headers, without bodies.
fn head_of(get: &Operation) -> Operation {
    let mut head = get.clone();
    head.operation_id = get
        .operation_id
        .as_ref()
        .map(|id| format!("head{}", &id[3..]));
    head.summary = get.summary.as_ref().map(|s| format!("{s} (headers only)"));
    head.description = Some("`GET`'s answer without its body.".into());
    for r in head.responses.responses.values_mut() {
        if let RefOr::T(r) = r {
            r.content.clear();
            r.links.clear();
        }
    }
    head
}

fn bearer(description: &str, format: Option<&str>) -> SecurityScheme {
    let mut http = Http::new(HttpAuthScheme::Bearer);
    http.bearer_format = format.map(str::to_owned);
    http.description = Some(description.to_owned());
    SecurityScheme::Http(http)
}

const DESCRIPTION: &str = "\
The REST API of a Cobrowse server. Answers are JSON; every error is \
`{\"error\":{\"code\",\"message\"}}` with a stable snake_case code. Times are milliseconds since \
the Unix epoch.

Requests under `/cobrowse/rest/` from a browser must come from an allowed origin \
(`allowedOrigins`): others get `403 origin_refused`, and allowed ones get CORS headers. \
`OPTIONS` answers the CORS preflight (with `Allow`) on every path of this document. A method a \
path does not answer gets `405 method_not_allowed` with `Allow`; a path not in this document \
`404 not_found`. A request body over 64 KiB gets `413 body_too_large`. Token and history \
lookups and session creations are rate-limited per client address: `429 rate_limited` with \
`Retry-After`.

Every answer carries `X-Content-Type-Options: nosniff`. The WebSocket (`/cobrowse/ws`, binary \
frames of the Cobrowse protocol), the static files and the internal listener's `/metrics` are \
not part of this document.";

/// Builds the document.
pub fn document() -> OpenApi {
    let mut doc = paths::Operations::openapi();
    let mut info = Info::new("Cobrowse REST API", env!("CARGO_PKG_VERSION"));
    info.description = Some(DESCRIPTION.into());
    info.license = Some(License::new("Apache-2.0"));
    doc.info = info;

    let components = doc.components.get_or_insert_with(Components::default);
    for (name, schema) in [
        (ErrorBody::name(), ErrorBody::schema()),
        (ErrorDetail::name(), ErrorDetail::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
    components.security_schemes.insert(
        AGENT_SCHEME.into(),
        RefOr::T(bearer(
            "The agent credential: the agent token (configured, or generated into the data \
             directory on first start) or a JWT signed by the agent desktop (`auth.jwt.*`, \
             `exp` checked, `sub` = the agent's identity).",
            Some("agent token or JWT"),
        )),
    );
    components.security_schemes.insert(
        SUPERVISOR_SCHEME.into(),
        RefOr::T(bearer(
            "A credential with the supervisor role: `auth.supervisorToken`, or an agent JWT with \
             `\"role\": \"supervisor\"` where `auth.jwt.acceptSupervisorRole` is on. Nobody has \
             it unless configured; it is also an agent credential.",
            Some("supervisor token or JWT"),
        )),
    );
    components.security_schemes.insert(
        CUSTOMER_SCHEME.into(),
        RefOr::T(bearer(
            "A session's `customerSecret` (from its creation): the customer's proof of being \
             the customer.",
            None,
        )),
    );
    components.security_schemes.insert(
        TICKET_SCHEME.into(),
        RefOr::T(SecurityScheme::ApiKey(
            utoipa::openapi::security::ApiKey::Query(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    cobrowse_protocol::rest::EVENT_TICKET_PARAM,
                    "A single-use ticket from `POST live/event-tickets` (valid for a minute), for \
                 clients that cannot send `Authorization` (the browser's `EventSource`).",
                ),
            ),
        )),
    );
    doc.tags = Some(
        [
            (
                "live sessions",
                "Start, look up and end co-browsing sessions.",
            ),
            ("history", "Records of past and present sessions."),
            (
                "agent desktops",
                "Session events for agent desktops: event streams (and webhooks, configured by \
                 the operator, with the same JSON).",
            ),
            (
                "documents",
                "Configuration the customer client and the agent page read.",
            ),
            (
                "supervisors",
                "The supervisor console: every live session of the cluster, the history search.",
            ),
            ("operations", "For load balancers and monitors."),
        ]
        .into_iter()
        .map(|(name, about)| {
            let mut t = Tag::new(name);
            t.description = Some(about.into());
            t
        })
        .collect(),
    );

    for route in ROUTES.iter().filter(|r| r.method != "HEAD") {
        let groups = by_status(
            REST_ERRORS
                .iter()
                .chain(endpoint_errors(route.endpoint))
                .copied(),
        );
        if let Some(op) = operation_mut(&mut doc, operation_id(route.endpoint)) {
            add_errors(op, &groups);
        }
    }
    if let Some(op) = operation_mut(&mut doc, "cssProxy") {
        for (status, codes) in CSS_PROXY_ERRORS {
            op.responses
                .responses
                .insert(status.to_string(), RefOr::T(error_response(*status, codes)));
        }
    }
    let heads = ROUTES
        .iter()
        .filter(|r| r.method == "HEAD")
        .map(|r| format!("{REST_PREFIX}/{}", r.path))
        .chain(
            OTHER_ROUTES
                .iter()
                .filter(|(m, _)| *m == "HEAD")
                .map(|(_, p)| (*p).to_owned()),
        );
    for path in heads {
        let item: Option<&mut PathItem> = doc.paths.paths.get_mut(&path);
        if let Some(item) = item
            && let Some(get) = &item.get
        {
            item.head = Some(head_of(get));
        }
    }
    doc
}

/// The document as served: built once.
static JSON: LazyLock<Bytes> = LazyLock::new(|| {
    // Plain data: serialising it cannot fail.
    Bytes::from(serde_json::to_vec(&document()).unwrap_or_default())
});

/// `GET /cobrowse/rest/openapi.json`.
pub fn response() -> Resp {
    let mut r = Resp::new(JSON.clone().into());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // The same for every request to this build; revalidating is cheap.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

#[cfg(test)]
mod tests;
