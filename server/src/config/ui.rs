//! `[ui]`: the agent page's default language and theme (`GET /cobrowse/rest/ui.json`).

use super::error::{ConfigError, invalid};
use serde::{Deserialize, Serialize};

/// Theme names the agent page knows (`agent-ui` `locale::Theme`).
pub const UI_THEMES: &[&str] = &["auto", "light", "dark", "high-contrast"];

/// `ui.*` as written; empty means "the agent's browser decides".
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawUi {
    /// `ui.locale`: a language tag.
    pub(crate) locale: String,
    /// `ui.theme`: one of [`UI_THEMES`].
    pub(crate) theme: String,
}

impl RawUi {
    /// `(locale, theme)`, each `None` when empty.
    pub(crate) fn validate(&self) -> Result<(Option<String>, Option<String>), ConfigError> {
        let locale = Some(self.locale.trim().to_owned()).filter(|l| !l.is_empty());
        if let Some(l) = &locale
            && (l.len() > 35
                || l.starts_with('-')
                || !l
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(invalid(
                "ui.locale",
                format!("`{l}` is not a language tag (examples: en, de, pt-BR)"),
            ));
        }
        let theme = Some(self.theme.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &theme
            && !UI_THEMES.contains(&t.as_str())
        {
            return Err(invalid(
                "ui.theme",
                format!("`{t}` is not a theme (one of {})", UI_THEMES.join(", ")),
            ));
        }
        Ok((locale, theme))
    }
}
