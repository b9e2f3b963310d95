//! Form state set by script: `input.value = ''`, `box.checked = true`, `select.selectedIndex = 2`,
//! `form.reset()` fire no `input` event and change no attribute, so neither the `input` listener nor the
//! MutationObserver sees them. Apps do this all the time (a todo list clears its field after
//! Enter; a "select all" box becomes indeterminate), and the agent would keep the old state.
//!
//! The setters of those properties on the page's prototypes are replaced by `Proxy` objects (no
//! `eval`, so a strict CSP is fine) that call the original and then note the element; on the next
//! microtask every subscriber gets the noted elements once, and the recorder reports them through
//! its ordinary input path (where masking is decided). Same-origin iframes have prototypes of
//! their own and are hooked when the recorder captures their document; shadow-root controls use
//! the prototypes of their realm and need nothing more.
//!
//! Libraries that track a control's value (React's value tracker) define `value`/`checked` on the
//! element itself, calling the prototype setter they read when they first saw it: for controls
//! that existed before the hooks, that is the original, so [`ValueHooks::hook_instance`] wraps
//! such own setters too.
//!
//! # Who owns what
//!
//! One registry per wasm instance (thread-local) owns the installed proxies, the one trap closure
//! they share and the original descriptors, so two recorders (or a restart) never wrap a setter
//! twice. A [`ValueHooks`] handle is a subscription: when the last one is dropped, every setter
//! whose current value is still our proxy gets its original back. One that something else wrapped
//! after us stays in that wrapper's chain and just calls through (the trap notes nothing without
//! subscribers); it is remembered and reused by the next subscription instead of being wrapped
//! again. The trap closure lives as long as the wasm instance: the page may hold a proxy forever.

use cobrowse_web_glue::realm::{get, own_descriptor};
use js_sys::{Array, Function, Object, Promise, Proxy, Reflect, WeakSet};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Node, Window};

/// The setters wrapped on each realm's prototypes: constructor and property.
const PROPERTIES: &[(&str, &str)] = &[
    ("HTMLInputElement", "value"),
    ("HTMLInputElement", "valueAsNumber"),
    ("HTMLInputElement", "valueAsDate"),
    ("HTMLInputElement", "checked"),
    ("HTMLInputElement", "indeterminate"),
    ("HTMLTextAreaElement", "value"),
    ("HTMLSelectElement", "value"),
    ("HTMLSelectElement", "selectedIndex"),
    ("HTMLOptionElement", "selected"),
    // A method: `form.reset()` puts every control of the form back to its default.
    ("HTMLFormElement", "reset"),
];

/// Own properties a value-tracking library may define on a control.
const INSTANCE_PROPERTIES: &[&str] = &["value", "checked"];

type Trap = Closure<dyn FnMut(JsValue, JsValue, Array) -> Result<JsValue, JsValue>>;
/// What a subscriber is given: the elements whose state script set since the last call.
pub type OnSet = Rc<dyn Fn(Vec<Node>)>;

/// One replaced setter: on which object (a prototype or an element), and its original descriptor.
struct Patched {
    target: Object,
    key: &'static str,
    original: Object,
    proxy: JsValue,
}

#[derive(Default)]
struct Registry {
    patched: Vec<Patched>,
    /// Proxies a restore could not take out (something wrapped over them): still in the chain,
    /// calling through, and taken back into `patched` instead of being wrapped again.
    stranded: Vec<Patched>,
    /// Our proxies, to recognise them wherever they are found.
    proxies: Option<WeakSet>,
    /// Prototypes and elements wrapped (or found wrapped by us) since the hooks were installed.
    hooked: Option<WeakSet>,
    trap: Option<Trap>,
    flush: Option<Closure<dyn FnMut(JsValue)>>,
    subscribers: Vec<(u64, OnSet)>,
    next_id: u64,
    /// Elements noted since the last flush, in order, each once.
    pending: Vec<JsValue>,
    scheduled: bool,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::default();
}

fn weak_set(slot: &mut Option<WeakSet>) -> WeakSet {
    slot.get_or_insert_with(WeakSet::new).clone()
}

