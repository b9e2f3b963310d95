//! The snake_case codes of the protocol's enums, as REST answers, stored history, events on the
//! customer page (`error.code`, `ended.reason`) and the agent page's `data-*` attributes spell them.
//!
//! Each code is written here once; every runtime calls [`Code::code`] instead of writing its own
//! `match`, so a new variant cannot get three different names. On the wire (postcard) the enums
//! travel by variant index; these codes are only their human- and JSON-facing names.

use crate::message::{EndReason, ErrorCode, Mode, RefusalReason, Role, SessionState};

/// An enum with a stable snake_case code per variant.
pub trait Code: Sized {
    /// The variant's code.
    fn code(&self) -> &'static str;
    /// The variant a code names (`None` for an unknown code).
    fn from_code(code: &str) -> Option<Self>;
}

/// Implements [`Code`] (and `ALL`, every variant in declaration order) for a fieldless enum.
macro_rules! codes {
    ($ty:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
        }
        impl Code for $ty {
            fn code(&self) -> &'static str {
                match self {
                    $($ty::$variant => $code),+
                }
            }
            fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

codes!(ErrorCode {
    BadFrame => "bad_frame",
    TooLarge => "too_large",
    ProtocolViolation => "protocol_violation",
    UnsupportedVersion => "unsupported_version",
    UnknownSession => "unknown_session",
    SessionEnded => "session_ended",
    Unauthorized => "unauthorized",
    OriginRefused => "origin_refused",
    RateLimited => "rate_limited",
    AgentBusy => "agent_busy",
    CustomerPresent => "customer_present",
    Internal => "internal",
});

codes!(RefusalReason {
    NotInWriteMode => "not_in_write_mode",
    Restricted => "restricted",
    NoSuchNode => "no_such_node",
    OffOrigin => "off_origin",
    WriteModeDisabled => "write_mode_disabled",
    NotEditable => "not_editable",
    Undelivered => "undelivered",
    NotInControl => "not_in_control",
});

codes!(SessionState {
    Idle => "idle",
    Active => "active",
    Ended => "ended",
});

codes!(Mode {
    Pointer => "pointer",
    Write => "write",
});

codes!(Role {
    Customer => "customer",
    Agent => "agent",
    Controller => "controller",
});

impl EndReason {
    /// The code of every reason but [`EndReason::Other`], whose code is `"other"`.
    pub const KNOWN: &'static [EndReason] = &[
        EndReason::CustomerExit,
        EndReason::AgentExit,
        EndReason::ControllerStop,
        EndReason::ApiStop,
        EndReason::InactivityTimeout,
        EndReason::ConnectionLost,
        EndReason::ServerShutdown,
    ];

    /// The explanation an [`EndReason::Other`] carries (never part of the code, so the code stays
    /// one of a fixed set that history searches and metrics can count).
    pub fn detail(&self) -> Option<&str> {
        match self {
            EndReason::Other(detail) => Some(detail),
            _ => None,
        }
    }
}

impl Code for EndReason {
    fn code(&self) -> &'static str {
        match self {
            EndReason::CustomerExit => "customer_exit",
            EndReason::AgentExit => "agent_exit",
            EndReason::ControllerStop => "controller_stop",
            EndReason::ApiStop => "api_stop",
            EndReason::InactivityTimeout => "inactivity_timeout",
            EndReason::ConnectionLost => "connection_lost",
            EndReason::ServerShutdown => "server_shutdown",
            EndReason::Other(_) => "other",
        }
    }

    /// `"other"` gives `Other("")`: the detail is not part of the code.
    fn from_code(code: &str) -> Option<Self> {
        if code == "other" {
            return Some(EndReason::Other(String::new()));
        }
        EndReason::KNOWN.iter().find(|r| r.code() == code).cloned()
    }
}

/// Serde adapter for a field holding a [`Code`] enum as its code string (REST bodies:
/// `#[serde(with = "crate::codes::as_code")]`).
pub mod as_code {
    use super::Code;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes the code.
    pub fn serialize<T: Code, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.code())
    }

    /// Reads a code; an unknown code is an error naming it.
    pub fn deserialize<'de, T: Code, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let code = String::deserialize(d)?;
        T::from_code(&code).ok_or_else(|| D::Error::custom(format!("unknown code `{code}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn check<T: Code + PartialEq + std::fmt::Debug>(all: &[T]) {
        let mut seen = HashSet::new();
        for v in all {
            let code = v.code();
            assert!(seen.insert(code), "code {code} used twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code} is not snake_case"
            );
            assert_eq!(
                T::from_code(code).as_ref(),
                Some(v),
                "{code} does not round-trip"
            );
        }
        assert_eq!(T::from_code("no_such_code"), None);
    }

    #[test]
    fn every_code_is_unique_snake_case_and_round_trips() {
        check(ErrorCode::ALL);
        check(RefusalReason::ALL);
        check(SessionState::ALL);
        check(Mode::ALL);
        check(Role::ALL);
        check(EndReason::KNOWN);
    }

    #[test]
    fn other_end_reasons_share_one_code_and_keep_their_detail_apart() {
        let r = EndReason::Other("customer page crashed".into());
        assert_eq!(r.code(), "other");
        assert_eq!(r.detail(), Some("customer page crashed"));
        assert_eq!(
            EndReason::from_code("other"),
            Some(EndReason::Other(String::new()))
        );
        assert!(EndReason::KNOWN.iter().all(|r| r.detail().is_none()));
    }

    /// `ALL` is complete by construction (the generated `code()` match is exhaustive); `KNOWN`
    /// is written by hand, so a new end reason must be added there too.
    #[test]
    fn known_end_reasons_are_every_variant_but_other() {
        let variants = |r: &EndReason| match r {
            EndReason::CustomerExit
            | EndReason::AgentExit
            | EndReason::ControllerStop
            | EndReason::ApiStop
            | EndReason::InactivityTimeout
            | EndReason::ConnectionLost
            | EndReason::ServerShutdown => 1,
            EndReason::Other(_) => 0,
        };
        assert_eq!(EndReason::KNOWN.iter().map(variants).sum::<usize>(), 7);
    }
}
