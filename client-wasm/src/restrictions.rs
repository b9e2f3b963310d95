//! DOM restrictions: the site owner's rules (served by the server at
//! `/cobrowse/rest/dom-restrictions.json`) merged with the page's own additions
//! (`cobrowseConfig.restrictions`), reduced to one CSS selector list per action for the page's
//! current URL. The document and rule types, and what makes them valid, are the protocol's
//! ([`cobrowse_protocol::policy`], re-exported here); this module is what the client does with
//! them.
//!
//! * *mask* — text and values under matching elements (and the attributes in
//!   [`MASKED_ATTRIBUTES`]) are replaced by same-length placeholders before encoding;
//! * *hide* — the element is sent as an empty box of the same size, nothing inside it;
//! * *restrict* — the agent cannot click, type into or focus it, even in write mode.
//!
//! Invariant: the page's configuration can only **add** rules. [`RuleSet::merge`] appends them
//! after the server's and there is no way to express "unmask"; a rule whose selector is not
//! plausible is dropped with an error rather than breaking the whole list (the DOM side also
//! drops a selector the browser rejects, never the rest). The server's document as a whole must
//! pass [`DomPolicy::validate`], the check the server starts with, and neither it nor the page's
//! rules may carry a field the [`Rule`] type does not know: a misspelt `urlPattern` is an error,
//! not a rule for every page.

pub use crate::mask::{
    MASKED_ATTRIBUTES, MASKED_URL_ATTRIBUTES, mask_url_parameters, secret_autocomplete_selector,
};
use cobrowse_common::pattern::glob;
pub use cobrowse_protocol::policy::{
    DomPolicy, POLICY_VERSION, PolicyError, Rule, RuleAction, plausible_selector,
};

/// Whether a rule with `pattern` applies on the page at `url`: the common `*` glob (any run of
/// characters, also `/`; the rest literal and case-sensitive, as URLs are compared), over the
/// trimmed pattern. No pattern, or a blank one, matches every URL.
pub fn url_matches(pattern: Option<&str>, url: &str) -> bool {
    pattern
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .is_none_or(|p| glob(p.as_bytes(), url.as_bytes()))
}

/// The selectors of one URL, one list per action (`None` when no rule applies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Active {
    /// Selector list of *mask* rules.
    pub mask: Option<String>,
    /// Selector list of *hide* rules.
    pub hide: Option<String>,
    /// Selector list of *restrict* rules.
    pub restrict: Option<String>,
}

/// Server rules followed by the page's additions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The server's rules plus the page's; the page's can only add (see the module invariant).
    /// Returns the set and the selectors that were dropped as implausible.
    pub fn merge(server: Vec<Rule>, page: Vec<Rule>) -> (RuleSet, Vec<String>) {
        let mut dropped = Vec::new();
        let rules = server
            .into_iter()
            .chain(page)
            .filter(|r| {
                let ok = plausible_selector(&r.selector);
                if !ok {
                    dropped.push(r.selector.clone());
                }
                ok
            })
            .collect();
        (RuleSet { rules }, dropped)
    }

    /// All rules, server's first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The selector lists that apply on `url`. The mask list always starts with the fields
    /// whose `autocomplete` makes them secret ([`secret_autocomplete_selector`]), so what they
    /// contain is masked with them and the customer's marker shows them.
    pub fn active(&self, url: &str) -> Active {
        let list = |action: RuleAction| {
            let sels: Vec<&str> = self
                .rules
                .iter()
                .filter(|r| r.action == action && url_matches(r.url_pattern.as_deref(), url))
                .map(|r| r.selector.trim())
                .collect();
            (!sels.is_empty()).then(|| sels.join(", "))
        };
        let builtin = secret_autocomplete_selector();
        Active {
            mask: Some(match list(RuleAction::Mask) {
                Some(site) => format!("{builtin}, {site}"),
                None => builtin,
            }),
            hide: list(RuleAction::Hide),
            restrict: list(RuleAction::Restrict),
        }
    }
}

