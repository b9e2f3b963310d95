//! Form state set by script (`web::values`) in a real DOM: each hooked property reaches the
//! recorder's sink as `Form`, masked like typed input, in shadow roots and same-origin iframes too;
//! the page's setters behave as before (exceptions included) and are put back when capture stops;
//! two recorders or a restart never wrap a setter twice.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-client --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // test crate

use cobrowse_client::web::recorder::Recorder;
use cobrowse_client::web::values::ValueHooks;
use cobrowse_protocol::{
    FormState, FormValue, Message, NodeData, NodeId, Snapshot, decode, encode,
};
use cobrowse_web_glue::testing::next_frame;
use js_sys::{Object, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlIFrameElement};

wasm_bindgen_test_configure!(run_in_browser);

fn doc() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

struct Page {
    root: Element,
    sent: Rc<RefCell<Vec<Message>>>,
    recorder: Option<Recorder>,
}

impl Page {
    /// Replaces the fixture's content with `html` (nothing is recorded yet).
    fn new(html: &str) -> Page {
        let d = doc();
        if let Some(old) = d.get_element_by_id("fixture") {
            old.remove();
        }
        let root = d.create_element("div").expect("div");
        root.set_id("fixture");
        root.set_inner_html(html);
        d.body().expect("body").append_child(&root).expect("append");
        Page {
            root,
            sent: Rc::default(),
            recorder: None,
        }
    }

    fn start(&mut self) -> Snapshot {
        let s = Rc::clone(&self.sent);
        let r = Recorder::start(
            web_sys::window().expect("window"),
            doc(),
            Rc::new(move |m: Message| {
                s.borrow_mut()
                    .push(decode(&encode(&m)).expect("frame decodes"))
            }),
            false,
            cobrowse_client::mask::PageMask::NONE,
        )
        .expect("recorder");
        let snap = match r.snapshot() {
            Some(Message::Snapshot(s)) => *s,
            other => panic!("expected a snapshot, got {other:?}"),
        };
        self.recorder = Some(r);
        self.sent.borrow_mut().clear();
        snap
    }

    fn el(&self, sel: &str) -> Element {
        self.root
            .query_selector(sel)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no {sel}"))
    }