/// Called by every proxy after the original setter returned: notes the element.
fn note(this: &JsValue) {
    let schedule = REGISTRY.with(|r| {
        let Ok(mut r) = r.try_borrow_mut() else {
            return None;
        };
        if r.subscribers.is_empty() || !this.is_object() {
            return None;
        }
        if !r.pending.iter().any(|p| p == this) {
            r.pending.push(this.clone());
        }
        if r.scheduled {
            return None;
        }
        r.scheduled = true;
        r.flush
            .as_ref()
            .map(|f| f.as_ref().unchecked_ref::<Function>().clone())
    });
    if let Some(f) = schedule {
        // A microtask: after the script's synchronous writes, before the next paint.
        let resolved: JsValue = Promise::resolve(&JsValue::UNDEFINED).into();
        if let Some(then) = get(&resolved, "then").filter(JsValue::is_function) {
            let _ = then.unchecked_ref::<Function>().call1(&resolved, &f);
        }
    }
}

/// The microtask: hands the noted elements to every subscriber (none of the registry is borrowed
/// while they run, so a subscriber may set values itself).
fn flush() {
    let (pending, subscribers) = REGISTRY.with(|r| {
        let Ok(mut r) = r.try_borrow_mut() else {
            return (Vec::new(), Vec::new());
        };
        r.scheduled = false;
        let subs: Vec<OnSet> = r.subscribers.iter().map(|(_, s)| Rc::clone(s)).collect();
        (std::mem::take(&mut r.pending), subs)
    });
    if pending.is_empty() {
        return;
    }
    let nodes: Vec<Node> = pending
        .into_iter()
        // Casts, not `dyn_into`: an iframe's elements are no `instanceof` this realm's `Node`.
        .filter(|v| get(v, "nodeType").is_some())
        .map(JsCast::unchecked_into)
        .collect();
    for s in subscribers {
        s(nodes.clone());
    }
}

impl Registry {
    /// The shared trap, made on first use.
    fn trap_fn(&mut self) -> JsValue {
        let trap = self.trap.get_or_insert_with(|| {
            Closure::new(|target: JsValue, this: JsValue, args: Array| {
                let f: Function = target.unchecked_into();
                // The page's own exceptions (a file input refusing a value) go back to it, and
                // nothing changed, so nothing is noted.
                let out = Reflect::apply(&f, &this, &args)?;
                note(&this);
                Ok(out)
            })
        });
        trap.as_ref().clone()
    }

    /// Replaces the setter of accessor `key` (or method `key`) on `target` (a prototype, or an
    /// element's own property) with a proxy of it, unless it is ours already. True when hooked.
    fn wrap(&mut self, target: &Object, key: &'static str) -> bool {
        let desc = own_descriptor(target, key);
        if !desc.is_object() || get(&desc, "configurable").is_none_or(|c| !c.is_truthy()) {
            return false;
        }
        let (slot, setter) = match (
            get(&desc, "set").filter(JsValue::is_function),
            get(&desc, "value").filter(JsValue::is_function),
        ) {
            (Some(f), _) => ("set", f),
            (None, Some(f)) => ("value", f),
            (None, None) => return false,
        };
        if let Some(i) = self
            .stranded
            .iter()
            .position(|p| JsValue::from(&p.target) == JsValue::from(target) && p.key == key)
        {
            let p = self.stranded.swap_remove(i);
            self.patched.push(p);
            return true;
        }
        let proxies = weak_set(&mut self.proxies);
        if proxies.has(setter.unchecked_ref()) {
            return true;
        }
        let handler = Object::new();
        let _ = Reflect::set(&handler, &"apply".into(), &self.trap_fn());
        let proxy = Proxy::new(&setter, &handler);
        let replacement = Object::assign(&Object::new(), desc.unchecked_ref());
        let _ = Reflect::set(&replacement, &slot.into(), &proxy);
        if !Reflect::define_property(target, &key.into(), &replacement).unwrap_or(false) {
            return false;
        }
        proxies.add(proxy.unchecked_ref());
        self.patched.push(Patched {
            target: target.clone(),
            key,
            original: desc.unchecked_into(),
            proxy: proxy.into(),
        });
        true
    }

