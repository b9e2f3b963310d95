//! The page's address and title as they may leave the browser.
//!
//! A URL's parameters often carry what the page's fields would never show: a password-reset or
//! e-mail-login token, an OAuth `access_token` in the fragment, a customer number. Every address
//! the client sends — the page's and each same-origin frame's (snapshots, navigation, the session
//! it creates, which the server keeps in the session's history) and the base URL of style sheets —
//! goes through [`PageMask::address`] first; URL-valued attributes (`href`, `src`, …) through
//! [`PageMask::attribute_url`]. The site names the parameters (`maskUrlParameters`; `"*"` for
//! every parameter of an address) and may mask the title (`maskTitle`). A few credential names
//! ([`BUILT_IN_PARAMETERS`]) are masked on every site.
//!
//! A parameter is a `name=value` after `?`, `&` or `#`, so a fragment that carries parameters
//! (`#access_token=…`, `#/orders?token=…`) is covered as well as the query. Its value is replaced
//! by a same-length placeholder; the name stays, so the agent still sees which page it is.

use crate::placeholder::{MASK_CHAR, masked_text};

/// Parameters masked in every address and URL attribute on every site: credentials that end up
/// in URLs by design (OAuth implicit and hybrid flows) or by mistake.
pub const BUILT_IN_PARAMETERS: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "client_secret",
    "password",
    "passwd",
    "api_key",
    "apikey",
];

/// The site's wish list for addresses and the title (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageMask {
    /// Parameter names, percent-decoded and ASCII-lower-cased.
    names: Vec<String>,
    /// `"*"`: every parameter of an address.
    all: bool,
    /// Mask the title.
    title: bool,
}

/// Why a `maskUrlParameters` list is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageMaskError {
    /// A blank name would mask nothing while looking as if it did.
    #[error("maskUrlParameters: a parameter name is blank")]
    BlankName,
}

impl PageMask {
    /// Nothing beyond the built-in names.
    pub const NONE: PageMask = PageMask {
        names: Vec::new(),
        all: false,
        title: false,
    };

    /// The site's configuration: `parameters` as names (`"*"` masks every parameter of an
    /// address), `title` to mask the title.
    pub fn new(parameters: &[String], title: bool) -> Result<PageMask, PageMaskError> {
        let mut mask = PageMask {
            title,
            ..PageMask::NONE
        };
        for p in parameters {
            let p = p.trim();
            if p.is_empty() {
                return Err(PageMaskError::BlankName);
            }
            if p == "*" {
                mask.all = true;
            } else {
                mask.names.push(decode_name(p));
            }
        }
        Ok(mask)
    }

    /// True when the title is masked.
    pub fn masks_title(&self) -> bool {
        self.title
    }

    /// The title as it may leave the browser.
    pub fn title(&self, title: &str) -> String {
        if self.title {
            masked_text(title)
        } else {
            title.to_owned()
        }
    }

    fn named(&self, name: &str) -> bool {
        let name = decode_name(name);
        BUILT_IN_PARAMETERS.contains(&name.as_str()) || self.names.contains(&name)
    }

    /// A page or frame address (also a sheet's base URL) as it may leave the browser: the
    /// named parameters masked, or every parameter with `"*"`.
    pub fn address(&self, url: &str) -> String {
        if self.all {
            mask_parameters(url, &|_| true)
        } else {
            mask_parameters(url, &|n| self.named(n))
        }
    }

    /// A URL-valued attribute (`href`, `src`, `srcset`, …) as it may leave the browser: the
    /// named parameters masked. `"*"` does not apply here: masking every parameter of every
    /// link and image would break the images and styles the agent loads (a *mask* rule masks
    /// all parameters of the URLs under it).
    pub fn attribute_url(&self, value: &str) -> String {
        mask_parameters(value, &|n| self.named(n))
    }
}

/// Attributes whose values are URLs (or lists of them), masked by [`PageMask::attribute_url`].
pub const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "xlink:href",
    "src",
    "srcset",
    "imagesrcset",
    "action",
    "formaction",
    "poster",
    "data",
    "cite",
    "background",
    "longdesc",
    "ping",
];

