//! The site owner's configuration (`window.cobrowseConfig`, or the npm `start()` options) and
//! the customer UI's texts.
//!
//! Every field is optional: a missing config object gives a working default (English texts, a
//! button at the bottom right, no call confirmation). Unknown fields are ignored so that newer
//! snippets keep working with older clients.

use serde::Deserialize;

use crate::locale::TextMap;
pub use crate::locale::Texts;
use crate::page_mask::PageMask;

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
    /// The class of the UI's sheet that places a fixed element in this corner (the config's
    /// own spelling). A class, not a `style` attribute, so a strict `style-src` cannot drop it.
    pub fn class(self) -> &'static str {
        match self {
            ButtonPosition::BottomRight => "bottom-right",
            ButtonPosition::BottomLeft => "bottom-left",
            ButtonPosition::TopRight => "top-right",
            ButtonPosition::TopLeft => "top-left",
        }
    }
}

/// Keys of the page's configuration object read by the DOM restrictions (`web::restrict`), which
/// takes them from the raw object because they need stricter reading than [`Config`] gives.
pub const RESTRICTION_KEYS: &[&str] = &[RESTRICTIONS_KEY, MASK_MARKER_KEY];
/// The page's own DOM restriction rules.
pub const RESTRICTIONS_KEY: &str = "restrictions";
/// How masked fields are marked on the customer's screen.
pub const MASK_MARKER_KEY: &str = "maskMarker";

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
    /// Language of the UI texts (`de`, `pt-BR`); empty means the page's `<html lang>`, then the
    /// browser's language. English and German are built in; others are loaded from the server
    /// (`locale` module).
    pub locale: String,
    /// Text overrides, merged over the locale's texts (only the fields given).
    pub texts: Option<TextOverrides>,
    /// Answer write-mode requests with a consent dialog (otherwise they are denied).
    pub write_mode: bool,
    /// Images the agent cannot load, sent inline as `data:` URLs.
    pub inline_images: InlineImages,
    /// URL parameters whose values never leave the browser, by name (`"*"`: every parameter
    /// of the page's address): in the page's and frames' addresses (so the session's history
    /// keeps them masked too) and in links and other URL attributes ([`crate::page_mask`]).
    pub mask_url_parameters: Vec<String>,
    /// Mask the document title (the `<title>` text and the title the session's history keeps).
    pub mask_title: bool,
    /// How many bytes of page changes the customer uploads ([`crate::upload_budget`]).
    pub upload_budget: UploadBudget,
}

/// The customer's upload budget ([`crate::upload_budget`]): a bucket of `burst_bytes`, refilled
/// at `bytes_per_second`, pays for snapshots and page-state deltas; deltas it cannot pay for are
/// held and replaced by one fresh snapshot once it has refilled. On by default, so a page that
/// changes without pause cannot saturate the customer's uplink; `unlimited` turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UploadBudget {
    /// The bucket's size: what a burst of changes may send at once.
    pub burst_bytes: u32,
    /// The sustained rate the bucket refills at.
    pub bytes_per_second: u32,
    /// No budget: every change is sent, however fast the page changes.
    pub unlimited: bool,
}

impl Default for UploadBudget {
    fn default() -> Self {
        UploadBudget {
            burst_bytes: 1024 * 1024,
            bytes_per_second: 25 * 1024,
            unlimited: false,
        }
    }
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
    /// True when an `<img>` with (resolved) `src` is fetched for inlining: `blob:` URLs always,
    /// http(s) ones when `selected` (the image matches [`InlineImages::selector`]).
    pub fn wants(&self, src: &str, selected: impl FnOnce() -> bool) -> bool {
        src.starts_with("blob:")
            || ((src.starts_with("https:") || src.starts_with("http:")) && selected())
    }

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
            locale: String::new(),
            texts: None,
            write_mode: true,
            inline_images: InlineImages::default(),
            mask_url_parameters: Vec::new(),
            mask_title: false,
            upload_budget: UploadBudget::default(),
        }
    }
}

impl Config {
    /// The effective texts for the built-in language `tag` (English if it is not built in),
    /// with the site's overrides applied.
    pub fn texts_for(&self, tag: &str) -> Texts {
        let map = crate::locale::built_in(tag).and_then(|j| crate::locale::parse_map(j).ok());
        self.texts_with(map.as_ref())
    }

    /// The effective texts over a loaded language table (`None`: English).
    pub fn texts_with(&self, locale: Option<&TextMap>) -> Texts {
        Texts::build(locale, self.texts.as_ref().map(|o| &o.0))
    }

