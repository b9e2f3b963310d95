//! The supervisor console's REST bodies (`/cobrowse/rest/supervisor/…`), re-exported by
//! [`crate::rest`]: the live sessions of the whole cluster and the history search.
//!
//! Only a credential with the supervisor role gets them. They carry what the server already
//! holds for every session and nothing more: the current page is the URL the customer's browser
//! sent (already masked there by the site's rules), never anything the server derives itself.

use crate::codes::as_code;
use crate::message::SessionState;
use crate::rest::SessionHistory;
use serde::{Deserialize, Serialize};

/// Path prefix of the supervisor endpoints.
pub const SUPERVISOR_PATH: &str = "/cobrowse/rest/supervisor";
/// Most records one page of a history search holds (`limit`).
pub const MAX_HISTORY_PAGE: usize = 100;
/// Records a history search page holds when `limit` is not given.
pub const DEFAULT_HISTORY_PAGE: usize = 20;
/// Widest time range one history search covers (`to - from`), in milliseconds: 366 days. A
/// wider one is narrowed to its last 366 days.
pub const MAX_HISTORY_RANGE_MS: u64 = 366 * 86_400_000;

/// One live session as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveSessionSummary {
    /// The 9-digit session number.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{9}$"))]
    pub token: String,
    /// Its history record's id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub history_id: String,
    /// `idle` (no agent has joined yet) or `active`.
    #[serde(with = "as_code")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::session_state))]
    pub state: SessionState,
    /// The node that holds it (empty while no node does: released for a hand-over).
    pub node: String,
    /// The identities of the agents connected now (a JWT's `sub`, or the id the agent page
    /// declared; an agent without either is not listed, see `agentCount`).
    pub agents: Vec<String>,
    /// How many agents are connected now.
    pub agent_count: u32,
    /// Creation time.
    pub created_at: u64,
    /// When the first agent joined.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activated_at: Option<u64>,
    /// The page the customer is on, as its browser sent it (masked there); `null` before the
    /// first page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub page_url: Option<String>,
}

/// `200` answer of `GET /cobrowse/rest/supervisor/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveSessionList {
    /// The server's clock when it answered: durations are `now - createdAt`, whatever the
    /// console's own clock says.
    pub now: u64,
    /// Every live session of the cluster, newest first.
    pub sessions: Vec<LiveSessionSummary>,
}

/// `200` answer of `GET /cobrowse/rest/supervisor/history`: one page of a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    /// The records, newest (by creation time) first.
    pub sessions: Vec<SessionHistory>,
    /// Pass as `cursor` with the same filters for the next page; `null` on the last page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// A position in a history search's order (creation time descending, then history id
/// descending): the search continues after it. Written as `<createdAt>.<historyId>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCursor {
    /// The last record's creation time.
    pub created_at: u64,
    /// The last record's history id.
    pub history_id: String,
}

impl HistoryCursor {
    /// Reads a cursor as [`std::fmt::Display`] writes it; `None` when it is not one.
    pub fn parse(s: &str) -> Option<HistoryCursor> {
        let (at, id) = s.split_once('.')?;
        let valid_id = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        // At most 18 digits: every such time fits the stores' signed 64-bit columns.
        let valid_at = (1..=18).contains(&at.len()) && at.bytes().all(|b| b.is_ascii_digit());
        if !valid_id || !valid_at {
            return None;
        }
        Some(HistoryCursor {
            created_at: at.parse().ok()?,
            history_id: id.to_string(),
        })
    }
}

impl std::fmt::Display for HistoryCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.created_at, self.history_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_writes_and_nothing_else() {
        let c = HistoryCursor {
            created_at: 1_700_000_000_123,
            history_id: "4f1c2b8e-0000-4000-8000-000000000000".into(),
        };
        assert_eq!(HistoryCursor::parse(&c.to_string()), Some(c));
        for bad in [
            "",
            ".",
            "12.",
            ".abc",
            "x1.abc",
            "1.a b",
            "1.a.b",
            "99999999999999999999999.a",
        ] {
            assert_eq!(HistoryCursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_list_is_camel_case_json() {
        let l = LiveSessionList {
            now: 5,
            sessions: vec![LiveSessionSummary {
                token: "123456789".into(),
                history_id: "h".into(),
                state: SessionState::Active,
                node: "n1".into(),
                agents: vec!["jane".into()],
                agent_count: 1,
                created_at: 1,
                activated_at: Some(2),
                page_url: Some("https://shop.example/cart".into()),
            }],
        };
        let v = serde_json::to_value(&l).expect("json");
        assert_eq!(v["sessions"][0]["state"], "active");
        assert_eq!(v["sessions"][0]["pageUrl"], "https://shop.example/cart");
        assert_eq!(v["sessions"][0]["agentCount"], 1);
        let back: LiveSessionList = serde_json::from_value(v).expect("reads back");
        assert_eq!(back, l);
    }
}
