//! The frame mix a customer sends, and the timestamp the agent side reads back.
//!
//! The mix follows what a busy page produces (see DESIGN.md and the e2e cases): mostly pointer
//! moves, then small mutation batches (a text edit and a class flip), some scrolls, and now and
//! then a bigger batch inserting a 19-node row subtree. Every frame carries the sender's clock in
//! microseconds since the run's epoch (pointer and scroll `y`, the first text change's text), so
//! relay latency is measured without any per-frame bookkeeping.

use cobrowse_protocol::{
    AddedSubtree, Attribute, Insert, Message, MutationBatch, NameTable, Namespace, NodeData,
    NodeRecord, Party, Pointer, ScrollPosition, ScrollTarget, Snapshot, TextChange, Viewport,
    encode,
};

/// Node id of the text node whose content carries the timestamp in mutation frames.
const STAMP_NODE: u32 = 7;
/// Prefix of the stamp text, so it cannot be confused with page text.
const STAMP_PREFIX: &str = "t=";

/// One customer's page: a 300-node product list, the size of a typical small page.
pub fn snapshot() -> Message {
    let mut names = NameTable::new();
    let el = |names: &mut NameTable, tag: &str, attrs: Vec<(&str, String)>, children: u32| {
        let attrs = attrs
            .into_iter()
            .map(|(n, v)| Attribute {
                name: names.intern(n),
                value: v,
            })
            .collect();
        NodeRecord::new(
            NodeData::Element {
                tag: names.intern(tag),
                ns: Namespace::Html,
                attrs,
            },
            children,
        )
    };
    let rows = 74u32;
    let mut nodes = vec![
        NodeRecord::new(
            NodeData::Document {
                url: "http://shop.example/list".into(),
            },
            1,
        ),
        el(&mut names, "html", vec![], 1),
        el(&mut names, "body", vec![], 1),
        el(&mut names, "ul", vec![("class", "grid".into())], rows),
    ];
    for i in 0..rows {
        nodes.push(el(&mut names, "li", vec![("class", "card".into())], 2));
        nodes.push(el(&mut names, "a", vec![("href", format!("/item/{i}"))], 1));
        nodes.push(NodeRecord::new(NodeData::Text(format!("Product {i}")), 0));
        nodes.push(NodeRecord::new(
            NodeData::Text(format!("{}.99 EUR", i % 90)),
            0,
        ));
    }
    Message::Snapshot(Box::new(Snapshot {
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
    }))
}

/// The `seq`-th frame of the mix, stamped with `micros`: in every 10 frames, 5 pointer moves,
/// 3 small mutation batches, 1 scroll and 1 batch inserting a 19-node row.
pub fn frame(seq: u64, micros: u64) -> Vec<u8> {
    encode(&message(seq, micros))
}

/// The message [`frame`] encodes, for senders that wrap it further (a sequenced link).
pub fn message(seq: u64, micros: u64) -> Message {
    let stamp = micros.min(i32::MAX as u64) as i32;
    match seq % 10 {
        0 | 2 | 4 | 6 | 8 => Message::Pointer(Pointer {
            party: Party::Customer,
            pos: Some(((seq % 800) as i32, stamp)),
            frame: None,
        }),
        1 | 5 | 7 => small_batch(seq, micros),
        3 => Message::Scroll(ScrollPosition {
            target: ScrollTarget::Window,
            x: 0,
            y: stamp,
        }),
        _ => row_batch(seq, micros),
    }
}

fn stamp_text(micros: u64) -> TextChange {
    TextChange {
        node: STAMP_NODE,
        text: format!("{STAMP_PREFIX}{micros}"),
    }
}

/// A text edit and a class flip, as typing into a field with live validation produces.
fn small_batch(seq: u64, micros: u64) -> Message {
    let mut names = NameTable::new();
    Message::Mutations(MutationBatch {
        attrs: vec![cobrowse_protocol::AttrChange {
            node: 5,
            name: names.intern("class"),
            value: Some(
                if seq.is_multiple_of(2) {
                    "card"
                } else {
                    "card active"
                }
                .into(),
            ),
        }],
        names,
        removes: vec![],
        inserts: vec![],
        texts: vec![stamp_text(micros)],
    })
}

/// A new 19-node row appended to the list (an infinite feed).
fn row_batch(seq: u64, micros: u64) -> Message {
    let mut names = NameTable::new();
    let mut nodes = Vec::with_capacity(20);
    let mut el = |tag: &str, class: &str, children: u32| {
        NodeRecord::new(
            NodeData::Element {
                tag: names.intern(tag),
                ns: Namespace::Html,
                attrs: vec![Attribute {
                    name: names.intern("class"),
                    value: class.into(),
                }],
            },
            children,
        )
    };
    nodes.push(el("li", "card", 6));
    for c in 0..6u32 {
        nodes.push(el("span", "cell", 2));
        nodes.push(NodeRecord::new(
            NodeData::Text(format!("cell {c} of row {seq}")),
            0,
        ));
        nodes.push(NodeRecord::new(NodeData::Text("x".into()), 0));
    }
    let first_id = 100_000 + (seq as u32).wrapping_mul(32);
    Message::Mutations(MutationBatch {
        names,
        removes: vec![],
        inserts: vec![Insert::New(AddedSubtree {
            parent: 4,
            next_sibling: None,
            first_id,
            nodes,
        })],
        attrs: vec![],
        texts: vec![stamp_text(micros)],
    })
}

/// True for the `seq`-th frame of the mix being a pointer move (the relay may coalesce those in
/// a full queue, by contract; page-state frames must never be dropped).
pub fn is_pointer(seq: u64) -> bool {
    seq.is_multiple_of(2)
}

/// The send timestamp a relayed frame carries, if it is one of the mix's stamped frames.
pub fn stamp_of(msg: &Message) -> Option<u64> {
    match msg {
        Message::Pointer(Pointer {
            pos: Some((_, y)), ..
        }) => u64::try_from(*y).ok(),
        Message::Scroll(ScrollPosition { y, .. }) => u64::try_from(*y).ok(),
        Message::Mutations(b) => b
            .texts
            .iter()
            .find(|t| t.node == STAMP_NODE)
            .and_then(|t| t.text.strip_prefix(STAMP_PREFIX))
            .and_then(|s| s.parse().ok()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::decode;

    #[test]
    fn every_frame_of_the_mix_decodes_and_carries_its_stamp() {
        for seq in 0..20u64 {
            let micros = 1_000_000 + seq * 7;
            let bytes = frame(seq, micros);
            let msg = decode(&bytes).expect("the mix encodes valid frames");
            assert_eq!(stamp_of(&msg), Some(micros), "frame {seq}: {msg:?}");
            assert_eq!(is_pointer(seq), matches!(msg, Message::Pointer(_)));
            assert!(msg.is_page_state() || matches!(msg, Message::Pointer(_)));
        }
    }

    #[test]
    fn the_snapshot_is_a_valid_300_node_page() {
        let bytes = encode(&snapshot());
        match decode(&bytes).expect("valid snapshot") {
            Message::Snapshot(s) => assert_eq!(s.nodes.len(), 300),
            other => panic!("not a snapshot: {other:?}"),
        }
    }

    #[test]
    fn frames_without_a_stamp_are_not_mistaken_for_stamped_ones() {
        assert_eq!(stamp_of(&Message::Ping(5)), None);
        assert_eq!(
            stamp_of(&Message::Mutations(MutationBatch::default())),
            None
        );
    }
}
