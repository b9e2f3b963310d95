//! Browser tests of the real replica: a hand-made snapshot rebuilt into a sandboxed iframe by
//! `WebDom`, then a mutation batch with a move. Run with
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-agent --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // Test crate.

use cobrowse_agent::replica::Replica;
use cobrowse_agent::web::dom::WebDom;
use cobrowse_protocol::{
    AddedSubtree, AttrChange, Attribute, FormState, FormValue, Insert, Message, MutationBatch,
    NameTable, Namespace, NodeData, NodeRecord, Snapshot, TextChange, Viewport, decode, encode,
};
use cobrowse_web_glue::testing::next_frame;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlElement, HtmlIFrameElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

struct Tree {
    names: NameTable,
    nodes: Vec<NodeRecord>,
}

impl Tree {
    fn new() -> Self {
        Tree {
            names: NameTable::new(),
            nodes: vec![],
        }
    }
    fn push(&mut self, data: NodeData, children: u32) -> &mut Self {
        self.nodes.push(NodeRecord::new(data, children));
        self
    }
    fn el(&mut self, tag: &str, ns: Namespace, attrs: &[(&str, &str)], children: u32) -> &mut Self {
        let tag = self.names.intern(tag);
        let attrs = attrs
            .iter()
            .map(|(n, v)| Attribute {
                name: self.names.intern(n),
                value: (*v).into(),
            })
            .collect();
        self.push(NodeData::Element { tag, ns, attrs }, children)
    }
    fn html(&mut self, tag: &str, attrs: &[(&str, &str)], children: u32) -> &mut Self {
        self.el(tag, Namespace::Html, attrs, children)
    }
    fn text(&mut self, t: &str) -> &mut Self {
        self.push(NodeData::Text(t.into()), 0)
    }
    /// The tree as a snapshot from id 1, with no form state, scrolls or sheets.
    fn snapshot(self) -> Snapshot {
        Snapshot {
            names: self.names,
            first_id: 1,
            nodes: self.nodes,
            form: vec![],
            scroll: vec![],
            viewport: Viewport::default(),
            sheets: vec![],
        }
    }
}

/// Ids (first_id = 1):
/// 1 doc, 2 doctype, 3 html, 4 head, 5 style, 6 "css", 7 body, 8 script, 9 "js",
/// 10 div#box[onclick], 11 "click me", 12 a[href=javascript:], 13 "link", 14 svg, 15 circle,
/// 16 ul, 17 li, 18 "one", 19 li, 20 "two", 21 input, 22 iframe, 23 frame doc, 24 html, 25 body,
/// 26 "framed", 27 x-host, 28 shadow root, 29 b, 30 "in shadow", 31 img[onerror]
fn snapshot() -> Snapshot {
    let mut t = Tree::new();
    t.push(
        NodeData::Document {
            url: "https://shop.example/cart/index.html".into(),
        },
        2,
    )
    .push(
        NodeData::Doctype {
            name: "html".into(),
            public_id: String::new(),
            system_id: String::new(),
        },
        0,
    )
    .html("html", &[], 2)
    .html("head", &[], 1)
    .html("style", &[], 1)
    .text("#box { height: 60px; background: url(img/bg.png) }")
    .html("body", &[("style", "margin:0")], 9)
    .html("script", &[], 1)
    .text("window.pwned = true; parent.pwned = true;")
    .html(
        "div",
        &[("id", "box"), ("onclick", "parent.pwned = true")],
        1,
    )
    .text("click me")
    .html(
        "a",
        &[("id", "bad"), ("href", "javascript:parent.pwned=true")],
        1,
    )
    .text("link")
    .el(
        "svg",
        Namespace::Svg,
        &[("width", "20"), ("height", "20")],
        1,
    )
    .el(
        "circle",
        Namespace::Svg,
        &[("r", "5"), ("onload", "parent.pwned=1")],
        0,
    )
    .html("ul", &[], 2)
    .html("li", &[], 1)
    .text("one")
    .html("li", &[], 1)
    .text("two")
    .html("input", &[("id", "name"), ("onfocus", "x")], 0)
    .html(
        "iframe",
        &[("srcdoc", "<script>parent.pwned=1</script>")],
        1,
    )
    .push(
        NodeData::Document {
            url: "https://shop.example/cart/frame.html".into(),
        },
        1,
    )
    .html("html", &[], 1)
    .html("body", &[], 1)
    .text("framed")
    .html("x-host", &[], 1)
    .push(NodeData::ShadowRoot { open: true }, 1)
    .html("b", &[], 1)
    .text("in shadow")
    .html(
        "img",
        &[
            ("src", "data:image/gif;base64,R0lGODlhAQABAAAAACw="),
            ("onerror", "parent.pwned=1"),
        ],
        0,
    );
    Snapshot {
        form: vec![FormValue {
            node: 21,
            state: FormState::Value("typed".into()),
        }],
        viewport: Viewport {
            width: 400,
            height: 300,
            dpr_centi: 100,
        },
        ..t.snapshot()
    }
}

