//! Debug logging switched on by the page (`#debug=1` on the agent page, `debug: true` in the
//! customer's `cobrowseConfig`).
//!
//! Off by default: a busy replica ignores unknown ids now and then (a late join races a batch), and
//! that is worth a line in a debug session, not noise in every console.

use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns debug logging on or off for this page.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether debug logging is on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Writes one line tagged `[prefix]` (to the console in the browser, to stderr natively) when
/// logging is on.
pub fn write(prefix: &str, args: std::fmt::Arguments<'_>) {
    if !enabled() {
        return;
    }
    #[cfg(target_arch = "wasm32")]
    web_sys::console::log_1(&format!("[{prefix}] {args}").into());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{prefix}] {args}");
}
