//! The masking rules, one test each: what the always-on rules mask whatever a policy says, what
//! site rules add, what is withheld rather than masked.

use super::*;

const SECRET: &str = "hunter2-ünï";

fn password() -> ElementFacts<'static> {
    ElementFacts {
        tag: "input",
        input_type: Some("password"),
        ..ElementFacts::default()
    }
}

fn input(ty: &'static str) -> ElementFacts<'static> {
    ElementFacts {
        tag: "input",
        input_type: Some(ty),
        ..ElementFacts::default()
    }
}

/// A policy that tries to unmask everything: secrets must stay masked anyway.
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
        Some(placeholder(SECRET))
    );
}

#[test]
fn a_revealed_password_stays_masked() {
    // The "show password" button made it a text field; the client saw it as a password.
    let shown = ElementFacts {
        was_password: true,
        ..input("text")
    };
    assert!(shown.is_secret());
    assert_eq!(mask_value(&Leaky, &shown, SECRET), placeholder(SECRET));
    assert_eq!(
        mask_form_state(&Leaky, &shown, FormState::Value("abc".into())),
        Some(FormState::Value("***".into()))
    );
    assert_eq!(
        mask_attribute(&Leaky, &shown, "value", "abc").as_deref(),
        Some("***")
    );
}

#[test]
fn secret_autocomplete_fields_are_masked_by_default() {
    for ac in [
        "cc-number",
        "CC-CSC",
        "billing cc-exp",
        "section-pay cc-exp-month",
        "cc-exp-year",
        "one-time-code",
        "username current-password",
        "new-password",
    ] {
        let el = ElementFacts {
            autocomplete: Some(ac),
            ..input("text")
        };
        assert!(el.has_secret_autocomplete(), "{ac}");
        assert_eq!(mask_value(&Leaky, &el, "4111"), "****", "{ac}");
    }
    for ac in ["cc-name", "email", "off", "cc-numberx", ""] {
        let el = ElementFacts {
            autocomplete: Some(ac),
            ..input("text")
        };
        assert!(!el.is_secret(), "{ac}");
    }
    // A select chosen by autocomplete (expiry month) withholds which option is chosen.
    let month = ElementFacts {
        tag: "select",
        autocomplete: Some("cc-exp-month"),
        ..ElementFacts::default()
    };
    assert_eq!(
        mask_form_state(&Leaky, &month, FormState::Selected(vec![3])),
        None
    );
}

#[test]
fn the_selector_names_every_secret_token() {
    let sel = secret_autocomplete_selector();
    for t in SECRET_AUTOCOMPLETE {
        assert!(sel.contains(&format!("[autocomplete~=\"{t}\" i]")), "{sel}");
    }
    assert!(cobrowse_protocol::policy::plausible_selector(&sel));
}

#[test]
fn hidden_inputs_are_never_sent() {
    let hidden = input(" Hidden ");
    assert_eq!(mask_attribute(&Leaky, &hidden, "value", "csrf-1"), None);
    assert_eq!(
        mask_form_state(&Leaky, &hidden, FormState::Value("csrf-1".into())),
        None
    );
    assert_eq!(
        mask_attribute(&Leaky, &hidden, "name", "csrf").as_deref(),
        Some("csrf")
    );
}

#[test]
fn srcdoc_never_leaves() {
    let frame = ElementFacts {
        tag: "iframe",
        ..ElementFacts::default()
    };
    assert_eq!(
        mask_attribute(&DefaultPolicy, &frame, "srcdoc", "<p class=secret>x</p>"),
        None
    );
}

#[test]
fn masked_checkboxes_and_selects_withhold_their_state() {
    let masked = ElementFacts {
        matches_mask_rule: true,
        ..input("checkbox")
    };
    assert_eq!(
        mask_form_state(&DefaultPolicy, &masked, FormState::Checked(true)),
        None
    );
    assert_eq!(mask_attribute(&DefaultPolicy, &masked, "checked", ""), None);
    let option = ElementFacts {
        tag: "option",
        matches_mask_rule: true,
        ..ElementFacts::default()
    };
    assert_eq!(
        mask_attribute(&DefaultPolicy, &option, "selected", ""),
        None
    );
    let plain = input("checkbox");
    assert_eq!(
        mask_form_state(&DefaultPolicy, &plain, FormState::Checked(true)),
        Some(FormState::Checked(true))
    );
    assert_eq!(
        mask_attribute(&DefaultPolicy, &plain, "checked", "").as_deref(),
        Some("")
    );
}