fn page() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("test page has a document")
}

fn new_frame(sandbox: &str) -> HtmlIFrameElement {
    let doc = page();
    let f: HtmlIFrameElement = doc
        .create_element("iframe")
        .expect("iframe")
        .unchecked_into();
    f.set_attribute("sandbox", sandbox).expect("sandbox");
    f.set_attribute("style", "width:400px;height:300px;border:0")
        .expect("style");
    doc.body().expect("body").append_child(&f).expect("append");
    f
}

fn pwned() -> bool {
    let w = web_sys::window().expect("window");
    Reflect::get(&w, &JsValue::from_str("pwned"))
        .map(|v| v.is_truthy())
        .unwrap_or(false)
}

fn built() -> (Replica<WebDom>, Document) {
    cobrowse_agent::log::set_enabled(true);
    let mut r = Replica::new(WebDom::new(new_frame("allow-same-origin")));
    // Through the real codec, like frames from the relay.
    let Message::Snapshot(snap) =
        decode(&encode(&Message::Snapshot(Box::new(snapshot())))).expect("snapshot round-trips")
    else {
        panic!("not a snapshot");
    };
    let stats = r.apply_snapshot(&snap);
    assert_eq!(stats.ignored, 0, "{stats:?}");
    let doc = r.backend().document().expect("replica document").clone();
    (r, doc)
}

fn q(doc: &Document, sel: &str) -> Element {
    doc.query_selector(sel)
        .expect("valid selector")
        .unwrap_or_else(|| panic!("{sel} missing"))
}

#[wasm_bindgen_test]
fn snapshot_is_rebuilt_without_anything_executable() {
    let (_r, doc) = built();
    assert_eq!(
        doc.compat_mode(),
        "CSS1Compat",
        "doctype gives standards mode"
    );
    assert_eq!(doc.query_selector_all("script").expect("qsa").length(), 0);
    assert_eq!(doc.query_selector_all("template").expect("qsa").length(), 1);
    assert_eq!(q(&doc, "template").text_content().as_deref(), Some(""));
    let bx = q(&doc, "#box");
    assert!(!bx.has_attribute("onclick"));
    bx.unchecked_ref::<HtmlElement>().click();
    let a = q(&doc, "#bad");
    assert!(!a.has_attribute("href"), "javascript: href dropped");
    assert!(!q(&doc, "img").has_attribute("onerror"));
    assert!(!q(&doc, "iframe").has_attribute("srcdoc"));
    assert_eq!(
        q(&doc, "iframe").get_attribute("sandbox").as_deref(),
        Some("allow-same-origin")
    );
    assert!(!pwned(), "nothing from the customer page ran");
}

#[wasm_bindgen_test]
fn links_and_forms_in_the_replica_cannot_be_activated() {
    let (_r, doc) = built();
    // A real link (http URL) and the form control: a synthetic, cancelable click on either is
    // cancelled by the replica's guard, so the frame never navigates and nothing submits.
    let a = q(&doc, "#bad");
    a.set_attribute("href", "https://shop.example/next")
        .expect("href");
    for el in [a, q(&doc, "#name")] {
        let init = web_sys::MouseEventInit::new();
        init.set_bubbles(true);
        init.set_cancelable(true);
        let ev =
            web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).expect("event");
        let not_cancelled = el.dispatch_event(&ev).expect("dispatch");
        assert!(
            !not_cancelled,
            "click on <{}> was not cancelled",
            el.local_name()
        );
    }
    // Keyboard focus the agent gives a replica control is taken away (the replica shows the
    // customer's focus only, never the agent's own ring).
    let input: HtmlElement = q(&doc, "#name").unchecked_into();
    input.focus().expect("focus");
    assert!(
        doc.active_element()
            .is_none_or(|a| !a.is_same_node(Some(&input))),
        "a replica control kept the agent's focus"
    );
}

