//! The site owner's configuration (`window.cobrowseConfig`, or the npm `start()` options) and
//! the customer UI's texts.
//!
//! Every field is optional: a missing config object gives a working default (English texts, a
//! button at the bottom right, no call confirmation). Unknown fields are ignored so that newer
//! snippets keep working with older clients.

use serde::Deserialize;

/// Where the co-browse button sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ButtonPosition {
    /// Bottom right corner (default).
    #[default]
    BottomRight,
    /// Bottom left corner.
    BottomLeft,
    /// Top right corner.
    TopRight,
    /// Top left corner.
    TopLeft,
}

impl ButtonPosition {
    /// CSS declarations placing a fixed element in this corner.
    pub fn css(self) -> &'static str {
        match self {
            ButtonPosition::BottomRight => "bottom:16px;right:16px;",
            ButtonPosition::BottomLeft => "bottom:16px;left:16px;",
            ButtonPosition::TopRight => "top:16px;right:16px;",
            ButtonPosition::TopLeft => "top:16px;left:16px;",
        }
    }
}

/// Texts of the customer UI. Missing entries fall back to the locale's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Texts {
    /// The co-browse button.
    pub button: String,
    /// Accessible label of the button.
    pub button_label: String,
    /// "Are you on a call or chat with an agent?"
    pub confirm_question: String,
    /// Confirmation "yes".
    pub yes: String,
    /// Confirmation "no".
    pub no: String,
    /// Shown after "no": start a call or chat first.
    pub need_agent: String,
    /// Close a notice or dialog.
    pub close: String,
    /// Label before the session number.
    pub session_number: String,
    /// Hint under the number.
    pub read_to_agent: String,
    /// Copy button.
    pub copy: String,
    /// After copying.
    pub copied: String,
    /// Exit button.
    pub exit: String,
    /// Session is being created.
    pub connecting: String,
    /// An agent joined.
    pub agent_joined: String,
    /// The agent left.
    pub agent_left: String,
    /// The session ended (followed by the reason).
    pub ended: String,
    /// Reason: the customer ended it.
    pub reason_customer: String,
    /// Reason: the agent ended it.
    pub reason_agent: String,
    /// Reason: ended by the site or an integration.
    pub reason_stopped: String,
    /// Reason: nobody joined in time.
    pub reason_timeout: String,
    /// Reason: the connection was lost.
    pub reason_connection: String,
    /// Reason: the server shut down.
    pub reason_server: String,
    /// The agent is busy with another session.
    pub agent_busy: String,
    /// Starting failed.
    pub error: String,
    /// The agent asks for write mode.
    pub write_request: String,
    /// Allow write mode.
    pub allow: String,
    /// Deny write mode.
    pub deny: String,
    /// Take control back from the agent (ends write mode).
    pub revoke: String,
    /// Write mode is on.
    pub control_granted: String,
    /// Write mode is off again.
    pub control_revoked: String,
}

impl Texts {
    /// Built-in texts for `locale` (`en` and `de`; anything else falls back to English).
    pub fn for_locale(locale: &str) -> Texts {
        let t = |s: &str| s.to_owned();
        if locale.to_ascii_lowercase().starts_with("de") {
            return Texts {
                button: t("Co-Browsing"),
                button_label: t("Co-Browsing mit einem Mitarbeiter starten"),
                confirm_question: t("Sprechen oder chatten Sie gerade mit einem Mitarbeiter?"),
                yes: t("Ja"),
                no: t("Nein"),
                need_agent: t(
                    "Bitte rufen Sie uns zuerst an oder starten Sie einen Chat. Der Mitarbeiter braucht die Sitzungsnummer.",
                ),
                close: t("Schließen"),
                session_number: t("Ihre Sitzungsnummer"),
                read_to_agent: t("Nennen Sie diese Nummer dem Mitarbeiter."),
                copy: t("Kopieren"),
                copied: t("Kopiert"),
                exit: t("Co-Browsing beenden"),
                connecting: t("Verbinde …"),
                agent_joined: t("Ein Mitarbeiter sieht jetzt diese Seite."),
                agent_left: t("Der Mitarbeiter hat die Sitzung verlassen."),
                ended: t("Co-Browsing beendet"),
                reason_customer: t("Sie haben die Sitzung beendet."),
                reason_agent: t("Der Mitarbeiter hat die Sitzung beendet."),
                reason_stopped: t("Die Sitzung wurde beendet."),
                reason_timeout: t("Niemand ist rechtzeitig beigetreten."),
                reason_connection: t("Die Verbindung ist abgebrochen."),
                reason_server: t("Der Server wurde heruntergefahren."),
                agent_busy: t("Der Mitarbeiter ist gerade in einer anderen Sitzung."),
                error: t("Co-Browsing konnte nicht gestartet werden."),
                write_request: t(
                    "Der Mitarbeiter möchte auf dieser Seite für Sie klicken und tippen. Erlauben?",
                ),
                allow: t("Erlauben"),
                deny: t("Ablehnen"),
                revoke: t("Kontrolle zurücknehmen"),
                control_granted: t(
                    "Der Mitarbeiter kann jetzt auf dieser Seite klicken und tippen.",
                ),
                control_revoked: t("Der Mitarbeiter kann nur noch zeigen."),
            };
        }
        Texts {
            button: t("Co-browse"),
            button_label: t("Start co-browsing with an agent"),
            confirm_question: t("Are you on a call or chat with an agent?"),
            yes: t("Yes"),
            no: t("No"),
            need_agent: t(
                "Please call us or start a chat first. The agent will need your session number.",
            ),
            close: t("Close"),
            session_number: t("Your session number"),
            read_to_agent: t("Read this number to the agent."),
            copy: t("Copy"),
            copied: t("Copied"),
            exit: t("Exit co-browsing"),
            connecting: t("Connecting…"),
            agent_joined: t("An agent is now viewing this page."),
            agent_left: t("The agent left the session."),
            ended: t("Co-browsing ended"),
            reason_customer: t("You ended the session."),
            reason_agent: t("The agent ended the session."),
            reason_stopped: t("The session was stopped."),
            reason_timeout: t("No agent joined in time."),
            reason_connection: t("The connection was lost."),
            reason_server: t("The server shut down."),
            agent_busy: t("The agent is busy with another session."),
            error: t("Co-browsing could not start."),
            write_request: t("The agent asks to click and type on this page for you. Allow?"),
            allow: t("Allow"),
            deny: t("Deny"),
            revoke: t("Take back control"),
            control_granted: t("The agent can now click and type on this page."),
            control_revoked: t("The agent can only point again."),
        }
    }
}

