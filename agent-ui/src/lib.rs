//! Placeholder; filled by the live-path work.