    /// Puts back every original whose place still holds our proxy; the others are stranded.
    fn restore(&mut self) {
        for p in std::mem::take(&mut self.patched) {
            let now = own_descriptor(&p.target, p.key);
            let ours = get(&now, "set")
                .or_else(|| get(&now, "value"))
                .is_some_and(|s| s == p.proxy);
            if !(ours
                && Reflect::define_property(&p.target, &p.key.into(), &p.original).unwrap_or(false))
            {
                self.stranded.push(p);
            }
        }
        self.hooked = None;
        self.pending.clear();
    }
}

/// A subscription to script-set form state. See the module docs for what is shared.
pub struct ValueHooks {
    id: u64,
}

impl ValueHooks {
    /// Hooks `window`'s realm (once per realm) and calls `on_set` with the controls whose state
    /// script set, once per microtask.
    pub fn install(window: &Window, on_set: OnSet) -> ValueHooks {
        let id = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            if r.flush.is_none() {
                r.flush = Some(Closure::new(|_: JsValue| flush()));
            }
            r.next_id += 1;
            let id = r.next_id;
            r.subscribers.push((id, on_set));
            id
        });
        let hooks = ValueHooks { id };
        hooks.hook_window(window);
        hooks
    }

    /// Hooks the prototypes of another realm (a captured same-origin iframe's window). True when
    /// this call hooked it; a realm already hooked is left alone.
    pub fn hook_window(&self, window: &Window) -> bool {
        REGISTRY.with(|r| {
            let Ok(mut r) = r.try_borrow_mut() else {
                return false;
            };
            let hooked = weak_set(&mut r.hooked);
            let mut any = false;
            for (ctor, key) in PROPERTIES {
                let Some(proto) = get(window, ctor)
                    .and_then(|c| get(&c, "prototype"))
                    .filter(JsValue::is_object)
                    // Not `dyn_into`: an iframe realm's prototype is no `instanceof` our `Object`.
                    .map(JsCast::unchecked_into::<Object>)
                else {
                    continue;
                };
                if *ctor == "HTMLInputElement" && *key == "value" {
                    if hooked.has(&proto) {
                        return false;
                    }
                    hooked.add(&proto);
                }
                any |= r.wrap(&proto, key);
            }
            any
        })
    }

    /// Wraps `value`/`checked` setters defined on the control itself (a value-tracking library's,
    /// which call the setter the library read before the prototype was hooked). Does nothing for
    /// other nodes, controls without such properties, and controls already wrapped.
    pub fn hook_instance(&self, node: &Node) {
        let name = node.node_name();
        if !["INPUT", "TEXTAREA", "SELECT"]
            .iter()
            .any(|t| name.eq_ignore_ascii_case(t))
        {
            return;
        }
        REGISTRY.with(|r| {
            let Ok(mut r) = r.try_borrow_mut() else {
                return;
            };
            let hooked = weak_set(&mut r.hooked);
            let el: &Object = node.unchecked_ref();
            if hooked.has(el) {
                return;
            }
            hooked.add(el);
            for key in INSTANCE_PROPERTIES {
                r.wrap(el, key);
            }
        });
    }

    /// `node`'s state was just reported by other means (its `input` event): a setter call noted
    /// before it needs no report of its own, since a setter only notes once it ran and the report
    /// read the state after it. Script that sets the value again later is noted again. Without
    /// this, code that sets `value` and then dispatches `input` (test drivers, form libraries)
    /// had every keystroke sent twice with the same value.
    pub fn reported(&self, node: &Node) {
        REGISTRY.with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                let node: &JsValue = node.as_ref();
                r.pending.retain(|p| p != node);
            }
        });
    }

    /// How many setters are wrapped now, on every realm and element (for tests and debug logs).
    pub fn installed() -> usize {
        REGISTRY.with(|r| r.try_borrow().map_or(0, |r| r.patched.len()))
    }
}

impl Drop for ValueHooks {
    fn drop(&mut self) {
        REGISTRY.with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                r.subscribers.retain(|(id, _)| *id != self.id);
                if r.subscribers.is_empty() {
                    r.restore();
                }
            }
        });
    }
}
