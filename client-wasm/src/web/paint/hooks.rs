//! The two page APIs whose effect no observer reports: `Element.prototype.animate` (an animation
//! made by script changes what is painted, not the DOM) and the `FontFace` constructor (a face's
//! source cannot be read back from the face). Each is wrapped with a `Proxy` (no `eval`, so it
//! works under a strict CSP) that calls the original, then tells the recorder; the constructor
//! wrapper also remembers each face's source.
//!
//! # Who owns what
//!
//! [`PaintHooks`] owns the trap closures and the originals; dropping it puts the originals back,
//! so `stop()` leaves the page as it was. A wrapper the page kept a reference to keeps working
//! (its closure is leaked on drop, like the CSSOM hooks') and then only calls the original.

use cobrowse_web_glue::realm::get;
use js_sys::{Array, Function, Object, Proxy, Reflect, WeakMap};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Window;

type Trap = Closure<dyn FnMut(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>;

/// What a hook tells the recorder: which topic changed.
pub type Wake = Rc<dyn Fn(u8)>;

/// One replaced property: where, which, and its original descriptor.
struct Patched {
    target: Object,
    key: &'static str,
    original: JsValue,
}

/// The installed wrappers. Dropping restores the originals.
pub struct PaintHooks {
    patched: Vec<Patched>,
    traps: Vec<Trap>,
    live: Rc<Cell<bool>>,
}

impl PaintHooks {
    /// Wraps `window`'s `Element.prototype.animate` and `FontFace`. `wake` is called with
    /// `animations` after each `animate()` and with `fonts` after each new face, whose source
    /// goes into `sources` (face → the string or binary data the page gave). Missing APIs (older
    /// browsers) are skipped.
    pub fn install(
        window: &Window,
        wake: Wake,
        sources: WeakMap,
        animations: u8,
        fonts: u8,
    ) -> PaintHooks {
        let mut hooks = PaintHooks {
            patched: Vec::new(),
            traps: Vec::new(),
            live: Rc::new(Cell::new(true)),
        };
        if let Some(proto) = get(window, "Element").and_then(|e| get(&e, "prototype")) {
            let live = Rc::clone(&hooks.live);
            let wake = Rc::clone(&wake);
            let trap: Trap = Closure::new(move |target: JsValue, this: JsValue, args: JsValue| {
                let f: Function = target.unchecked_into();
                let out = Reflect::apply(&f, &this, args.unchecked_ref())?;
                if live.get() {
                    wake(animations);
                }
                Ok(out)
            });
            hooks.replace(proto.unchecked_into(), "animate", "apply", trap);
        }
        let live = Rc::clone(&hooks.live);
        let trap: Trap =
            Closure::new(move |target: JsValue, args: JsValue, new_target: JsValue| {
                let f: Function = target.unchecked_into();
                let args: Array = args.unchecked_into();
                let face =
                    Reflect::construct_with_new_target(&f, &args, new_target.unchecked_ref())?;
                if live.get() && face.is_object() {
                    sources.set(face.unchecked_ref(), &args.get(1));
                    wake(fonts);
                }
                Ok(face)
            });
        hooks.replace(
            window.clone().unchecked_into(),
            "FontFace",
            "construct",
            trap,
        );
        hooks
    }

    /// Replaces `target[key]` (a function) with a `Proxy` whose `trap` handler is `trap`.
    fn replace(&mut self, target: Object, key: &'static str, trap_name: &str, trap: Trap) {
        let desc: JsValue = Object::get_own_property_descriptor(&target, &key.into());
        let Some(original) = get(&desc, "value").filter(JsValue::is_function) else {
            return;
        };
        let handler = Object::new();
        let _ = Reflect::set(&handler, &trap_name.into(), trap.as_ref());
        let proxy = Proxy::new(&original, &handler);
        let replacement = Object::assign(&Object::new(), desc.unchecked_ref());
        let _ = Reflect::set(&replacement, &"value".into(), &proxy);
        if Reflect::define_property(&target, &key.into(), &replacement).unwrap_or(false) {
            self.patched.push(Patched {
                target,
                key,
                original: desc,
            });
            self.traps.push(trap);
        }
    }

    /// How many APIs are wrapped (for debug logs).
    pub fn installed(&self) -> usize {
        self.patched.len()
    }
}

impl Drop for PaintHooks {
    fn drop(&mut self) {
        self.live.set(false);
        for p in self.patched.drain(..) {
            let _ = Reflect::define_property(&p.target, &p.key.into(), p.original.unchecked_ref());
        }
        for t in self.traps.drain(..) {
            t.forget();
        }
    }
}
