//! Whose word counts for write mode when the socket comes back.
//!
//! The server keeps a write-mode grant with the session (also across a cluster failover or a
//! graceful hand-over to another node) and says so in `Welcome`. The customer's own consent is
//! still the authority: if the customer took control back while the socket was down (the revoke
//! could not be sent), a `Welcome` that says `write` must not hand control back to the agent —
//! the client revokes instead. On the first `Welcome` of a page (after a reload the page has no
//! memory of the grant) the server's record is followed, which keeps a grant across reloads.

use cobrowse_protocol::Mode;

/// What the client does with the mode a `Welcome` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnWelcome {
    /// Same mode on both sides: nothing to do.
    Keep,
    /// Take the server's mode (first welcome of this page, or the server dropped to pointer).
    Follow,
    /// The customer revoked while disconnected: send `Mode(Revoked{Customer})`, stay in pointer.
    Revoke,
}

/// Decides how to reconcile the customer's `local` mode with the `server`'s after a `Welcome`;
/// `reconnect` is true when this page was welcomed before (the socket came back).
pub fn on_welcome(reconnect: bool, local: Mode, server: Mode) -> OnWelcome {
    match (local, server) {
        (l, s) if l == s => OnWelcome::Keep,
        (Mode::Pointer, Mode::Write) if reconnect => OnWelcome::Revoke,
        _ => OnWelcome::Follow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_customer_keeps_the_last_word_on_reconnect() {
        // Revoked while offline: the kept grant is taken back, not followed.
        assert_eq!(
            on_welcome(true, Mode::Pointer, Mode::Write),
            OnWelcome::Revoke
        );
        // Still granted on both sides (e.g. after a failover): nothing changes.
        assert_eq!(on_welcome(true, Mode::Write, Mode::Write), OnWelcome::Keep);
        // The server lost the grant: follow it down (never up without consent).
        assert_eq!(
            on_welcome(true, Mode::Write, Mode::Pointer),
            OnWelcome::Follow
        );
    }

    #[test]
    fn a_reloaded_page_follows_the_servers_record() {
        assert_eq!(
            on_welcome(false, Mode::Pointer, Mode::Write),
            OnWelcome::Follow
        );
        assert_eq!(
            on_welcome(false, Mode::Pointer, Mode::Pointer),
            OnWelcome::Keep
        );
    }
}
