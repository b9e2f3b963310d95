//! The sanitiser's invariants, one test each (see the module documentation).

use super::*;

const BASE: &str = "https://shop.example/cart/view.html";

fn attr(tag: &str, name: &str, value: &str) -> Option<String> {
    let ns = Namespace::Html;
    let ctx = ElementCtx {
        tag,
        ns: &ns,
        rendered: classify(tag, &ns),
    };
    sanitize_attribute(&ctx, name, value, BASE)
}

fn svg_attr(tag: &str, name: &str, value: &str) -> Option<String> {
    let ns = Namespace::Svg;
    let ctx = ElementCtx {
        tag,
        ns: &ns,
        rendered: classify(tag, &ns),
    };
    sanitize_attribute(&ctx, name, value, BASE)
}

#[test]
fn scripts_and_plugins_are_inert() {
    assert_eq!(classify("script", &Namespace::Html), Rendered::InertScript);
    assert_eq!(classify("SCRIPT", &Namespace::Html), Rendered::InertScript);
    assert_eq!(classify("script", &Namespace::Svg), Rendered::InertScript);
    assert_eq!(
        classify("noscript", &Namespace::Html),
        Rendered::InertScript
    );
    for t in ["object", "embed", "applet"] {
        assert_eq!(classify(t, &Namespace::Html), Rendered::InertBox, "{t}");
    }
    assert_eq!(classify("div", &Namespace::Html), Rendered::Normal);
    assert_eq!(
        created_element("script", &Namespace::Svg, Rendered::InertScript),
        (Namespace::Html.uri(), "template")
    );
    assert_eq!(attr("script", "src", "https://evil.example/x.js"), None);
    assert_eq!(attr("script", "type", "text/javascript"), None);
    assert_eq!(attr("object", "data", "https://x/y.swf"), None);
    assert_eq!(attr("embed", "id", "e1").as_deref(), Some("e1"));
}

#[test]
fn event_handlers_are_dropped_in_any_case() {
    assert_eq!(attr("div", "onclick", "alert(1)"), None);
    assert_eq!(attr("img", "ONERROR", "alert(1)"), None);
    assert_eq!(svg_attr("svg", "onload", "alert(1)"), None);
    assert_eq!(attr("body", "onpageshow", "x"), None);
    assert_eq!(
        attr("div", "title", "on the shelf").as_deref(),
        Some("on the shelf")
    );
}

#[test]
fn script_urls_are_dropped() {
    assert_eq!(attr("a", "href", "javascript:alert(1)"), None);
    assert_eq!(attr("a", "href", " JaVaScRiPt:alert(1)"), None);
    assert_eq!(attr("a", "href", "java\nscript:alert(1)"), None);
    assert_eq!(attr("a", "href", "vbscript:msgbox"), None);
    assert_eq!(
        attr("a", "href", "data:text/html,<script>alert(1)</script>"),
        None
    );
    assert_eq!(
        attr("img", "src", "data:text/html;base64,PHNjcmlwdD4="),
        None
    );
    assert_eq!(svg_attr("a", "xlink:href", "javascript:alert(1)"), None);
    assert_eq!(
        svg_attr("use", "href", "data:image/svg+xml,<svg onload=alert(1)>"),
        None
    );
    assert_eq!(
        attr("a", "href", "mailto:help@shop.example").as_deref(),
        Some("mailto:help@shop.example")
    );
    assert_eq!(attr("img", "src", "mailto:x"), None);
}

#[test]
fn urls_are_resolved_against_the_customer_page() {
    assert_eq!(
        attr("a", "href", "../help").as_deref(),
        Some("https://shop.example/help")
    );
    assert_eq!(
        attr("img", "src", "/i/logo.png").as_deref(),
        Some("https://shop.example/i/logo.png")
    );
    assert_eq!(attr("a", "href", "#top").as_deref(), Some("#top"));
    assert_eq!(svg_attr("use", "href", "#icon").as_deref(), Some("#icon"));
    assert_eq!(
        attr("img", "src", "data:image/png;base64,iVBOR").as_deref(),
        Some("data:image/png;base64,iVBOR")
    );
    assert_eq!(attr("img", "src", "data:image/pngx,zz"), None);
    assert_eq!(
        attr("link", "href", "style.css").as_deref(),
        Some("https://shop.example/cart/style.css")
    );
    // A non-http base never turns a relative URL into a local one.
    let ns = Namespace::Html;
    let ctx = ElementCtx {
        tag: "img",
        ns: &ns,
        rendered: Rendered::Normal,
    };
    assert_eq!(
        sanitize_attribute(&ctx, "src", "x.png", "about:blank"),
        None
    );
}