    /// The effective texts for the configured `locale` (built-in languages only).
    pub fn texts(&self) -> Texts {
        self.texts_for(&self.locale)
    }

    /// Refuses settings that would look safer than they are (a blank parameter name), and an
    /// upload budget that could never send a change (a zero burst or rate: `unlimited` is the
    /// way to turn it off).
    pub fn validate(&self) -> Result<(), String> {
        let b = &self.upload_budget;
        if !b.unlimited && (b.burst_bytes == 0 || b.bytes_per_second == 0) {
            return Err(
                "uploadBudget: burstBytes and bytesPerSecond must be positive \
                 (unlimited: true turns the budget off)"
                    .to_owned(),
            );
        }
        PageMask::new(&self.mask_url_parameters, self.mask_title)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// The address and title masking of these settings. A list [`Config::validate`] refuses
    /// masks every parameter rather than none.
    pub fn page_mask(&self) -> PageMask {
        PageMask::new(&self.mask_url_parameters, self.mask_title)
            .or_else(|_| PageMask::new(&["*".to_owned()], self.mask_title))
            .unwrap_or_default()
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

/// Text overrides by key (the locale files' keys). A map rather than `Texts` with defaults,
/// because the defaults depend on the language, which serde does not know while reading the
/// fields. Unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct TextOverrides(pub std::collections::BTreeMap<String, String>);

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
    fn position_classes_are_the_config_spelling() {
        for p in [
            ButtonPosition::BottomRight,
            ButtonPosition::BottomLeft,
            ButtonPosition::TopRight,
            ButtonPosition::TopLeft,
        ] {
            let read: ButtonPosition =
                serde_json::from_str(&format!("\"{}\"", p.class())).expect("a position");
            assert_eq!(read, p);
        }
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
    fn blob_images_are_always_fetched_http_ones_when_selected() {
        let i = InlineImages::default();
        assert!(i.wants("blob:https://shop.example/1", || false));
        assert!(i.wants("https://shop.example/me.png", || true));
        assert!(i.wants("http://shop.example/me.png", || true));
        assert!(!i.wants("https://shop.example/me.png", || false));
        assert!(!i.wants("data:image/png;base64,iVBORw0KGgo=", || true));
    }

    #[test]
    fn the_upload_budget_is_on_by_default_and_read_and_checked() {
        let c = Config::default();
        assert!(!c.upload_budget.unlimited);
        let c: Config =
            serde_json::from_str(r#"{"uploadBudget":{"burstBytes":4096,"bytesPerSecond":512}}"#)
                .expect("config");
        assert_eq!(
            c.upload_budget,
            UploadBudget {
                burst_bytes: 4096,
                bytes_per_second: 512,
                unlimited: false
            }
        );
        assert!(c.validate().is_ok());
        let off: Config =
            serde_json::from_str(r#"{"uploadBudget":{"unlimited":true}}"#).expect("config");
        assert!(off.upload_budget.unlimited);
        assert_eq!(off.upload_budget.burst_bytes, 1024 * 1024);
        let zero: Config =
            serde_json::from_str(r#"{"uploadBudget":{"bytesPerSecond":0}}"#).expect("config");
        assert!(zero.validate().is_err());
        let zero_off: Config =
            serde_json::from_str(r#"{"uploadBudget":{"bytesPerSecond":0,"unlimited":true}}"#)
                .expect("config");
        assert!(zero_off.validate().is_ok());
    }

    #[test]
    fn address_masking_is_read_and_checked() {
        let c: Config = serde_json::from_str(r#"{"maskUrlParameters":["token"],"maskTitle":true}"#)
            .expect("config");
        assert!(c.validate().is_ok());
        let m = c.page_mask();
        assert_eq!(
            m.address("https://s/p?token=ab&x=1"),
            "https://s/p?token=**&x=1"
        );
        assert_eq!(m.title("Jo"), "**");
        let blank: Config = serde_json::from_str(r#"{"maskUrlParameters":[""]}"#).expect("config");
        assert!(blank.validate().is_err());
        assert_eq!(
            blank.page_mask().address("/p?a=1"),
            "/p?a=*",
            "fails closed"
        );
        assert!(serde_json::from_str::<Config>(r#"{"maskUrlParameters":"token"}"#).is_err());
        let none = Config::default().page_mask();
        assert_eq!(none.address("/p?token=ab"), "/p?token=ab");
        assert!(!none.masks_title());
    }

    #[test]
    fn tokens_are_grouped_in_threes() {
        assert_eq!(group_token("123456789"), "123 456 789");
        assert_eq!(group_token("12"), "12");
        assert_eq!(group_token(""), "");
    }
}