impl Default for Texts {
    fn default() -> Self {
        Texts::for_locale("en")
    }
}

/// Configuration, as the loader or the npm package passes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    /// Base URL of the co-browse server (`https://cobrowse.example.com`); the loader fills it
    /// in from `data-server-url` or its own script URL.
    pub server_url: Option<String>,
    /// Console logging.
    pub debug: bool,
    /// Show the co-browse button; `false` for sites that start sessions from their own code.
    pub button: bool,
    /// Corner of the button.
    pub button_position: ButtonPosition,
    /// Ask "are you on a call or chat with an agent?" before starting.
    pub confirm_call: bool,
    /// Locale for the built-in texts (`en`, `de`).
    pub locale: String,
    /// Text overrides, merged over the locale's texts (only the fields given).
    pub texts: Option<TextOverrides>,
    /// Answer write-mode requests with a consent dialog (otherwise they are denied).
    pub write_mode: bool,
    /// Images the agent cannot load, sent inline as `data:` URLs (issue #4).
    pub inline_images: InlineImages,
}

/// Which `<img>` the customer sends inline, as a `data:` URL, because the agent's browser could
/// not load them: `blob:` URLs always (they exist only in the customer's page), plus images the
/// site selects (e.g. behind the customer's login cookie). Masked and hidden images never are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InlineImages {
    /// Largest `data:` URL sent, in bytes of its text (base64 grows the image by a third);
    /// larger images stay empty boxes for the agent. `0` turns inlining off.
    pub max_bytes: u32,
    /// A CSS selector for http(s) images to inline too, fetched by the customer's browser with
    /// its credentials (same-origin images only; the browser refuses others).
    pub selector: Option<String>,
}

impl Default for InlineImages {
    fn default() -> Self {
        InlineImages {
            max_bytes: 64 * 1024,
            selector: None,
        }
    }
}

impl InlineImages {
    /// True when `data_url` (an image's `data:` URL) may be sent: inlining is on, it fits the
    /// cap, and its type is an image type the agent's replica accepts as a `data:` URL.
    pub fn accepts(&self, data_url: &str) -> bool {
        const TYPES: &[&str] = &[
            "data:image/png",
            "data:image/gif",
            "data:image/jpeg",
            "data:image/webp",
            "data:image/avif",
            "data:image/bmp",
            "data:image/svg+xml",
            "data:image/x-icon",
            "data:image/vnd.microsoft.icon",
        ];
        self.max_bytes > 0
            && data_url.len() <= self.max_bytes as usize
            && TYPES.iter().any(|t| {
                data_url.len() > t.len()
                    && data_url.is_char_boundary(t.len())
                    && data_url[..t.len()].eq_ignore_ascii_case(t)
                    && matches!(data_url.as_bytes()[t.len()], b';' | b',')
            })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server_url: None,
            debug: false,
            button: true,
            button_position: ButtonPosition::default(),
            confirm_call: false,
            locale: "en".into(),
            texts: None,
            write_mode: true,
            inline_images: InlineImages::default(),
        }
    }
}

