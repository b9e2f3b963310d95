//! An in-memory [`DomBackend`] for native tests of the replica model: an arena tree that serialises
//! to HTML-like text, refuses the inserts a real DOM refuses, and logs state calls.

use crate::replica::DomBackend;
use cobrowse_protocol::{
    FontSource, FormState, Namespace, NodeId, ScriptAnimation, ScriptFont, TopLayerKind,
};
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum MemKind {
    Document,
    Doctype(String),
    Element {
        tag: String,
        /// Namespace URI.
        ns: String,
        attrs: Vec<(String, String)>,
        injected: bool,
    },
    Text(String),
    Comment(String),
    Shadow,
}

#[derive(Debug, Clone)]
struct MemNode {
    kind: MemKind,
    parent: Option<usize>,
    children: Vec<usize>,
    /// Shadow root or frame document hanging off an element.
    attached: Option<usize>,
}

/// The test double. Node handles are arena indices.
#[derive(Debug, Default)]
pub struct MemDom {
    nodes: Vec<MemNode>,
    top: Option<usize>,
    ids: HashMap<usize, NodeId>,
    /// Form, scroll and sheet calls, as text.
    pub log: Vec<String>,
    /// Make HTML elements as `createElementNS` would (`x:script` → `script`), to prove the
    /// replica refuses an element it did not vet.
    pub split_html_prefixes: bool,
}

impl MemDom {
    fn push(&mut self, kind: MemKind) -> usize {
        self.nodes.push(MemNode {
            kind,
            parent: None,
            children: vec![],
            attached: None,
        });
        self.nodes.len() - 1
    }

    fn detach(&mut self, n: usize) {
        if let Some(p) = self.nodes[n].parent.take() {
            self.nodes[p].children.retain(|c| *c != n);
        }
    }

    fn id(&self, n: usize) -> String {
        self.ids.get(&n).map_or("?".into(), |i| i.to_string())
    }

    /// The top document serialised (doctype omitted).
    pub fn html(&self) -> String {
        let mut out = String::new();
        if let Some(t) = self.top {
            for &c in &self.nodes[t].children {
                self.write(c, &mut out);
            }
        }
        out
    }

    fn write(&self, n: usize, out: &mut String) {
        let node = &self.nodes[n];
        match &node.kind {
            MemKind::Document => {
                out.push_str("#document");
                for &c in &node.children {
                    self.write(c, out);
                }
            }
            MemKind::Shadow => {
                out.push_str("#shadow");
                for &c in &node.children {
                    self.write(c, out);
                }
            }
            MemKind::Doctype(name) => {
                out.push_str("<!DOCTYPE ");
                out.push_str(name);
                out.push('>');
            }
            MemKind::Text(t) => out.push_str(t),
            MemKind::Comment(t) => {
                out.push_str("<!--");
                out.push_str(t);
                out.push_str("-->");
            }
            MemKind::Element {
                tag,
                attrs,
                injected,
                ..
            } => {
                out.push('<');
                out.push_str(tag);
                if *injected && tag == "meta" {
                    out.push_str(" cobrowse-csp");
                }
                for (k, v) in attrs {
                    out.push_str(&format!(" {k}=\"{v}\""));
                }
                out.push('>');
                if matches!(
                    tag.as_str(),
                    "base" | "meta" | "img" | "br" | "input" | "link"
                ) {
                    return;
                }
                if let Some(a) = node.attached {
                    self.write(a, out);
                }
                for &c in &node.children {
                    self.write(c, out);
                }
                out.push_str(&format!("</{tag}>"));
            }
        }
    }
}

impl DomBackend for MemDom {
    type Node = usize;

    fn reset(&mut self, _standards: bool) -> Option<usize> {
        self.nodes.clear();
        self.ids.clear();
        let t = self.push(MemKind::Document);
        self.top = Some(t);
        Some(t)
    }

