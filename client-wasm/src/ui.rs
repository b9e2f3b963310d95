//! The customer UI's browser-free parts: the attribute that marks it, the actions its buttons
//! name (`data-cobrowse-action`) and escaping text for the markup it builds. `web::ui` draws the
//! UI.

/// The attribute that marks our own UI; such elements and their subtrees are never captured.
pub const UI_ATTR: &str = "data-cobrowse-ui";

/// A user action in our UI; the client decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiAction {
    /// The co-browse button.
    Start,
    /// "Yes, I am on a call or chat".
    ConfirmYes,
    /// "No".
    ConfirmNo,
    /// Copy the session number.
    Copy,
    /// Exit co-browsing.
    Exit,
    /// Close a notice or dialog.
    Close,
    /// Grant the agent control (write mode).
    Grant,
    /// Deny the agent control.
    Deny,
    /// Take control back (end write mode).
    Revoke,
}

impl UiAction {
    /// The action a button's `data-cobrowse-action` value names.
    pub fn from_attr(s: &str) -> Option<UiAction> {
        Some(match s {
            "start" => UiAction::Start,
            "confirm-yes" => UiAction::ConfirmYes,
            "confirm-no" => UiAction::ConfirmNo,
            "copy" => UiAction::Copy,
            "exit" => UiAction::Exit,
            "close" => UiAction::Close,
            "grant" => UiAction::Grant,
            "deny" => UiAction::Deny,
            "revoke" => UiAction::Revoke,
            _ => return None,
        })
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<img src=x onerror="a">&'"#),
            "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn actions_parse() {
        assert_eq!(UiAction::from_attr("exit"), Some(UiAction::Exit));
        assert_eq!(UiAction::from_attr("nope"), None);
    }
}