#[wasm_bindgen_test]
fn svg_shadow_frames_head_and_form_state_are_faithful() {
    let (_r, doc) = built();
    let circle = q(&doc, "circle");
    assert_eq!(
        circle.namespace_uri().as_deref(),
        Some("http://www.w3.org/2000/svg")
    );
    assert!(!circle.has_attribute("onload"));
    // The replica's own base and CSP come first in the head.
    let base = q(&doc, "head > base:first-child");
    assert_eq!(
        base.get_attribute("href").as_deref(),
        Some("https://shop.example/cart/index.html")
    );
    let csp = q(&doc, "head > meta[http-equiv]");
    assert!(
        csp.get_attribute("content")
            .unwrap_or_default()
            .contains("script-src 'none'")
    );
    // Relative CSS URLs resolve against the customer's page.
    let css = q(&doc, "style").text_content().unwrap_or_default();
    assert!(
        css.contains("url(\"https://shop.example/cart/img/bg.png\")"),
        "{css}"
    );
    // Form state is a property, not an attribute.
    let input: HtmlInputElement = q(&doc, "#name").unchecked_into();
    assert_eq!(input.value(), "typed");
    assert!(!input.has_attribute("onfocus"));
    // The iframe's captured document is rebuilt inside it.
    let frame: HtmlIFrameElement = q(&doc, "iframe").unchecked_into();
    let inner = frame.content_document().expect("frame document");
    assert_eq!(
        inner.body().and_then(|b| b.text_content()).as_deref(),
        Some("framed")
    );
    // The open shadow root is attached to its host.
    let host = q(&doc, "x-host");
    let shadow = host.shadow_root().expect("shadow root");
    assert_eq!(shadow.text_content().as_deref(), Some("in shadow"));
}

#[wasm_bindgen_test]
fn a_mutation_batch_with_a_move_keeps_ids() {
    let (mut r, doc) = built();
    let mut names = NameTable::new();
    let li = names.intern("li");
    let class = names.intern("class");
    let onclick = names.intern("onclick");
    let batch = MutationBatch {
        names,
        removes: vec![10],
        inserts: vec![
            Insert::New(AddedSubtree {
                parent: 16,
                next_sibling: Some(17),
                first_id: 100,
                nodes: vec![
                    NodeRecord::new(
                        NodeData::Element {
                            tag: li,
                            ns: Namespace::Html,
                            attrs: vec![],
                        },
                        1,
                    ),
                    NodeRecord::new(NodeData::Text("zero".into()), 0),
                ],
            }),
            // Move "one" to the end.
            Insert::Move {
                node: 17,
                parent: 16,
                next_sibling: None,
            },
        ],
        attrs: vec![
            AttrChange {
                node: 17,
                name: class,
                value: Some("moved".into()),
            },
            AttrChange {
                node: 19,
                name: onclick,
                value: Some("parent.pwned=1".into()),
            },
        ],
        texts: vec![TextChange {
            node: 18,
            text: "one (moved)".into(),
        }],
    };
    let Message::Mutations(batch) =
        decode(&encode(&Message::Mutations(batch))).expect("batch round-trips")
    else {
        panic!("not mutations");
    };
    let stats = r.apply_mutations(&batch);
    assert_eq!(stats.ignored, 0, "{stats:?}");
    assert!(
        doc.query_selector("#box").expect("qsa").is_none(),
        "removed"
    );
    let items: Vec<String> = {
        let list = doc.query_selector_all("ul > li").expect("qsa");
        (0..list.length())
            .filter_map(|i| list.item(i).and_then(|n| n.text_content()))
            .collect()
    };
    assert_eq!(items, ["zero", "two", "one (moved)"]);
    assert_eq!(
        q(&doc, "ul > li:last-child")
            .get_attribute("class")
            .as_deref(),
        Some("moved")
    );
    assert!(!q(&doc, "ul > li:nth-child(2)").has_attribute("onclick"));
    // Pointer targeting maps the element under a point back to its customer id.
    let li_last = q(&doc, "ul > li:last-child");
    let rect = li_last.get_bounding_client_rect();
    let id = r
        .backend()
        .id_at(rect.left() + 2.0, rect.top() + rect.height() / 2.0);
    assert!(matches!(id, Some(17) | Some(18)), "{id:?}");
}

