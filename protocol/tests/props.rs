//! Property tests (arbtest + the crate's `arbitrary` feature).
//!
//! Arbitrary messages are mostly *invalid* where the format has invariants (trees whose child
//! counts do not add up, name ids outside both dictionaries, `Unknown` carrying a known tag), so
//! the properties are:
//!
//! * any arbitrary message either round-trips exactly or is refused with `Invalid`/`TooLarge`,
//!   and only messages that carry trees (or ink points out of bounds) can be refused at all;
//! * the same message after [`repair`] (which enforces those invariants, nothing else) always
//!   round-trips, and its frame is canonical (re-encoding gives the same bytes);
//! * decoding arbitrary bytes never panics, and whatever decodes re-encodes to a frame that decodes
//!   to the same message;
//! * a `FrameReader` returns the same messages however the stream is chunked.
//!
//! Each property runs for a bounded time budget (see `BUDGET_MS`).

use arbitrary::Unstructured;
use arbtest::arbtest;
use cobrowse_protocol::*;

/// Per-property time budget. Five properties, so the file takes a few seconds.
const BUDGET_MS: u64 = 1_500;

/// Limits that only the tree invariants can violate: `repair` keeps trees valid but does not
/// bound their depth, and arbitrary data never approaches the size limits.
fn roomy() -> Limits {
    Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    }
}

/// Makes `nodes` one well-formed pre-order tree, reusing each record's arbitrary child count as a
/// hint (mod 4) so shapes vary. Invariant kept while walking: the children still expected by open
/// ancestors never exceed the records left, and never drop to zero while records remain.
fn repair_tree(nodes: &mut Vec<NodeRecord>, first_id: &mut u32, names: &NameTable) {
    if nodes.is_empty() {
        nodes.push(NodeRecord::new(NodeData::Text(String::new()), 0));
    }
    let n = nodes.len();
    *first_id = (*first_id).min(u32::MAX - n as u32);
    let mut open: Vec<u32> = Vec::new();
    let mut outstanding: u64 = 0;
    for (i, rec) in nodes.iter_mut().enumerate() {
        if let Some(top) = open.last_mut() {
            *top -= 1;
            outstanding -= 1;
        }
        while open.last() == Some(&0) {
            open.pop();
        }
        let left = (n - 1 - i) as u64;
        let mut children = u64::from(rec.children % 4).min(left - outstanding);
        if outstanding == 0 && left > 0 {
            children = children.max(1);
        }
        rec.children = children as u32;
        outstanding += children;
        if children > 0 {
            open.push(rec.children);
        }
        repair_names(&mut rec.data, names);
    }
    assert_eq!(outstanding, 0, "repair_tree left children unfilled");
}

fn repair_name(name: &mut Name, names: &NameTable) {
    // Pick one of the valid ids: the dictionary, then the table from the dynamic base.
    let statics = STATIC_NAMES.len() as u32;
    let i = name.0 % (statics + names.len() as u32);
    name.0 = if i < statics {
        i
    } else {
        DYNAMIC_NAME_BASE + (i - statics)
    };
}

fn repair_names(data: &mut NodeData, names: &NameTable) {
    if let NodeData::Element { tag, attrs, .. } = data {
        repair_name(tag, names);
        for a in attrs {
            repair_name(&mut a.name, names);
        }
    }
}

/// Enforces the invariants the type system does not: valid trees, resolvable names, a document
/// at the root of a snapshot, subtrees not inserted relative to their own nodes, and `Unknown`
/// only for tags this build does not know.
fn repair(msg: &mut Message) {
    match msg {
        Message::Snapshot(s) => {
            repair_tree(&mut s.nodes, &mut s.first_id, &s.names);
            if !matches!(s.nodes[0].data, NodeData::Document { .. }) {
                s.nodes[0].data = NodeData::Document { url: String::new() };
            }
        }
        Message::Mutations(m) => {
            for insert in &mut m.inserts {
                if let Insert::New(sub) = insert {
                    repair_tree(&mut sub.nodes, &mut sub.first_id, &m.names);
                    // Not inserted relative to its own new nodes.
                    let own =
                        u64::from(sub.first_id)..u64::from(sub.first_id) + sub.nodes.len() as u64;
                    if own.contains(&u64::from(sub.parent)) {
                        sub.parent = sub.first_id.checked_sub(1).unwrap_or(u32::MAX);
                    }
                    if sub
                        .next_sibling
                        .is_some_and(|n| own.contains(&u64::from(n)))
                    {
                        sub.next_sibling = None;
                    }
                }
            }
            for a in &mut m.attrs {
                repair_name(&mut a.name, &m.names);
            }
        }
        // Within the decoder's bounds (`Ink::check`): few enough points, each near the origin.
        Message::Ink(ink) => {
            ink.deltas.truncate(Ink::MAX_FRAME_POINTS - 1);
            ink.start = (ink.start.0 % 1_000, ink.start.1 % 1_000);
            for d in &mut ink.deltas {
                *d = (d.0 % 1_000, d.1 % 1_000);
            }
        }
        // Moved past every known tag, so it stays unknown.
        Message::Unknown { tag, .. } if is_known_tag(*tag) => {
            *tag += tags::LAST + 1;
        }
        _ => {}
    }
}