/// True when `name` (any case) is in [`URL_ATTRIBUTES`].
pub fn is_url_attribute(name: &str) -> bool {
    URL_ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// `name` percent-decoded (`+` as a space) and ASCII-lower-cased, so `Access%5Ftoken` is
/// `access_token`.
fn decode_name(name: &str) -> String {
    let b = name.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

/// `text` with the value of every parameter `masks(name)` accepts replaced by placeholders.
/// A parameter starts after `?`, `&` or `#`; its name runs to `=`, its value to the next `&`,
/// `#` or whitespace (so each candidate of a `srcset` ends at its descriptor).
fn mask_parameters(text: &str, masks: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Everything up to the first `?` or `#` is the path: never parameters.
    let Some(start) = rest.find(['?', '#']) else {
        return text.to_owned();
    };
    out.push_str(&rest[..=start]);
    rest = &rest[start + 1..];
    loop {
        // The name: up to `=`, or a delimiter that ends a valueless parameter.
        let Some(end) = rest
            .find(['=', '&', '#', '?'])
            .filter(|&e| !rest[..e].contains(|c: char| c.is_ascii_whitespace()))
        else {
            // No more parameters here; a later URL in the same text (a srcset) may have some.
            return match rest.find(|c: char| c.is_ascii_whitespace()) {
                Some(ws) => {
                    out.push_str(&rest[..ws]);
                    out.push_str(&mask_parameters(&rest[ws..], masks));
                    out
                }
                None => {
                    out.push_str(rest);
                    out
                }
            };
        };
        let name = &rest[..end];
        let delim = rest.as_bytes()[end];
        out.push_str(&rest[..=end]);
        rest = &rest[end + 1..];
        if delim != b'=' {
            continue;
        }
        let vend = rest
            .find(|c: char| c == '&' || c == '#' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let value = &rest[..vend];
        if masks(name) {
            out.extend(std::iter::repeat_n(MASK_CHAR, value.chars().count()));
        } else {
            out.push_str(value);
        }
        rest = &rest[vend..];
        match rest.chars().next() {
            None => return out,
            Some(c) if c.is_ascii_whitespace() => {
                out.push_str(&mask_parameters(rest, masks));
                return out;
            }
            Some(c) => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(names: &[&str], title: bool) -> PageMask {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        PageMask::new(&names, title).expect("valid")
    }

    #[test]
    fn named_parameters_are_masked_in_query_and_fragment() {
        let m = mask(&["token", "Email"], false);
        assert_eq!(
            m.address("https://shop/reset?token=abc123&step=2&email=a%40b.c#token=zz"),
            "https://shop/reset?token=******&step=2&email=*******#token=**"
        );
        // An SPA route in the fragment with its own query.
        assert_eq!(
            m.address("https://shop/#/orders?token=xyz&page=1"),
            "https://shop/#/orders?token=***&page=1"
        );
        // Names match percent-decoded and in any case; values keep their length.
        assert_eq!(
            m.address("/p?TOKEN=ab&to%6Ben=cd"),
            "/p?TOKEN=**&to%6Ben=**"
        );
        // Paths, valueless parameters and empty values stay.
        assert_eq!(m.address("/token=x/y?token&a=1"), "/token=x/y?token&a=1");
        assert_eq!(m.address("/p?token="), "/p?token=");
        assert_eq!(m.address(""), "");
        assert_eq!(m.address("/plain"), "/plain");
    }

    #[test]
    fn built_in_credentials_are_masked_on_every_site() {
        let m = PageMask::NONE;
        assert_eq!(
            m.address("https://app/cb#access_token=eyJhbGc.x.y&state=s1&id_token=q"),
            "https://app/cb#access_token=***********&state=s1&id_token=*"
        );
        assert_eq!(m.address("https://app/?q=shoes"), "https://app/?q=shoes");
        assert_eq!(m.attribute_url("/api?apikey=k1&x=2"), "/api?apikey=**&x=2");
    }

    #[test]
    fn a_star_masks_every_parameter_of_an_address_but_not_of_links() {
        let m = mask(&["*"], false);
        assert_eq!(
            m.address("https://shop/p?a=1&b=two#c=3"),
            "https://shop/p?a=*&b=***#c=*"
        );
        assert_eq!(
            m.address("https://shop/p#/route/9"),
            "https://shop/p#/route/9"
        );
        assert_eq!(m.attribute_url("/img.png?v=3"), "/img.png?v=3");
    }

    #[test]
    fn every_candidate_of_a_srcset_is_masked() {
        let m = mask(&["sig"], false);
        assert_eq!(
            m.attribute_url("a.png?sig=abc 1x, b.png?w=2&sig=defg 2x"),
            "a.png?sig=*** 1x, b.png?w=2&sig=**** 2x"
        );
        assert_eq!(
            m.attribute_url("a.png 1x, b.png?sig=z 2x"),
            "a.png 1x, b.png?sig=* 2x"
        );
    }

    #[test]
    fn unicode_values_keep_their_length_in_characters() {
        let m = mask(&["name"], false);
        assert_eq!(m.address("/p?name=Jürgen&x=ö"), "/p?name=******&x=ö");
    }

    #[test]
    fn the_title_is_masked_on_request() {
        assert_eq!(
            mask(&[], true).title("Order 4711 · Jane"),
            "***** **** * ****"
        );
        assert_eq!(mask(&[], false).title("Order"), "Order");
        assert!(mask(&[], true).masks_title());
    }

    #[test]
    fn a_blank_name_is_refused() {
        assert_eq!(
            PageMask::new(&["token".into(), " ".into()], false),
            Err(PageMaskError::BlankName)
        );
    }
}
