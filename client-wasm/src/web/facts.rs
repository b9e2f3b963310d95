//! Masking facts read from live elements, and the one fact the DOM does not keep: which fields
//! were ever passwords.
//!
//! A "show password" button turns `<input type=password>` into a text field; the value is the
//! same secret, so the field stays masked for the life of the page. Every element seen as a
//! password — when its facts are read (capture, form events, actions) or when a `type` change
//! record says it was one — goes into a `WeakSet` (a removed field is not kept alive). A field
//! that was switched to text before the client first saw it is not known; the secret
//! `autocomplete` values such fields carry (`current-password`, `new-password`) mask it anyway.
//!
//! One page per wasm instance, and capture, form events and actions all ask: a thread-local,
//! like the rules in `web::restrict`.

use crate::mask::OwnedFacts;
use js_sys::WeakSet;
use web_sys::{Element, Node};

thread_local! {
    static PASSWORDS: WeakSet = WeakSet::new();
}

fn is_password_now(el: &Element) -> bool {
    el.local_name() == "input"
        && el
            .get_attribute("type")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("password"))
}

/// Remembers `node` as a password field (a `type` change record's old value was `password`).
pub fn remember_password(node: &Node) {
    PASSWORDS.with(|s| {
        s.add(node.as_ref());
    });
}

/// True when `el` is `<input type=password>` now or was one when this page's client saw it.
pub fn was_password(el: &Element) -> bool {
    if is_password_now(el) {
        PASSWORDS.with(|s| {
            s.add(el.as_ref());
        });
        return true;
    }
    PASSWORDS.with(|s| s.has(el.as_ref()))
}

/// The masking facts of a live element (for callers without a captured description).
pub fn of(el: &Element) -> OwnedFacts {
    OwnedFacts {
        tag: el.local_name(),
        input_type: el.get_attribute("type"),
        autocomplete: el.get_attribute("autocomplete"),
        was_password: was_password(el),
        matches_mask_rule: crate::web::restrict::is_masked(el),
    }
}
