//! Small pure helpers shared by more than one Cobrowse crate, so each rule lives in one place:
//!
//! * [`locale`] — the UI text files (`www/locales/<ui>/<lang>.json`) of the customer client and
//!   the agent page: parsing, language-tag fallbacks, `{placeholder}` checks, layering.
//! * [`pattern`] — the one `*` glob (origin lists, DOM restriction URL patterns), query-value
//!   encoding for the CSS proxy URL both sides build, and form-value decoding.
//! * [`origin`] — origin allow-lists (`allowedOrigins`, `proxy.allowedExternalDomains`,
//!   `proxy.allowedThirdPartyDomains`): the server's checks and the agent page's decisions agree.
//! * [`backoff`] — reconnect delays with jitter, the same for the customer and the agent page.
//! * [`clock`] — epoch milliseconds, defined once.
//! * [`ink`] — the annotation strokes on screen (paths, fading), the same on both sides.
//!
//! Owns nothing about the wire format or any other contract between runtimes (that is
//! `cobrowse-protocol`) and must not depend on web-sys, wasm-bindgen, tokio or anything that only
//! one side can build: it compiles natively and for wasm32 from the same plain Rust.

pub mod backoff;
pub mod clock;
pub mod ink;
pub mod locale;
pub mod origin;
pub mod pattern;
