//! What loads and from where: the customer's base, third-party frames, stylesheet links through
//! the CSS proxy, sheets owned by `<style>` elements.

use super::{B, mutation, replica};
use crate::frames::FramePolicy;
use crate::memdom::MemDom;
use crate::replica::Replica;
use crate::sheets::SheetPolicy;
use cobrowse_protocol::{AttrChange, NameTable, SheetOp};

#[test]
fn customer_base_changes_the_injected_base_and_resolution() {
    let mut b = B::new();
    b.doc("https://shop.example/a/b.html", 1)
        .el("html", &[], 2)
        .el("head", &[], 1)
        .el("base", &[("href", "/static/"), ("target", "_top")], 0)
        .el("body", &[], 1)
        .el("img", &[("src", "x.png")], 0);
    let mut r = Replica::new(MemDom::default());
    r.apply_snapshot(&b.snapshot(1));
    let html = r.backend().html();
    assert!(
        html.contains(
            "<head><base href=\"https://shop.example/static/\"><meta cobrowse-csp><base></head>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<img src=\"https://shop.example/static/x.png\">"),
        "{html}"
    );
}

#[test]
fn third_party_frames_are_blank_unless_their_origin_is_allowed() {
    let mut b = B::new();
    b.doc("https://shop.example/", 1)
        .el("html", &[], 1)
        .el("body", &[], 3)
        .el(
            "iframe",
            &[("src", "https://maps.example/embed"), ("width", "320")],
            0,
        )
        .el("iframe", &[("src", "https://ads.example/x")], 0)
        .el("iframe", &[("src", "/same-origin.html")], 0);
    let mut r = Replica::new(MemDom::default());
    r.apply_snapshot(&b.snapshot(1));
    let html = r.backend().html();
    assert!(
        !html.contains("src="),
        "nothing loads without a policy: {html}"
    );
    assert!(
        html.contains("<iframe width=\"320\" sandbox=\"allow-same-origin\">"),
        "{html}"
    );

    // The policy arrives (session answer): the listed origin loads, sandboxed; others stay.
    r.set_frame_policy(FramePolicy::new(
        &["https://maps.example".into()],
        Some("http://agent.example/"),
    ));
    let html = r.backend().html();
    assert!(
        html.contains("src=\"https://maps.example/embed\""),
        "{html}"
    );
    assert_eq!(html.matches("src=").count(), 1, "{html}");
    assert_eq!(html.matches("sandbox=\"allow-same-origin\"").count(), 3);

    // The customer points the allowed frame elsewhere, then at a refused origin.
    let mut m = mutation(NameTable::new());
    let src = m.names.intern("src");
    m.attrs.push(AttrChange {
        node: 4,
        name: src,
        value: Some("https://maps.example/other".into()),
    });
    r.apply_mutations(&m);
    assert!(
        r.backend()
            .html()
            .contains("src=\"https://maps.example/other\"")
    );
    m.attrs[0].value = Some("https://tracker.example/".into());
    r.apply_mutations(&m);
    assert!(!r.backend().html().contains("src="));
    // A refused frame never gets a `src` at all, not even an empty one.
    m.attrs[0].node = 5;
    m.attrs[0].value = Some("https://ads.example/y".into());
    r.apply_mutations(&m);
    assert!(!r.backend().html().contains("src="));
    // The policy going away unloads what it loaded.
    m.attrs[0].node = 4;
    m.attrs[0].value = Some("https://maps.example/again".into());
    r.apply_mutations(&m);
    assert!(r.backend().html().contains("src="));
    r.set_frame_policy(FramePolicy::default());
    assert!(!r.backend().html().contains("src="));
}

#[test]
fn allowed_stylesheet_links_load_through_the_css_proxy() {
    const PROXIED: &str = "href=\"http://cb.example/cobrowse/css-proxy?url=https%3A%2F%2Fshop.example%2Fcss%2Fsite.css\"";
    let mut b = B::new();
    b.doc("https://shop.example/p/", 1)
        .el("html", &[], 1)
        .el("head", &[], 3)
        .el(
            "link",
            &[("rel", "stylesheet"), ("href", "/css/site.css")],
            0,
        )
        .el("link", &[("rel", "icon"), ("href", "/favicon.ico")], 0)
        .el("style", &[], 1)
        .text("@import url(/css/more.css); @import 'https://fonts.example/f.css';");
    let mut r = Replica::new(MemDom::default());
    r.apply_snapshot(&b.snapshot(1));
    let html = r.backend().html();
    assert!(
        html.contains("href=\"https://shop.example/css/site.css\""),
        "direct without a policy: {html}"
    );

    // The policy arrives: the stylesheet is re-pointed, the icon is not.
    r.set_sheet_policy(SheetPolicy::new(
        &["https://shop.example".into()],
        Some("http://cb.example/cobrowse/slave.html"),
    ));
    let html = r.backend().html();
    assert!(html.contains(PROXIED), "{html}");
    assert!(
        html.contains("href=\"https://shop.example/favicon.ico\""),
        "{html}"
    );

    // A snapshot taken with the policy in place builds the proxied href directly, and
    // routes an inline sheet's allowed @import too (the other origin's stays direct).
    r.apply_snapshot(&b.snapshot(1));
    let html = r.backend().html();
    assert!(html.contains(PROXIED), "{html}");
    assert!(
        html.contains("@import url(\"http://cb.example/cobrowse/css-proxy?url=https%3A%2F%2Fshop.example%2Fcss%2Fmore.css\"); @import url(\"https://fonts.example/f.css\");"),
        "{html}"
    );

    // rel and href changes follow: the icon becomes a stylesheet, the sheet moves off-list.
    let mut m = mutation(NameTable::new());
    let rel = m.names.intern("rel");
    let href = m.names.intern("href");
    m.attrs.push(AttrChange {
        node: 5,
        name: rel,
        value: Some("stylesheet".into()),
    });
    m.attrs.push(AttrChange {
        node: 4,
        name: href,
        value: Some("https://cdn.other.example/x.css".into()),
    });
    r.apply_mutations(&m);
    let html = r.backend().html();
    assert!(
        html.contains("css-proxy?url=https%3A%2F%2Fshop.example%2Ffavicon.ico"),
        "{html}"
    );
    assert!(
        html.contains("href=\"https://cdn.other.example/x.css\""),
        "{html}"
    );
    // Script URLs stay dropped on links too.
    m.attrs.truncate(1);
    m.attrs[0] = AttrChange {
        node: 4,
        name: href,
        value: Some("javascript:alert(1)".into()),
    };
    r.apply_mutations(&m);
    assert!(!r.backend().html().contains("javascript"));
}