    fn create_element(&mut self, ns: &str, tag: &str) -> Option<usize> {
        if tag.is_empty() || tag.contains([' ', '<', '>']) {
            return None;
        }
        // As the DOM names it: `createElement` keeps an HTML name whole, `createElementNS`
        // drops the prefix (or, with `split_html_prefixes`, does so for HTML too, as a backend
        // that used `createElementNS` everywhere would).
        let html = ns == Namespace::Html.uri();
        let local = match tag.split_once(':') {
            Some((_, local)) if !html || self.split_html_prefixes => local,
            _ => tag,
        };
        Some(self.push(MemKind::Element {
            tag: local.into(),
            ns: ns.into(),
            attrs: vec![],
            injected: false,
        }))
    }

    fn element_name(&self, el: &usize) -> Option<(String, String)> {
        match &self.nodes.get(*el)?.kind {
            MemKind::Element { tag, ns, .. } => Some((ns.clone(), tag.clone())),
            _ => None,
        }
    }

    fn create_text(&mut self, text: &str) -> Option<usize> {
        Some(self.push(MemKind::Text(text.into())))
    }

    fn create_comment(&mut self, text: &str) -> Option<usize> {
        Some(self.push(MemKind::Comment(text.into())))
    }

    fn create_doctype(&mut self, name: &str, _p: &str, _s: &str) -> Option<usize> {
        Some(self.push(MemKind::Doctype(name.into())))
    }

    fn attach_shadow(&mut self, host: &usize) -> Option<usize> {
        if self.nodes[*host].attached.is_some() {
            return None;
        }
        let s = self.push(MemKind::Shadow);
        self.nodes[*host].attached = Some(s);
        self.nodes[s].parent = None;
        Some(s)
    }

    fn frame_document(&mut self, frame: &usize) -> Option<usize> {
        let d = self.push(MemKind::Document);
        self.nodes[*frame].attached = Some(d);
        Some(d)
    }

    fn insert(&mut self, parent: &usize, child: &usize, before: Option<&usize>) -> bool {
        // Refuse cycles like the DOM's HierarchyRequestError.
        let mut cur = Some(*parent);
        while let Some(c) = cur {
            if c == *child {
                return false;
            }
            cur = self.nodes[c].parent;
        }
        if matches!(
            self.nodes[*parent].kind,
            MemKind::Text(_) | MemKind::Comment(_) | MemKind::Doctype(_)
        ) {
            return false;
        }
        self.detach(*child);
        let pos = before.and_then(|b| self.nodes[*parent].children.iter().position(|c| c == b));
        let kids = &mut self.nodes[*parent].children;
        match pos {
            Some(i) => kids.insert(i, *child),
            None => kids.push(*child),
        }
        self.nodes[*child].parent = Some(*parent);
        true
    }

    fn remove(&mut self, node: &usize) {
        self.detach(*node);
    }

    fn set_attribute(&mut self, el: &usize, name: &str, value: &str) -> bool {
        if let MemKind::Element { attrs, .. } = &mut self.nodes[*el].kind {
            match attrs.iter_mut().find(|(k, _)| k == name) {
                Some(a) => a.1 = value.into(),
                None => attrs.push((name.into(), value.into())),
            }
            return true;
        }
        false
    }

    fn remove_attribute(&mut self, el: &usize, name: &str) {
        if let MemKind::Element { attrs, .. } = &mut self.nodes[*el].kind {
            attrs.retain(|(k, _)| k != name);
        }
    }

    fn set_text(&mut self, node: &usize, text: &str) {
        if let MemKind::Text(t) | MemKind::Comment(t) = &mut self.nodes[*node].kind {
            *t = text.into();
        }
    }

