//! The customer's CSS through `cobrowse-css-rewrite`, which the agent (rule by rule) and the
//! server's CSS proxy (whole sheets) run on text a customer page controls. The first byte picks
//! the function and the preference, the rest is the CSS. Nothing may panic, and:
//!
//! * a rewritten selector has nothing left to rewrite;
//! * a rewritten sheet holds no URL the mapper did not write: read again, every `url()` and
//!   `@import` target in it is one the first pass's mapper returned, or `about:invalid` — so a
//!   sheet cannot smuggle a URL past the proxy.
#![no_main]

use cobrowse_css_rewrite::scheme::{rewrite_media, used_color_scheme};
use cobrowse_css_rewrite::{UrlKind, rewrite_defined, rewrite_selector, rewrite_sheet};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let css = String::from_utf8_lossy(rest);
    let dark = pick & 0x80 != 0;
    match pick % 5 {
        0 => {
            if let Some(out) = rewrite_selector(&css) {
                assert_eq!(rewrite_selector(&out), None, "{css:?} → {out:?}");
            }
        }
        1 => {
            let mut written = HashSet::new();
            let mut n = 0;
            let out = rewrite_sheet(&css, &mut |_url, kind| {
                n += 1;
                if n % 3 == 0 {
                    return None;
                }
                let to = match kind {
                    UrlKind::Import => format!("https://proxy.invalid/{n}"),
                    UrlKind::Resource => format!("https://resource.invalid/{n}"),
                };
                written.insert(to.clone());
                Some(to)
            });
            rewrite_sheet(&out, &mut |url, _| {
                assert!(
                    url == "about:invalid" || written.contains(url),
                    "{url:?} slipped through: {css:?} → {out:?}"
                );
                None
            });
        }
        2 => {
            let undefined = ["x-a".to_owned(), "my-widget".to_owned()];
            let _ = rewrite_defined(&css, &undefined);
        }
        3 => {
            let _ = rewrite_media(&css, dark);
        }
        _ => {
            let _ = used_color_scheme(&css, dark);
        }
    }
});