#[wasm_bindgen_test]
fn a_wrongly_sandboxed_frame_is_replaced() {
    let f = new_frame("allow-scripts allow-same-origin");
    f.set_id("replica-under-test");
    let dom = WebDom::new(f.clone());
    assert_eq!(
        dom.frame().get_attribute("sandbox").as_deref(),
        Some("allow-same-origin")
    );
    assert_eq!(dom.frame().id(), "replica-under-test");
    assert!(f.parent_node().is_none(), "the old frame left the page");
    assert!(dom.frame().is_connected());
}

/// Hostile markup (as a customer DOM would report it), at snapshot time and injected later by
/// mutations, rebuilt by the real backend: the replica document must hold nothing executable, and
/// clicking every element must run nothing.
#[wasm_bindgen_test]
fn hostile_vectors_leave_nothing_executable_in_the_real_dom() {
    let html: &[(&str, &[(&str, &str)])] = &[
        ("script", &[("src", "data:,parent.pwned=1")]),
        ("img", &[("src", "x:"), ("onerror", "parent.pwned=1")]),
        ("a", &[("href", "javascript:parent.pwned=1")]),
        ("a", &[("href", "\tjava\nscript:parent.pwned=1")]),
        (
            "a",
            &[
                ("href", "data:text/html,<script>parent.pwned=1</script>"),
                ("target", "_top"),
            ],
        ),
        (
            "iframe",
            &[("srcdoc", "<script>parent.parent.pwned=1</script>")],
        ),
        ("iframe", &[("src", "javascript:parent.pwned=1")]),
        ("object", &[("data", "javascript:parent.pwned=1")]),
        ("embed", &[("src", "javascript:parent.pwned=1")]),
        ("form", &[("action", "javascript:parent.pwned=1")]),
        (
            "button",
            &[
                ("formaction", "javascript:parent.pwned=1"),
                ("onclick", "parent.pwned=1"),
            ],
        ),
        (
            "meta",
            &[
                ("http-equiv", "refresh"),
                ("content", "0;url=javascript:parent.pwned=1"),
            ],
        ),
        ("base", &[("href", "javascript:parent.pwned=1//")]),
        ("details", &[("open", ""), ("ontoggle", "parent.pwned=1")]),
        (
            "div",
            &[("style", "background:url(javascript:parent.pwned=1)")],
        ),
        ("input", &[("autofocus", ""), ("onfocus", "parent.pwned=1")]),
    ];
    let svg: &[(&str, &[(&str, &str)])] = &[
        ("script", &[]),
        ("a", &[("xlink:href", "javascript:parent.pwned=1")]),
        (
            "set",
            &[
                ("attributeName", "href"),
                ("to", "javascript:parent.pwned=1"),
            ],
        ),
        (
            "animate",
            &[("attributeName", "onclick"), ("values", "parent.pwned=1")],
        ),
        ("circle", &[("r", "4"), ("onload", "parent.pwned=1")]),
    ];
    let mut t = Tree::new();
    t.push(
        NodeData::Document {
            url: "https://shop.example/".into(),
        },
        1,
    )
    .html("html", &[], 2)
    .html("head", &[], 0)
    .html("body", &[], (html.len() + 1) as u32);
    for (tag, attrs) in html {
        t.html(tag, attrs, 1).text("parent.pwned=1");
    }
    t.el("svg", Namespace::Svg, &[], svg.len() as u32);
    for (tag, attrs) in svg {
        t.el(tag, Namespace::Svg, attrs, 0);
    }
    let snap = t.snapshot();
    let mut r = Replica::new(WebDom::new(new_frame("allow-same-origin")));
    r.apply_snapshot(&snap);
    // Mutation-time injection: every vector's attributes set on the body and on an anchor.
    let mut names = NameTable::new();
    let mut attrs = vec![];
    for (_, list) in html.iter().chain(svg) {
        for (n, v) in *list {
            for node in [4, 7] {
                attrs.push(AttrChange {
                    node,
                    name: names.intern(n),
                    value: Some((*v).into()),
                });
            }
        }
    }
    r.apply_mutations(&MutationBatch {
        names,
        attrs,
        ..Default::default()
    });
    let doc = r.backend().document().expect("replica document").clone();
    let all = doc.query_selector_all("*").expect("qsa");
    for i in 0..all.length() {
        let el: Element = all.item(i).expect("item").unchecked_into();
        let tag = el.local_name();
        assert!(
            !matches!(
                tag.as_str(),
                "script" | "object" | "embed" | "applet" | "noscript"
            ),
            "<{tag}> in the replica"
        );
        let names = el.get_attribute_names();
        for j in 0..names.length() {
            let name = names
                .get(j)
                .as_string()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let value = el
                .get_attribute(&name)
                .unwrap_or_default()
                .to_ascii_lowercase();
            assert!(!name.starts_with("on"), "<{tag} {name}>");
            assert!(name != "srcdoc" && name != "autofocus", "<{tag} {name}>");
            // Attributes that load, navigate or animate (others, like `content` off a `<meta>`,
            // are inert text).
            let live = matches!(
                name.as_str(),
                "href"
                    | "src"
                    | "action"
                    | "formaction"
                    | "xlink:href"
                    | "poster"
                    | "data"
                    | "style"
                    | "to"
                    | "from"
                    | "values"
                    | "by"
                    | "srcset"
            ) || (tag == "meta" && name == "content");
            assert!(
                !(live && value.contains("javascript:")),
                "<{tag} {name}={value:?}>"
            );
            if name == "http-equiv" {
                assert!(
                    el.has_attribute("data-cobrowse-injected"),
                    "customer http-equiv kept"
                );
            }
            if name == "target" {
                assert!(
                    value == "_self" || value == "_blank",
                    "<{tag} target={value}>"
                );
            }
        }
        if let Some(h) = el.dyn_ref::<HtmlElement>() {
            h.click();
        } else {
            // Replica elements come from the frame's realm: `dyn_ref` is false; click via Reflect.
            if let Ok(f) = Reflect::get(&el, &JsValue::from_str("click"))
                && f.is_function()
            {
                let f: js_sys::Function = f.unchecked_into();
                let _ = f.call0(&el);
            }
        }
    }
    assert!(!pwned(), "nothing from the customer page ran");
}

