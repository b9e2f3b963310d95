//! The edit buffer: DOM operations recorded as numbers and strings, so the browser backend applies
//! a whole batch (or snapshot) in one call into JS instead of one wasm↔JS crossing per node.
//!
//! Layout of one buffer, read by `web/dom/edits.js` (keep the two in sync):
//! * `ops` — `u32` words: an opcode from [`op`] followed by its fixed number of operands
//!   ([`op::arity`]). Operands are node slots, string indexes or plain numbers.
//! * `text` — every string of the buffer, concatenated (one UTF-8 → JS string decode per flush).
//! * `ends` — where string `i` ends in `text`, in UTF-16 code units (what JS `substring` counts);
//!   it starts where string `i - 1` ends. Short strings (names, most values) are interned, so a
//!   tag or attribute name repeated across a batch is sent once.
//!
//! Node slots ([`Slots`]) are the JS side's handles: slot `n` is entry `n` of its node table, `0`
//! means "none". A node whose creation failed or was refused is `null` there, and every operation
//! on a `null` node does nothing: a refused element never reaches the document, nor do its
//! children.
//!
//! Only what the replica model already sanitised is ever recorded; the interpreter adds no
//! decisions of its own beyond the DOM's answer to "did `createElement` make the vetted name".

use std::collections::HashMap;

/// Opcodes. Operands follow in the order documented on each.
pub mod op {
    /// `slot, ns, tag, vetted`: `createElement(tag)` for the HTML namespace, else
    /// `createElementNS(ns, tag)`; the node is kept only when its `namespaceURI` is `ns` and its
    /// `localName` is `vetted` (the sanitiser's second wall), else the slot is `null`.
    pub const CREATE_ELEMENT: u32 = 1;
    /// `slot, text`: `createTextNode`.
    pub const CREATE_TEXT: u32 = 2;
    /// `slot, text`: `createComment`.
    pub const CREATE_COMMENT: u32 = 3;
    /// `slot, name, public_id, system_id`: `implementation.createDocumentType`.
    pub const CREATE_DOCTYPE: u32 = 4;
    /// `slot, host`: `attachShadow({mode: 'open'})` on `host`.
    pub const ATTACH_SHADOW: u32 = 5;
    /// `parent, child, before` (`0`: append): `moveBefore` for a connected subtree holding a
    /// frame where the browser has it (the frame keeps its document), else `insertBefore`.
    pub const INSERT: u32 = 6;
    /// `node`: detached from its parent.
    pub const REMOVE: u32 = 7;
    /// `el, name, value`: `setAttribute`.
    pub const SET_ATTR: u32 = 8;
    /// `el, ns, name, value`: `setAttributeNS` (`xlink:`, `xml:` names).
    pub const SET_ATTR_NS: u32 = 9;
    /// `el, name`: `removeAttribute`.
    pub const REMOVE_ATTR: u32 = 10;
    /// `el, ns, local`: `removeAttributeNS`.
    pub const REMOVE_ATTR_NS: u32 = 11;
    /// `node, text`: a text or comment node's data.
    pub const SET_TEXT: u32 = 12;
    /// `node, id`: node → customer id in the pointer-targeting `WeakMap`.
    pub const REGISTER: u32 = 13;
    /// `slot`: the table forgets the node (it left the replica's model).
    pub const RELEASE: u32 = 14;

    /// Number of operands after `opcode`, `None` for an unknown one.
    pub fn arity(opcode: u32) -> Option<usize> {
        Some(match opcode {
            REMOVE | RELEASE => 1,
            CREATE_TEXT | CREATE_COMMENT | ATTACH_SHADOW | REMOVE_ATTR | SET_TEXT | REGISTER => 2,
            INSERT | SET_ATTR | REMOVE_ATTR_NS => 3,
            CREATE_ELEMENT | CREATE_DOCTYPE | SET_ATTR_NS => 4,
            _ => return None,
        })
    }
}

/// Strings up to this many bytes are interned (names and short values repeat; long texts rarely
/// do, and hashing them would cost more than sending them twice).
const INTERN_MAX: usize = 32;

/// One batch of recorded operations, see the module docs for its layout.
#[derive(Debug, Default)]
pub struct EditBuffer {
    ops: Vec<u32>,
    text: String,
    ends: Vec<u32>,
    /// UTF-16 length of `text`.
    units: u32,
    interned: HashMap<Box<str>, u32>,
}

impl EditBuffer {
    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The recorded words.
    pub fn ops(&self) -> &[u32] {
        &self.ops
    }

    /// All strings, concatenated.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where each string ends in [`EditBuffer::text`], in UTF-16 code units.
    pub fn ends(&self) -> &[u32] {
        &self.ends
    }

