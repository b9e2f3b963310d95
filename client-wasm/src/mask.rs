//! Masking: what never leaves the customer's browser.
//!
//! *Masked* means the content is replaced by a same-length placeholder **before** it is encoded,
//! so neither the server nor the agent ever receives it. Password input values are always masked,
//! whatever the policy says. The site's selector rules (issue #5) plug in through [`MaskPolicy`]:
//! the DOM side evaluates the selectors (it has `Element.matches`) and reports the result in
//! [`ElementFacts::matches_mask_rule`]; the policy decides from plain facts, so it tests natively.

/// What the DOM side knows about an element when deciding about its value or text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ElementFacts<'a> {
    /// `localName`, lower case.
    pub tag: &'a str,
    /// The `type` attribute of an `<input>`, lower case, if any.
    pub input_type: Option<&'a str>,
    /// True when a site masking rule's selector matches the element or an ancestor.
    pub matches_mask_rule: bool,
}

impl ElementFacts<'_> {
    /// True for `<input type=password>` (the rule no policy can switch off). The attribute is
    /// compared as browsers do: ASCII case-insensitively, ignoring surrounding whitespace.
    pub fn is_password(&self) -> bool {
        self.tag.eq_ignore_ascii_case("input")
            && self
                .input_type
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("password"))
    }
}

/// Decides what is masked. Implementations must keep the password rule: [`mask_value`] enforces
/// it regardless, so a policy cannot leak a password by mistake.
pub trait MaskPolicy {
    /// Whether the value of this form control (and its `value` attribute) is masked.
    fn masks_value(&self, el: &ElementFacts<'_>) -> bool;
    /// Whether text nodes directly inside this element are masked.
    fn masks_text(&self, parent: &ElementFacts<'_>) -> bool;
}

/// The default policy until the site rules of issue #5 arrive: passwords only, plus whatever a
/// site rule matched.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPolicy;

impl MaskPolicy for DefaultPolicy {
    fn masks_value(&self, el: &ElementFacts<'_>) -> bool {
        el.is_password() || el.matches_mask_rule
    }
    fn masks_text(&self, parent: &ElementFacts<'_>) -> bool {
        parent.matches_mask_rule
    }
}

/// The character placeholders are made of.
pub const MASK_CHAR: char = '*';

/// A placeholder with as many characters as `value`, so layouts keep their width.
pub fn placeholder(value: &str) -> String {
    std::iter::repeat_n(MASK_CHAR, value.chars().count()).collect()
}

/// `value` as it may leave the browser for the control described by `el`.
pub fn mask_value(policy: &dyn MaskPolicy, el: &ElementFacts<'_>, value: &str) -> String {
    if el.is_password() || policy.masks_value(el) {
        placeholder(value)
    } else {
        value.to_owned()
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

/// `text` with every non-whitespace character replaced, so line breaks and spacing stay.
pub fn masked_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_whitespace() { c } else { MASK_CHAR })
        .collect()
}

/// Attribute value as it may leave the browser: an input's `value` attribute carries the same
/// secret as its live value.
pub fn mask_attribute(
    policy: &dyn MaskPolicy,
    el: &ElementFacts<'_>,
    name: &str,
    value: &str,
) -> String {
    if name == "value" && matches!(el.tag, "input" | "textarea" | "option") {
        mask_value(policy, el, value)
    } else if el.matches_mask_rule
        && crate::restrictions::MASKED_ATTRIBUTES.contains(&name.to_ascii_lowercase().as_str())
    {
        // Under a site *mask* rule, labels that may carry the secret are masked too.
        placeholder(value)
    } else if el.matches_mask_rule
        && crate::restrictions::MASKED_URL_ATTRIBUTES.contains(&name.to_ascii_lowercase().as_str())
    {
        crate::restrictions::mask_url_parameters(value)
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "hunter2-ünï";

    fn password() -> ElementFacts<'static> {
        ElementFacts {
            tag: "input",
            input_type: Some("password"),
            matches_mask_rule: false,
        }
    }

    /// A policy that tries to unmask everything: passwords must stay masked anyway.
    struct Leaky;
    impl MaskPolicy for Leaky {
        fn masks_value(&self, _: &ElementFacts<'_>) -> bool {
            false
        }
        fn masks_text(&self, _: &ElementFacts<'_>) -> bool {
            false
        }
    }

    #[test]
    fn password_values_are_same_length_placeholders() {
        let out = mask_value(&DefaultPolicy, &password(), SECRET);
        assert_eq!(out.chars().count(), SECRET.chars().count());
        assert!(out.chars().all(|c| c == MASK_CHAR));
        assert!(!out.contains("hunter"));
    }

    #[test]
    fn password_type_is_matched_like_browsers_do() {
        for ty in ["PASSWORD", " Password ", "password"] {
            let el = ElementFacts {
                input_type: Some(ty),
                ..password()
            };
            assert_eq!(mask_value(&Leaky, &el, "abc"), "***", "type={ty:?}");
        }
    }

    #[test]
    fn no_policy_can_unmask_a_password() {
        assert_eq!(mask_value(&Leaky, &password(), SECRET), placeholder(SECRET));
        assert_eq!(
            mask_attribute(&Leaky, &password(), "value", SECRET),
            placeholder(SECRET)
        );
    }

    #[test]
    fn plain_inputs_pass_and_rules_mask() {
        let text = ElementFacts {
            tag: "input",
            input_type: Some("text"),
            matches_mask_rule: false,
        };
        assert_eq!(mask_value(&DefaultPolicy, &text, "hello"), "hello");
        let ruled = ElementFacts {
            matches_mask_rule: true,
            ..text
        };
        assert_eq!(mask_value(&DefaultPolicy, &ruled, "hello"), "*****");
        let p = ElementFacts {
            tag: "p",
            input_type: None,
            matches_mask_rule: true,
        };
        assert_eq!(mask_text(&DefaultPolicy, &p, "ab c\nd"), "** *\n*");
    }

    #[test]
    fn only_value_attributes_of_controls_are_masked() {
        assert_eq!(
            mask_attribute(&DefaultPolicy, &password(), "class", "x"),
            "x"
        );
        let div = ElementFacts {
            tag: "div",
            ..password()
        };
        assert_eq!(mask_attribute(&DefaultPolicy, &div, "value", "v"), "v");
    }

    #[test]
    fn masked_elements_mask_label_attributes_only() {
        let img = ElementFacts {
            tag: "img",
            input_type: None,
            matches_mask_rule: true,
        };
        assert_eq!(mask_attribute(&DefaultPolicy, &img, "alt", "Jane"), "****");
        assert_eq!(mask_attribute(&DefaultPolicy, &img, "TITLE", "ab"), "**");
        assert_eq!(mask_attribute(&DefaultPolicy, &img, "class", "x y"), "x y");
        assert_eq!(
            mask_attribute(&DefaultPolicy, &img, "src", "/p.png?user=jane"),
            "/p.png?user=****"
        );
        let plain = ElementFacts {
            matches_mask_rule: false,
            ..img
        };
        assert_eq!(
            mask_attribute(&DefaultPolicy, &plain, "alt", "Jane"),
            "Jane"
        );
    }
}
