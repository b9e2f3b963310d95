//! The DOM restriction document: the site owner's rules, served by the server at
//! `/cobrowse/rest/dom-restrictions.json` and enforced by the customer client, which may add the
//! page's own rules (`cobrowseConfig.restrictions`, same [`Rule`] shape, add-only).
//!
//! Per CSS selector a rule *masks* (text and values replaced before they leave the customer's
//! browser), *hides* (an empty box of the same size) or *restricts* (the agent cannot click, type
//! or focus there, even in write mode).
//!
//! Both ends read the document through these types and [`DomPolicy::validate`], so a document
//! the server starts with is exactly one the client accepts. Unknown fields are refused on both:
//! a misspelt `urlPattern` must not silently widen or narrow what is masked.

use serde::{Deserialize, Serialize};

/// The only document version.
pub const POLICY_VERSION: u32 = 1;

/// What a rule does to matching elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RuleAction {
    /// Content replaced by placeholders before it leaves the browser.
    Mask,
    /// Sent as an empty box of the same size, nothing inside.
    Hide,
    /// The agent cannot act on it.
    Restrict,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rule {
    /// CSS selector (list).
    pub selector: String,
    /// What to do.
    pub action: RuleAction,
    /// Only on pages whose URL matches this `*` pattern, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_pattern: Option<String>,
}

impl Rule {
    /// A rule for every page.
    pub fn new(selector: impl Into<String>, action: RuleAction) -> Rule {
        Rule {
            selector: selector.into(),
            action,
            url_pattern: None,
        }
    }
}

/// The whole document (`{"version":1,"rules":[…]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomPolicy {
    /// Format version; only [`POLICY_VERSION`] exists.
    pub version: u32,
    /// Rules in order.
    pub rules: Vec<Rule>,
}

impl Default for DomPolicy {
    /// Submit controls are restricted for the agent: an agent in write mode may fill a form but
    /// the customer sends it.
    fn default() -> Self {
        DomPolicy {
            version: POLICY_VERSION,
            rules: vec![
                Rule::new("input[type=submit]", RuleAction::Restrict),
                Rule::new("button[type=submit]", RuleAction::Restrict),
                Rule::new("form button:not([type])", RuleAction::Restrict),
            ],
        }
    }
}

/// Why a document is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A version this build does not know.
    #[error("unsupported version {0} (expected {POLICY_VERSION})")]
    Version(u32),
    /// A selector that cannot be joined with others into one selector list.
    #[error("rules[{index}].selector `{selector}` is not a plausible CSS selector")]
    Selector {
        /// Position of the rule.
        index: usize,
        /// The selector as written.
        selector: String,
    },
}

impl DomPolicy {
    /// Checks a parsed document: the version, and that every selector is plausible.
    pub fn validate(self) -> Result<DomPolicy, PolicyError> {
        if self.version != POLICY_VERSION {
            return Err(PolicyError::Version(self.version));
        }
        if let Some((index, rule)) = self
            .rules
            .iter()
            .enumerate()
            .find(|(_, r)| !plausible_selector(&r.selector))
        {
            return Err(PolicyError::Selector {
                index,
                selector: rule.selector.clone(),
            });
        }
        Ok(self)
    }
}

/// Whether `selector` can be a CSS selector list that is joined with others (`a, b`) and put into
/// a style rule: not empty, not huge, no braces or semicolons that would escape the rule block,
/// no empty list entry at the end. Whether the browser parses it is checked there.
pub fn plausible_selector(selector: &str) -> bool {
    let s = selector.trim();
    !s.is_empty() && s.len() <= 1024 && !s.contains(['{', '}', ';']) && !s.ends_with(',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_restricts_submit_controls_and_is_valid() {
        let p = DomPolicy::default();
        assert!(
            p.rules
                .iter()
                .any(|r| r.selector.contains("submit") && r.action == RuleAction::Restrict)
        );
        assert_eq!(p.clone().validate(), Ok(p));
    }

    #[test]
    fn versions_and_implausible_selectors_are_refused() {
        let doc = |version, selector: &str| DomPolicy {
            version,
            rules: vec![Rule::new(selector, RuleAction::Mask)],
        };
        assert_eq!(doc(2, "a").validate(), Err(PolicyError::Version(2)));
        for bad in [
            "",
            "  ",
            "a} body {display:none",
            "a;b",
            "a,",
            &"x".repeat(1025),
        ] {
            assert!(
                matches!(
                    doc(1, bad).validate(),
                    Err(PolicyError::Selector { index: 0, .. })
                ),
                "{bad:?}"
            );
        }
        assert!(doc(1, "#card, .cvv input").validate().is_ok());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = PolicyError::Selector {
            index: 3,
            selector: "a{".into(),
        };
        assert_eq!(
            e.to_string(),
            "rules[3].selector `a{` is not a plausible CSS selector"
        );
        assert_eq!(
            PolicyError::Version(7).to_string(),
            "unsupported version 7 (expected 1)"
        );
    }
}