/// Prefixed and namespaced names, as a customer page's parser or `createElementNS` makes them:
/// the replica's DOM holds no script, frame, base, style, plugin or meta it did not vet, and no
/// element or `<meta>` of the customer's sets its referrer policy.
#[wasm_bindgen_test]
fn prefixed_names_make_no_live_element_in_the_real_dom() {
    let html: &[(&str, &[(&str, &str)])] = &[
        ("x:script", &[("src", "data:,parent.pwned=1")]),
        ("x:iframe", &[("src", "https://evil.example/frame")]),
        ("x:base", &[("href", "https://evil.example/")]),
        ("x:style", &[]),
        ("x:object", &[("data", "https://evil.example/o")]),
        ("x:embed", &[("src", "https://evil.example/e")]),
        (
            "x:link",
            &[
                ("rel", "stylesheet"),
                ("href", "https://evil.example/s.css"),
            ],
        ),
        (
            "x:meta",
            &[
                ("http-equiv", "refresh"),
                ("content", "0;url=https://evil.example/"),
            ],
        ),
        ("meta", &[("name", "referrer"), ("content", "unsafe-url")]),
        (
            "img",
            &[
                ("src", "https://shop.example/i.png"),
                ("referrerpolicy", "unsafe-url"),
            ],
        ),
    ];
    let mut t = Tree::new();
    t.push(
        NodeData::Document {
            url: "https://shop.example/".into(),
        },
        1,
    )
    .html("html", &[], 2)
    .html("head", &[], 0)
    .html("body", &[], (html.len() + 1) as u32);
    for (tag, attrs) in html {
        t.html(tag, attrs, 1).text("parent.pwned=1");
    }
    t.el("svg", Namespace::Svg, &[], 2);
    t.el("svg:script", Namespace::Svg, &[], 1)
        .text("parent.pwned=1");
    t.el(
        "svg:a",
        Namespace::Svg,
        &[("href", "https://shop.example/")],
        0,
    );
    let snap = t.snapshot();
    let mut r = Replica::new(WebDom::new(new_frame("allow-same-origin")));
    let stats = r.apply_snapshot(&snap);
    assert_eq!(stats.ignored, 0, "{stats:?}");
    let doc = r.backend().document().expect("replica document").clone();
    let count = |sel: &str| doc.query_selector_all(sel).expect("qsa").length();
    // CSS type selectors match local names: a prefixed real element would be found here.
    for sel in ["script", "iframe", "object", "embed", "link", "style"] {
        assert_eq!(count(sel), 0, "<{sel}> in the replica");
    }
    assert_eq!(count("base:not([data-cobrowse-injected])"), 0);
    assert_eq!(
        count("meta:not([data-cobrowse-injected])"),
        1,
        "the customer's meta, nameless"
    );
    assert_eq!(count("meta[name]:not([data-cobrowse-injected])"), 0);
    assert_eq!(count("[referrerpolicy]"), 0);
    assert_eq!(
        q(&doc, "meta[name=referrer][data-cobrowse-injected]")
            .get_attribute("content")
            .as_deref(),
        Some("no-referrer")
    );
    assert_eq!(
        doc.base_uri().ok().flatten().as_deref(),
        Some("https://shop.example/")
    );
    assert_eq!(
        Reflect::get(&doc, &"styleSheets".into())
            .and_then(|l| Reflect::get(&l, &"length".into()))
            .ok()
            .and_then(|n| n.as_f64()),
        Some(0.0),
        "no customer sheet from an x:style or x:link"
    );
    // What was made: unknown HTML elements under their whole names; inert boxes for the
    // prefixed SVG names.
    let mut kids = vec![];
    let mut cur = q(&doc, "body").first_element_child();
    while let Some(el) = cur {
        cur = el.next_element_sibling();
        kids.push(el);
    }
    let constructor = |el: &Element| {
        Reflect::get(el, &"constructor".into())
            .and_then(|c| Reflect::get(&c, &"name".into()))
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default()
    };
    for el in &kids[..8] {
        assert!(el.local_name().starts_with("x:"), "{}", el.local_name());
        assert_eq!(el.namespace_uri().as_deref(), Some(HTML_NS));
        assert_eq!(constructor(el), "HTMLUnknownElement", "{}", el.local_name());
    }
    let mut inside = vec![];
    let mut cur = kids[10].first_element_child();
    while let Some(el) = cur {
        cur = el.next_element_sibling();
        inside.push((el.local_name(), el.has_attribute("data-cobrowse-inert")));
    }
    assert_eq!(
        inside,
        vec![("div".to_owned(), true), ("div".to_owned(), true)],
        "svg:script and svg:a became inert boxes"
    );
    assert!(!pwned(), "nothing from the customer page ran");
}

