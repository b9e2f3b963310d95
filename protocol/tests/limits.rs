//! Decode errors and limits: every way a frame can be refused, and the forward-compatibility rules
//! (unknown tags pass through, trailing bytes are ignored).

mod common;

use cobrowse_protocol::*;
use common::{golden_mutations, golden_snapshot, golden_table, hex_to_bytes};

fn is_invalid(r: &Result<Message, DecodeError>) -> bool {
    matches!(r, Err(DecodeError::Invalid(_)))
}

fn too_large(r: Result<Message, DecodeError>) -> (&'static str, usize, usize) {
    match r {
        Err(DecodeError::TooLarge {
            what,
            limit,
            actual,
        }) => (what, limit, actual),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

/// A document record; its URL is short to stay under the small string limit.
fn doc(children: u32) -> NodeRecord {
    NodeRecord::new(NodeData::Document { url: "x:".into() }, children)
}

fn div(children: u32) -> NodeRecord {
    NodeRecord::new(
        NodeData::Element {
            tag: Name(0),
            ns: Namespace::Html,
            attrs: vec![],
        },
        children,
    )
}

fn text(s: &str) -> NodeRecord {
    NodeRecord::new(NodeData::Text(s.into()), 0)
}

fn snapshot(nodes: Vec<NodeRecord>) -> Message {
    Message::Snapshot(Box::new(Snapshot {
        names: NameTable::new(),
        first_id: 1,
        nodes,
        form: vec![],
        scroll: vec![],
        viewport: Viewport::default(),
        sheets: vec![],
    }))
}

fn small_limits() -> Limits {
    Limits {
        max_frame_bytes: 1024,
        max_nodes: 10,
        max_depth: 8,
        max_string_bytes: 4,
        max_decoded_bytes: usize::MAX,
    }
}

#[test]
fn empty_frame() {
    assert_eq!(decode(&[]), Err(DecodeError::Empty));
    assert_eq!(peek_tag(&[]), Err(DecodeError::Empty));
}

#[test]
fn wrong_version() {
    assert_eq!(decode(&[0, 0x15]), Err(DecodeError::UnsupportedVersion(0)));
    assert_eq!(decode(&[2, 0x15]), Err(DecodeError::UnsupportedVersion(2)));
    assert_eq!(decode(&[0xff]), Err(DecodeError::UnsupportedVersion(0xff)));
}

#[test]
fn missing_or_malformed_tag() {
    assert!(is_invalid(&decode(&[1])), "version byte only");
    assert!(is_invalid(&decode(&[1, 0x80])), "tag varint cut short");
    // Six bytes of continuation overflow a u32 varint.
    assert!(is_invalid(&decode(&hex_to_bytes("01 ffffffffff7f"))));
}

#[test]
fn every_truncated_golden_body_is_invalid() {
    let mut checked = 0;
    for g in golden_table() {
        if matches!(
            g.msg,
            Message::Unknown { .. } | Message::Seq(_) | Message::Batch(_)
        ) {
            // An unknown body is opaque, and so is a sequenced frame's inner frame: any prefix
            // is a valid one (a receiver decodes the inner frame on its own). A batch cut where
            // one of its frames ends is a shorter batch (a cut inside one is tested below).
            continue;
        }
        let bytes = g.bytes();
        let header = 1 + peek_tag(&bytes)
            .map(|(_, b)| bytes.len() - 1 - b.len())
            .unwrap();
        for cut in header..bytes.len() {
            let r = decode(&bytes[..cut]);
            if let Ok(older) = &r
                && is_older_payload(older, &g.msg)
            {
                continue; // cut where the payload ended before a field was appended
            }
            assert!(is_invalid(&r), "{} cut at {cut}: {r:?}", g.name);
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} prefixes checked");
}

/// `older` is `full` as a peer from before its appended fields sent it.
fn is_older_payload(older: &Message, full: &Message) -> bool {
    match (older, full) {
        (Message::Hello(o), Message::Hello(f)) => {
            // Cut before `observe` (it decodes `false`), or before `link` as well.
            !o.observe
                && (*o
                    == Hello {
                        observe: false,
                        ..f.clone()
                    }
                    || *o
                        == Hello {
                            link: None,
                            observe: false,
                            ..f.clone()
                        })
        }
        (Message::Welcome(o), Message::Welcome(f)) => {
            // Cut before `batch` (it decodes `false`), or before `link` as well.
            !o.batch
                && (*o
                    == Welcome {
                        batch: false,
                        ..f.clone()
                    }
                    || *o
                        == Welcome {
                            link: None,
                            batch: false,
                            ..f.clone()
                        })
        }
        (Message::Controller(o), Message::Controller(f)) => {
            o.activated_at_ms.is_none()
                && *o
                    == ControllerEvent {
                        activated_at_ms: None,
                        agent_id: None,
                        ..f.clone()
                    }
        }
        _ => false,
    }
}

#[test]
fn payloads_from_before_appended_fields_still_decode() {
    // A `Hello` and a `Welcome` of a peer that predates links end after `client` / `node`.
    let hello = hex_to_bytes("01 01 00 09 313233343536373839 01 01 73 00 00 03 742f31");
    let Ok(Message::Hello(h)) = decode(&hello) else {
        panic!("an older Hello is refused");
    };
    assert_eq!(
        (h.link, h.resume_from, h.client.as_str()),
        (None, None, "t/1")
    );
    let welcome = hex_to_bytes("01 02 00 09 313233343536373839 03 682d31 01 00 00 01 01 02 6e31");
    let Ok(Message::Welcome(w)) = decode(&welcome) else {
        panic!("an older Welcome is refused");
    };
    assert_eq!(
        (w.link, w.batch, w.node.as_str(), w.agents),
        (None, false, "n1", 1)
    );
    // A `Welcome` of a server with links that predates batches ends after `link`.
    let linked = hex_to_bytes(
        "01 02 00 09 313233343536373839 03 682d31 01 00 00 01 01 02 6e31 01 05 01 07 a09c01",
    );
    let Ok(Message::Welcome(w)) = decode(&linked) else {
        panic!("a Welcome from before batches is refused");
    };
    assert_eq!((w.link.map(|l| l.id), w.batch), (Some(5), false));
    // A controller event of a server from before the activation time and agent were appended.
    let controller = hex_to_bytes("01 19 01 09 313233343536373839 03 682d31 05");
    let Ok(Message::Controller(c)) = decode(&controller) else {
        panic!("an older controller event is refused");
    };
    assert_eq!(
        (c.started_at_ms, c.activated_at_ms, c.agent_id),
        (5, None, None)
    );
    // Bytes after the older payload that are no link read as that payload, as an older decoder
    // reads them (trailing bytes are ignored).
    let mut odd = hello.clone();
    odd.push(0x07); // not an `Option` tag
    assert_eq!(decode(&odd), decode(&hello));
}

#[test]
fn sequenced_frames_split_without_copying_and_wrap_the_same_way() {
    let inner = encode(&Message::Ping(9));
    let frame = encode_seq(300, &inner);
    assert_eq!(
        frame,
        encode(&Message::Seq(Sequenced {
            seq: 300,
            frame: inner.clone()
        }))
    );
    assert_eq!(split_seq(&frame), Ok(Some((300, inner.as_slice()))));
    assert_eq!(split_seq(&inner), Ok(None));
    assert!(matches!(
        split_seq(&hex_to_bytes("01 1b 80")),
        Err(DecodeError::Invalid(_))
    ));
}

#[test]
fn batches_split_without_copying_and_encode_the_same_way() {
    let a = encode(&Message::Ping(1));
    let b = encode_seq(300, &encode(&Message::Pong(2)));
    let frame = encode_batch(&[&a, &b]);
    assert_eq!(frame, encode(&Message::Batch(vec![a.clone(), b.clone()])));
    assert_eq!(
        split_batch(&frame),
        Ok(Some(vec![a.as_slice(), b.as_slice()]))
    );
    assert_eq!(
        decode(&frame),
        Ok(Message::Batch(vec![a.clone(), b.clone()]))
    );
    assert_eq!(split_batch(&a), Ok(None), "not a batch");
    // The frames are opaque here: an empty one or a nested batch is the receiver's to refuse.
    let odd = encode_batch(&[&[][..], &frame[..]]);
    assert_eq!(split_batch(&odd), Ok(Some(vec![&[][..], frame.as_slice()])));
}

#[test]
fn a_batch_whose_lengths_do_not_add_up_is_invalid() {
    let frame = encode_batch(&[encode(&Message::Ping(1))]);
    // Cut inside its only frame: the length promises more than there is.
    for cut in 3..frame.len() {
        assert!(is_invalid(&decode(&frame[..cut])), "cut at {cut}");
        assert!(matches!(
            split_batch(&frame[..cut]),
            Err(DecodeError::Invalid(_))
        ));
    }
    // A length varint cut short, and one far past the end.
    assert!(is_invalid(&decode(&hex_to_bytes("01 23 80"))));
    assert!(is_invalid(&decode(&hex_to_bytes(
        "01 23 ffffffffffffffffff01 00"
    ))));
}

#[test]
fn a_batch_of_more_than_the_most_frames_is_too_large() {
    let ping = encode(&Message::Ping(1));
    let most = vec![ping.clone(); MAX_BATCH_FRAMES];
    assert!(
        matches!(decode(&encode_batch(&most)), Ok(Message::Batch(f)) if f.len() == MAX_BATCH_FRAMES)
    );
    let over = vec![ping; MAX_BATCH_FRAMES + 1];
    let (what, limit, _) = too_large(decode(&encode_batch(&over)));
    assert_eq!((what, limit), ("batch", MAX_BATCH_FRAMES));
}

#[test]
fn trailing_bytes_after_a_known_body_are_accepted() {
    // Forward compatibility: a newer peer may append fields to a payload.
    for g in golden_table() {
        if matches!(
            g.msg,
            Message::Unknown { .. } | Message::Seq(_) | Message::Batch(_)
        ) {
            continue; // their bodies run to the end of the frame
        }
        let mut bytes = g.bytes();
        bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(decode(&bytes).as_ref(), Ok(&g.msg), "{}", g.name);
    }
}

#[test]
fn unknown_tags_pass_through_unchanged() {
    // Tag 63: well above the known ones (`tags::LAST`), so it stays unknown as tags are added.
    for frame in ["01 3f", "01 3f 00", "01 c801 0102 03", "01 ffffffff0f 99"] {
        let bytes = hex_to_bytes(frame);
        let msg = decode(&bytes).unwrap_or_else(|e| panic!("{frame}: {e}"));
        let Message::Unknown { tag, body } = &msg else {
            panic!("{frame} decoded to {msg:?}");
        };
        assert!(*tag > tags::LAST);
        assert_eq!(body.as_slice(), peek_tag(&bytes).unwrap().1);
        assert_eq!(encode(&msg), bytes, "{frame} re-encodes to the same bytes");
        assert!(!msg.is_page_state());
    }
}

#[test]
fn a_bad_body_is_invalid_not_a_panic() {
    // Known tags with bodies that are not the right shape.
    for frame in [
        "01 01 05",                   // Hello with role 5
        "01 01 00 05 6869",           // Hello token announces 5 bytes, has 2
        "01 01 00 02 c328",           // Hello token is not UTF-8
        "01 03 63",                   // Session event variant 99
        "01 0e 04",                   // ModeChange variant 4
        "01 11 ffffffffffffffffff7f", // Ping varint overflows u64
        "01 04 00 00 ffffffff0f",     // snapshot announcing 4 billion nodes in a tiny frame
    ] {
        let r = decode(&hex_to_bytes(frame));
        assert!(is_invalid(&r), "{frame}: {r:?}");
    }
}

#[test]
fn frame_over_limit() {
    let limits = Limits {
        max_frame_bytes: 10,
        ..Limits::default()
    };
    let ten = encode(&Message::Navigation(Navigation {
        url: "ab".into(),
        title: "cd".into(),
        kind: NavKind::Load,
    }));
    assert_eq!(ten.len(), 9);
    assert!(decode_with(&ten, &limits).is_ok());
    let mut eleven = ten.clone();
    eleven.extend_from_slice(&[0, 0]);
    assert_eq!(too_large(decode_with(&eleven, &limits)), ("frame", 10, 11));
    assert!(decode_with(&eleven, &limits).unwrap_err().is_too_large());
}

#[test]
fn snapshot_trees_must_be_well_formed() {
    // Truncated: the document announces two children, one follows.
    let r = decode(&encode(&snapshot(vec![doc(2), div(0)])));
    assert!(is_invalid(&r), "{r:?}");
    // Trailing: a second root after the document's subtree.
    let r = decode(&encode(&snapshot(vec![doc(1), div(0), div(0)])));
    assert!(is_invalid(&r), "{r:?}");
    // Empty.
    let r = decode(&encode(&snapshot(vec![])));
    assert!(is_invalid(&r), "{r:?}");
    // The root is not a document.
    let r = decode(&encode(&snapshot(vec![div(1), text("x")])));
    assert!(is_invalid(&r), "{r:?}");
    // Ids that would overflow.
    let Message::Snapshot(mut s) = snapshot(vec![doc(1), div(0)]) else {
        unreachable!()
    };
    s.first_id = u32::MAX - 1;
    let r = decode(&encode(&Message::Snapshot(s)));
    assert!(is_invalid(&r), "{r:?}");
}

#[test]
fn too_deep_is_too_large_depth() {
    let limits = small_limits();
    // document + 7 nested divs: depth 8 is allowed.
    let mut nodes = vec![doc(1)];
    nodes.extend((0..6).map(|_| div(1)));
    nodes.push(div(0));
    assert_eq!(nodes.len(), 8);
    let ok = encode(&snapshot(nodes.clone()));
    assert!(decode_with(&ok, &limits).is_ok());
    // One more level is refused as too large, not invalid: the page is real, just too deep.
    nodes.pop();
    nodes.push(div(1));
    nodes.push(div(0));
    let deep = encode(&snapshot(nodes));
    assert_eq!(too_large(decode_with(&deep, &limits)), ("depth", 8, 9));
}

#[test]
fn a_very_deep_tree_is_refused_without_recursion() {
    // 200,000 levels would overflow the stack of a recursive decoder.
    let mut nodes = vec![doc(1)];
    nodes.extend((0..200_000).map(|_| div(1)));
    nodes.push(text(""));
    let frame = encode(&snapshot(nodes));
    let (what, limit, _) = too_large(decode(&frame));
    assert_eq!((what, limit), ("depth", Limits::default().max_depth));
}

#[test]
fn too_many_nodes() {
    let limits = small_limits();
    let mut nodes = vec![doc(1), div(9)];
    nodes.extend((0..9).map(|_| text("")));
    assert_eq!(nodes.len(), 11);
    assert_eq!(
        too_large(decode_with(&encode(&snapshot(nodes)), &limits)),
        ("nodes", 10, 11)
    );

    // The budget counts all subtrees of a batch together: 2 × 6 = 12 > 10. The decoder counts
    // nodes as it reads them, so it stops at the eleventh and never decodes the twelfth.
    let subtree = |first_id| {
        Insert::New(AddedSubtree {
            parent: 1,
            next_sibling: None,
            first_id,
            nodes: std::iter::once(div(5))
                .chain((0..5).map(|_| text("")))
                .collect(),
        })
    };
    let batch = Message::Mutations(MutationBatch {
        inserts: vec![subtree(100), subtree(200)],
        ..MutationBatch::default()
    });
    assert_eq!(
        too_large(decode_with(&encode(&batch), &limits)),
        ("nodes", 10, 11)
    );
    let one = Message::Mutations(MutationBatch {
        inserts: vec![subtree(100)],
        ..MutationBatch::default()
    });
    assert!(decode_with(&encode(&one), &limits).is_ok());
}

#[test]
fn mutation_subtrees_are_validated() {
    let batch = |nodes| {
        Message::Mutations(MutationBatch {
            inserts: vec![Insert::New(AddedSubtree {
                parent: 1,
                next_sibling: None,
                first_id: 10,
                nodes,
            })],
            ..MutationBatch::default()
        })
    };
    for nodes in [vec![], vec![div(1)], vec![div(0), div(0)]] {
        let r = decode(&encode(&batch(nodes.clone())));
        assert!(is_invalid(&r), "{nodes:?}: {r:?}");
    }
    // A subtree's root need not be a document.
    assert!(decode(&encode(&batch(vec![div(1), text("x")]))).is_ok());
}

#[test]
fn a_subtree_inserted_relative_to_its_own_nodes_is_refused() {
    let batch = |parent, next_sibling| {
        Message::Mutations(MutationBatch {
            inserts: vec![Insert::New(AddedSubtree {
                parent,
                next_sibling,
                first_id: 10,
                nodes: vec![div(1), text("x")],
            })],
            ..MutationBatch::default()
        })
    };
    for (parent, next) in [(10, None), (11, None), (1, Some(10)), (1, Some(11))] {
        let r = decode(&encode(&batch(parent, next)));
        assert!(is_invalid(&r), "parent {parent}, next {next:?}: {r:?}");
    }
    // Just outside the subtree's ids is fine.
    assert!(decode(&encode(&batch(9, None))).is_ok());
    assert!(decode(&encode(&batch(12, Some(13)))).is_ok());
}

/// Every place a string can hide, each one byte over a 4-byte limit, and exactly at it.
#[test]
fn strings_over_limit() {
    let limits = small_limits();
    type MakeMessage = Box<dyn Fn(&str) -> Message>;
    let cases: Vec<(&str, MakeMessage)> = vec![
        ("text node", Box::new(|s| snapshot(vec![doc(1), text(s)]))),
        (
            "comment",
            Box::new(|s| {
                snapshot(vec![
                    doc(1),
                    NodeRecord::new(NodeData::Comment(s.into()), 0),
                ])
            }),
        ),
        (
            "document url",
            Box::new(|s| {
                snapshot(vec![NodeRecord::new(
                    NodeData::Document { url: s.into() },
                    0,
                )])
            }),
        ),
        (
            "attribute value",
            Box::new(|s| {
                snapshot(vec![
                    doc(1),
                    NodeRecord::new(
                        NodeData::Element {
                            tag: Name(0),
                            ns: Namespace::Html,
                            attrs: vec![Attribute {
                                name: Name(59),
                                value: s.into(),
                            }],
                        },
                        0,
                    ),
                ])
            }),
        ),
        (
            "snapshot sheet rule",
            Box::new(|s| {
                let Message::Snapshot(mut snap) = snapshot(vec![doc(0)]) else {
                    unreachable!()
                };
                snap.sheets.push(SheetState {
                    sheet: 1,
                    owner: SheetOwner::Constructed,
                    rules: vec!["ok".into(), s.into()],
                    base_url: None,
                    disabled: false,
                });
                Message::Snapshot(snap)
            }),
        ),
        (
            "attribute change",
            Box::new(|s| {
                Message::Mutations(MutationBatch {
                    attrs: vec![AttrChange {
                        node: 1,
                        name: Name(59),
                        value: Some(s.into()),
                    }],
                    ..MutationBatch::default()
                })
            }),
        ),
        (
            "text change",
            Box::new(|s| {
                Message::Mutations(MutationBatch {
                    texts: vec![TextChange {
                        node: 1,
                        text: s.into(),
                    }],
                    ..MutationBatch::default()
                })
            }),
        ),
        (
            "inserted text",
            Box::new(|s| {
                Message::Mutations(MutationBatch {
                    inserts: vec![Insert::New(AddedSubtree {
                        parent: 1,
                        next_sibling: None,
                        first_id: 5,
                        nodes: vec![text(s)],
                    })],
                    ..MutationBatch::default()
                })
            }),
        ),
        (
            "sheet set",
            Box::new(|s| {
                Message::Sheet(SheetOp::Set(SheetState {
                    sheet: 1,
                    owner: SheetOwner::Constructed,
                    rules: vec![s.into()],
                    base_url: None,
                    disabled: false,
                }))
            }),
        ),
        (
            "sheet insert",
            Box::new(|s| {
                Message::Sheet(SheetOp::Insert {
                    sheet: 1,
                    path: vec![0],
                    rule: s.into(),
                })
            }),
        ),
    ];
    for (what, make) in cases {
        assert!(
            decode_with(&encode(&make("abcd")), &limits).is_ok(),
            "{what} at the limit"
        );
        assert_eq!(
            too_large(decode_with(&encode(&make("abcde")), &limits)),
            ("string", 4, 5),
            "{what}"
        );
    }
}

#[test]
fn unknown_name_ids_are_invalid() {
    // A tag name one past the static dictionary, with an empty table.
    let unknown_tag = snapshot(vec![
        doc(1),
        NodeRecord::new(
            NodeData::Element {
                tag: Name(STATIC_NAMES.len() as u32),
                ns: Namespace::Html,
                attrs: vec![],
            },
            0,
        ),
    ]);
    assert!(is_invalid(&decode(&encode(&unknown_tag))));

    // Attribute names around the golden snapshot's table (one dynamic name, id 1024): the gap
    // between the dictionary and the dynamic base, and one past the table.
    for bad in [
        STATIC_NAMES.len() as u32,
        DYNAMIC_NAME_BASE - 1,
        DYNAMIC_NAME_BASE + 1,
    ] {
        let mut snap = golden_snapshot();
        if let NodeData::Element { attrs, .. } = &mut snap.nodes[4].data {
            attrs[0].name = Name(bad);
        }
        let r = decode(&encode(&Message::Snapshot(Box::new(snap))));
        assert!(is_invalid(&r), "name {bad}: {r:?}");
    }

    // An attribute change naming an id outside the batch's table.
    let mut batch = golden_mutations();
    batch.attrs[1].name = Name(DYNAMIC_NAME_BASE + 1);
    assert!(is_invalid(&decode(&encode(&Message::Mutations(batch)))));
    // And a subtree's attribute.
    let mut batch = golden_mutations();
    if let Insert::New(sub) = &mut batch.inserts[0]
        && let NodeData::Element { attrs, .. } = &mut sub.nodes[0].data
    {
        attrs[0].name = Name(u32::MAX);
    }
    assert!(is_invalid(&decode(&encode(&Message::Mutations(batch)))));
}

/// Feeds all golden messages, length-delimited, one byte at a time: the reader says "need more"
/// until each frame is complete and never mistakes a partial frame for an invalid one.
#[test]
fn frame_reader_byte_by_byte() {
    let table = golden_table();
    let mut stream = Vec::new();
    let mut ends = Vec::new();
    for g in &table {
        stream.extend_from_slice(&encode_delimited(&g.msg));
        ends.push(stream.len());
    }
    let mut reader = FrameReader::default();
    let mut got = Vec::new();
    for (i, byte) in stream.iter().enumerate() {
        reader.extend(&[*byte]);
        match reader.next_message() {
            Ok(None) => assert!(!ends.contains(&(i + 1)), "frame ending at {i} not returned"),
            Ok(Some(msg)) => {
                assert_eq!(ends[got.len()], i + 1, "frame returned early");
                got.push(msg);
                assert_eq!(reader.buffered(), 0);
            }
            Err(e) => panic!("byte {i}: {e}"),
        }
    }
    assert_eq!(reader.next_message(), Ok(None));
    let want: Vec<_> = table.into_iter().map(|g| g.msg).collect();
    assert_eq!(got, want);
}

#[test]
fn frame_reader_returns_every_whole_frame_from_one_chunk() {
    let mut reader = FrameReader::default();
    let mut chunk = encode_delimited(&Message::Ping(7));
    chunk.extend(encode_delimited(&Message::Leave));
    chunk.extend(&encode_delimited(&Message::Pong(7))[..2]);
    reader.extend(&chunk);
    assert_eq!(reader.next_message(), Ok(Some(Message::Ping(7))));
    assert_eq!(reader.next_message(), Ok(Some(Message::Leave)));
    assert_eq!(reader.next_message(), Ok(None));
    assert_eq!(reader.buffered(), 2);
}

#[test]
fn frame_reader_tells_invalid_from_need_more() {
    // A whole frame of the wrong version: need-more until its last byte, then invalid; the bad
    // frame is consumed, so the caller may log it and go on (or close).
    let mut reader = FrameReader::default();
    let bad = [2u8, 2, 0x15]; // length 2, version 2, tag Leave
    reader.extend(&bad[..2]);
    assert_eq!(reader.next_message(), Ok(None));
    reader.extend(&bad[2..]);
    assert_eq!(
        reader.next_message(),
        Err(DecodeError::UnsupportedVersion(2))
    );
    reader.extend(&encode_delimited(&Message::Leave));
    assert_eq!(reader.next_message(), Ok(Some(Message::Leave)));

    // A zero-length frame is an empty frame.
    let mut reader = FrameReader::default();
    reader.extend(&[0]);
    assert_eq!(reader.next_message(), Err(DecodeError::Empty));

    // A length prefix over the frame limit is refused as soon as the prefix is complete,
    // before any of the body arrives.
    let mut reader = FrameReader::new(Limits {
        max_frame_bytes: 100,
        ..Limits::default()
    });
    reader.extend(&[0xe5]); // 101 = 0x65, continuation bit set: prefix not complete yet
    assert_eq!(reader.next_message(), Ok(None));
    reader.extend(&[0x00]); // 0x65 + 0·128 = 101
    let (what, limit, actual) =
        too_large(reader.next_message().map(|m| m.unwrap_or(Message::Leave)));
    assert_eq!((what, limit, actual), ("frame", 100, 101));

    // A length prefix that overflows u64 is invalid once it is provably malformed; nine
    // continuation bytes are still only "need more".
    let mut reader = FrameReader::default();
    reader.extend(&[0xff; 9]);
    assert_eq!(reader.next_message(), Ok(None));
    reader.extend(&[0xff]);
    assert!(matches!(
        reader.next_message(),
        Err(DecodeError::Invalid(_))
    ));
}

#[test]
fn delimited_length_reports_prefix_size() {
    let limits = Limits::default();
    assert_eq!(decode_delimited_len(&[], &limits), Ok(None));
    assert_eq!(decode_delimited_len(&[0x05, 1], &limits), Ok(Some((5, 1))));
    assert_eq!(
        decode_delimited_len(&[0xac, 0x02], &limits),
        Ok(Some((300, 2)))
    );
    let framed = encode_delimited(&Message::Ping(1));
    assert_eq!(framed, hex_to_bytes("03 01 11 01"));
}