/// The inline style of a hidden element's stand-in box: same size, nothing inside.
pub fn hidden_box_style(width: f64, height: f64, inline: bool) -> String {
    let w = if width.is_finite() {
        width.max(0.0)
    } else {
        0.0
    };
    let h = if height.is_finite() {
        height.max(0.0)
    } else {
        0.0
    };
    let display = if inline { "inline-block" } else { "block" };
    format!(
        "display:{display};width:{w:.0}px;height:{h:.0}px;background:#d0d0d0;overflow:hidden;box-sizing:border-box"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(selector: &str, action: RuleAction, url: Option<&str>) -> Rule {
        Rule {
            selector: selector.into(),
            action,
            url_pattern: url.map(Into::into),
        }
    }

    fn with_builtin(site: &str) -> String {
        format!("{}, {site}", secret_autocomplete_selector())
    }

    #[test]
    fn patterns_match_like_globs() {
        assert!(url_matches(None, "https://a/b"));
        assert!(url_matches(Some(""), "https://a/b"));
        assert!(url_matches(Some("*"), "https://a/b"));
        assert!(url_matches(Some("https://a/*"), "https://a/b/c?x=1"));
        assert!(!url_matches(Some("https://a/*"), "https://b/a/"));
        assert!(url_matches(
            Some("*/checkout*"),
            "https://shop/checkout?step=2"
        ));
        assert!(!url_matches(Some("*/checkout*"), "https://shop/cart"));
        assert!(url_matches(Some("https://a/x"), "https://a/x"));
        assert!(!url_matches(Some("https://a/x"), "https://a/xy"));
        assert!(url_matches(Some("*.html"), "http://h/p/index.html"));
        assert!(!url_matches(Some("*.html"), "http://h/p/index.htm"));
        assert!(url_matches(Some("a*b*c"), "aXbYbZc"));
        assert!(url_matches(Some("  "), "https://a/b"));
        assert!(url_matches(Some(" https://a/* "), "https://a/b"));
        assert!(!url_matches(Some("https://A/*"), "https://a/b"), "literal");
        assert!(url_matches(Some("*/ü/*"), "https://a/ü/b"));
    }

    #[test]
    fn a_misspelt_field_is_an_error_that_names_it() {
        let e = serde_json::from_str::<Rule>(
            r##"{"selector":"#card","action":"mask","urlPatern":"*/pay*"}"##,
        )
        .expect_err("unknown field");
        assert!(e.to_string().contains("`urlPatern`"), "{e}");
        let e = serde_json::from_str::<DomPolicy>(r#"{"version":1,"rules":[],"rule":[]}"#)
            .expect_err("unknown field");
        assert!(e.to_string().contains("`rule`"), "{e}");
    }

    #[test]
    fn page_rules_add_and_never_remove_server_rules() {
        let server = vec![rule(".card", RuleAction::Mask, None)];
        let page = vec![rule("#notes", RuleAction::Mask, None)];
        let (set, dropped) = RuleSet::merge(server, page);
        assert!(dropped.is_empty());
        assert_eq!(
            set.active("http://x/").mask,
            Some(with_builtin(".card, #notes"))
        );
        // The page cannot express "unmask": an empty page list keeps the server's rules.
        let (set, _) = RuleSet::merge(vec![rule(".card", RuleAction::Mask, None)], vec![]);
        assert_eq!(set.active("http://x/").mask, Some(with_builtin(".card")));
    }

    #[test]
    fn implausible_selectors_are_dropped_alone() {
        let (set, dropped) = RuleSet::merge(
            vec![
                rule("a} body {display:none", RuleAction::Hide, None),
                rule(".ok", RuleAction::Hide, None),
            ],
            vec![rule("  ", RuleAction::Mask, None)],
        );
        assert_eq!(dropped.len(), 2);
        let a = set.active("http://x/");
        assert_eq!(a.hide.as_deref(), Some(".ok"));
        assert_eq!(
            a.mask,
            Some(secret_autocomplete_selector()),
            "only the built-in list"
        );
    }

    #[test]
    fn url_patterns_select_rules_per_page() {
        let (set, _) = RuleSet::merge(
            vec![
                rule("#pay", RuleAction::Restrict, Some("*/checkout*")),
                rule("input[type=submit]", RuleAction::Restrict, None),
            ],
            vec![],
        );
        assert_eq!(
            set.active("https://s/checkout").restrict.as_deref(),
            Some("#pay, input[type=submit]")
        );
        assert_eq!(
            set.active("https://s/home").restrict.as_deref(),
            Some("input[type=submit]")
        );
    }

    #[test]
    fn hidden_box_keeps_size_and_survives_nonsense() {
        let s = hidden_box_style(120.4, 30.6, false);
        assert!(s.contains("width:120px") && s.contains("height:31px") && s.contains("block"));
        let s = hidden_box_style(f64::NAN, -5.0, true);
        assert!(s.contains("width:0px") && s.contains("height:0px") && s.contains("inline-block"));
    }
}