/// The replica's documents do not carry the agent page's query or fragment (which may hold the
/// session number or a credential) in their own URL, which is what a `Referer` would send.
#[wasm_bindgen_test]
fn replica_documents_do_not_carry_the_agent_pages_query() {
    let w = web_sys::window().expect("window");
    let before = w.location().href().expect("href");
    let history: JsValue = Reflect::get(&w, &"history".into()).expect("history");
    let replace: js_sys::Function = Reflect::get(&history, &"replaceState".into())
        .expect("replaceState")
        .unchecked_into();
    replace
        .call3(
            &history,
            &JsValue::NULL,
            &"".into(),
            &"?sid=123456789&auth=Secret-77#sid=1".into(),
        )
        .expect("replaceState");
    let (r, doc) = built();
    replace
        .call3(&history, &JsValue::NULL, &"".into(), &before.into())
        .expect("restore");
    let url = doc.url().expect("url");
    assert!(
        !url.contains("Secret-77") && !url.contains('?') && !url.contains('#'),
        "{url}"
    );
    let frame_doc = r
        .backend()
        .document()
        .and_then(|d| d.query_selector("iframe").ok().flatten())
        // From the replica's realm: `dyn_into` (instanceof) would refuse it.
        .and_then(|f| f.unchecked_into::<HtmlIFrameElement>().content_document())
        .expect("a rebuilt frame document");
    let url = frame_doc.url().expect("url");
    assert!(!url.contains("Secret-77"), "{url}");
}

/// A window scroll that arrives before the page is tall enough (an image not loaded yet) is
/// reached once the image loads.
#[wasm_bindgen_test]
async fn window_scroll_is_retried_when_resources_load() {
    let svg = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='10' height='3000'%3E%3C/svg%3E";
    let mut t = Tree::new();
    t.push(
        NodeData::Document {
            url: "https://shop.example/".into(),
        },
        2,
    )
    .push(
        NodeData::Doctype {
            name: "html".into(),
            public_id: String::new(),
            system_id: String::new(),
        },
        0,
    )
    .html("html", &[], 2)
    .html("head", &[], 0)
    .html("body", &[("style", "margin:0")], 1)
    .html("img", &[("id", "tall"), ("src", svg)], 0);
    let snap = Snapshot {
        scroll: vec![cobrowse_protocol::ScrollPosition {
            target: cobrowse_protocol::ScrollTarget::Window,
            x: 0,
            y: 1000,
        }],
        ..t.snapshot()
    };
    let mut r = Replica::new(WebDom::new(new_frame("allow-same-origin")));
    r.apply_snapshot(&snap);
    let doc = r.backend().document().expect("doc").clone();
    let img = q(&doc, "#tall");
    let win = r.backend().frame().content_window().expect("window");
    if Reflect::get(&img, &JsValue::from_str("complete"))
        .map(|c| !c.is_truthy())
        .unwrap_or(true)
    {
        // Wait for the image's own load event (the replica's retry listener, at the document in
        // the capture phase, has run by then).
        let done = js_sys::Promise::new(&mut |resolve, _| {
            let _ = img.add_event_listener_with_callback("load", &resolve);
        });
        wasm_bindgen_futures::JsFuture::from(done)
            .await
            .expect("image loads");
    }
    assert_eq!(win.scroll_y().expect("scrollY"), 1000.0);
}