#[test]
fn navigation_and_submission_attributes_are_dropped() {
    assert_eq!(attr("iframe", "srcdoc", "<script>alert(1)</script>"), None);
    assert_eq!(attr("iframe", "src", "https://shop.example/frame"), None);
    // Lazy frames may not have a document to rebuild into yet.
    assert_eq!(attr("iframe", "loading", "lazy"), None);
    assert_eq!(
        attr("iframe", "sandbox", "allow-scripts allow-same-origin"),
        None
    );
    assert_eq!(attr("meta", "http-equiv", "refresh"), None);
    assert_eq!(attr("meta", "content", "0;URL=https://evil/"), None);
    assert_eq!(
        attr("meta", "content", "width=device-width").as_deref(),
        Some("width=device-width")
    );
    assert_eq!(attr("base", "href", "https://evil.example/"), None);
    assert_eq!(attr("base", "target", "_top"), None);
    assert_eq!(
        attr("form", "action", "pay").as_deref(),
        Some("https://shop.example/cart/pay")
    );
    assert_eq!(attr("form", "action", "javascript:x()"), None);
    assert_eq!(attr("button", "formaction", "vbscript:x"), None);
    assert_eq!(attr("a", "target", "_top"), None);
    assert_eq!(attr("a", "target", "_parent"), None);
    assert_eq!(attr("a", "target", "other-frame"), None);
    assert_eq!(attr("a", "target", "_blank").as_deref(), Some("_blank"));
    assert_eq!(attr("button", "formtarget", "_top"), None);
    assert_eq!(attr("a", "ping", "https://track"), None);
    assert_eq!(attr("input", "autofocus", ""), None);
    // Namespace declarations are inert; the parser keeps them on the page, so do we.
    assert_eq!(
        svg_attr("svg", "xmlns:xlink", "http://www.w3.org/1999/xlink").as_deref(),
        Some("http://www.w3.org/1999/xlink")
    );
    let ns = Namespace::Html;
    let iframe = ElementCtx {
        tag: "iframe",
        ns: &ns,
        rendered: Rendered::Normal,
    };
    assert_eq!(
        forced_attributes(&iframe),
        &[("sandbox", "allow-same-origin")]
    );
}

#[test]
fn svg_animation_cannot_retarget_links_or_handlers() {
    assert_eq!(svg_attr("set", "attributeName", "href"), None);
    assert_eq!(svg_attr("animate", "attributeName", "onclick"), None);
    assert_eq!(svg_attr("animate", "values", "javascript:alert(1)"), None);
    assert_eq!(
        svg_attr("animate", "attributeName", "opacity").as_deref(),
        Some("opacity")
    );
    assert_eq!(svg_attr("animate", "values", "0;1").as_deref(), Some("0;1"));
}

#[test]
fn css_urls_are_resolved_and_limited() {
    let css = "a{background:url(img/a.png)} b{background:URL( 'javascript:alert(1)' )}\
               /* url(x) */ @import \"print.css\"; c{x:url(data:image/gif;base64,R0l)}";
    let out = sanitize_css(css, BASE);
    assert!(
        out.contains("url(\"https://shop.example/cart/img/a.png\")"),
        "{out}"
    );
    assert!(!out.to_lowercase().contains("javascript"), "{out}");
    assert!(out.contains("about:invalid"), "{out}");
    assert!(out.contains("/* url(x) */"), "{out}");
    assert!(
        out.contains("@import url(\"https://shop.example/cart/print.css\")"),
        "{out}"
    );
    assert!(out.contains("url(\"data:image/gif;base64,R0l\")"), "{out}");
    assert_eq!(sanitize_css("color: red", BASE), "color: red");
    assert_eq!(
        sanitize_css("b:url(\"a\\\"b.png\")", BASE),
        "b:url(\"https://shop.example/cart/a\\22 b.png\")"
    );
    // Unterminated input never panics and never lets a script URL through.
    for bad in [
        "url(",
        "url(\"",
        "@import '",
        "/* ",
        "url(javascript:x",
        "x:\\",
    ] {
        let out = sanitize_css(bad, BASE);
        assert!(!out.contains("javascript"), "{bad:?} → {out}");
    }
    assert_eq!(
        attr("div", "style", "background:url(x.png)").as_deref(),
        Some("background:url(\"https://shop.example/cart/x.png\")")
    );
}

