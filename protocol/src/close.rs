//! WebSocket close codes of `/cobrowse/ws` and what a reconnecting client makes of them.
//!
//! The server picks the code; the customer client and the agent page decide from it whether to
//! reconnect. Both ask [`retry_after_close`] so they cannot disagree about a refusal. A rate
//! limit is told twice, for both kinds of reader: an `Error{RateLimited}` frame (what
//! [`retry_after_close`] looks at) and a close reason from [`rate_limited_reason`] that carries the
//! delay ([`rate_limit_retry_after`]) for clients that see only the close.

use crate::ErrorCode;

/// Normal end of the session (after `Session(Ended)`).
pub const NORMAL: u16 = 1000;
/// The server is going away (shutdown without hand-over).
pub const GOING_AWAY: u16 = 1001;
/// A malformed frame.
pub const PROTOCOL: u16 = 1002;
/// Policy: bad token, origin, role, credential, rate limit or a forbidden message.
pub const POLICY: u16 = 1008;
/// A frame over the size limit.
pub const TOO_LARGE: u16 = 1009;
/// The server failed.
pub const INTERNAL: u16 = 1011;
/// Service restart: this cluster node is stopping gracefully and handed the session over;
/// reconnecting (through the load balancer) reaches the node that serves it now.
pub const SERVICE_RESTART: u16 = 1012;

/// How every rate-limit close's reason starts: the server closes a throttled connection with
/// [`POLICY`] and a reason made by [`rate_limited_reason`], so a client can tell "try again
/// later" (retry with backoff, not before the hinted delay) from a final refusal such as an
/// unknown token. The `Error` frame before the close carries `ErrorCode::RateLimited` as well.
pub const RATE_LIMITED_REASON: &str = "rate_limited";

/// The close reason for a throttled connection: `rate_limited; retry-after=<seconds>; <text>`
/// (cut to the 123 bytes a close reason may hold; the prefix always fits).
pub fn rate_limited_reason(retry_after_secs: u64, text: &str) -> String {
    let mut reason = format!("{RATE_LIMITED_REASON}; retry-after={retry_after_secs}; {text}");
    if reason.len() > 123 {
        let mut end = 123;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

/// For a close the server made with [`rate_limited_reason`]: how many seconds to wait before
/// trying again (at least 1). `None` for every other close.
pub fn rate_limit_retry_after(code: u16, reason: &str) -> Option<u64> {
    if code != POLICY {
        return None;
    }
    let rest = reason.strip_prefix(RATE_LIMITED_REASON)?;
    if !(rest.is_empty() || rest.starts_with(';')) {
        return None;
    }
    let secs = rest
        .split(';')
        .filter_map(|part| part.trim().strip_prefix("retry-after="))
        .find_map(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    Some(secs.max(1))
}

/// Whether a client should reconnect after the server closed its socket with `code` (callers
/// that already know the session ended do not ask); `error` is the code of the `Error` frame
/// that came before the close on this connection, if one did.
///
/// A policy close before this client was ever welcomed means the server refused it (unknown or
/// ended token, origin, missing credential): trying again gives the same answer, so the client
/// stops and shows why. Rate limiting is the exception: it refuses *now*, not for good, so a
/// policy close after `Error{RateLimited}` is retried with backoff like a network drop. After a
/// `Welcome` a policy close is answered by one more `Hello`, which the server either welcomes
/// (the close was about that one connection) or refuses, which is then final. Every other close
/// — a restart, a network drop (1006), a server error — is retried with backoff.
pub fn retry_after_close(code: u16, welcomed: bool, error: Option<ErrorCode>) -> bool {
    code != POLICY || welcomed || error == Some(ErrorCode::RateLimited)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_close_before_any_welcome_is_final_everything_else_is_retried() {
        assert!(!retry_after_close(POLICY, false, None));
        assert!(retry_after_close(POLICY, true, None));
        for refusal in [
            ErrorCode::Unauthorized,
            ErrorCode::UnknownSession,
            ErrorCode::OriginRefused,
        ] {
            assert!(
                !retry_after_close(POLICY, false, Some(refusal)),
                "{refusal:?}"
            );
        }
        for code in [
            NORMAL,
            GOING_AWAY,
            PROTOCOL,
            TOO_LARGE,
            INTERNAL,
            SERVICE_RESTART,
            1006,
        ] {
            assert!(retry_after_close(code, false, None), "{code}");
            assert!(retry_after_close(code, true, None), "{code}");
        }
    }

    #[test]
    fn a_rate_limited_refusal_is_retried_with_backoff() {
        assert!(retry_after_close(
            POLICY,
            false,
            Some(ErrorCode::RateLimited)
        ));
    }

    #[test]
    fn rate_limit_closes_say_so_and_carry_their_delay() {
        let reason = rate_limited_reason(42, "too many session lookups from this address");
        assert!(reason.starts_with("rate_limited; retry-after=42; too many"));
        assert_eq!(rate_limit_retry_after(POLICY, &reason), Some(42));
        // Only a policy close with the prefix is a rate limit.
        assert_eq!(rate_limit_retry_after(TOO_LARGE, &reason), None);
        assert_eq!(rate_limit_retry_after(POLICY, "unknown session"), None);
        assert_eq!(rate_limit_retry_after(POLICY, "rate_limitedness"), None);
        // A bare prefix (or an unreadable delay) still means "later", never "now".
        assert_eq!(rate_limit_retry_after(POLICY, "rate_limited"), Some(1));
        assert_eq!(
            rate_limit_retry_after(POLICY, "rate_limited; retry-after=0"),
            Some(1)
        );
        let long = rate_limited_reason(7, &"é".repeat(200));
        assert!(long.len() <= 123);
        assert_eq!(rate_limit_retry_after(POLICY, &long), Some(7));
    }
}
