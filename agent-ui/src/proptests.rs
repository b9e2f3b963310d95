//! Property tests: hostile input of any shape never panics the pure modules, and what the
//! sanitiser lets through never carries a script scheme.

use crate::memdom::MemDom;
use crate::replica::Replica;
use crate::sanitize::{ElementCtx, classify, sanitize_attribute, sanitize_css, sanitize_srcset};
use crate::url::{resolve, scheme_of};
use crate::{params, viewport};
use cobrowse_protocol::{
    MutationBatch, NameTable, Namespace, NodeData, NodeRecord, Snapshot, Viewport,
};

const TAGS: &[&str] = &[
    "a", "img", "iframe", "form", "base", "meta", "script", "use", "set", "div",
];
const ATTRS: &[&str] = &[
    "href",
    "src",
    "style",
    "srcset",
    "onclick",
    "action",
    "target",
    "xlink:href",
    "values",
    "attributeName",
    "content",
    "http-equiv",
    "title",
];

#[test]
fn string_handling_never_panics_and_never_passes_script_urls() {
    arbtest::arbtest(|u| {
        let s: String = u.arbitrary()?;
        let base: String = u.arbitrary()?;
        let _ = sanitize_css(&s, "https://shop.example/a/");
        let _ = sanitize_css(&s, &base);
        let _ = sanitize_srcset(&s, "https://shop.example/a/");
        let _ = resolve(&base, &s);
        let _ = resolve("https://shop.example/a/b", &s);
        let _ = params::parse(&s, &base);
        let _ = params::normalize_sid(&s);
        let tag = *u.choose(TAGS)?;
        let name = *u.choose(ATTRS)?;
        let ns = if u.arbitrary()? {
            Namespace::Html
        } else {
            Namespace::Svg
        };
        let ctx = ElementCtx {
            tag,
            ns: &ns,
            rendered: classify(tag, &ns),
        };
        // A script scheme hidden behind random prefixes/whitespace must never survive in a URL
        // attribute.
        let prefix: String = u
            .arbitrary::<String>()?
            .chars()
            .filter(|c| c.is_whitespace())
            .collect();
        let evil = format!("{prefix}javascript:{s}");
        if let Some(v) = sanitize_attribute(&ctx, name, &evil, "https://shop.example/")
            && matches!(name, "href" | "src" | "action" | "xlink:href")
        {
            assert_ne!(scheme_of(&v).as_deref(), Some("javascript"), "{name}={v:?}");
        }
        let w: f64 = u.arbitrary()?;
        let h: f64 = u.arbitrary()?;
        let fit = viewport::fit(
            viewport::Size {
                width: w,
                height: h,
            },
            viewport::Size {
                width: h,
                height: w,
            },
        );
        assert!(fit.scale > 0.0 && fit.scale <= 1.0);
        let _ = viewport::to_customer(&fit, w, h);
        Ok(())
    });
}

fn page() -> Snapshot {
    let mut names = NameTable::new();
    let mut el = |tag: &str, children| {
        NodeRecord::new(
            NodeData::Element {
                tag: names.intern(tag),
                ns: Namespace::Html,
                attrs: vec![],
            },
            children,
        )
    };
    let nodes = vec![
        NodeRecord::new(
            NodeData::Document {
                url: "https://shop.example/".into(),
            },
            1,
        ),
        el("html", 2),
        el("head", 0),
        el("body", 3),
        el("ul", 2),
        el("li", 0),
        el("li", 0),
        el("iframe", 0),
        NodeRecord::new(NodeData::Text("t".into()), 0),
    ];
    Snapshot {
        names,
        first_id: 1,
        nodes,
        form: vec![],
        scroll: vec![],
        viewport: Viewport::default(),
        sheets: vec![],
    }
}

#[test]
fn arbitrary_mutation_batches_never_panic_the_replica() {
    arbtest::arbtest(|u| {
        let mut r = Replica::new(MemDom::default());
        r.apply_snapshot(&page());
        for _ in 0..u.int_in_range(1..=4)? {
            let mut batch: MutationBatch = u.arbitrary()?;
            // Keep ids mostly in range so the interesting paths (moves, removes) run.
            for id in batch.removes.iter_mut() {
                *id %= 12;
            }
            for ins in batch.inserts.iter_mut() {
                match ins {
                    cobrowse_protocol::Insert::Move {
                        node,
                        parent,
                        next_sibling,
                    } => {
                        *node %= 12;
                        *parent %= 12;
                        *next_sibling = next_sibling.map(|s| s % 12);
                    }
                    cobrowse_protocol::Insert::New(sub) => {
                        sub.parent %= 12;
                        sub.first_id = 20 + sub.first_id % 50;
                    }
                }
            }
            let stats = r.apply_mutations(&batch);
            let ops = batch.removes.len()
                + batch.attrs.len()
                + batch.texts.len()
                + batch
                    .inserts
                    .iter()
                    .map(|i| match i {
                        cobrowse_protocol::Insert::New(s) => s.nodes.len(),
                        cobrowse_protocol::Insert::Move { .. } => 1,
                    })
                    .sum::<usize>();
            assert!((stats.applied + stats.ignored) as usize <= ops);
        }
        Ok(())
    });
}
