//! The supervisor console's REST endpoints (`/cobrowse/rest/supervisor/…`; the page itself is
//! static, `www/admin/`): every live session of the cluster, and the history search.
//!
//! Only a credential with the supervisor role gets an answer (`crate::auth::agent`): none is
//! `401`, an agent's without the role `403`. What they show is what the store already holds
//! for every session — numbers, states, agent identities, times, end reasons, and the page URL
//! exactly as the customer's browser sent it (masked there) — never page content. Ending a
//! session is the ordinary stop (`POST live/sessions/{token}/stop`): the supervisor credential
//! is also an agent credential.
//!
//! The live list reads the shared store's live records, so it covers every node of a cluster;
//! the sessions of this node come from memory instead, which is fresher than the storage
//! writer.

use crate::app::{App, now_ms};
use crate::reply::{Resp, error, json_response};
use crate::rest::{RestRequest, rate_limited};
use crate::store::{HistoryQuery, LiveRecord};
use cobrowse_protocol::rest::{
    ApiError, DEFAULT_HISTORY_PAGE, HistoryCursor, HistoryPage, LiveSessionList,
    LiveSessionSummary, MAX_HISTORY_PAGE, MAX_HISTORY_RANGE_MS, SessionHistory,
};
use cobrowse_protocol::{Code, SessionState};
use std::collections::BTreeMap;
use std::sync::Arc;
use warp::http::StatusCode;

/// How far back a search without `from` reaches: 30 days before `to`.
const DEFAULT_RANGE_MS: u64 = 30 * 86_400_000;
/// Longest `agent` or `endReason` filter.
const MAX_FILTER: usize = 256;

/// `Err`: the refusal to answer when the request's credential is not a supervisor's.
fn supervisor(app: &App, req: &RestRequest) -> Result<(), Box<Resp>> {
    match app.agent_auth.verify_headers(&req.headers) {
        Ok(v) if v.supervisor => Ok(()),
        Ok(v) => {
            tracing::info!(ip = %req.ip, subject = ?v.subject, "supervisor endpoint refused: no supervisor role");
            Err(Box::new(error(
                ApiError::Forbidden,
                "this credential has no supervisor role (auth.supervisorToken, or a JWT with \
                 \"role\": \"supervisor\" where auth.jwt.acceptSupervisorRole is on)",
            )))
        }
        Err(why) => {
            tracing::info!(ip = %req.ip, %why, "supervisor endpoint refused");
            Err(Box::new(error(
                ApiError::Unauthorized,
                &format!("{why} (Authorization: Bearer <supervisor credential>)"),
            )))
        }
    }
}

fn summary(r: LiveRecord) -> LiveSessionSummary {
    LiveSessionSummary {
        // A state this version does not know is still a live session.
        state: SessionState::from_code(&r.state).unwrap_or(SessionState::Active),
        token: r.token,
        history_id: r.history_id,
        node: r.node,
        agents: r.agents,
        agent_count: r.agent_count,
        created_at: r.created_at,
        activated_at: r.activated_at,
        page_url: Some(r.page_url).filter(|u| !u.is_empty()),
    }
}

/// `GET supervisor/sessions`.
pub async fn live_sessions(app: &Arc<App>, req: &RestRequest) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "requests");
    }
    if let Err(refused) = supervisor(app, req) {
        return *refused;
    }
    let stored = match app.store.list_live().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "live sessions could not be listed");
            return error(
                ApiError::StorageUnavailable,
                "live sessions could not be read",
            );
        }
    };
    let me = &app.config.node_name;
    let ended = app.registry.ended_tokens();
    let mut by_token: BTreeMap<String, LiveRecord> = stored
        .into_iter()
        .filter(|r| !(r.node == *me && ended.contains(&r.token)))
        .map(|r| (r.token.clone(), r))
        .collect();
    for r in app.registry.live_records(me) {
        by_token.insert(r.token.clone(), r);
    }
    let mut sessions: Vec<LiveSessionSummary> = by_token.into_values().map(summary).collect();
    sessions.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.token.cmp(&b.token))
    });
    json_response(
        StatusCode::OK,
        &LiveSessionList {
            now: now_ms(),
            sessions,
        },
    )
}