    fn prepare_head(&mut self, head: &usize, base: &str) {
        let first = self.nodes[*head].children.first().copied();
        if let Some(f) = first
            && let MemKind::Element {
                injected: true,
                attrs,
                ..
            } = &mut self.nodes[f].kind
        {
            *attrs = vec![("href".into(), base.into())];
            return;
        }
        let b = self.push(MemKind::Element {
            tag: "base".into(),
            ns: Namespace::Html.uri().into(),
            attrs: vec![("href".into(), base.into())],
            injected: true,
        });
        let m = self.push(MemKind::Element {
            tag: "meta".into(),
            ns: Namespace::Html.uri().into(),
            attrs: vec![],
            injected: true,
        });
        for (i, n) in [b, m].into_iter().enumerate() {
            self.nodes[*head].children.insert(i, n);
            self.nodes[n].parent = Some(*head);
        }
    }

    fn set_form_state(&mut self, el: &usize, state: &FormState) {
        let line = format!("form {} {state:?}", self.id(*el));
        self.log.push(line);
    }

    fn scroll(&mut self, target: Option<&usize>, x: i32, y: i32) {
        let t = target.map_or("window".into(), |t| self.id(*t));
        self.log.push(format!("scroll {t} {x},{y}"));
    }

    fn replace_rules(&mut self, owner: &usize, rules: &[String]) {
        let line = format!("rules {} {}", self.id(*owner), rules.join(" "));
        self.log.push(line);
    }

    fn insert_rule(&mut self, owner: &usize, path: &[u32], rule: &str) {
        let line = format!("insert {} {path:?} {rule}", self.id(*owner));
        self.log.push(line);
    }

    fn delete_rule(&mut self, owner: &usize, path: &[u32]) {
        let line = format!("delete {} {path:?}", self.id(*owner));
        self.log.push(line);
    }

    fn register(&mut self, node: &usize, id: NodeId) {
        self.ids.insert(*node, id);
    }

    fn select(&mut self, selection: crate::replica::Selected<&usize>) {
        use crate::replica::Selected;
        let line = match selection {
            Selected::None => "select none".to_string(),
            Selected::Range { start, end } => format!(
                "select {}:{} {}:{}",
                self.id(*start.0),
                start.1,
                self.id(*end.0),
                end.1
            ),
            Selected::Control { el, start, end } => {
                format!("select control {} {start}..{end}", self.id(*el))
            }
        };
        self.log.push(line);
    }

    fn top_layer(&mut self, el: &usize, kind: TopLayerKind, show: bool) -> bool {
        let verb = if show { "show" } else { "hide" };
        let line = format!("top-layer {verb} {} {kind:?}", self.id(*el));
        self.log.push(line);
        true
    }

    fn animate(&mut self, key: u32, el: &usize, anim: &ScriptAnimation) -> bool {
        let props: Vec<String> = anim
            .keyframes
            .iter()
            .flat_map(|k| k.properties.iter().map(|(n, v)| format!("{n}:{v}")))
            .collect();
        let line = format!(
            "animate {key} on {} {:?} {:?} [{}]",
            self.id(*el),
            anim.state,
            anim.current_us,
            props.join(" ")
        );
        self.log.push(line);
        true
    }

    fn sync_animation(&mut self, key: u32, anim: &ScriptAnimation) {
        let line = format!(
            "sync {key} {:?} {:?} rate {}",
            anim.state, anim.current_us, anim.rate_milli
        );
        self.log.push(line);
    }

    fn cancel_animation(&mut self, key: u32) {
        self.log.push(format!("cancel {key}"));
    }

    fn add_font(&mut self, key: u32, doc: &usize, face: &ScriptFont) -> bool {
        let src = match &face.source {
            FontSource::Css(s) => s.clone(),
            FontSource::Data(b) => format!("{} bytes", b.len()),
        };
        let line = format!(
            "font {key} in {} {:?} {src} {:?}",
            self.id(*doc),
            face.family,
            face.descriptors
        );
        self.log.push(line);
        true
    }

    fn remove_font(&mut self, key: u32) {
        self.log.push(format!("unfont {key}"));
    }
}