    /// Forgets everything recorded, keeping the allocations for the next batch.
    pub fn clear(&mut self) {
        self.ops.clear();
        self.text.clear();
        self.ends.clear();
        self.units = 0;
        self.interned.clear();
    }

    /// The index of `s` in the string table, adding it when new (or not interned).
    pub fn string(&mut self, s: &str) -> u32 {
        let short = s.len() <= INTERN_MAX;
        if short && let Some(&i) = self.interned.get(s) {
            return i;
        }
        let i = self.ends.len() as u32;
        self.text.push_str(s);
        let units = if s.is_ascii() {
            s.len()
        } else {
            s.encode_utf16().count()
        };
        self.units += units as u32;
        self.ends.push(self.units);
        if short {
            self.interned.insert(s.into(), i);
        }
        i
    }

    /// Records `opcode` with its operands (`words.len()` must be its arity).
    fn push(&mut self, opcode: u32, words: &[u32]) {
        debug_assert_eq!(op::arity(opcode), Some(words.len()), "opcode {opcode}");
        self.ops.push(opcode);
        self.ops.extend_from_slice(words);
    }

    /// See [`op::CREATE_ELEMENT`].
    pub fn create_element(&mut self, slot: u32, ns: &str, tag: &str, vetted: &str) {
        let w = [slot, self.string(ns), self.string(tag), self.string(vetted)];
        self.push(op::CREATE_ELEMENT, &w);
    }

    /// See [`op::CREATE_TEXT`].
    pub fn create_text(&mut self, slot: u32, text: &str) {
        let w = [slot, self.string(text)];
        self.push(op::CREATE_TEXT, &w);
    }

    /// See [`op::CREATE_COMMENT`].
    pub fn create_comment(&mut self, slot: u32, text: &str) {
        let w = [slot, self.string(text)];
        self.push(op::CREATE_COMMENT, &w);
    }

    /// See [`op::CREATE_DOCTYPE`].
    pub fn create_doctype(&mut self, slot: u32, name: &str, public_id: &str, system_id: &str) {
        let w = [
            slot,
            self.string(name),
            self.string(public_id),
            self.string(system_id),
        ];
        self.push(op::CREATE_DOCTYPE, &w);
    }

    /// See [`op::ATTACH_SHADOW`].
    pub fn attach_shadow(&mut self, slot: u32, host: u32) {
        self.push(op::ATTACH_SHADOW, &[slot, host]);
    }

    /// See [`op::INSERT`].
    pub fn insert(&mut self, parent: u32, child: u32, before: Option<u32>) {
        self.push(op::INSERT, &[parent, child, before.unwrap_or(0)]);
    }

    /// See [`op::REMOVE`].
    pub fn remove(&mut self, node: u32) {
        self.push(op::REMOVE, &[node]);
    }

    /// See [`op::SET_ATTR`] and [`op::SET_ATTR_NS`] (`ns`: `Some` for a namespaced name).
    pub fn set_attribute(&mut self, el: u32, ns: Option<&str>, name: &str, value: &str) {
        match ns {
            None => {
                let w = [el, self.string(name), self.string(value)];
                self.push(op::SET_ATTR, &w);
            }
            Some(ns) => {
                let w = [el, self.string(ns), self.string(name), self.string(value)];
                self.push(op::SET_ATTR_NS, &w);
            }
        }
    }

    /// See [`op::REMOVE_ATTR`] and [`op::REMOVE_ATTR_NS`] (`name` is the local name then).
    pub fn remove_attribute(&mut self, el: u32, ns: Option<&str>, name: &str) {
        match ns {
            None => {
                let w = [el, self.string(name)];
                self.push(op::REMOVE_ATTR, &w);
            }
            Some(ns) => {
                let w = [el, self.string(ns), self.string(name)];
                self.push(op::REMOVE_ATTR_NS, &w);
            }
        }
    }

    /// See [`op::SET_TEXT`].
    pub fn set_text(&mut self, node: u32, text: &str) {
        let w = [node, self.string(text)];
        self.push(op::SET_TEXT, &w);
    }

    /// See [`op::REGISTER`].
    pub fn register(&mut self, node: u32, id: u32) {
        self.push(op::REGISTER, &[node, id]);
    }

    /// See [`op::RELEASE`].
    pub fn release(&mut self, slot: u32) {
        self.push(op::RELEASE, &[slot]);
    }
}

/// Node slots: numbers for the JS side's node table, reused once released so the table stays
/// as large as the replica. Slot `0` is never handed out (it means "none").
#[derive(Debug, Default)]
pub struct Slots {
    next: u32,
    free: Vec<u32>,
}

impl Slots {
    /// A free slot.
    pub fn take(&mut self) -> u32 {
        if let Some(s) = self.free.pop() {
            return s;
        }
        self.next += 1;
        self.next
    }

