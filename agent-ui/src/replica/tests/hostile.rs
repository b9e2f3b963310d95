//! Hostile markup at snapshot and mutation time: nothing executable reaches the replica.

use super::{B, mutation, replica};
use crate::memdom::MemDom;
use crate::replica::Replica;
use cobrowse_protocol::{
    AddedSubtree, AttrChange, Insert, NameTable, Namespace, NodeData, NodeRecord, TextChange,
};

#[test]
fn scripts_handlers_and_script_urls_never_reach_the_dom() {
    let mut b = B::new();
    b.doc("https://shop.example/", 1)
        .el("html", &[], 1)
        .el("body", &[], 4)
        .el("script", &[("src", "x.js")], 1)
        .text("window.pwned = 1")
        .el(
            "a",
            &[("href", "javascript:alert(1)"), ("onclick", "x()")],
            1,
        )
        .text("go")
        .el_ns("svg", Namespace::Svg, &[("onload", "x()")], 1)
        .el_ns("script", Namespace::Svg, &[], 1)
        .text("alert(2)")
        .el(
            "iframe",
            &[("srcdoc", "<script>x</script>"), ("src", "https://x/")],
            0,
        );
    let mut r = Replica::new(MemDom::default());
    r.apply_snapshot(&b.snapshot(100));
    let html = r.backend().html();
    assert_eq!(
        html,
        "<html><body><template data-cobrowse-injected=\"inert-script\"></template><a>go</a>\
         <svg><template data-cobrowse-injected=\"inert-script\"></template></svg>\
         <iframe sandbox=\"allow-same-origin\"></iframe></body></html>"
    );
}

#[test]
fn mutation_time_injection_is_sanitised() {
    let mut r = replica();
    let mut names = NameTable::new();
    let onclick = names.intern("onclick");
    let href = names.intern("href");
    let script = names.intern("script");
    let mut m = mutation(names);
    m.attrs.push(AttrChange {
        node: 7,
        name: onclick,
        value: Some("x()".into()),
    });
    m.attrs.push(AttrChange {
        node: 8,
        name: href,
        value: Some("javascript:x()".into()),
    });
    m.inserts.push(Insert::New(AddedSubtree {
        parent: 6,
        next_sibling: None,
        first_id: 30,
        nodes: vec![
            NodeRecord::new(
                NodeData::Element {
                    tag: script,
                    ns: Namespace::Html,
                    attrs: vec![],
                },
                1,
            ),
            NodeRecord::new(NodeData::Text("x()".into()), 0),
        ],
    }));
    m.texts.push(TextChange {
        node: 31,
        text: "y()".into(),
    });
    m.texts.push(TextChange {
        node: 5,
        text: "a{background:url(javascript:x)}".into(),
    });
    r.apply_mutations(&m);
    let html = r.backend().html();
    assert!(
        !html.contains("onclick") && !html.contains("x()") && !html.contains("y()"),
        "{html}"
    );
    assert!(!html.contains("javascript"), "{html}");
    assert!(
        html.contains("<template data-cobrowse-injected=\"inert-script\"></template></body>"),
        "{html}"
    );
}