impl Config {
    /// The effective texts: the locale's, with the site's overrides applied.
    pub fn texts(&self) -> Texts {
        let mut t = Texts::for_locale(&self.locale);
        if let Some(p) = &self.texts {
            p.apply(&mut t);
        }
        t
    }

    /// The server URL without a trailing slash.
    pub fn server_base(&self) -> Option<String> {
        self.server_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('/').to_owned())
    }
}

/// Text overrides by camelCase field name. A map rather than `Texts` with defaults, because the
/// defaults depend on the locale, which serde does not know while reading the fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct TextOverrides(pub std::collections::BTreeMap<String, String>);

mod overrides {
    use super::{TextOverrides, Texts};

    impl TextOverrides {
        /// Writes every known override into `t`; unknown keys are ignored.
        pub fn apply(&self, t: &mut Texts) {
            for (k, v) in &self.0 {
                let slot = match k.as_str() {
                    "button" => &mut t.button,
                    "buttonLabel" => &mut t.button_label,
                    "confirmQuestion" => &mut t.confirm_question,
                    "yes" => &mut t.yes,
                    "no" => &mut t.no,
                    "needAgent" => &mut t.need_agent,
                    "close" => &mut t.close,
                    "sessionNumber" => &mut t.session_number,
                    "readToAgent" => &mut t.read_to_agent,
                    "copy" => &mut t.copy,
                    "copied" => &mut t.copied,
                    "exit" => &mut t.exit,
                    "connecting" => &mut t.connecting,
                    "agentJoined" => &mut t.agent_joined,
                    "agentLeft" => &mut t.agent_left,
                    "ended" => &mut t.ended,
                    "reasonCustomer" => &mut t.reason_customer,
                    "reasonAgent" => &mut t.reason_agent,
                    "reasonStopped" => &mut t.reason_stopped,
                    "reasonTimeout" => &mut t.reason_timeout,
                    "reasonConnection" => &mut t.reason_connection,
                    "reasonServer" => &mut t.reason_server,
                    "agentBusy" => &mut t.agent_busy,
                    "error" => &mut t.error,
                    "writeRequest" => &mut t.write_request,
                    "allow" => &mut t.allow,
                    "deny" => &mut t.deny,
                    "revoke" => &mut t.revoke,
                    "controlGranted" => &mut t.control_granted,
                    "controlRevoked" => &mut t.control_revoked,
                    _ => continue,
                };
                slot.clone_from(v);
            }
        }
    }
}

/// Groups a 9-digit token for reading aloud: `123456789` → `123 456 789`.
pub fn group_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len() + token.len() / 3);
    for (i, c) in token.chars().enumerate() {
        if i > 0 && i % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_work_without_any_config() {
        let c = Config::default();
        assert!(c.button);
        assert!(!c.confirm_call);
        assert_eq!(c.texts().button, "Co-browse");
        assert_eq!(c.server_base(), None);
    }

    #[test]
    fn overrides_merge_over_the_locale() {
        let mut c = Config {
            locale: "de-DE".into(),
            ..Config::default()
        };
        let mut p = TextOverrides::default();
        p.0.insert("button".into(), "Hilfe".into());
        p.0.insert("nonsense".into(), "ignored".into());
        c.texts = Some(p);
        let t = c.texts();
        assert_eq!(t.button, "Hilfe");
        assert_eq!(t.yes, "Ja");
    }

    #[test]
    fn server_base_is_trimmed() {
        let c = Config {
            server_url: Some(" https://cb.example.com/ ".into()),
            ..Config::default()
        };
        assert_eq!(c.server_base().as_deref(), Some("https://cb.example.com"));
    }

    #[test]
    fn inline_images_are_capped_and_limited_to_image_types() {
        let c: Config =
            serde_json::from_str(r#"{"inlineImages":{"maxBytes":40}}"#).expect("config");
        let i = &c.inline_images;
        assert!(i.accepts("data:image/png;base64,iVBORw0KGgo="));
        assert!(!i.accepts(&format!("data:image/png;base64,{}", "A".repeat(40))));
        assert!(!i.accepts("data:text/html;base64,PHNjcmlwdD4="));
        assert!(!i.accepts("data:image/pngx,zz"));
        assert!(!i.accepts("blob:https://shop.example/1"));
        let off = InlineImages {
            max_bytes: 0,
            selector: None,
        };
        assert!(!off.accepts("data:image/png;base64,iVBORw0KGgo="));
        assert_eq!(Config::default().inline_images.max_bytes, 65536);
    }

    #[test]
    fn tokens_are_grouped_in_threes() {
        assert_eq!(group_token("123456789"), "123 456 789");
        assert_eq!(group_token("12"), "12");
        assert_eq!(group_token(""), "");
    }
}
