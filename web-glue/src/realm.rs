//! Reading DOM and CSSOM objects that may belong to another JS realm.
//!
//! The customer's page captures same-origin iframes, and the agent renders its replica inside
//! one: their nodes, sheets and constructors come from the iframe's realm, where `instanceof`
//! against this page's constructors is always false — so `dyn_ref`/`dyn_into` reject them.
//! These helpers decide by `nodeType`, `localName`, namespace and `typeof` instead, then cast
//! unchecked, and read properties through `Reflect`, which also catches throwing getters.

use js_sys::Reflect;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, Node, ShadowRoot};

/// `obj[key]` when `obj` is an object (or function) and the value is neither null nor undefined.
pub fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    // Functions (constructors) are objects too, but `typeof` says "function".
    if !obj.is_object() && !obj.is_function() {
        return None;
    }
    Reflect::get(obj, &key.into())
        .ok()
        .filter(|v| !v.is_null() && !v.is_undefined())
}

/// The page's window. `web_sys::window()` checks `instanceof Window` against the page's global
/// `Window`, which some libraries replace (MooTools 1.x defines its own `Window` type; Polymer
/// 0.x's platform.js wraps the DOM): then the real window is the global object with a document.
pub fn window() -> Option<web_sys::Window> {
    web_sys::window().or_else(|| {
        let global = js_sys::global();
        get(&global, "document")
            .is_some()
            .then(|| global.unchecked_into::<web_sys::Window>())
    })
}

/// `Reflect.getOwnPropertyDescriptor(obj, key)`, or `undefined` when it throws or `obj` is no
/// object. Not `Object.getOwnPropertyDescriptor`: old sites load ES5 shims that replace it with a
/// version reading `obj[key]`, which throws "Illegal invocation" on a DOM prototype's accessor.
pub fn own_descriptor(obj: &js_sys::Object, key: &str) -> JsValue {
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get_own_property_descriptor(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The `length` of a list-like object (0 when it has none, or one that is not a number).
pub fn length(list: &JsValue) -> u32 {
    get(list, "length").and_then(|l| l.as_f64()).unwrap_or(0.0) as u32
}

/// The object items of a list-like object (`CSSRuleList`, `adoptedStyleSheets`, …).
pub fn items(list: &JsValue) -> Vec<JsValue> {
    (0..length(list))
        .filter_map(|i| Reflect::get_u32(list, i).ok())
        .filter(JsValue::is_object)
        .collect()
}

/// `node` as an element, in any realm.
pub fn element(node: &Node) -> Option<&Element> {
    (node.node_type() == Node::ELEMENT_NODE).then(|| node.unchecked_ref::<Element>())
}

const XHTML: &str = "http://www.w3.org/1999/xhtml";

/// `node` as an HTML element (not SVG or MathML), in any realm.
pub fn html_element(node: &Node) -> Option<&HtmlElement> {
    element(node)
        .filter(|e| e.namespace_uri().as_deref() == Some(XHTML))
        .map(|e| e.unchecked_ref::<HtmlElement>())
}

/// `node` as the HTML element `<tag>` (its `web_sys` type `T`), in any realm.
pub fn html_tag<'a, T: JsCast>(node: &'a Node, tag: &str) -> Option<&'a T> {
    html_element(node)
        .filter(|e| e.local_name() == tag)
        .map(|e| e.unchecked_ref::<T>())
}

/// `node` as a shadow root, in any realm: a document fragment with a host (a plain fragment has
/// none).
pub fn shadow_root(node: &Node) -> Option<&ShadowRoot> {
    if node.node_type() != Node::DOCUMENT_FRAGMENT_NODE {
        return None;
    }
    let host = Reflect::get(node, &"host".into()).ok()?;
    host.is_object().then(|| node.unchecked_ref::<ShadowRoot>())
}