/// A corpus of hostile markup (as a customer page's DOM would report it), at snapshot time
/// and injected by mutations: nothing executable may reach the replica.
#[test]
fn hostile_vectors_leave_nothing_executable() {
    let html: &[(&str, &[(&str, &str)])] = &[
        ("script", &[("src", "https://evil.example/x.js")]),
        ("script", &[("type", "module")]),
        ("noscript", &[]),
        ("img", &[("src", "x"), ("onerror", "alert(1)")]),
        ("body", &[("onload", "alert(1)")]),
        ("svg", &[("onload", "alert(1)")]),
        ("a", &[("href", "javascript:alert(1)")]),
        ("a", &[("href", " javascript:alert(1)")]),
        ("a", &[("href", "JAVASCRIPT:alert(1)")]),
        ("a", &[("href", "jav\tascript:alert(1)")]),
        ("a", &[("href", "java\nscript:alert(1)")]),
        ("a", &[("href", "vbscript:msgbox(1)")]),
        ("a", &[("href", "data:text/html,<script>alert(1)</script>")]),
        ("iframe", &[("src", "javascript:alert(1)")]),
        ("iframe", &[("srcdoc", "<script>alert(1)</script>")]),
        (
            "iframe",
            &[(
                "src",
                "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            )],
        ),
        ("object", &[("data", "javascript:alert(1)")]),
        ("embed", &[("src", "javascript:alert(1)")]),
        ("applet", &[("code", "Evil.class")]),
        ("form", &[("action", "javascript:alert(1)")]),
        ("button", &[("formaction", "javascript:alert(1)")]),
        (
            "input",
            &[("type", "image"), ("src", "javascript:alert(1)")],
        ),
        (
            "meta",
            &[
                ("http-equiv", "refresh"),
                ("content", "0;url=javascript:alert(1)"),
            ],
        ),
        (
            "meta",
            &[
                ("http-equiv", "Content-Security-Policy"),
                ("content", "default-src 'none'"),
            ],
        ),
        ("base", &[("href", "javascript:alert(1)//")]),
        (
            "link",
            &[("rel", "stylesheet"), ("href", "javascript:alert(1)")],
        ),
        (
            "link",
            &[
                ("rel", "import"),
                ("href", "data:text/html,<script>alert(1)</script>"),
            ],
        ),
        (
            "video",
            &[
                ("poster", "javascript:alert(1)"),
                ("onloadstart", "alert(1)"),
            ],
        ),
        ("img", &[("srcset", "javascript:alert(1) 1x, x.png 2x")]),
        ("div", &[("style", "background:url(javascript:alert(1))")]),
        ("div", &[("style", "background-image:url('vbscript:x')")]),
        ("details", &[("open", ""), ("ontoggle", "alert(1)")]),
        ("input", &[("autofocus", ""), ("onfocus", "alert(1)")]),
        ("marquee", &[("onstart", "alert(1)")]),
        (
            "a",
            &[("target", "_top"), ("href", "https://evil.example/")],
        ),
        ("area", &[("href", "javascript:alert(1)")]),
        ("isindex", &[("action", "javascript:alert(1)")]),
        ("math", &[("href", "javascript:alert(1)")]),
        ("form", &[("id", "f"), ("target", "_parent")]),
    ];
    let svg: &[(&str, &[(&str, &str)])] = &[
        ("script", &[("href", "data:,alert(1)")]),
        ("a", &[("xlink:href", "javascript:alert(1)")]),
        ("a", &[("href", "javascript:alert(1)")]),
        (
            "use",
            &[(
                "href",
                "data:image/svg+xml,<svg id='x' onload='alert(1)'/>#x",
            )],
        ),
        (
            "set",
            &[("attributeName", "href"), ("to", "javascript:alert(1)")],
        ),
        (
            "animate",
            &[("attributeName", "onclick"), ("values", "alert(1)")],
        ),
        (
            "animate",
            &[("attributeName", "href"), ("values", "javascript:alert(1)")],
        ),
        ("image", &[("href", "javascript:alert(1)")]),
        ("foreignObject", &[("onload", "alert(1)")]),
        ("style", &[("onload", "alert(1)")]),
    ];
    let mut b = B::new();
    b.doc("https://shop.example/", 1)
        .el("html", &[], 2)
        .el("head", &[], 0)
        .el("body", &[], (html.len() + 1) as u32);
    for (tag, attrs) in html {
        b.el(tag, attrs, 1).text("alert(1)");
    }
    b.el_ns("svg", Namespace::Svg, &[], svg.len() as u32);
    for (tag, attrs) in svg {
        b.el_ns(tag, Namespace::Svg, attrs, 0);
    }
    b.el_ns(
        "frameset",
        Namespace::Other("urn:x".into()),
        &[("onload", "x")],
        0,
    );
    // The frameset record above makes body's child count one too many: drop it from body.
    b.nodes.pop();
    let snap = b.snapshot(1);
    let mut r = Replica::new(MemDom::default());
    r.apply_snapshot(&snap);
    // The same vectors again, injected as attribute changes onto an existing element.
    let mut names = NameTable::new();
    let mut m = mutation(NameTable::new());
    for (_, attrs) in html.iter().chain(svg) {
        for (n, v) in *attrs {
            m.attrs.push(AttrChange {
                node: 5,
                name: names.intern(n),
                value: Some((*v).into()),
            });
        }
    }
    m.names = names;
    r.apply_mutations(&m);
    let out = r.backend().html().to_ascii_lowercase();
    let text_free = out.as_str();
    for bad in [
        "<script",
        "<object",
        "<embed",
        "<applet",
        "<noscript",
        " on",
        "javascript:",
        "vbscript:",
        "data:text/html",
        "srcdoc",
        "http-equiv",
        "_top",
        "_parent",
        "evil.example/x.js",
        "autofocus",
    ] {
        assert!(!text_free.contains(bad), "{bad:?} survived in {out}");
    }
    assert!(out.contains("<template"), "scripts became inert templates");
}
