//! CSSOM capture: stylesheet changes made by script, which no MutationObserver reports.
//!
//! CSS-in-JS libraries (emotion, styled-components in "speedy" mode, Lit, constructable-sheet
//! design systems) style a page through `insertRule`, `replaceSync` and `adoptedStyleSheets`; the
//! DOM then holds an empty `<style>` (or nothing at all) while the page is fully styled. This
//! module wraps the CSSOM's mutating methods on the page's prototypes with `Proxy` objects (no
//! `eval`, so it works under a strict CSP), notes which sheet changed, and on the next microtask
//! sends each changed sheet whole as [`SheetOp::Set`] and each changed adoption list as
//! [`SheetOp::Adopt`].
//!
//! # Who owns what
//!
//! [`CssomHooks`] owns the trap closures and the original property descriptors; dropping it puts
//! the originals back, so `stop()` leaves the page's prototypes as they were. [`SheetTracker`]
//! holds sheet ids (a `WeakMap`, so sheets the page drops are not kept alive) and what is pending.
//!
//! Whole-sheet `Set`s instead of per-call `Insert`/`Delete` keep the agent correct whatever the
//! page does between two microtasks (nested `@media` inserts, deletes of rules the agent never
//! saw); the cost is re-sending a sheet that changes, once per batch of script calls.
//!
//! `<link>` sheets the page can read (its own origin, or CORS) are sent as rules too, in the
//! snapshot and when a link finishes loading ([`SheetTracker::link_sheet`]): the replica lives
//! on the co-browse server's origin, where the site's sheets are cross-origin. Loaded there by URL
//! they render only if the site answers the replica's request (a `crossorigin` link needs CORS
//! headers sites rarely send for their own CSS), and never let the agent read their rules, so
//! their `:hover`/`:focus` rules could not be mirrored. Sheets over [`MAX_INLINE_SHEET_BYTES`] are
//! left to the replica to load by URL.

use cobrowse_protocol::{Message, NodeId, SheetOp, SheetOwner, SheetState};
use cobrowse_web_glue::realm::{get, items};
use js_sys::{Array, Function, Object, Promise, Proxy, Reflect, WeakMap, WeakSet};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Node, Window};

/// What a wrapped method was called on, to find the sheet it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receiver {
    /// `CSSStyleSheet` methods: `this` is the sheet.
    Sheet,
    /// `CSSGroupingRule` methods (`@media`, `@supports`): `this.parentStyleSheet`.
    Rule,
    /// `CSSStyleDeclaration` methods: `this.parentRule.parentStyleSheet` (inline styles have no
    /// parent rule and are reported by the MutationObserver as `style` attributes).
    Declaration,
    /// The `adoptedStyleSheets` setter: `this` is a document or shadow root.
    Adopter,
}

/// Sheet ids and pending changes.
#[derive(Debug)]
pub struct SheetTracker {
    ids: WeakMap,
    next: u32,
    /// Sheets changed by script at least once: their CSSOM may differ from their text.
    touched: WeakSet,
    /// Sheets the agent has a `Set` for since the last snapshot.
    announced: WeakSet,
    dirty: Vec<JsValue>,
    roots: Vec<JsValue>,
    scheduled: bool,
    /// The site's address masking: a sheet's base URL is often the page's address.
    pub page: crate::mask::PageMask,
}

impl Default for SheetTracker {
    fn default() -> Self {
        SheetTracker {
            ids: WeakMap::new(),
            next: 1,
            touched: WeakSet::new(),
            announced: WeakSet::new(),
            dirty: Vec::new(),
            roots: Vec::new(),
            scheduled: false,
            page: crate::mask::PageMask::NONE,
        }
    }
}

/// `cssText` of each top-level rule; `None` when the rules cannot be read (cross-origin sheet).
fn rule_texts(sheet: &JsValue) -> Option<Vec<String>> {
    let packed = crate::web::dom::rule_texts_js(sheet);
    if packed.is_null() {
        return None;
    }
    if let Some(texts) = packed
        .as_string()
        .and_then(|p| crate::rule_texts::unpack(&p))
    {
        return Some(texts);
    }
    rule_texts_slowly(sheet)
}

