//! Wire size: interning makes repeated names nearly free. Run with `--nocapture` to see the figures.

use cobrowse_protocol::*;

/// `<!doctype><html><body>` followed by `rows` copies of `<{tag} class="row">`.
fn page(rows: usize, tag: &str) -> Snapshot {
    let mut names = NameTable::new();
    let row_tag = names.intern(tag);
    let class = names.intern("class");
    let el = |tag, attrs, children| {
        NodeRecord::new(
            NodeData::Element {
                tag,
                ns: Namespace::Html,
                attrs,
            },
            children,
        )
    };
    let mut nodes = vec![
        NodeRecord::new(
            NodeData::Document {
                url: "https://shop.example/list".into(),
            },
            1,
        ),
        el(names.intern("html"), vec![], 1),
        el(names.intern("body"), vec![], rows as u32),
    ];
    nodes.extend((0..rows).map(|_| {
        el(
            row_tag,
            vec![Attribute {
                name: class,
                value: "row".into(),
            }],
            0,
        )
    }));
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

fn frame_len(s: Snapshot) -> usize {
    let frame = encode(&Message::Snapshot(Box::new(s)));
    // Whatever we measure must also be a frame the peer accepts.
    decode(&frame).expect("the measured frame decodes");
    frame.len()
}

/// What the same element costs as rrweb-style JSON, for the printed comparison only.
fn json_element_len(id: usize) -> usize {
    format!(
        r#"{{"type":2,"tagName":"div","attributes":{{"class":"row"}},"childNodes":[],"id":{id}}},"#
    )
    .len()
}

#[test]
fn a_thousand_rows_cost_ten_bytes_each() {
    let empty = frame_len(page(0, "div"));
    let full = frame_len(page(1000, "div"));
    // Two varints grow from 1 to 2 bytes: the body's child count (0 → 1000) and the node
    // count (3 → 1003). The rest is the records.
    let records = full - empty - 2;
    let per_row = records as f64 / 1000.0;
    // Record = variant Element (1) + tag div (1) + ns Html (1) + attr count (1) + name class (1)
    //        + value "row" (1 + 3) + child count (1) = 10 bytes; 5 of them are structure.
    assert_eq!(records, 10_000);
    let json: usize = (0..1000).map(|i| json_element_len(i + 4)).sum();
    println!(
        "1,000 <div class=\"row\">: frame {full} bytes, {per_row:.1} bytes per element record \
         (4 of them the value \"row\"); rrweb-style JSON would be ~{:.1} bytes per element",
        json as f64 / 1000.0
    );

    // Without interning, every record would also carry "div" and "class" as strings:
    // (1 + 3) + (1 + 5) instead of 1 + 1 bytes.
    let uninterned_per_row = per_row + (4.0 - 1.0) + (6.0 - 1.0);
    println!("the same with names as strings: {uninterned_per_row:.1} bytes per element record");
    assert!(per_row <= 10.0);
}

#[test]
fn a_custom_tag_is_sent_once_per_message() {
    let div = frame_len(page(1000, "div"));
    let custom = frame_len(page(1000, "x-row"));
    // The table grows by "x-row" once (count 0 → 1, plus 1 + 5 bytes of string) and each record's
    // tag id grows from 1 byte (0) to 2 bytes (1024 = 0x80 0x08).
    assert_eq!(custom - div, 6 + 1000);
    println!(
        "1,000 <x-row class=\"row\">: frame {custom} bytes, {:.1} bytes per element record",
        (custom - frame_len(page(0, "x-row")) - 2) as f64 / 1000.0
    );
}

/// The worst ratio of in-memory size to wire size: the cheapest record on the wire is an empty
/// text node (3 bytes: variant, empty string, no children). The decoder charges each record's
/// in-memory size to `Limits::max_decoded_bytes` before decoding it (`tests/alloc.rs` measures
/// that), so the ratio no longer bounds a frame's memory; this test pins the record size so that
/// growth is a deliberate decision, and prints what an unbudgeted decode would cost.
#[test]
fn worst_case_memory_per_wire_byte() {
    use std::mem::size_of;
    let record = size_of::<NodeRecord>();
    let wire = encode(&Message::Mutations(MutationBatch {
        inserts: vec![Insert::New(AddedSubtree {
            parent: 1,
            next_sibling: None,
            first_id: 2,
            nodes: vec![NodeRecord::new(NodeData::Text(String::new()), 0)],
        })],
        ..MutationBatch::default()
    }));
    // version, tag, empty table, no removes, 1 insert, New, parent, None, first_id, 1 node,
    // then the record itself: Text (03), "" (00), 0 children (00); then no attrs, no texts.
    assert_eq!(wire[wire.len() - 5..], [0x03, 0x00, 0x00, 0x00, 0x00]);
    let ratio = record as f64 / 3.0;
    println!(
        "NodeRecord is {record} bytes in memory for 3 on the wire: up to {ratio:.0}x; a frame of \
         max_frame_bytes = {} MiB would allocate ~{:.0} MiB unbudgeted; the decoder stops at \
         max_decoded_bytes = {} MiB",
        Limits::default().max_frame_bytes >> 20,
        (Limits::default().max_frame_bytes as f64 * ratio) / (1u64 << 20) as f64,
        Limits::default().max_decoded_bytes >> 20
    );
    assert!(record <= 80, "NodeRecord grew to {record} bytes");
}
