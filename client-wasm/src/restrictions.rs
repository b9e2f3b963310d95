//! DOM restrictions: the site owner's rules (served by the server at
//! `/cobrowse/rest/dom-restrictions.json`) merged with the page's own additions
//! (`cobrowseConfig.restrictions`), reduced to one CSS selector list per action for the page's
//! current URL.
//!
//! * *mask* — text and values under matching elements (and the attributes in
//!   [`MASKED_ATTRIBUTES`]) are replaced by same-length placeholders before encoding;
//! * *hide* — the element is sent as an empty box of the same size, nothing inside it;
//! * *restrict* — the agent cannot click, type into or focus it, even in write mode.
//!
//! Invariant: the page's configuration can only **add** rules. [`RuleSet::merge`] appends them
//! after the server's and there is no way to express "unmask"; a rule whose selector is not
//! plausible is dropped with an error rather than breaking the whole list (the DOM side also
//! drops a selector the browser rejects, never the rest).

use serde::Deserialize;

/// Attribute names whose values are masked on elements under a *mask* rule.
pub const MASKED_ATTRIBUTES: &[&str] = &["value", "title", "alt", "placeholder", "aria-label"];

/// A URL with the values of its query parameters (and its fragment) replaced by placeholders,
/// for `href`/`src`/`action` under a *mask* rule: the agent still sees where a link goes, not the
/// account number or token it carries.
pub fn mask_url_parameters(url: &str) -> String {
    let star = |v: &str| -> String { v.chars().map(|_| crate::mask::MASK_CHAR).collect() };
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

/// What a rule does to matching elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Content replaced by placeholders before it leaves the browser.
    Mask,
    /// Sent as an empty box of the same size.
    Hide,
    /// The agent cannot act on it.
    Restrict,
}

/// One rule, as in the server's document and in `cobrowseConfig.restrictions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// CSS selector.
    pub selector: String,
    /// What to do.
    pub action: RuleAction,
    /// Only on pages whose URL matches this `*` pattern, when given.
    #[serde(default)]
    pub url_pattern: Option<String>,
}

/// The server's document (`{"version":1,"rules":[…]}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PolicyDocument {
    /// Format version; only 1 exists.
    pub version: u32,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// Why a policy document is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestrictionsError {
    /// Not the expected JSON shape.
    #[error("dom restrictions: invalid document: {0}")]
    Invalid(String),
    /// A version this client does not know.
    #[error("dom restrictions: unsupported version {0}")]
    Version(u32),
}

impl PolicyDocument {
    /// Checks a document the browser parsed (`JSON.parse`): only version 1 exists.
    pub fn check(self) -> Result<PolicyDocument, RestrictionsError> {
        if self.version != 1 {
            return Err(RestrictionsError::Version(self.version));
        }
        Ok(self)
    }
}

/// Whether `selector` can be a CSS selector list we may join with others (no braces, which would
/// escape into a rule block, no empty entries).
pub fn plausible_selector(selector: &str) -> bool {
    let s = selector.trim();
    !s.is_empty() && s.len() <= 1024 && !s.contains(['{', '}', ';']) && !s.ends_with(',')
}

/// `url` matches `pattern`, where `*` stands for any run of characters (also `/`) and the
/// rest is compared literally. No pattern matches every URL.
pub fn url_matches(pattern: Option<&str>, url: &str) -> bool {
    let Some(pattern) = pattern.map(str::trim).filter(|p| !p.is_empty()) else {
        return true;
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(x) => x,
        None => return true,
    };
    let Some(mut tail) = url.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty(); // no `*`: exact match
    };
    for part in middle {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.ends_with(last)
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

    /// The selector lists that apply on `url`.
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
        Active {
            mask: list(RuleAction::Mask),
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

    #[test]
    fn url_parameters_are_masked_but_the_path_stays() {
        assert_eq!(
            mask_url_parameters("https://bank/acct?id=12345&view&t=ab#frag"),
            "https://bank/acct?id=*****&view&t=**#****"
        );
        assert_eq!(mask_url_parameters("/plain/path"), "/plain/path");
        assert_eq!(mask_url_parameters("?=x"), "?=*");
        assert_eq!(mask_url_parameters(""), "");
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
    }

    #[test]
    fn page_rules_add_and_never_remove_server_rules() {
        let server = vec![rule(".card", RuleAction::Mask, None)];
        let page = vec![rule("#notes", RuleAction::Mask, None)];
        let (set, dropped) = RuleSet::merge(server, page);
        assert!(dropped.is_empty());
        assert_eq!(
            set.active("http://x/").mask.as_deref(),
            Some(".card, #notes")
        );
        // The page cannot express "unmask": an empty page list keeps the server's rules.
        let (set, _) = RuleSet::merge(vec![rule(".card", RuleAction::Mask, None)], vec![]);
        assert_eq!(set.active("http://x/").mask.as_deref(), Some(".card"));
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
        assert_eq!(a.mask, None);
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

    #[test]
    fn document_version_is_checked() {
        let doc = |version| PolicyDocument {
            version,
            rules: vec![],
        };
        assert_eq!(doc(2).check(), Err(RestrictionsError::Version(2)));
        assert!(doc(1).check().is_ok());
    }
}
