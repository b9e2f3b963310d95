//! Small pure helpers shared by more than one Cobrowse crate, so each rule lives in one place:
//!
//! * [`locale`] — the UI text files (`www/locales/<ui>/<lang>.json`) of the customer client and
//!   the agent page: parsing, language-tag fallbacks, `{placeholder}` checks, layering.
//! * [`pattern`] — `*` wildcard matching of origins/hosts, used by the server's `allowedOrigins`
//!   and by the agent's `allowedThirdPartyDomains`/`allowedExternalDomains` decisions, which must
//!   agree with the server's; and query-value encoding for the CSS proxy URL both sides build.
//!
//! Owns nothing about the wire format (that is `cobrowse-protocol`) and must not depend on
//! web-sys, tokio or anything that only one side can build: it compiles natively and for wasm32.

pub mod locale;
pub mod pattern;