/// [`rule_texts`] rule by rule, for what `ruleTexts` leaves to us.
fn rule_texts_slowly(sheet: &JsValue) -> Option<Vec<String>> {
    let rules = get(sheet, "cssRules")?;
    let n = get(&rules, "length")?.as_f64()? as u32;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        if let Ok(rule) = Reflect::get_u32(&rules, i)
            && let Some(text) = get(&rule, "cssText").and_then(|t| t.as_string())
        {
            out.push(text);
        }
    }
    Some(out)
}

/// The largest `<link>` sheet (sum of its rules' text) sent as rules; a bigger one is loaded by
/// URL in the replica, so a page with a huge framework sheet does not make every snapshot huge.
pub const MAX_INLINE_SHEET_BYTES: usize = 1024 * 1024;

thread_local! {
    /// Constructed sheets of our own that the page's document adopts (the customer's mask
    /// marker, `web::restrict`): our UI, so never part of what the agent is sent.
    static OWN: WeakSet = WeakSet::new();
}

/// Marks `sheet` as ours: every adoption list read for capture leaves it out.
pub fn mark_own(sheet: &JsValue) {
    if sheet.is_object() {
        OWN.with(|own| {
            own.add(sheet.unchecked_ref());
        });
    }
}

/// True for a sheet given to [`mark_own`].
pub fn is_own(sheet: &JsValue) -> bool {
    sheet.is_object() && OWN.with(|own| own.has(sheet.unchecked_ref()))
}

/// The sheets in a document's or shadow root's `adoptedStyleSheets` (none when it is missing or
/// not list-like), without our own.
fn adopted(root: &JsValue) -> Vec<JsValue> {
    get(root, "adoptedStyleSheets")
        .map(|list| items(&list))
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !is_own(s))
        .collect()
}

impl SheetTracker {
    /// The id of `sheet`, assigned on first sight.
    fn id(&mut self, sheet: &JsValue) -> u32 {
        // Casts, not `dyn_ref`: a sheet may come from another realm (a same-origin iframe).
        if !sheet.is_object() {
            return 0;
        }
        let o: &Object = sheet.unchecked_ref();
        if let Some(id) = self.ids.get(o).as_f64() {
            return id as u32;
        }
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        self.ids.set(o, &JsValue::from(id));
        id
    }

    /// Records that script changed what `this` leads to. Returns true when a flush must be
    /// scheduled.
    fn note(&mut self, receiver: Receiver, this: &JsValue) -> bool {
        let before = (self.dirty.len(), self.roots.len());
        let sheet = match receiver {
            Receiver::Sheet => Some(this.clone()),
            Receiver::Rule => get(this, "parentStyleSheet"),
            Receiver::Declaration => {
                get(this, "parentRule").and_then(|r| get(&r, "parentStyleSheet"))
            }
            Receiver::Adopter => {
                if !self.roots.iter().any(|r| r == this) {
                    self.roots.push(this.clone());
                }
                None
            }
        };
        if let Some(s) = sheet
            .as_ref()
            .filter(|s| s.is_object())
            .map(|s| s.unchecked_ref::<Object>())
        {
            self.touched.add(s);
            let s: &JsValue = s.as_ref();
            if !self.dirty.iter().any(|d| d == s) {
                self.dirty.push(s.clone());
            }
        }
        if before == (self.dirty.len(), self.roots.len()) || self.scheduled {
            return false;
        }
        self.scheduled = true;
        true
    }

    /// A `Set` for `sheet`, owned by `owner`, if its rules are readable.
    fn state(
        &mut self,
        sheet: &JsValue,
        owner: SheetOwner,
        base: Option<String>,
    ) -> Option<SheetState> {
        let rules = rule_texts(sheet)?;
        let base_url = get(sheet, "href")
            .and_then(|h| h.as_string())
            .or(base)
            .map(|u| self.page.address(&u));
        let disabled = get(sheet, "disabled").is_some_and(|d| d.is_truthy());
        if sheet.is_object() {
            self.announced.add(sheet.unchecked_ref());
        }
        Some(SheetState {
            sheet: self.id(sheet),
            owner,
            rules,
            base_url,
            disabled,
        })
    }