#[test]
fn plain_inputs_pass_and_rules_mask() {
    let text = input("text");
    assert_eq!(mask_value(&DefaultPolicy, &text, "hello"), "hello");
    let ruled = ElementFacts {
        matches_mask_rule: true,
        ..text
    };
    assert_eq!(mask_value(&DefaultPolicy, &ruled, "hello"), "*****");
    let p = ElementFacts {
        tag: "p",
        matches_mask_rule: true,
        ..ElementFacts::default()
    };
    assert_eq!(mask_text(&DefaultPolicy, &p, "ab c\nd"), "** *\n*");
}

#[test]
fn only_value_attributes_of_controls_are_masked() {
    assert_eq!(
        mask_attribute(&DefaultPolicy, &password(), "class", "x").as_deref(),
        Some("x")
    );
    let div = ElementFacts {
        tag: "div",
        ..password()
    };
    assert_eq!(
        mask_attribute(&DefaultPolicy, &div, "value", "v").as_deref(),
        Some("v")
    );
}

#[test]
fn masked_elements_mask_label_attributes_only() {
    let img = ElementFacts {
        tag: "img",
        matches_mask_rule: true,
        ..ElementFacts::default()
    };
    let attr = |el: &ElementFacts<'_>, n: &str, v: &str| {
        mask_attribute(&DefaultPolicy, el, n, v).expect("kept")
    };
    assert_eq!(attr(&img, "alt", "Jane"), "****");
    assert_eq!(attr(&img, "TITLE", "ab"), "**");
    assert_eq!(attr(&img, "class", "x y"), "x y");
    assert_eq!(attr(&img, "src", "/p.png?user=jane"), "/p.png?user=****");
    let plain = ElementFacts {
        matches_mask_rule: false,
        ..img
    };
    assert_eq!(attr(&plain, "alt", "Jane"), "Jane");
}

#[test]
fn the_sites_parameters_are_masked_in_every_url_attribute() {
    let site = SitePolicy {
        page: PageMask::new(&["token".into()], false).expect("valid"),
    };
    let a = ElementFacts {
        tag: "a",
        ..ElementFacts::default()
    };
    assert_eq!(
        mask_attribute(&site, &a, "href", "/next?token=abc&p=2").as_deref(),
        Some("/next?token=***&p=2")
    );
    assert_eq!(
        mask_attribute(&site, &a, "title", "token=abc").as_deref(),
        Some("token=abc")
    );
    // Built-in credentials, also without site settings.
    assert_eq!(
        mask_attribute(&DefaultPolicy, &a, "href", "/cb#access_token=xy").as_deref(),
        Some("/cb#access_token=**")
    );
}

#[test]
fn the_title_element_is_masked_with_the_title() {
    let title = ElementFacts {
        tag: "title",
        ..ElementFacts::default()
    };
    let site = SitePolicy {
        page: PageMask::new(&[], true).expect("valid"),
    };
    assert_eq!(mask_text(&site, &title, "Order 42"), "***** **");
    assert_eq!(mask_text(&SitePolicy::default(), &title, "Order"), "Order");
    assert_eq!(mask_text(&DefaultPolicy, &title, "Order"), "Order");
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

/// The shortcut's promise: for a name it says is element-blind, the most and the least
/// sensitive element get the same answer, under any policy.
#[test]
fn element_blind_attributes_mask_the_same_for_every_element() {
    let masked_password = ElementFacts {
        matches_mask_rule: true,
        was_password: true,
        autocomplete: Some("cc-number"),
        ..password()
    };
    let names = MASKED_ATTRIBUTES
        .iter()
        .chain(MASKED_URL_ATTRIBUTES)
        .copied()
        .chain(
            "checked selected Value TITLE srcdoc data-t class style id type name autocomplete \
             xlink:href srcset poster data"
                .split_whitespace(),
        )
        .chain([""]);
    let mut blind = 0;
    for name in names {
        if attribute_reads_element(name) {
            continue;
        }
        blind += 1;
        for value in [SECRET, "https://x.test/a?token=1", ""] {
            for policy in [&DefaultPolicy as &dyn MaskPolicy, &Leaky] {
                assert_eq!(
                    mask_attribute(policy, &masked_password, name, value),
                    mask_attribute(policy, &ElementFacts::default(), name, value),
                    "{name}={value:?}"
                );
            }
        }
    }
    assert!(blind > 10, "the list must exercise element-blind names");
    for name in ["value", "VALUE", "checked", "title", "href", "aria-label"] {
        assert!(attribute_reads_element(name), "{name}");
    }
}
