//! Masking: what never leaves the customer's browser.
//!
//! *Masked* means the content is replaced by a same-length placeholder **before** it is encoded,
//! so neither the server nor the agent ever receives it. This module is the one place that
//! decides, for a value, a text, an attribute or a form state, what may leave; capture, the
//! coalescer, form events (also values set by script), selections and actions all ask it.
//!
//! Always masked, whatever the policy says ([`ElementFacts::is_secret`]): the value of a field
//! that is or ever was `<input type=password>` (a "show password" button turns it into a text
//! field), and of fields whose `autocomplete` names a card number, code or expiry, a one-time
//! code or a password ([`SECRET_AUTOCOMPLETE`]). A hidden input's value is never sent at all.
//! The site's *mask* rules (`restrictions`) plug in through [`MaskPolicy`]: the DOM side
//! evaluates the selectors (it has `Element.closest`) and reports the result in
//! [`ElementFacts::matches_mask_rule`]; the policy decides from plain facts, so it tests
//! natively. Under a mask, labels and URL parameters are masked too ([`mask_attribute`]), and a
//! checkbox's or select's state is withheld ([`mask_form_state`]). What the page's address and
//! title may show is [`crate::page_mask`]'s, reached through [`MaskPolicy::page`].

pub use crate::page_mask::PageMask;
use crate::page_mask::is_url_attribute;
pub use crate::placeholder::{MASK_CHAR, masked_text, placeholder};
use cobrowse_protocol::FormState;

/// `autocomplete` tokens of fields whose values are always masked.
pub const SECRET_AUTOCOMPLETE: &[&str] = &[
    "cc-number",
    "cc-csc",
    "cc-exp",
    "cc-exp-month",
    "cc-exp-year",
    "one-time-code",
    "current-password",
    "new-password",
];

/// A CSS selector list matching the fields of [`SECRET_AUTOCOMPLETE`], added to the site's
/// *mask* selectors so that what such a field contains (a `<select>`'s options) is masked with
/// it and the customer's marker shows it.
pub fn secret_autocomplete_selector() -> String {
    SECRET_AUTOCOMPLETE
        .iter()
        .map(|t| format!("[autocomplete~=\"{t}\" i]"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the DOM side knows about an element when deciding about its value or text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ElementFacts<'a> {
    /// `localName`, lower case.
    pub tag: &'a str,
    /// The `type` attribute of an `<input>`, if any.
    pub input_type: Option<&'a str>,
    /// The `autocomplete` attribute, if any.
    pub autocomplete: Option<&'a str>,
    /// True when the client has seen this element as `<input type=password>` at any time.
    pub was_password: bool,
    /// True when a site masking rule's selector matches the element or an ancestor (across
    /// shadow roots and same-origin frames).
    pub matches_mask_rule: bool,
}

impl ElementFacts<'_> {
    fn input_of_type(&self, ty: &str) -> bool {
        self.tag.eq_ignore_ascii_case("input")
            && self
                .input_type
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(ty))
    }

    /// True for `<input type=password>` now. The attribute is compared as browsers do: ASCII
    /// case-insensitively, ignoring surrounding whitespace.
    pub fn is_password(&self) -> bool {
        self.input_of_type("password")
    }

    /// True for `<input type=hidden>`, whose value is never sent.
    pub fn is_hidden_input(&self) -> bool {
        self.input_of_type("hidden")
    }

    /// True when `autocomplete` holds a token of [`SECRET_AUTOCOMPLETE`] (any case).
    pub fn has_secret_autocomplete(&self) -> bool {
        self.autocomplete.is_some_and(|a| {
            a.split_ascii_whitespace().any(|t| {
                SECRET_AUTOCOMPLETE
                    .iter()
                    .any(|s| t.eq_ignore_ascii_case(s))
            })
        })
    }

    /// The rule no policy can switch off: a password now or before, or a secret
    /// `autocomplete` field.
    pub fn is_secret(&self) -> bool {
        self.is_password() || self.was_password || self.has_secret_autocomplete()
    }
}

/// [`ElementFacts`] with owned strings, for callers that read them from a live element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedFacts {
    /// `localName`.
    pub tag: String,
    /// `type`.
    pub input_type: Option<String>,
    /// `autocomplete`.
    pub autocomplete: Option<String>,
    /// See [`ElementFacts::was_password`].
    pub was_password: bool,
    /// See [`ElementFacts::matches_mask_rule`].
    pub matches_mask_rule: bool,
}

impl OwnedFacts {
    /// Borrowed facts.
    pub fn facts(&self) -> ElementFacts<'_> {
        ElementFacts {
            tag: &self.tag,
            input_type: self.input_type.as_deref(),
            autocomplete: self.autocomplete.as_deref(),
            was_password: self.was_password,
            matches_mask_rule: self.matches_mask_rule,
        }
    }
}

