//! Debug logging switched on by `#debug=1` on the agent page.
//!
//! Off by default: a busy replica ignores unknown ids now and then (a late join races a batch), and
//! that is worth a line in a debug session, not noise in every agent's console.

pub use cobrowse_web_glue::log::{enabled, set_enabled};

/// Writes one debug line tagged `[cobrowse-agent]` when enabled.
pub fn write(args: std::fmt::Arguments<'_>) {
    cobrowse_web_glue::log::write("cobrowse-agent", args);
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