    /// Gives `slot` back for reuse (the caller has its table entry cleared first).
    pub fn give_back(&mut self, slot: u32) {
        if slot != 0 && slot <= self.next {
            self.free.push(slot);
        }
    }

    /// Forgets every slot (the table was emptied).
    pub fn clear(&mut self) {
        self.next = 0;
        self.free.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `buf` back the way the interpreter does: (opcode, operands, strings of the string
    /// operands named by `strings_at`).
    fn decode(buf: &EditBuffer) -> Vec<(u32, Vec<u32>)> {
        let mut out = Vec::new();
        let mut i = 0;
        let ops = buf.ops();
        while i < ops.len() {
            let code = ops[i];
            let n = op::arity(code).expect("known opcode");
            out.push((code, ops[i + 1..i + 1 + n].to_vec()));
            i += 1 + n;
        }
        out
    }

    /// String `i` as JS `substring` would cut it from the decoded text.
    fn string_at(buf: &EditBuffer, i: u32) -> String {
        let units: Vec<u16> = buf.text().encode_utf16().collect();
        let start = if i == 0 {
            0
        } else {
            buf.ends()[i as usize - 1]
        };
        let end = buf.ends()[i as usize];
        String::from_utf16(&units[start as usize..end as usize]).expect("whole characters")
    }

    #[test]
    fn ops_are_opcode_then_fixed_operands() {
        let mut b = EditBuffer::default();
        b.create_element(1, "http://www.w3.org/1999/xhtml", "div", "div");
        b.insert(7, 1, None);
        b.insert(7, 2, Some(1));
        b.set_attribute(1, None, "class", "a b");
        b.set_attribute(1, Some("http://www.w3.org/1999/xlink"), "xlink:href", "#x");
        b.remove_attribute(1, Some("http://www.w3.org/1999/xlink"), "href");
        b.register(1, 42);
        b.release(1);
        let d = decode(&b);
        let codes: Vec<u32> = d.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            codes,
            [
                op::CREATE_ELEMENT,
                op::INSERT,
                op::INSERT,
                op::SET_ATTR,
                op::SET_ATTR_NS,
                op::REMOVE_ATTR_NS,
                op::REGISTER,
                op::RELEASE
            ]
        );
        assert_eq!(d[1].1, [7, 1, 0], "append is before 0");
        assert_eq!(d[2].1, [7, 2, 1]);
        assert_eq!(d[6].1, [1, 42]);
        let el = &d[0].1;
        assert_eq!(el[0], 1);
        assert_eq!(string_at(&b, el[1]), "http://www.w3.org/1999/xhtml");
        assert_eq!(string_at(&b, el[2]), "div");
        assert_eq!(el[2], el[3], "the same short string is sent once");
        let attr = &d[3].1;
        assert_eq!(string_at(&b, attr[1]), "class");
        assert_eq!(string_at(&b, attr[2]), "a b");
    }

    #[test]
    fn every_opcode_has_an_arity_and_unknown_ones_none() {
        for code in op::CREATE_ELEMENT..=op::RELEASE {
            assert!(op::arity(code).is_some(), "opcode {code}");
        }
        assert_eq!(op::arity(0), None);
        assert_eq!(op::arity(op::RELEASE + 1), None);
    }

    #[test]
    fn string_ends_count_utf16_units() {
        let mut b = EditBuffer::default();
        let texts = ["", "abc", "é", "😀x", "日本語", "plain"];
        let idx: Vec<u32> = texts.iter().map(|t| b.string(t)).collect();
        for (t, i) in texts.iter().zip(&idx) {
            assert_eq!(string_at(&b, *i), *t);
        }
        assert_eq!(*b.ends().last().expect("ends"), 3 + 1 + 3 + 3 + 5);
    }

    #[test]
    fn long_strings_are_not_interned_and_clear_starts_over() {
        let mut b = EditBuffer::default();
        let long = "x".repeat(INTERN_MAX + 1);
        assert_ne!(b.string(&long), b.string(&long));
        assert_eq!(b.string("id"), b.string("id"));
        b.create_text(3, "hi");
        b.clear();
        assert!(b.is_empty());
        assert!(b.text().is_empty() && b.ends().is_empty());
        assert_eq!(b.string("id"), 0, "a cleared buffer numbers strings from 0");
    }

    #[test]
    fn slots_start_at_one_and_are_reused() {
        let mut s = Slots::default();
        assert_eq!((s.take(), s.take(), s.take()), (1, 2, 3));
        s.give_back(2);
        s.give_back(0);
        s.give_back(99);
        assert_eq!(s.take(), 2);
        assert_eq!(s.take(), 4);
        s.clear();
        assert_eq!(s.take(), 1);
    }
}