fn is_unknown_with_known_tag(msg: &Message) -> bool {
    matches!(msg, Message::Unknown { tag, .. } if is_known_tag(*tag))
}

#[test]
fn repaired_messages_round_trip_canonically() {
    arbtest(|u| {
        let mut msg: Message = u.arbitrary()?;
        repair(&mut msg);
        let frame = encode(&msg);
        let decoded = decode_with(&frame, &roomy())
            .unwrap_or_else(|e| panic!("{e} for a repaired message {msg:?}"));
        assert_eq!(decoded, msg);
        assert_eq!(encode(&decoded), frame);
        Ok(())
    })
    .budget_ms(BUDGET_MS);
}

/// Trees are where the invariants are, but only 2 of 30 variants carry them: generate those
/// directly so that most cases exercise the tree validator.
#[test]
fn repaired_trees_round_trip() {
    arbtest(|u| {
        let mut msg = if u.arbitrary()? {
            Message::Snapshot(Box::new(u.arbitrary()?))
        } else {
            Message::Mutations(u.arbitrary()?)
        };
        repair(&mut msg);
        let frame = encode(&msg);
        assert_eq!(decode_with(&frame, &roomy()).as_ref(), Ok(&msg));
        Ok(())
    })
    .budget_ms(BUDGET_MS);
}

#[test]
fn arbitrary_messages_round_trip_or_are_refused() {
    arbtest(|u| {
        let msg: Message = u.arbitrary()?;
        let result = decode_with(&encode(&msg), &roomy());
        if is_unknown_with_known_tag(&msg) {
            // Not representable on the wire: the frame is read as the known message (or refused).
            return Ok(());
        }
        match result {
            Ok(decoded) => assert_eq!(decoded, msg),
            Err(DecodeError::Invalid(_) | DecodeError::TooLarge { .. }) => {
                // Only tree-carrying messages and ink (points bounded by `Ink::check`) have
                // invariants that arbitrary data can break.
                assert!(
                    matches!(
                        msg,
                        Message::Snapshot(_) | Message::Mutations(_) | Message::Ink(_)
                    ),
                    "{msg:?} was refused: {result:?}"
                );
            }
            Err(e) => panic!("{e} for {msg:?}"),
        }
        Ok(())
    })
    .budget_ms(BUDGET_MS);
}

#[test]
fn decoding_arbitrary_bytes_never_panics() {
    let tiny = Limits {
        max_frame_bytes: 64,
        max_nodes: 3,
        max_depth: 2,
        max_string_bytes: 2,
        max_decoded_bytes: 4096,
    };
    arbtest(|u| {
        // Half the time, start with a valid version and a (mostly known) tag, to reach the bodies.
        let mut frame: Vec<u8> = Vec::new();
        if u.arbitrary()? {
            frame.push(PROTOCOL_VERSION);
            frame.push(u.int_in_range(0..=30)?);
        }
        let rest: &[u8] = u.arbitrary()?;
        frame.extend_from_slice(rest);
        for limits in [Limits::default(), tiny] {
            if let Ok(msg) = decode_with(&frame, &limits) {
                // Whatever decodes re-encodes to a frame meaning the same thing.
                let again = decode_with(&encode(&msg), &limits);
                assert_eq!(again.as_ref(), Ok(&msg), "frame {frame:02x?}");
            }
        }
        let _ = peek_tag(&frame);
        let _ = decode_delimited_len(&frame, &Limits::default());
        Ok(())
    })
    .budget_ms(BUDGET_MS);
}

fn chunk_sizes(u: &mut Unstructured<'_>, total: usize) -> arbitrary::Result<Vec<usize>> {
    let mut sizes = Vec::new();
    let mut left = total;
    while left > 0 {
        let size = u.int_in_range(1..=left.min(64))?;
        sizes.push(size);
        left -= size;
    }
    Ok(sizes)
}

#[test]
fn frame_reader_is_independent_of_chunking() {
    arbtest(|u| {
        let mut msgs: Vec<Message> = u.arbitrary()?;
        msgs.truncate(16);
        msgs.iter_mut().for_each(repair);
        let stream: Vec<u8> = msgs.iter().flat_map(encode_delimited).collect();
        let mut reader = FrameReader::new(roomy());
        let mut got = Vec::new();
        let mut at = 0;
        for size in chunk_sizes(u, stream.len())? {
            reader.extend(&stream[at..at + size]);
            at += size;
            while let Some(msg) = reader.next_message().expect("valid stream") {
                got.push(msg);
            }
        }
        if at < stream.len() {
            // The data ran out before the chunking did: feed the rest at once.
            reader.extend(&stream[at..]);
            while let Some(msg) = reader.next_message().expect("valid stream") {
                got.push(msg);
            }
        }
        assert_eq!(got, msgs);
        assert_eq!(reader.buffered(), 0);
        Ok(())
    })
    .budget_ms(BUDGET_MS);
}
