//! Mutation coalescer microbenchmark: `cobrowse_client::coalesce::coalesce` on a
//! native arena DOM, for one busy MutationObserver callback on a 1,000-row list: 10 rows inserted,
//! 10 removed, 5 moved, 20 attribute changes and 20 text changes (records as the browser reports
//! them, including repeats the coalescer folds).
//!
//! `client-wasm` keeps its own arena `DomTree` inside its tests, so this one is written here.
//! Run: `cargo bench -p cobrowse-loadgen --bench coalesce`.

use cobrowse_client::capture::{DomTree, RawNode, SideState, serialize_subtree};
use cobrowse_client::coalesce::{Record, coalesce};
use cobrowse_client::mask::DefaultPolicy;
use cobrowse_client::mirror::{HashKeys, IdMirror};
use cobrowse_protocol::{NameTable, Namespace};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// An arena DOM: node `i` is `raw[i]` with `children[i]`, `parent[i]`.
#[derive(Clone)]
struct Arena {
    raw: Vec<RawNode>,
    children: Vec<Vec<usize>>,
    parent: Vec<Option<usize>>,
}

impl Arena {
    fn push(&mut self, raw: RawNode, parent: Option<usize>) -> usize {
        let id = self.raw.len();
        self.raw.push(raw);
        self.children.push(Vec::new());
        self.parent.push(parent);
        if let Some(p) = parent {
            self.children[p].push(id);
        }
        id
    }
    fn detach(&mut self, n: usize) {
        if let Some(p) = self.parent[n].take() {
            self.children[p].retain(|c| *c != n);
        }
    }
    fn attach(&mut self, n: usize, p: usize, at: usize) {
        self.detach(n);
        let at = at.min(self.children[p].len());
        self.children[p].insert(at, n);
        self.parent[n] = Some(p);
    }
}

fn el(tag: &str, attrs: &[(&str, &str)]) -> RawNode {
    RawNode::Element {
        tag: tag.into(),
        ns: Namespace::Html,
        attrs: attrs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    }
}

impl DomTree for Arena {
    type Node = usize;
    fn key(&self, node: &usize) -> u64 {
        *node as u64
    }
    fn parent(&self, node: &usize) -> Option<usize> {
        *self.parent.get(*node)?
    }
    fn next_sibling(&self, node: &usize) -> Option<usize> {
        let sibs = &self.children[self.parent(node)?];
        let pos = sibs.iter().position(|c| c == node)?;
        sibs.get(pos + 1).copied()
    }
    fn children(&self, node: &usize) -> Vec<usize> {
        self.children.get(*node).cloned().unwrap_or_default()
    }
    fn is_root(&self, node: &usize) -> bool {
        *node == 0
    }
    fn is_excluded(&self, _node: &usize) -> bool {
        false
    }
    fn hides_children(&self, _node: &usize) -> bool {
        false
    }
    fn describe(&self, node: &usize) -> Option<RawNode> {
        self.raw.get(*node).cloned()
    }
    fn attribute(&self, node: &usize, name: &str) -> Option<String> {
        match self.raw.get(*node)? {
            RawNode::Element { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    }
    fn text(&self, node: &usize) -> Option<String> {
        match self.raw.get(*node)? {
            RawNode::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
}

/// The list before and after the callback, and the records between them.
fn scenario() -> (Arena, Arena, Vec<Record<usize>>) {
    let mut before = Arena {
        raw: vec![],
        children: vec![],
        parent: vec![],
    };
    let doc = before.push(
        RawNode::Document {
            url: "http://shop.example/".into(),
        },
        None,
    );
    let html = before.push(el("html", &[]), Some(doc));
    let body = before.push(el("body", &[]), Some(html));
    let ul = before.push(el("ul", &[("class", "list")]), Some(body));
    let mut rows = Vec::new();
    for i in 0..1000 {
        let li = before.push(el("li", &[("class", "row")]), Some(ul));
        let t = before.push(RawNode::Text(format!("row {i}")), Some(li));
        rows.push((li, t));
    }
    // New rows exist in the arena but are detached before the callback.
    let mut fresh = Vec::new();
    for i in 0..10 {
        let li = before.push(el("li", &[("class", "row new")]), None);
        let t = before.push(RawNode::Text(format!("new {i}")), Some(li));
        fresh.push(li);
        let _ = t;
    }
    let mut after = before.clone();
    let mut records = Vec::new();
    for (k, li) in fresh.iter().enumerate() {
        after.attach(*li, ul, 100 * k + 3);
        records.push(Record::ChildList {
            added: vec![*li],
            removed: vec![],
        });
    }
    for k in 0..10 {
        let (li, _) = rows[50 + 90 * k];
        after.detach(li);
        records.push(Record::ChildList {
            added: vec![],
            removed: vec![li],
        });
    }
    for k in 0..5 {
        let (li, _) = rows[900 + k];
        after.attach(li, ul, 0);
        records.push(Record::ChildList {
            added: vec![],
            removed: vec![li],
        });
        records.push(Record::ChildList {
            added: vec![li],
            removed: vec![],
        });
    }
    for k in 0..20 {
        let (li, t) = rows[10 + 45 * k];
        if let RawNode::Element { attrs, .. } = &mut after.raw[li] {
            attrs[0].1 = "row selected".into();
        }
        records.push(Record::Attribute {
            target: li,
            name: "class".into(),
            old: Some("row".into()),
            now: None,
        });
        // A text edited twice in the callback: the coalescer keeps the last value.
        after.raw[t] = RawNode::Text(format!("edited {k}"));
        records.push(Record::Text {
            target: t,
            old: Some("row".into()),
        });
        records.push(Record::Text {
            target: t,
            old: Some("tmp".into()),
        });
    }
    (before, after, records)
}

fn mirror_of(dom: &Arena) -> IdMirror<usize, HashKeys<usize>> {
    let mut mirror = IdMirror::new(HashKeys::default());
    let mut names = NameTable::new();
    let mut side = SideState::default();
    let raw = dom.describe(&0).unwrap_or(RawNode::Comment(String::new()));
    serialize_subtree(
        dom,
        &mut mirror,
        &DefaultPolicy,
        &mut names,
        &0,
        raw,
        None,
        false,
        &mut side,
    );
    mirror
}

fn bench(c: &mut Criterion) {
    let (before, after, records) = scenario();
    let probe = coalesce(&after, &mut mirror_of(&before), &DefaultPolicy, &records);
    assert!(!probe.batch.is_empty(), "the scenario produces a batch");
    c.bench_function("coalesce/1000-row list, 75 records", |b| {
        b.iter_batched(
            || mirror_of(&before),
            |mut mirror| {
                coalesce(
                    black_box(&after),
                    &mut mirror,
                    &DefaultPolicy,
                    black_box(&records),
                )
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