/// A search's parameters, checked (`Err`: what is wrong, for the `400`).
fn query(raw: &str, now: u64) -> Result<HistoryQuery, String> {
    let url = reqwest::Url::parse(&format!("http://q.invalid/?{raw}"))
        .map_err(|_| "the query string is malformed".to_string())?;
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in url.query_pairs() {
        params
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    let time = |name: &str| -> Result<Option<u64>, String> {
        match params.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|t| *t <= i64::MAX as u64)
                .map(Some)
                .ok_or_else(|| format!("{name} must be a time in ms since the Unix epoch")),
        }
    };
    let to = time("to")?.unwrap_or(now + 1);
    // A wider range is narrowed to its last 366 days; an empty one finds nothing.
    let earliest = to.saturating_sub(MAX_HISTORY_RANGE_MS);
    let from = time("from")?
        .unwrap_or(to.saturating_sub(DEFAULT_RANGE_MS))
        .max(earliest);
    let filter = |name: &str| -> Result<Option<String>, String> {
        match params.get(name).map(|v| v.trim()) {
            None | Some("") => Ok(None),
            Some(v) if v.chars().count() > MAX_FILTER => {
                Err(format!("{name} must be at most {MAX_FILTER} characters"))
            }
            Some(v) => Ok(Some(v.to_string())),
        }
    };
    let limit = match params.get("limit") {
        None => DEFAULT_HISTORY_PAGE,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_HISTORY_PAGE).contains(n))
            .ok_or_else(|| format!("limit must be 1 to {MAX_HISTORY_PAGE}"))?,
    };
    let after = match params.get("cursor").map(String::as_str) {
        None => None,
        Some(c) => {
            let c = HistoryCursor::parse(c)
                .ok_or("cursor must be a nextCursor of an earlier answer")?;
            Some((c.created_at, c.history_id))
        }
    };
    Ok(HistoryQuery {
        from,
        to,
        agent: filter("agent")?,
        end_reason: filter("endReason")?,
        after,
        limit,
    })
}

/// `GET supervisor/history`.
pub async fn history(app: &Arc<App>, req: &RestRequest) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "requests");
    }
    if let Err(refused) = supervisor(app, req) {
        return *refused;
    }
    let mut q = match query(&req.query, now_ms()) {
        Ok(q) => q,
        Err(why) => return error(ApiError::BadRequest, &why),
    };
    let limit = q.limit;
    // One more than the page: whether there is a next page, without a second query.
    q.limit += 1;
    match app.store.search_history(q).await {
        Ok(mut records) => {
            let more = records.len() > limit;
            records.truncate(limit);
            let next_cursor = more.then(|| records.last()).flatten().map(|r| {
                HistoryCursor {
                    created_at: r.created_at,
                    history_id: r.history_id.clone(),
                }
                .to_string()
            });
            json_response(
                StatusCode::OK,
                &HistoryPage {
                    sessions: records.into_iter().map(SessionHistory::from).collect(),
                    next_cursor,
                },
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "history search failed");
            error(
                ApiError::StorageUnavailable,
                "history could not be searched",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_defaults_to_the_last_thirty_days_and_checks_its_parameters() {
        let q = query("", 1_000_000_000_000).expect("defaults");
        assert_eq!(q.to, 1_000_000_000_001);
        assert_eq!(q.from, 1_000_000_000_001 - DEFAULT_RANGE_MS);
        assert_eq!(
            (q.limit, q.after, q.agent),
            (DEFAULT_HISTORY_PAGE, None, None)
        );
        let q = query(
            "from=10&to=20&agent=jane%40desk&endReason=api_stop&limit=5&cursor=15.abc-1",
            0,
        )
        .expect("all");
        assert_eq!((q.from, q.to, q.limit), (10, 20, 5));
        assert_eq!(q.agent.as_deref(), Some("jane@desk"));
        assert_eq!(q.end_reason.as_deref(), Some("api_stop"));
        assert_eq!(q.after, Some((15, "abc-1".into())));
        for bad in [
            "from=x",
            "to=-1",
            "limit=0",
            "limit=101",
            "cursor=nope",
            "cursor=",
            "cursor=1234567890123456789.a",
            "to=18446744073709551615",
        ] {
            assert!(query(bad, 0).is_err(), "{bad}");
        }
        assert!(query(&format!("agent={}", "a".repeat(257)), 0).is_err());
        assert!(query(&format!("agent={}", "é".repeat(256)), 0).is_ok());
        // A range wider than allowed is narrowed to its end; an empty one stays empty.
        let q = query("from=0&to=99999999999999", 0).expect("narrowed");
        assert_eq!(q.from, 99999999999999 - MAX_HISTORY_RANGE_MS);
        let q = query("from=20&to=10", 0).expect("empty");
        assert!(q.from > q.to);
    }
}