/// Decides what is masked. Implementations must keep the always-on rules: [`mask_value`]
/// enforces them regardless, so a policy cannot leak a password by mistake.
pub trait MaskPolicy {
    /// Whether the value of this form control (and its `value` attribute) is masked.
    fn masks_value(&self, el: &ElementFacts<'_>) -> bool;
    /// Whether text nodes directly inside this element are masked.
    fn masks_text(&self, parent: &ElementFacts<'_>) -> bool;
    /// What the site masks in addresses and the title ([`PageMask`]; its built-in parameter
    /// names apply to every policy).
    fn page(&self) -> &PageMask {
        &NO_PAGE_MASK
    }
}

/// The [`PageMask`] of policies without address settings.
static NO_PAGE_MASK: PageMask = PageMask::NONE;

/// The policy of a page without its own address settings: secrets, plus whatever a site
/// *mask* rule matched.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPolicy;

impl MaskPolicy for DefaultPolicy {
    fn masks_value(&self, el: &ElementFacts<'_>) -> bool {
        el.matches_mask_rule
    }
    fn masks_text(&self, parent: &ElementFacts<'_>) -> bool {
        parent.matches_mask_rule
    }
}

/// The policy in use on a page: [`DefaultPolicy`] plus the site's [`PageMask`] (the `<title>`
/// element's text is masked with the title).
#[derive(Debug, Clone, Default)]
pub struct SitePolicy {
    /// The site's address and title settings.
    pub page: PageMask,
}

impl MaskPolicy for SitePolicy {
    fn masks_value(&self, el: &ElementFacts<'_>) -> bool {
        DefaultPolicy.masks_value(el)
    }
    fn masks_text(&self, parent: &ElementFacts<'_>) -> bool {
        DefaultPolicy.masks_text(parent)
            || (self.page.masks_title() && parent.tag.eq_ignore_ascii_case("title"))
    }
    fn page(&self) -> &PageMask {
        &self.page
    }
}

/// Whether the value (or state) of the control described by `el` is masked.
pub fn value_masked(policy: &dyn MaskPolicy, el: &ElementFacts<'_>) -> bool {
    el.is_secret() || policy.masks_value(el)
}

/// `value` as it may leave the browser for the control described by `el`.
pub fn mask_value(policy: &dyn MaskPolicy, el: &ElementFacts<'_>, value: &str) -> String {
    if value_masked(policy, el) || el.is_hidden_input() {
        placeholder(value)
    } else {
        value.to_owned()
    }
}

/// A control's live state as it may leave the browser, or `None` when it is withheld: a hidden
/// input's value, and a masked checkbox's, radio's or select's state (a placeholder cannot
/// stand in for "checked" or for which option is chosen).
pub fn mask_form_state(
    policy: &dyn MaskPolicy,
    el: &ElementFacts<'_>,
    state: FormState,
) -> Option<FormState> {
    if el.is_hidden_input() {
        return None;
    }
    match state {
        FormState::Value(v) => Some(FormState::Value(mask_value(policy, el, &v))),
        other => (!value_masked(policy, el)).then_some(other),
    }
}

/// Text content as it may leave the browser, for a text node whose parent is `parent`.
pub fn mask_text(policy: &dyn MaskPolicy, parent: &ElementFacts<'_>, text: &str) -> String {
    if policy.masks_text(parent) {
        masked_text(text)
    } else {
        text.to_owned()
    }
}

/// Attribute names whose values are masked on elements under a *mask* rule.
pub const MASKED_ATTRIBUTES: &[&str] = &["value", "title", "alt", "placeholder", "aria-label"];

/// A URL with the values of its query parameters (and its fragment) replaced by placeholders,
/// for `href`/`src`/`action` under a *mask* rule: the agent still sees where a link goes, not the
/// account number or token it carries.
pub fn mask_url_parameters(url: &str) -> String {
    let star = |v: &str| -> String { v.chars().map(|_| MASK_CHAR).collect() };
    let (before_hash, hash) = match url.split_once('#') {
        Some((b, h)) => (b, Some(h)),
        None => (url, None),
    };
    let mut out = match before_hash.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => format!("{k}={}", star(v)),
                    None => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => before_hash.to_owned(),
    };
    if let Some(h) = hash {
        out.push('#');
        out.push_str(&star(h));
    }
    out
}

/// URL attributes whose parameters are masked under a *mask* rule.
pub const MASKED_URL_ATTRIBUTES: &[&str] = &["href", "src", "action", "formaction"];

/// Whether [`mask_attribute`] looks at the element at all for attribute `name`: for every other
/// name the answer is the same whatever the element is, so a caller may pass
/// `ElementFacts::default()` and spare reading the element and asking the mask rules (per
/// changed attribute in a mutation storm, that is most of the work).
pub fn attribute_reads_element(name: &str) -> bool {
    ["checked", "selected"]
        .iter()
        .chain(MASKED_ATTRIBUTES)
        .chain(MASKED_URL_ATTRIBUTES)
        .any(|a| a.eq_ignore_ascii_case(name))
}

/// Attribute value as it may leave the browser, or `None` when the attribute is left out: an
/// input's `value` attribute carries the same secret as its live value (a hidden input's is
/// never sent), a masked control's `checked` / `selected` would tell its state, and a frame's
/// `srcdoc` would repeat its document unmasked.
pub fn mask_attribute(
    policy: &dyn MaskPolicy,
    el: &ElementFacts<'_>,
    name: &str,
    value: &str,
) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if lower == "srcdoc" {
        // A frame's whole document as text: its content is captured as a document (masked
        // there), and the agent never uses the attribute.
        return None;
    }
    if lower == "value" && matches!(el.tag, "input" | "textarea" | "option") {
        return (!el.is_hidden_input()).then(|| mask_value(policy, el, value));
    }
    if matches!(lower.as_str(), "checked" | "selected") && value_masked(policy, el) {
        return None;
    }
    Some(
        if el.matches_mask_rule && MASKED_ATTRIBUTES.contains(&lower.as_str()) {
            // Under a site *mask* rule, labels that may carry the secret are masked too.
            placeholder(value)
        } else if el.matches_mask_rule && MASKED_URL_ATTRIBUTES.contains(&lower.as_str()) {
            mask_url_parameters(&policy.page().attribute_url(value))
        } else if is_url_attribute(&lower) {
            policy.page().attribute_url(value)
        } else {
            value.to_owned()
        },
    )
}

#[cfg(test)]
mod tests;