    /// The rules of `<link>` element `link` (wire id `id`) when the page can read them and they
    /// fit [`MAX_INLINE_SHEET_BYTES`]; `None` for other nodes, sheets still loading, and
    /// cross-origin sheets (the replica loads those by URL).
    pub fn link_sheet(&mut self, link: &Node, id: NodeId) -> Option<SheetState> {
        if !link.node_name().eq_ignore_ascii_case("link") {
            return None;
        }
        let sheet = get(link, "sheet")?;
        let base = get(link, "baseURI").and_then(|b| b.as_string());
        self.state(&sheet, SheetOwner::Node(id), base)
            .filter(|s| s.rules.iter().map(String::len).sum::<usize>() <= MAX_INLINE_SHEET_BYTES)
    }

    /// What the agent needs now: a `Set` per changed sheet whose owner it knows, and an `Adopt`
    /// per changed adoption list (preceded by `Set`s of constructed sheets it has not seen).
    /// `id_of` maps a page node to its wire id (`None`: not captured, e.g. our own UI).
    pub fn drain(&mut self, id_of: &dyn Fn(&Node) -> Option<NodeId>, base: &str) -> Vec<Message> {
        self.scheduled = false;
        let mut out = Vec::new();
        for sheet in std::mem::take(&mut self.dirty) {
            let owner = match get(&sheet, "ownerNode") {
                Some(n) => match id_of(n.unchecked_ref()) {
                    Some(id) => SheetOwner::Node(id),
                    None => continue,
                },
                // A constructed sheet matters once adopted by something captured.
                None if self.announced.has(sheet.unchecked_ref()) => SheetOwner::Constructed,
                None => continue,
            };
            let base = get(&sheet, "ownerNode")
                .and_then(|n| get(&n, "baseURI"))
                .and_then(|b| b.as_string())
                .or_else(|| Some(base.to_owned()));
            if let Some(s) = self.state(&sheet, owner, base) {
                out.push(Message::Sheet(SheetOp::Set(s)));
            }
        }
        for root in std::mem::take(&mut self.roots) {
            let Some(target) = id_of(root.unchecked_ref()) else {
                continue;
            };
            let mut ids = Vec::new();
            for sheet in adopted(&root) {
                if !self.announced.has(sheet.unchecked_ref()) {
                    match self.state(&sheet, SheetOwner::Constructed, Some(base.to_owned())) {
                        Some(s) => out.push(Message::Sheet(SheetOp::Set(s))),
                        None => continue,
                    }
                }
                ids.push(self.id(&sheet));
            }
            out.push(Message::Sheet(SheetOp::Adopt {
                target,
                sheets: ids,
            }));
        }
        out
    }

    /// Sheets a fresh snapshot must carry, for the captured nodes `nodes`: `<style>` sheets
    /// changed by script (or with rules but no text), readable `<link>` sheets, and every constructed
    /// sheet adopted by a captured document or shadow root. Adoption lists are queued and go out
    /// as `Adopt` on the next [`SheetTracker::drain`]; the return value says whether to schedule
    /// it.
    pub fn snapshot(
        &mut self,
        nodes: &mut dyn Iterator<Item = (NodeId, Node)>,
        base: &str,
    ) -> (Vec<SheetState>, bool) {
        self.announced = WeakSet::new();
        self.dirty.clear();
        self.roots.clear();
        let mut sheets = Vec::new();
        for (id, node) in nodes {
            match node.node_type() {
                Node::ELEMENT_NODE => {
                    let name = node.node_name().to_ascii_lowercase();
                    if name != "style" && name != "link" {
                        continue;
                    }
                    if name == "link" {
                        sheets.extend(self.link_sheet(&node, id));
                        continue;
                    }
                    let Some(sheet) = get(&node, "sheet") else {
                        continue;
                    };
                    let empty_text = name == "style"
                        && node.text_content().unwrap_or_default().trim().is_empty();
                    let scripted = self.touched.has(sheet.unchecked_ref());
                    if !scripted && !empty_text {
                        continue;
                    }
                    let own_base = get(&node, "baseURI").and_then(|b| b.as_string());
                    if let Some(s) = self.state(&sheet, SheetOwner::Node(id), own_base)
                        && (scripted || !s.rules.is_empty())
                    {
                        sheets.push(s);
                    }
                }
                Node::DOCUMENT_NODE | Node::DOCUMENT_FRAGMENT_NODE => {
                    let list = adopted(&node);
                    if list.is_empty() {
                        continue;
                    }
                    for sheet in list {
                        if !self.announced.has(sheet.unchecked_ref())
                            && let Some(s) =
                                self.state(&sheet, SheetOwner::Constructed, Some(base.to_owned()))
                        {
                            sheets.push(s);
                        }
                    }
                    self.roots.push(node.into());
                }
                _ => {}
            }
        }
        let schedule = !self.roots.is_empty() && !self.scheduled;
        if schedule {
            self.scheduled = true;
        }
        (sheets, schedule)
    }
}