#[test]
fn imports_can_be_routed_and_only_to_http() {
    let proxy = |u: &str| {
        u.starts_with("https://cdn.example/")
            .then(|| format!("http://cb.example/cobrowse/css-proxy?url={}", u.len()))
    };
    assert_eq!(
        sanitize_css_imports(
            "@import url(https://cdn.example/a.css); @import 'b.css' screen; a { b: url(https://cdn.example/i.png) }",
            "https://cdn.example/p/",
            &proxy
        ),
        "@import url(\"http://cb.example/cobrowse/css-proxy?url=25\"); @import url(\"http://cb.example/cobrowse/css-proxy?url=27\") screen; a { b: url(\"https://cdn.example/i.png\") }"
    );
    let evil = |_: &str| Some("javascript:alert(1)".to_string());
    assert_eq!(
        sanitize_css_imports("@import 'x.css';", "https://s.example/", &evil),
        "@import url(\"https://s.example/x.css\");"
    );
    assert_eq!(
        sanitize_css_imports("@import 'javascript:x';", "https://s.example/", &proxy),
        "@import url(\"about:invalid\");"
    );
}

#[test]
fn srcset_candidates_are_resolved_and_filtered() {
    assert_eq!(
        sanitize_srcset("a.png 1x, javascript:alert(1) 2x, /b.png 3x", BASE),
        "https://shop.example/cart/a.png 1x, https://shop.example/b.png 3x"
    );
    assert_eq!(
        sanitize_srcset("a.png, b.png 2x", BASE),
        "https://shop.example/cart/a.png, https://shop.example/cart/b.png 2x"
    );
    // Per the HTML parser a comma inside a URL token belongs to the URL.
    assert_eq!(
        sanitize_srcset("a.png,b.png 2x", BASE),
        "https://shop.example/cart/a.png,b.png 2x"
    );
    assert_eq!(sanitize_srcset("", BASE), "");
}

#[test]
fn decisions_follow_the_name_the_dom_creates() {
    assert_eq!(created_name("x:script", &Namespace::Html), "x:script");
    assert_eq!(created_name("svg:script", &Namespace::Svg), "script");
    assert_eq!(created_name("rect", &Namespace::Svg), "rect");
    // An HTML name is kept whole: an unknown element, nothing special.
    assert_eq!(classify("x:script", &Namespace::Html), Rendered::Normal);
    assert_eq!(classify("x:iframe", &Namespace::Html), Rendered::Normal);
    // A prefixed foreign name would become the element after the prefix: inert instead.
    for (tag, ns) in [
        ("svg:script", Namespace::Svg),
        ("svg:style", Namespace::Svg),
        ("x:a", Namespace::Svg),
        ("a:b:script", Namespace::Svg),
        ("m:script", Namespace::MathMl),
        ("SVG:Script", Namespace::Svg),
    ] {
        assert_eq!(classify(tag, &ns), Rendered::InertBox, "{tag}");
    }
    assert_eq!(classify("foreignObject", &Namespace::Svg), Rendered::Normal);
    // An unknown HTML element carries its attributes without the real element's meaning: a
    // `src` on `x:iframe` loads nothing, but stays checked like any URL.
    assert_eq!(attr("x:iframe", "src", "javascript:alert(1)"), None);
}

#[test]
fn referrer_policy_cannot_be_changed() {
    assert_eq!(attr("img", "referrerpolicy", "unsafe-url"), None);
    assert_eq!(attr("a", "ReferrerPolicy", "origin"), None);
    assert_eq!(svg_attr("image", "referrerpolicy", "unsafe-url"), None);
    assert_eq!(attr("meta", "name", "referrer"), None);
    assert_eq!(attr("meta", "name", " REFERRER "), None);
    assert_eq!(
        attr("meta", "name", "viewport").as_deref(),
        Some("viewport")
    );
    assert_eq!(attr("div", "name", "referrer").as_deref(), Some("referrer"));
}

#[test]
fn namespaced_handlers_and_xml_base_are_dropped() {
    assert_eq!(svg_attr("svg", "xlink:onload", "alert(1)"), None);
    assert_eq!(svg_attr("svg", "x:ONCLICK", "alert(1)"), None);
    assert_eq!(svg_attr("a", "xml:base", "https://evil.example/"), None);
    assert_eq!(
        svg_attr("a", "xlink:title", "online").as_deref(),
        Some("online")
    );
}