#[test]
fn sheets_owned_by_style_elements_are_sanitised() {
    let mut r = replica();
    let s = r.apply_sheet(&SheetOp::Set(cobrowse_protocol::SheetState {
        sheet: 3,
        owner: cobrowse_protocol::SheetOwner::Node(4),
        rules: vec![
            "a{background:url(javascript:x)}".into(),
            "b{x:url(i.png)}".into(),
        ],
        base_url: None,
        disabled: false,
    }));
    assert_eq!(s.applied, 1);
    assert!(
        r.apply_sheet(&SheetOp::Insert {
            sheet: 3,
            path: vec![0],
            rule: "c{}".into()
        })
        .applied
            == 1
    );
    assert!(
        r.apply_sheet(&SheetOp::Insert {
            sheet: 9,
            path: vec![0],
            rule: "c{}".into()
        })
        .ignored
            == 1
    );
    let log = &r.backend().log;
    assert!(
        log.iter().any(|l| l.contains("rules 4")
            && l.contains("about:invalid")
            && l.contains("https://shop.example/p/i.png")),
        "{log:?}"
    );
}

#[test]
fn linked_sheets_the_customer_sent_show_as_their_rules() {
    use cobrowse_protocol::{SheetOwner, SheetState};
    let sheet = |rules: &[&str]| SheetState {
        sheet: 7,
        owner: SheetOwner::Node(4),
        rules: rules.iter().map(|r| (*r).to_owned()).collect(),
        base_url: Some("https://shop.example/css/site.css".into()),
        disabled: false,
    };
    let mut b = B::new();
    b.doc("https://shop.example/p/", 1)
        .el("html", &[], 1)
        .el("head", &[], 1)
        .el(
            "link",
            &[
                ("rel", "stylesheet"),
                ("crossorigin", ""),
                ("integrity", "sha384-abc"),
                ("href", "/css/site.css"),
            ],
            0,
        );
    let mut snap = b.snapshot(1);
    snap.sheets.push(sheet(&[
        "li:hover .x { display: block; }",
        "a { background: url(\"i.png\"); }",
    ]));
    let mut r = Replica::new(MemDom::default());
    r.set_sheet_policy(SheetPolicy::new(
        &["https://shop.example".into()],
        Some("http://cb.example/cobrowse/slave.html"),
    ));
    r.apply_snapshot(&snap);
    let html = r.backend().html();
    // Built already showing the rules (URLs resolved against the sheet): the replica never
    // requests the site's URL, not even through the proxy; integrity (for the URL's bytes) is
    // not shown, the original URL is kept for readers.
    assert!(
        html.contains(
            "href=\"data:text/css;charset=utf-8,li:hover%20.x%20{%20display:%20block;%20}%0Aa%20{%20background:%20url(\"https://shop.example/css/i.png\");%20}\""
        ),
        "{html}"
    );
    assert!(!html.contains("integrity"), "{html}");
    assert!(!html.contains("css-proxy"), "{html}");
    assert!(
        html.contains("data-cobrowse-href=\"https://shop.example/css/site.css\""),
        "{html}"
    );

    // The customer points the link elsewhere: that URL (proxied) until its rules come.
    let mut m = mutation(NameTable::new());
    let href = m.names.intern("href");
    m.attrs.push(AttrChange {
        node: 4,
        name: href,
        value: Some("/css/dark.css".into()),
    });
    r.apply_mutations(&m);
    let html = r.backend().html();
    assert!(
        html.contains("css-proxy?url=https%3A%2F%2Fshop.example%2Fcss%2Fdark.css"),
        "{html}"
    );
    assert!(html.contains("integrity=\"sha384-abc\""), "{html}");
    assert!(!html.contains("data-cobrowse-href"), "{html}");
    let mut dark = sheet(&["body { color: white; }"]);
    dark.base_url = Some("https://shop.example/css/dark.css".into());
    assert_eq!(r.apply_sheet(&SheetOp::Set(dark)).applied, 1);
    let html = r.backend().html();
    assert!(
        html.contains("href=\"data:text/css;charset=utf-8,body%20{%20color:%20white;%20}\""),
        "{html}"
    );
    assert!(
        html.contains("data-cobrowse-href=\"https://shop.example/css/dark.css\""),
        "{html}"
    );
    assert!(!html.contains("integrity"), "{html}");
}