/// One replaced property: where, and its original descriptor.
struct Patched {
    proto: Object,
    key: &'static str,
    original: JsValue,
}

type Trap = Closure<dyn FnMut(JsValue, JsValue, Array) -> Result<JsValue, JsValue>>;

/// The installed wrappers. Dropping restores the page's original methods.
pub struct CssomHooks {
    patched: Vec<Patched>,
    traps: Vec<Trap>,
    flush: Rc<Closure<dyn FnMut(JsValue)>>,
    /// False after drop: a wrapper the page kept a reference to just calls the original.
    live: Rc<std::cell::Cell<bool>>,
    tracker: Rc<RefCell<SheetTracker>>,
    /// The realms hooked so far, by their `CSSStyleSheet.prototype` (a same-origin iframe has
    /// its own prototypes, and a new set after each navigation of the frame).
    realms: WeakSet,
}

/// Queues `flush` as a microtask: after the script's synchronous CSSOM calls, before paint.
fn schedule_on(flush: &Closure<dyn FnMut(JsValue)>) {
    let _ = Promise::resolve(&JsValue::UNDEFINED).then(flush);
}

impl CssomHooks {
    /// Wraps the CSSOM methods of `window`'s prototypes. `flush` runs on a microtask after
    /// changes (the recorder drains the tracker there). Missing APIs (older browsers) are skipped.
    pub fn install(
        window: &Window,
        tracker: Rc<RefCell<SheetTracker>>,
        flush: Box<dyn FnMut()>,
    ) -> CssomHooks {
        let mut flush = flush;
        let flush = Rc::new(Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            flush()
        }));
        let mut hooks = CssomHooks {
            patched: Vec::new(),
            traps: Vec::new(),
            flush,
            live: Rc::new(std::cell::Cell::new(true)),
            tracker,
            realms: WeakSet::new(),
        };
        hooks.hook_window(window);
        hooks
    }

    /// Wraps the CSSOM methods of another realm too: a captured same-origin iframe's window,
    /// whose scripts call its own prototypes. Each realm is wrapped once; true when this call
    /// wrapped it. Changes there feed the same tracker (sheet owners and adopting documents
    /// are captured nodes of the iframe's document, so they map to wire ids like any other).
    pub fn hook_window(&mut self, window: &Window) -> bool {
        let Some(realm) = get(window, "CSSStyleSheet")
            .and_then(|c| get(&c, "prototype"))
            .filter(JsValue::is_object)
            // Not `dyn_into`: an iframe realm's prototype is no `instanceof` our `Object`.
            .map(JsCast::unchecked_into::<Object>)
        else {
            return false;
        };
        if self.realms.has(&realm) {
            return false;
        }
        self.realms.add(&realm);
        let tracker = Rc::clone(&self.tracker);
        let methods: [(&str, &'static str, Receiver); 11] = [
            ("CSSStyleSheet", "insertRule", Receiver::Sheet),
            ("CSSStyleSheet", "deleteRule", Receiver::Sheet),
            ("CSSStyleSheet", "addRule", Receiver::Sheet),
            ("CSSStyleSheet", "removeRule", Receiver::Sheet),
            ("CSSStyleSheet", "replaceSync", Receiver::Sheet),
            ("CSSStyleSheet", "replace", Receiver::Sheet),
            ("CSSGroupingRule", "insertRule", Receiver::Rule),
            ("CSSGroupingRule", "deleteRule", Receiver::Rule),
            ("CSSStyleDeclaration", "setProperty", Receiver::Declaration),
            (
                "CSSStyleDeclaration",
                "removeProperty",
                Receiver::Declaration,
            ),
            ("CSSStyleDeclaration", "cssText", Receiver::Declaration),
        ];
        for (ctor, key, receiver) in methods {
            self.wrap(window, ctor, key, receiver, &tracker);
        }
        self.wrap(
            window,
            "Document",
            "adoptedStyleSheets",
            Receiver::Adopter,
            &tracker,
        );
        self.wrap(
            window,
            "ShadowRoot",
            "adoptedStyleSheets",
            Receiver::Adopter,
            &tracker,
        );
        true
    }

    /// Replaces `ctor.prototype[key]` (a method, or an accessor's setter) with a `Proxy` whose
    /// `apply` trap calls the original and then notes the change.
    fn wrap(
        &mut self,
        window: &Window,
        ctor: &str,
        key: &'static str,
        receiver: Receiver,
        tracker: &Rc<RefCell<SheetTracker>>,
    ) {
        let Some(proto) = get(window, ctor)
            .and_then(|c| get(&c, "prototype"))
            .filter(JsValue::is_object)
            // Not `dyn_into`: an iframe realm's prototype is no `instanceof` our `Object`.
            .map(JsCast::unchecked_into::<Object>)
        else {
            return;
        };
        let desc: JsValue = cobrowse_web_glue::realm::own_descriptor(&proto, key);
        if !desc.is_object() {
            return;
        }
        let (slot, original) = if let Some(f) = get(&desc, "value").filter(JsValue::is_function) {
            ("value", f)
        } else if let Some(f) = get(&desc, "set").filter(JsValue::is_function) {
            ("set", f)
        } else {
            return;
        };
        let tracker = Rc::clone(tracker);
        let flush = Rc::clone(&self.flush);
        let is_replace = key == "replace";
        let live = Rc::clone(&self.live);
        let trap: Trap = Closure::new(move |target: JsValue, this: JsValue, args: Array| {
            let f: Function = target.unchecked_into();
            let out = Reflect::apply(&f, &this, &args)?;
            if !live.get() {
                return Ok(out);
            }
            let note = {
                let tracker = Rc::clone(&tracker);
                let flush = Rc::clone(&flush);
                let this = this.clone();
                move || {
                    let schedule = tracker
                        .try_borrow_mut()
                        .map(|mut t| t.note(receiver, &this))
                        .unwrap_or(false);
                    if schedule {
                        schedule_on(&flush);
                    }
                }
            };
            if is_replace && let Some(then) = get(&out, "then").filter(JsValue::is_function) {
                // `replace()` changes the rules when its promise settles.
                let ok = Closure::once_into_js(move |_: JsValue| note());
                let fail = Closure::once_into_js(|_: JsValue| {});
                let then: Function = then.unchecked_into();
                let _ = then.call2(&out, &ok, &fail);
            } else {
                note();
            }
            Ok(out)
        });
        let handler = Object::new();
        let _ = Reflect::set(&handler, &"apply".into(), trap.as_ref());
        let proxy = Proxy::new(&original, &handler);
        let replacement = Object::assign(&Object::new(), desc.unchecked_ref());
        let _ = Reflect::set(&replacement, &slot.into(), &proxy);
        if Reflect::define_property(&proto, &key.into(), &replacement).unwrap_or(false) {
            self.patched.push(Patched {
                proto,
                key,
                original: desc,
            });
            self.traps.push(trap);
        }
    }

    /// How many methods and setters are wrapped (for debug logs).
    pub fn installed(&self) -> usize {
        self.patched.len()
    }

    /// Queues a flush (after a snapshot queued adoption lists).
    pub fn schedule(&self) {
        schedule_on(&self.flush);
    }
}

impl Drop for CssomHooks {
    fn drop(&mut self) {
        self.live.set(false);
        for p in self.patched.drain(..) {
            let _ = Reflect::define_property(&p.proto, &p.key.into(), p.original.unchecked_ref());
        }
        // The page may have kept a wrapper (`const ins = sheet.insertRule`) or have a flush
        // queued: those must stay callable, so the closures are leaked (small, once per stop).
        for t in self.traps.drain(..) {
            t.forget();
        }
        if let Some(f) = Rc::get_mut(&mut self.flush) {
            let f = std::mem::replace(f, Closure::new(|_: JsValue| {}));
            f.forget();
        }
    }
}
