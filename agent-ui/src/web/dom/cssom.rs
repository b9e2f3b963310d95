//! CSSOM calls on the replica's sheets through `Reflect`: its objects come from the iframe's realm,
//! where `dyn_into` against this page's constructors always fails.
//!
//! The replica's readable sheets also hold our pseudo-state copies (`web::styles`), each right
//! after its rule. Rule indices the customer sends count its own rules only, so they are
//! translated here ([`physical_index`]), and deleting a rule takes its copy with it.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Node;

/// Calls `obj[name](...args)`, catching exceptions. Used for CSSOM objects of the replica's realm,
/// where sheets and grouping rules share `insertRule`/`deleteRule`/`cssRules` by name.
pub(crate) fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f = Reflect::get(obj, &name.into())?;
    if !f.is_function() {
        return Err(JsValue::from_str("not a function"));
    }
    // Cast, not `dyn_into`: the function comes from the replica's realm.
    let f: js_sys::Function = f.unchecked_into();
    let arr: js_sys::Array = args.iter().collect();
    f.apply(obj, &arr)
}

/// The attribute prefix our pseudo-state copies select on (`cobrowse_css_rewrite::PseudoClass`).
const COPY_MARK: &str = "[data-cobrowse-";

/// True when `rule` is one of our pseudo-state copies (a style rule selecting on our attributes).
pub(crate) fn is_copy(rule: &JsValue) -> bool {
    Reflect::get(rule, &"selectorText".into())
        .ok()
        .and_then(|s| s.as_string())
        .is_some_and(|s| s.contains(COPY_MARK))
}

/// The position in `owner`'s `cssRules` of the customer's rule number `logical` (its own rules
/// only, our copies skipped); the end of the list when there are not that many.
pub(crate) fn physical_index(owner: &JsValue, logical: u32) -> u32 {
    let Ok(rules) = Reflect::get(owner, &"cssRules".into()) else {
        return logical;
    };
    let n = rule_count(owner);
    let mut seen = 0;
    for i in 0..n {
        let rule = Reflect::get_u32(&rules, i).unwrap_or_default();
        if is_copy(&rule) {
            continue;
        }
        if seen == logical {
            return i;
        }
        seen += 1;
    }
    n
}

/// Deletes the customer's rule number `logical` of `owner`, and our copy right after it.
pub(crate) fn delete_logical(owner: &JsValue, logical: u32) -> Result<(), JsValue> {
    let at = physical_index(owner, logical);
    let next = Reflect::get(owner, &"cssRules".into())
        .and_then(|r| Reflect::get_u32(&r, at + 1))
        .unwrap_or_default();
    if next.is_object() && is_copy(&next) {
        call(owner, "deleteRule", &[(at + 1).into()])?;
    }
    call(owner, "deleteRule", &[at.into()]).map(|_| ())
}

/// The rule list owner (sheet or grouping rule) at `path` minus its last step, and that step
/// (indices of the customer's rules, as the path gives them).
pub(super) fn rule_list_at(sheet: &JsValue, path: &[u32]) -> Option<(JsValue, u32)> {
    let (&last, parents) = path.split_last()?;
    let mut owner = sheet.clone();
    for &i in parents {
        let rules = Reflect::get(&owner, &"cssRules".into()).ok()?;
        let rule = Reflect::get_u32(&rules, physical_index(&owner, i)).ok()?;
        if !rule.is_object() {
            return None;
        }
        owner = rule;
    }
    Some((owner, last))
}

/// The CSSOM sheet of a replica `<style>`/`<link>` element.
pub(super) fn sheet_of(owner: &Node) -> Option<JsValue> {
    if owner.node_type() != Node::ELEMENT_NODE {
        return None;
    }
    let sheet = Reflect::get(owner, &"sheet".into()).ok()?;
    sheet.is_object().then_some(sheet)
}

/// The number of rules in a sheet or grouping rule (0 when unreadable).
pub(crate) fn rule_count(owner: &JsValue) -> u32 {
    Reflect::get(owner, &"cssRules".into())
        .and_then(|r| Reflect::get(&r, &"length".into()))
        .ok()
        .and_then(|l| l.as_f64())
        .map_or(0, |l| l as u32)
}
