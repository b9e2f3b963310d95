//! Codec microbenchmarks: a 10,000-node snapshot and a typical mutation batch, encoded and decoded
//! (decode includes validation). Run: `cargo bench -p cobrowse-protocol --bench codec`.

use cobrowse_protocol::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn el(tag: Name, attrs: Vec<Attribute>, children: u32) -> NodeRecord {
    NodeRecord::new(
        NodeData::Element {
            tag,
            ns: Namespace::Html,
            attrs,
        },
        children,
    )
}

fn attr(names: &mut NameTable, name: &str, value: &str) -> Attribute {
    Attribute {
        name: names.intern(name),
        value: value.into(),
    }
}

/// A product list: 2,000 cards of 5 nodes (`<li class><a href><img src alt></a>` + a custom
/// element with a text), under document/html/body/ul: 10,004 nodes.
fn snapshot_10k() -> Snapshot {
    let mut names = NameTable::new();
    let cards = 2_000u32;
    let mut nodes = vec![
        NodeRecord::new(
            NodeData::Document {
                url: "https://shop.example/list?page=1".into(),
            },
            1,
        ),
        el(names.intern("html"), vec![], 1),
        el(names.intern("body"), vec![], 1),
        el(
            names.intern("ul"),
            vec![attr(&mut names, "class", "grid")],
            cards,
        ),
    ];
    for i in 0..cards {
        let li = vec![attr(&mut names, "class", "card")];
        let a = vec![attr(&mut names, "href", &format!("/item/{i}"))];
        let img = vec![
            attr(&mut names, "src", &format!("/img/{i}.webp")),
            attr(&mut names, "alt", "Product photo"),
        ];
        let price = vec![attr(&mut names, "data-price", &format!("{}.99", i % 90))];
        nodes.push(el(names.intern("li"), li, 2));
        nodes.push(el(names.intern("a"), a, 1));
        nodes.push(el(names.intern("img"), img, 0));
        nodes.push(el(names.intern("shop-price"), price, 1));
        nodes.push(NodeRecord::new(
            NodeData::Text(format!("€{}.99", i % 90)),
            0,
        ));
    }
    Snapshot {
        names,
        first_id: 1,
        nodes,
        form: vec![],
        scroll: vec![],
        viewport: Viewport {
            width: 1280,
            height: 720,
            dpr_centi: 100,
        },
        sheets: vec![],
    }
}

/// One busy MutationObserver callback: 3 removes, 2 inserted 10-node subtrees, a move,
/// 20 attribute changes and 5 text changes.
fn typical_batch() -> MutationBatch {
    let mut names = NameTable::new();
    let class = names.intern("class");
    let style = names.intern("style");
    let subtree = |first_id, names: &mut NameTable| {
        let mut nodes = vec![el(
            names.intern("li"),
            vec![attr(names, "class", "card new")],
            3,
        )];
        for k in 0..3 {
            nodes.push(el(
                names.intern("span"),
                vec![attr(names, "class", "cell")],
                2,
            ));
            nodes.push(NodeRecord::new(NodeData::Text(format!("cell {k}")), 0));
            nodes.push(el(names.intern("x-badge"), vec![], 0));
        }
        Insert::New(AddedSubtree {
            parent: 4,
            next_sibling: None,
            first_id,
            nodes,
        })
    };
    let inserts = vec![
        subtree(20_000, &mut names),
        subtree(20_010, &mut names),
        Insert::Move {
            node: 9,
            parent: 4,
            next_sibling: Some(14),
        },
    ];
    MutationBatch {
        removes: vec![5, 10, 15],
        inserts,
        attrs: (0..20)
            .map(|i| AttrChange {
                node: 100 + i,
                name: if i % 2 == 0 { class } else { style },
                value: (i % 5 != 0).then(|| format!("transform: translateX({i}px)")),
            })
            .collect(),
        texts: (0..5)
            .map(|i| TextChange {
                node: 200 + i,
                text: format!("{i} items in cart"),
            })
            .collect(),
        names,
    }
}

fn bench(c: &mut Criterion) {
    let snapshot = Message::Snapshot(Box::new(snapshot_10k()));
    let snapshot_frame = encode(&snapshot);
    let batch = Message::Mutations(typical_batch());
    let batch_frame = encode(&batch);
    assert_eq!(decode(&snapshot_frame).as_ref(), Ok(&snapshot));
    assert_eq!(decode(&batch_frame).as_ref(), Ok(&batch));
    println!(
        "snapshot: 10,004 nodes in {} bytes; batch: {} bytes",
        snapshot_frame.len(),
        batch_frame.len()
    );

    let mut g = c.benchmark_group("snapshot_10k");
    g.throughput(Throughput::Bytes(snapshot_frame.len() as u64));
    g.bench_function("encode", |b| b.iter(|| encode(black_box(&snapshot))));
    g.bench_function("decode", |b| b.iter(|| decode(black_box(&snapshot_frame))));
    g.finish();

    let mut g = c.benchmark_group("mutation_batch");
    g.throughput(Throughput::Bytes(batch_frame.len() as u64));
    g.bench_function("encode", |b| b.iter(|| encode(black_box(&batch))));
    g.bench_function("decode", |b| b.iter(|| decode(black_box(&batch_frame))));
    g.bench_function("peek_tag", |b| b.iter(|| peek_tag(black_box(&batch_frame))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