/// Measurement, not a limit: how long the real backend takes to rebuild a 10,000-node page and to
/// apply a 1,000-move batch (printed; asserts only the result).
#[wasm_bindgen_test]
fn measures_large_snapshot_and_batch() {
    let rows = 5_000u32;
    let mut t = Tree::new();
    t.push(
        NodeData::Document {
            url: "https://shop.example/".into(),
        },
        1,
    )
    .html("html", &[], 2)
    .html("head", &[], 0)
    .html("body", &[], 1)
    .html("ul", &[("id", "big")], rows);
    for i in 0..rows {
        t.html("li", &[("class", "row"), ("data-i", &i.to_string())], 1)
            .text("row text");
    }
    let snap = t.snapshot();
    let perf = web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("performance")).ok())
        .expect("performance");
    let now = || {
        Reflect::get(&perf, &JsValue::from_str("now"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call0(&perf).ok())
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    };
    let mut r = Replica::new(WebDom::new(new_frame("allow-same-origin")));
    let t0 = now();
    let stats = r.apply_snapshot(&snap);
    let t1 = now();
    assert_eq!(stats.ignored, 0);
    // Reverse the first 1,001 rows with moves (ids: ul = 5, row i = 6 + 2i).
    // Each row i (1..=1000) moves before row i - 1, which is then the first row.
    let inserts = (1..=1_000u32)
        .map(|i| Insert::Move {
            node: 6 + 2 * i,
            parent: 5,
            next_sibling: Some(6 + 2 * (i - 1)),
        })
        .collect();
    let batch = MutationBatch {
        inserts,
        ..Default::default()
    };
    let t2 = now();
    let stats = r.apply_mutations(&batch);
    let t3 = now();
    assert_eq!(stats.applied, 1_000);
    let doc = r.backend().document().expect("doc").clone();
    assert_eq!(
        q(&doc, "#big > li:first-child")
            .get_attribute("data-i")
            .as_deref(),
        Some("1000")
    );
    console_log!(
        "# {} nodes rebuilt in {:.1} ms; 1,000 moves applied in {:.1} ms",
        snap.nodes.len(),
        t1 - t0,
        t3 - t2
    );
}

/// A text control's selection is painted only while it is focused: the replica focuses the
/// control for the customer's non-empty selection, but never while the agent page is in use
/// (something on it focused), and gives the focus back when the selection ends. Keys the agent
/// presses meanwhile edit nothing there.
#[wasm_bindgen_test]
fn a_control_selection_takes_focus_only_from_an_idle_agent_page() {
    let (mut r, doc) = built();
    let page_doc = page();
    // Earlier tests' frames may hold the test page's focus: the agent page starts idle.
    if let Some(a) = page_doc.active_element() {
        let _ = a.unchecked_into::<HtmlElement>().blur();
    }
    assert!(
        page_doc.has_focus().unwrap_or(false),
        "the test page has focus"
    );
    let input = q(&doc, "#name");
    let sel = |s: u32, e: u32| cobrowse_protocol::SelectionRange {
        start_node: 21,
        start_offset: s,
        end_node: 21,
        end_offset: e,
    };
    r.apply_selection(&[sel(0, 3)]);
    assert!(
        doc.active_element()
            .is_some_and(|a| a.is_same_node(Some(&input))),
        "the replica control is focused for the customer's selection"
    );
    let field: HtmlInputElement = input.clone().unchecked_into();
    assert_eq!(
        (field.selection_start(), field.selection_end()),
        (Ok(Some(0)), Ok(Some(3)))
    );
    // A key the agent presses edits nothing in the replica.
    let ev = js_sys::Function::new_no_args(
        "return new InputEvent('beforeinput', \
         { bubbles: true, cancelable: true, inputType: 'insertText', data: 'x' });",
    )
    .call0(&JsValue::NULL)
    .expect("event");
    assert!(
        !input.dispatch_event(ev.unchecked_ref()).expect("dispatch"),
        "beforeinput is cancelled"
    );

    // The selection ends: the focus goes back.
    r.apply_selection(&[sel(2, 2)]);
    assert!(
        doc.active_element()
            .is_none_or(|a| !a.is_same_node(Some(&input))),
        "focus given back"
    );

    // The agent is typing on its own page: nothing is taken from it.
    let own: HtmlInputElement = page_doc
        .create_element("input")
        .expect("input")
        .unchecked_into();
    page_doc
        .body()
        .expect("body")
        .append_child(&own)
        .expect("append");
    own.focus().expect("focus");
    r.apply_selection(&[sel(0, 3)]);
    assert!(
        page_doc
            .active_element()
            .is_some_and(|a| a.is_same_node(Some(&own))),
        "the agent's field keeps its focus"
    );
    own.remove();
}

