//! Write-mode rules that need no browser: which controls the agent may click or type into, the
//! same-origin rule for navigation and the editing command of an edit step. `web::actions`
//! performs the actions and asks these; the node an action names is the protocol's
//! (`AgentAction::target`), so the agent page and the server agree on it.
//!
//! Restrictions apply even in write mode: submit controls are disabled for the agent (the
//! customer submits their own forms), password and masked fields cannot be typed into (the agent
//! cannot see them anyway), and navigation stays on the page's origin.

use crate::mask::{DefaultPolicy, ElementFacts, value_masked};
use cobrowse_protocol::EditOp;

/// Whether the agent may click `el` (`in_form`: it belongs to a form). Submit controls are
/// disabled for the agent by default.
pub fn agent_may_click(el: &ElementFacts<'_>, in_form: bool) -> bool {
    let ty = el.input_type.map(str::to_ascii_lowercase);
    match el.tag {
        "button" => !(in_form && matches!(ty.as_deref(), None | Some("submit") | Some(""))),
        "input" => !matches!(ty.as_deref(), Some("submit" | "image")),
        _ => true,
    }
}

/// Whether the agent may type into `el`: not into a field whose value is masked (a password,
/// also a revealed one, a secret `autocomplete` field, a field under a *mask* rule).
pub fn agent_may_type(el: &ElementFacts<'_>) -> bool {
    !value_masked(&DefaultPolicy, el)
}

/// True when `url` (already resolved) has the same origin as the page.
pub fn same_origin(page_origin: &str, target_origin: &str) -> bool {
    !page_origin.is_empty() && page_origin == target_origin
}

/// The `document.execCommand` command that performs `op` the way the browser's own typing would.
pub fn exec_command(op: &EditOp) -> (&'static str, Option<&str>) {
    match op {
        EditOp::Insert(text) => ("insertText", Some(text)),
        EditOp::DeleteBackward => ("delete", None),
        EditOp::DeleteForward => ("forwardDelete", None),
        EditOp::Paragraph => ("insertParagraph", None),
        EditOp::LineBreak => ("insertLineBreak", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f<'a>(tag: &'a str, ty: Option<&'a str>) -> ElementFacts<'a> {
        ElementFacts {
            tag,
            input_type: ty,
            ..ElementFacts::default()
        }
    }

    #[test]
    fn submit_controls_are_disabled_for_the_agent() {
        assert!(!agent_may_click(&f("button", None), true));
        assert!(!agent_may_click(&f("button", Some("submit")), true));
        assert!(agent_may_click(&f("button", Some("button")), true));
        assert!(
            agent_may_click(&f("button", None), false),
            "no form: nothing to submit"
        );
        assert!(!agent_may_click(&f("input", Some("submit")), false));
        assert!(!agent_may_click(&f("input", Some("IMAGE")), true));
        assert!(agent_may_click(&f("a", None), true));
    }

    #[test]
    fn agent_cannot_type_passwords_or_masked_fields() {
        assert!(!agent_may_type(&f("input", Some("password"))));
        assert!(agent_may_type(&f("input", Some("text"))));
        let masked = ElementFacts {
            matches_mask_rule: true,
            ..f("textarea", None)
        };
        assert!(!agent_may_type(&masked));
        let revealed = ElementFacts {
            was_password: true,
            ..f("input", Some("text"))
        };
        assert!(!agent_may_type(&revealed));
        let card = ElementFacts {
            autocomplete: Some("cc-number"),
            ..f("input", None)
        };
        assert!(!agent_may_type(&card));
    }

    #[test]
    fn edit_steps_map_to_the_browsers_editing_commands() {
        assert_eq!(
            exec_command(&EditOp::Insert("é!".into())),
            ("insertText", Some("é!"))
        );
        assert_eq!(exec_command(&EditOp::DeleteBackward), ("delete", None));
        assert_eq!(
            exec_command(&EditOp::DeleteForward),
            ("forwardDelete", None)
        );
        assert_eq!(exec_command(&EditOp::Paragraph), ("insertParagraph", None));
        assert_eq!(exec_command(&EditOp::LineBreak), ("insertLineBreak", None));
        assert_eq!(EditOp::DeleteBackward.input_type(), "deleteContentBackward");
    }

    #[test]
    fn navigation_stays_on_origin() {
        assert!(same_origin("https://shop.example", "https://shop.example"));
        assert!(!same_origin("https://shop.example", "https://evil.example"));
        assert!(!same_origin("", ""));
    }
}
