//! What decoding really allocates: a counting global allocator measures the peak bytes held
//! while `decode_with` runs, for frames built to expand (tiny records, empty attributes) and for
//! arbitrary bytes. The decoder counts nodes and decoded bytes before it allocates them, so the
//! peak stays within the budget (`Limits::max_decoded_bytes`, times two while a vector doubles,
//! plus serde's capped 1 MiB preallocation per nesting level) however the frame is shaped.
//!
//! One test function: the allocator is process-wide, so nothing else may run beside it.

use cobrowse_protocol::*;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Bytes allocated at the peak of one decode, above what was held before it.
fn peak_of(frame: &[u8], limits: &Limits) -> (usize, Result<Message, DecodeError>) {
    let before = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let result = decode_with(frame, limits);
    let peak = ALLOC.peak_usage() - before;
    (peak, result)
}

fn subtree_batch(nodes: Vec<NodeRecord>) -> Vec<u8> {
    encode(&Message::Mutations(MutationBatch {
        inserts: vec![Insert::New(AddedSubtree {
            parent: 1,
            next_sibling: None,
            first_id: 2,
            nodes,
        })],
        ..MutationBatch::default()
    }))
}

const MIB: usize = 1 << 20;

#[test]
fn decoding_allocates_within_the_budget() {
    let limits = Limits {
        max_decoded_bytes: 4 * MIB,
        ..Limits::default()
    };
    // What the budget allows at most: twice the budget (a vector doubling its capacity) and
    // serde's 1 MiB preallocation at each of the few nesting levels.
    let bound = 2 * limits.max_decoded_bytes + 4 * MIB;

    // 1. Empty text nodes: 3 bytes on the wire, an 80-byte record in memory. 500,000 of them are
    //    1.5 MB on the wire and were 40 MB decoded before any limit looked at them.
    let frame = subtree_batch(vec![
        NodeRecord::new(NodeData::Text(String::new()), 0);
        500_000
    ]);
    assert!(frame.len() < 2 * MIB);
    let (peak, result) = peak_of(&frame, &limits);
    assert!(
        matches!(
            result,
            Err(DecodeError::TooLarge {
                what: "decoded size",
                ..
            })
        ),
        "{result:?}"
    );
    assert!(
        peak <= bound,
        "tiny nodes: {peak} bytes allocated, bound {bound}"
    );

    // The same nodes against the node limit: stopped at the limit, not after the whole list.
    let few_nodes = Limits {
        max_nodes: 10_000,
        ..Limits::default()
    };
    let (peak, result) = peak_of(&frame, &few_nodes);
    assert!(
        matches!(result, Err(DecodeError::TooLarge { what: "nodes", .. })),
        "{result:?}"
    );
    assert!(
        peak <= 2 * 10_001 * std::mem::size_of::<NodeRecord>() + 4 * MIB,
        "node limit: {peak} bytes allocated"
    );

    // 2. One element with a million empty attributes: 2 bytes each on the wire, 32 in memory.
    let attrs = vec![
        Attribute {
            name: Name(0),
            value: String::new(),
        };
        1_000_000
    ];
    let frame = subtree_batch(vec![NodeRecord::new(
        NodeData::Element {
            tag: Name(0),
            ns: Namespace::Html,
            attrs,
        },
        0,
    )]);
    let (peak, result) = peak_of(&frame, &limits);
    assert!(result.is_err_and(|e| e.is_too_large()));
    assert!(
        peak <= bound,
        "empty attributes: {peak} bytes allocated, bound {bound}"
    );

    // 3. An honest page within the budget still decodes, and costs about what it holds.
    let page: Vec<NodeRecord> = std::iter::once(NodeRecord::new(
        NodeData::Element {
            tag: Name(0),
            ns: Namespace::Html,
            attrs: vec![],
        },
        2_000,
    ))
    .chain((0..2_000).map(|i| NodeRecord::new(NodeData::Text(format!("row {i}")), 0)))
    .collect();
    let frame = subtree_batch(page);
    let (peak, result) = peak_of(&frame, &limits);
    assert!(result.is_ok(), "{result:?}");
    assert!(peak <= bound, "honest page: {peak}");

    // 4. Arbitrary bytes behind a valid version and tag: never more than the bound either.
    let tiny = Limits {
        max_decoded_bytes: 64 * 1024,
        ..Limits::default()
    };
    let tiny_bound = 2 * tiny.max_decoded_bytes + 4 * MIB;
    let mut worst = 0;
    arbtest::arbtest(|u| {
        let tag: u8 = u.int_in_range(0..=26)?;
        let mut frame = vec![PROTOCOL_VERSION, tag];
        let body: Vec<u8> = u.arbitrary()?;
        frame.extend(body);
        let (peak, _) = peak_of(&frame, &tiny);
        worst = worst.max(peak);
        assert!(peak <= tiny_bound, "{peak} bytes for {frame:?}");
        Ok(())
    })
    .budget_ms(1_500);
    println!("arbitrary frames: at most {worst} bytes allocated while decoding");
}
