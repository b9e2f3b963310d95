//! The log of what the proxy changed, once per distinct change: a site sends the same
//! `Content-Security-Policy` or cookie on every page, and the person trying the tool wants to read
//! each adjustment once, not once per request.

use std::collections::HashSet;
use std::sync::Mutex;

/// Distinct changes remembered; past this the set starts over (and a change may be logged again).
const REMEMBERED: usize = 4096;

/// Logs each distinct adjustment once at `info` (later repeats at `debug`).
#[derive(Debug, Default)]
pub struct Logbook {
    seen: Mutex<HashSet<String>>,
}

impl Logbook {
    /// Logs `message` unless a message with the same `key` was logged before.
    pub fn adjusted(&self, key: &str, message: &str) {
        if self.first(key) {
            tracing::info!("{message}");
        } else {
            tracing::debug!("{message}");
        }
    }

    /// Logs a warning (something the proxy could not fix) once per `key`.
    pub fn warn(&self, key: &str, message: &str) {
        if self.first(key) {
            tracing::warn!("{message}");
        }
    }

    fn first(&self, key: &str) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_first_once() {
        let book = Logbook::default();
        assert!(book.first("csp:a"));
        assert!(!book.first("csp:a"));
        assert!(book.first("csp:b"));
    }
}
