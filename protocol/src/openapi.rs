//! Schemas the `ToSchema` derives cannot infer, for the server's OpenAPI document (feature
//! `openapi`): fields serde writes as their snake_case code ([`crate::codes::as_code`]) rather
//! than in their Rust shape.
//!
//! Built from the same `ALL` lists the codes come from, so the document names every code a
//! server of this version writes, and no other.

use crate::codes::Code;
use crate::message::{Mode, SessionState};
use crate::rest::DesktopEventKind;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A [`SessionState`] as REST answers write it: its code (`idle`, `active`, `ended`).
pub fn session_state() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(SessionState::ALL.iter().map(Code::code)))
        .description(Some(
            "The session's state: `idle` (no agent yet), `active` (an agent joined), `ended`.",
        ))
        .build()
}

/// A [`Mode`] as REST answers write it (`pointer`, `write`).
pub fn mode() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Mode::ALL.iter().map(Code::code)))
        .description(Some(
            "`pointer` (the agent points) or `write` (the customer granted control).",
        ))
        .build()
}

/// A [`DesktopEventKind`] as events write it.
pub fn desktop_event_kind() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(DesktopEventKind::ALL.iter().map(Code::code)))
        .description(Some(
            "`state` (a session stream's first event), `join` (an agent joined holding \
             control), `activated`, `deactivated` (the last agent left), `mode`, `ended`, \
             `observe` (an agent joined as an observer), `control` (control passed to `agentId`).",
        ))
        .build()
}
