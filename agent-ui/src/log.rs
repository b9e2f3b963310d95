//! Debug logging switched on by `#debug=1` on the agent page.
//!
//! Off by default: a busy replica ignores unknown ids now and then (a late join races a batch), and
//! that is worth a line in a debug session, not noise in every agent's console.

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

/// Writes one debug line (to the console in the browser, to stderr natively) when enabled.
pub fn write(args: std::fmt::Arguments<'_>) {
    if !enabled() {
        return;
    }
    #[cfg(target_arch = "wasm32")]
    web_sys::console::log_1(&format!("[cobrowse-agent] {args}").into());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[cobrowse-agent] {args}");
}

/// `debug!("…", args)`: a [`write()`] that formats only when logging is on.
#[macro_export]
macro_rules! debug {
    ($($t:tt)*) => {
        if $crate::log::enabled() {
            $crate::log::write(format_args!($($t)*));
        }
    };
}