    /// The form values sent since the last call.
    fn forms(&self) -> Vec<FormValue> {
        std::mem::take(&mut *self.sent.borrow_mut())
            .into_iter()
            .filter_map(|m| match m {
                Message::Form(f) => Some(f),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

/// The wire id of the element with `attr="value"` in a snapshot.
fn id_by(s: &Snapshot, attr: &str, value: &str) -> NodeId {
    s.nodes
        .iter()
        .position(|r| match &r.data {
            NodeData::Element { attrs, .. } => attrs
                .iter()
                .any(|a| s.names.resolve(a.name) == Some(attr) && a.value == value),
            _ => false,
        })
        .map(|i| s.first_id + i as u32)
        .unwrap_or_else(|| panic!("no [{attr}={value}] in the snapshot"))
}

fn set(target: &JsValue, key: &str, value: JsValue) {
    Reflect::set(target, &key.into(), &value).expect("set");
}

/// Resolves after the microtasks queued so far (the hooks report on one).
async fn tick() {
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::from(0)))
        .await
        .expect("tick");
}

fn setter(ctor: &str, key: &str) -> JsValue {
    let proto = Reflect::get(&web_sys::window().expect("window"), &ctor.into())
        .and_then(|c| Reflect::get(&c, &"prototype".into()))
        .expect("prototype");
    let desc = Object::get_own_property_descriptor(proto.unchecked_ref::<Object>(), &key.into());
    Reflect::get(&desc, &"set".into()).expect("setter")
}

const FORM: &str = r#"
  <input name="t" value="typed"><input name="pw" type="password">
  <input name="cb" type="checkbox"><input name="mixed" type="checkbox">
  <input name="ra" type="radio" value="a" checked><input name="ra" type="radio" value="b">
  <textarea name="ta">old</textarea>
  <select name="s"><option>One</option><option>Two</option><option>Three</option></select>
  <select name="m" multiple><option>A</option><optgroup><option>B</option></optgroup></select>
  <div id="host"></div>"#;

#[wasm_bindgen_test]
async fn every_hooked_property_set_by_script_is_reported() {
    let mut page = Page::new(FORM);
    let host = page.el("#host");
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .expect("shadow");
    shadow.set_inner_html(r#"<input name="in-shadow">"#);
    let s = page.start();
    let id = |name: &str| id_by(&s, "name", name);
    let el = |name: &str| -> JsValue { page.el(&format!("[name={name}]")).into() };

    set(&el("t"), "value", "".into());
    set(&el("pw"), "value", "hunter2".into());
    set(&el("cb"), "checked", true.into());
    set(&el("mixed"), "indeterminate", true.into());
    let b: JsValue = page.el("[name=ra][value=b]").into();
    set(&b, "checked", true.into());
    set(&el("ta"), "value", "new text".into());
    set(&el("s"), "selectedIndex", 2.into());
    let in_group: JsValue = page.el("[name=m] optgroup option").into();
    set(&in_group, "selected", true.into());
    let in_shadow: JsValue = shadow
        .query_selector("input")
        .ok()
        .flatten()
        .expect("shadow input")
        .into();
    set(&in_shadow, "value", "from a shadow root".into());
    assert!(
        page.forms().is_empty(),
        "reported on a microtask, not inside the setter"
    );
    tick().await;
    let got = page.forms();
    let state = |node: NodeId| -> Vec<&FormState> {
        got.iter()
            .filter(|f| f.node == node)
            .map(|f| &f.state)
            .collect()
    };
    assert_eq!(state(id("t")), [&FormState::Value(String::new())]);
    assert_eq!(
        state(id("pw")),
        [&FormState::Value("*******".into())],
        "masked like typed input"
    );
    assert_eq!(state(id("cb")), [&FormState::Checked(true)]);
    assert_eq!(state(id("mixed")), [&FormState::Indeterminate(false)]);
    let a = id_by(&s, "value", "a");
    let bid = id_by(&s, "value", "b");
    assert_eq!(state(bid), [&FormState::Checked(true)]);
    assert_eq!(
        state(a),
        [&FormState::Checked(false)],
        "the radio it unchecked"
    );
    assert_eq!(state(id("ta")), [&FormState::Value("new text".into())]);
    assert_eq!(state(id("s")), [&FormState::Selected(vec![2])]);
    assert_eq!(
        state(id("m")),
        [&FormState::Selected(vec![1])],
        "an option stands for its select"
    );
    assert_eq!(
        state(id_by(&s, "name", "in-shadow")),
        [&FormState::Value("from a shadow root".into())]
    );

    // Several writes to one control in one task: one report, with the last state.
    set(&el("s"), "value", "One".into());
    set(&el("s"), "value", "Two".into());
    set(&el("t"), "value", "a".into());
    tick().await;
    let got = page.forms();
    assert_eq!(
        got,
        [
            FormValue {
                node: id("s"),
                state: FormState::Selected(vec![1])
            },
            FormValue {
                node: id("t"),
                state: FormState::Value("a".into())
            },
        ]
    );
}

#[wasm_bindgen_test]
async fn same_origin_iframe_controls_are_reported() {
    let mut page = Page::new(r#"<iframe id="f" srcdoc="<input id=inner>"></iframe>"#);
    let frame: HtmlIFrameElement = page.el("#f").dyn_into().expect("iframe");
    for _ in 0..50 {
        if frame
            .content_document()
            .and_then(|d| d.get_element_by_id("inner"))
            .is_some()
        {
            break;
        }
        next_frame().await;
    }
    let s = page.start();
    let inner = frame
        .content_document()
        .and_then(|d| d.get_element_by_id("inner"))
        .expect("inner input");
    set(&inner.clone().into(), "value", "inside the frame".into());
    tick().await;
    assert_eq!(
        page.forms(),
        [FormValue {
            node: id_by(&s, "id", "inner"),
            state: FormState::Value("inside the frame".into())
        }]
    );
}

#[wasm_bindgen_test]
async fn a_value_set_then_announced_by_an_input_event_is_reported_once() {
    let mut page = Page::new(r#"<input id="typed" value=""><input id="other" value="">"#);
    let s = page.start();
    let typed = page.el("#typed");
    let other = page.el("#other");
    let input_event = || {
        web_sys::Event::new_with_event_init_dict("input", &{
            let init = web_sys::EventInit::new();
            init.set_bubbles(true);
            init
        })
        .expect("event")
    };
    let value = |v: &str| FormValue {
        node: id_by(&s, "id", "typed"),
        state: FormState::Value(v.into()),
    };
    let other_value = |v: &str| FormValue {
        node: id_by(&s, "id", "other"),
        state: FormState::Value(v.into()),
    };

    // What a test driver or a form library does per keystroke: set, then announce.
    set(&typed.clone().into(), "value", "a".into());
    set(&other.clone().into(), "value", "x".into());
    typed.dispatch_event(&input_event()).expect("dispatch");
    tick().await;
    assert_eq!(
        page.forms(),
        [value("a"), other_value("x")],
        "the input event's report stands for the setter's; the other control set by script is still reported"
    );

    // Set again after the event: that state is newer than the report, so it is sent too.
    set(&typed.clone().into(), "value", "ab".into());
    typed.dispatch_event(&input_event()).expect("dispatch");
    set(&typed.clone().into(), "value", "abc".into());
    tick().await;
    assert_eq!(page.forms(), [value("ab"), value("abc")]);
}

#[wasm_bindgen_test]
async fn a_value_tracker_defined_before_the_session_is_followed() {
    let mut page = Page::new(r#"<input id="controlled" value="typed">"#);
    let input: JsValue = page.el("#controlled").into();
    // What React's value tracker does when it first renders an input: an own `value` property
    // that calls the prototype's setter as it was then (the original, before any hook).
    let define = js_sys::Function::new_with_args(
        "el",
        "const d = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
         let tracked = el.value;
         Object.defineProperty(el, 'value', { configurable: true, enumerable: d.enumerable,
           get() { return d.get.call(this); },
           set(v) { tracked = '' + v; d.set.call(this, v); } });",
    );
    define.call1(&JsValue::NULL, &input).expect("tracker");
    let s = page.start();
    set(&input, "value", "".into());
    tick().await;
    assert_eq!(
        page.forms(),
        [FormValue {
            node: id_by(&s, "id", "controlled"),
            state: FormState::Value(String::new())
        }]
    );
    drop(page.recorder.take());
    let own = Object::get_own_property_descriptor(input.unchecked_ref::<Object>(), &"value".into());
    let set_fn = Reflect::get(&own, &"set".into()).expect("set");
    assert!(
        Reflect::get(&set_fn, &"toString".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call0(&set_fn).ok())
            .and_then(|t| t.as_string())
            .is_some_and(|t| t.contains("tracked")),
        "the tracker's own setter is back"
    );
}

#[wasm_bindgen_test]
async fn setters_behave_as_before_and_are_restored() {
    let original = setter("HTMLInputElement", "value");
    let before = ValueHooks::installed();
    let mut page = Page::new(r#"<input id="file" type="file"><input id="t">"#);
    page.start();
    assert_ne!(setter("HTMLInputElement", "value"), original, "hooked");
    let hooked = ValueHooks::installed();
    assert!(hooked > before);
    // A file input still refuses a value: the page sees its own exception.
    let file: JsValue = page.el("#file").into();
    assert!(Reflect::set(&file, &"value".into(), &"C:\\x".into()).is_err());
    // The getter is the original one: the value reads back.
    let t: JsValue = page.el("#t").into();
    set(&t, "value", "abc".into());
    assert_eq!(
        Reflect::get(&t, &"value".into())
            .ok()
            .and_then(|v| v.as_string()),
        Some("abc".into())
    );

    // A second recorder on the same page shares the hooks: nothing is wrapped twice.
    let second = Recorder::start(
        web_sys::window().expect("window"),
        doc(),
        Rc::new(|_| {}),
        false,
        cobrowse_client::mask::PageMask::NONE,
    )
    .expect("second recorder");
    assert_eq!(ValueHooks::installed(), hooked);
    drop(second);
    assert_ne!(
        setter("HTMLInputElement", "value"),
        original,
        "still hooked for the first"
    );
    drop(page.recorder.take());
    assert_eq!(
        setter("HTMLInputElement", "value"),
        original,
        "the page's setter is back"
    );
    assert_eq!(ValueHooks::installed(), 0);
    set(&t, "value", "after stop".into());
    tick().await;
    assert!(page.forms().is_empty());

    // Something wraps our setter (another tool); stopping cannot take ours out of its chain, and
    // a restart reuses ours instead of wrapping a second time.
    page.start();
    let wrap = js_sys::Function::new_no_args(
        "const d = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
         const inner = d.set;
         Object.defineProperty(HTMLInputElement.prototype, 'value', { ...d,
           set(v) { window.__wrapped = (window.__wrapped || 0) + 1; inner.call(this, v); } });
         return () => Object.defineProperty(HTMLInputElement.prototype, 'value', d);",
    );
    let unwrap: js_sys::Function = wrap.call0(&JsValue::NULL).expect("wrap").unchecked_into();
    drop(page.recorder.take());
    let stranded = setter("HTMLInputElement", "value");
    let s = page.start();
    assert_eq!(
        setter("HTMLInputElement", "value"),
        stranded,
        "not wrapped again"
    );
    set(&t, "value", "through the other wrapper".into());
    tick().await;
    assert_eq!(
        page.forms(),
        [FormValue {
            node: id_by(&s, "id", "t"),
            state: FormState::Value("through the other wrapper".into())
        }]
    );
    drop(page.recorder.take());
    unwrap.call0(&JsValue::NULL).expect("unwrap");
    drop(page.start());
    drop(page.recorder.take());
    assert_eq!(setter("HTMLInputElement", "value"), original);
}

#[wasm_bindgen_test]
async fn defaults_changed_by_attribute_report_the_live_state() {
    let mut page = Page::new(
        r#"<input id="clean" value="a"><textarea id="ta">one</textarea>
           <input id="box" type="checkbox"><select id="s"><option>x</option><option id="y">y</option></select>"#,
    );
    let s = page.start();
    // A control nobody edited follows its attribute; the replica's (whose live state was set)
    // would not, so the live state is sent with the mutation.
    page.el("#clean")
        .set_attribute("value", "b")
        .expect("value");
    page.el("#ta").set_text_content(Some("two"));
    page.el("#box")
        .set_attribute("checked", "")
        .expect("checked");
    page.el("#y")
        .set_attribute("selected", "")
        .expect("selected");
    page.recorder.as_ref().expect("recorder").flush();
    let got = page.forms();
    let state = |id: &str| {
        let node = id_by(&s, "id", id);
        got.iter()
            .filter(|f| f.node == node)
            .map(|f| f.state.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(state("clean"), [FormState::Value("b".into())]);
    assert_eq!(state("ta"), [FormState::Value("two".into())]);
    assert_eq!(state("box"), [FormState::Checked(true)]);
    assert_eq!(state("s"), [FormState::Selected(vec![1])]);
}

#[wasm_bindgen_test]
async fn an_es5_shim_of_get_own_property_descriptor_breaks_nothing() {
    // What old sites' ES5 shims (cujo's poly, in troopjs's bundle) put in place: a version that
    // reads `obj[name]`, which throws "Illegal invocation" on a DOM prototype's accessor.
    let shim = js_sys::Function::new_no_args(
        "const real = Object.getOwnPropertyDescriptor;
         Object.getOwnPropertyDescriptor = function (o, n) {
           return Object.prototype.hasOwnProperty.call(o, n)
             ? { value: o[n], enumerable: true, configurable: true, writable: true } : undefined;
         };
         return () => { Object.getOwnPropertyDescriptor = real; };",
    );
    let unshim: js_sys::Function = shim.call0(&JsValue::NULL).expect("shim").unchecked_into();
    let mut page = Page::new(r#"<input id="t" value="x">"#);
    let s = page.start();
    let t: JsValue = page.el("#t").into();
    set(&t, "value", "".into());
    tick().await;
    let got = page.forms();
    drop(page.recorder.take());
    unshim.call0(&JsValue::NULL).expect("unshim");
    assert_eq!(
        got,
        [FormValue {
            node: id_by(&s, "id", "t"),
            state: FormState::Value(String::new())
        }]
    );
}

#[wasm_bindgen_test]
async fn a_reset_form_reports_its_controls() {
    let mut page = Page::new(
        r#"<form id="f"><input id="t" value="default"><input id="c" type="checkbox">
           <button id="r" type="reset">Reset</button></form>"#,
    );
    let s = page.start();
    let (t, c) = (id_by(&s, "id", "t"), id_by(&s, "id", "c"));
    let t_el: JsValue = page.el("#t").into();
    let c_el: JsValue = page.el("#c").into();
    set(&t_el, "value", "typed".into());
    set(&c_el, "checked", true.into());
    tick().await;
    page.forms();
    // By script (cujo's TodoMVC clears its field so): no event, no attribute changes.
    let form = page.el("#f");
    Reflect::get(&form, &"reset".into())
        .expect("reset")
        .unchecked_into::<js_sys::Function>()
        .call0(&form)
        .expect("reset()");
    tick().await;
    let want = [
        FormValue {
            node: t,
            state: FormState::Value("default".into()),
        },
        FormValue {
            node: c,
            state: FormState::Checked(false),
        },
    ];
    assert_eq!(page.forms(), want);
    // By a reset button: `reset` fires before the controls change; they are read in a task of
    // their own, which a zero timeout queued after the click follows.
    set(&t_el, "value", "again".into());
    tick().await;
    page.forms();
    page.el("#r")
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    wasm_bindgen_futures::JsFuture::from(wait)
        .await
        .expect("timeout");
    let got = page.forms();
    assert!(got.contains(&want[0]) && got.contains(&want[1]), "{got:?}");
}