/// Ids (first_id = 1): 1 doc, 2 html, 3 head, 4 style, 5 its text, 6 body, 7 ul, 8 li "first",
/// 9 its text, 10 li.editing, 11 div.view, 12 its text, and with a frame 13 iframe in the
/// `li.editing` (so its moves are atomic).
fn list_snapshot(with_frame: bool) -> Snapshot {
    let mut t = Tree::new();
    t.push(
        NodeData::Document {
            url: "https://shop.example/todos/".into(),
        },
        1,
    )
    .html("html", &[], 2)
    .html("head", &[], 1)
    .html("style", &[], 1)
    // What TodoMVC's stylesheet does while an item is edited.
    .text("li.editing { padding: 0; border-bottom: none } li.editing .view { display: none }")
    .html("body", &[("style", "margin:0")], 1)
    .html("ul", &[], 2)
    .html("li", &[], 1)
    .text("first")
    .html("li", &[("class", "editing")], 1 + u32::from(with_frame))
    .html("div", &[("class", "view")], 1)
    .text("shown again");
    if with_frame {
        t.html("iframe", &[], 0);
    }
    t.snapshot()
}

/// An item's class change shows a part of it again, then the item moves, within one frame (a
/// list app ending an edit and re-rendering its filter): the part is laid out, both when the item
/// holds a frame (moved atomically, to keep the frame's document) and when it does not.
#[wasm_bindgen_test]
async fn an_item_restyled_and_moved_in_one_batch_is_laid_out() {
    for with_frame in [false, true] {
        let mut r = Replica::new(WebDom::new(new_frame("allow-same-origin")));
        let stats = r.apply_snapshot(&list_snapshot(with_frame));
        assert_eq!(stats.ignored, 0, "{stats:?}");
        let doc = r.backend().document().expect("replica document").clone();
        // The hidden state is rendered first, as it was on the customer's screen.
        next_frame().await;
        next_frame().await;
        let view = q(&doc, ".view");
        assert_eq!(
            view.get_bounding_client_rect().height(),
            0.0,
            "hidden while editing"
        );

        // The class change and the move arrive as two batches within one frame (a batch applies
        // its moves before its attributes).
        let mut names = NameTable::new();
        let class = names.intern("class");
        let restyle = MutationBatch {
            names,
            removes: vec![],
            inserts: vec![],
            attrs: vec![AttrChange {
                node: 10,
                name: class,
                value: Some(String::new()),
            }],
            texts: vec![],
        };
        let moved = MutationBatch {
            names: NameTable::new(),
            removes: vec![],
            inserts: vec![Insert::Move {
                node: 10,
                parent: 7,
                next_sibling: Some(8),
            }],
            attrs: vec![],
            texts: vec![],
        };
        for batch in [restyle, moved] {
            let stats = r.apply_mutations(&batch);
            assert_eq!(stats.ignored, 0, "{stats:?}");
        }
        next_frame().await;
        next_frame().await;
        assert_eq!(
            q(&doc, "ul > li:first-child")
                .get_attribute("class")
                .as_deref(),
            Some(""),
            "moved and restyled"
        );
        assert!(
            view.get_bounding_client_rect().height() > 0.0,
            "the item's part is laid out again (the item holds a frame: {with_frame})"
        );
    }
}
