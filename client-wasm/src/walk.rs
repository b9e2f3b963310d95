//! A whole subtree as `dom_reader.js` (`walk`) reads it in one call: each captured node in
//! pre-order, with what the capture walk would otherwise ask the DOM about it one call at a time
//! (its description, how many children it has, whether a mask rule matches it, its scroll
//! offsets). Read here, natively tested; [`crate::capture::serialize_subtree`] consumes it
//! exactly as it walks a [`crate::capture::DomTree`] node by node.
//!
//! The packing: NUL-separated fields. Per node a header `<kind><children>,<mask>,<x>,<y>`, then
//! by kind: `E` tag, namespace (`''` for XHTML), attribute count, then name and value per
//! attribute; `T` (text, CDATA) and `C` (comment) the data; `S` nothing (the reader describes
//! that node itself: documents, doctypes, shadow roots, hidden elements, a field with a NUL);
//! `R`, the walk's root, nothing (its caller described it). `<mask>` is `1` when a mask rule's
//! selector matches the element itself; `<x>,<y>` its scroll offsets (`0,0` when not read).

use crate::capture::RawNode;
use cobrowse_protocol::Namespace;

/// One node of a walk, in pre-order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkEntry<N> {
    /// The node.
    pub node: N,
    /// Its description (`None` for the root: its caller has it).
    pub raw: Option<RawNode>,
    /// How many captured children follow it (their subtrees in order).
    pub children: u32,
    /// A mask rule's selector matches the element itself (ancestors not considered).
    pub masked_itself: bool,
    /// Non-zero scroll offsets, when they were read.
    pub scroll: Option<(i32, i32)>,
}

/// Reads a packing with the `count` nodes it names (`node(i)` is the i-th, pre-order);
/// `describe` describes the nodes the packing leaves to the reader. `None` when the string is
/// not such a packing, does not use exactly those nodes, is not one tree rooted at its first
/// node, or `describe` gives up on a node (the caller then walks node by node).
pub fn unpack<N>(
    packed: &str,
    count: u32,
    node: impl Fn(u32) -> Option<N>,
    mut describe: impl FnMut(&N) -> Option<RawNode>,
) -> Option<Vec<WalkEntry<N>>> {
    let mut fields = packed.split('\0');
    let mut out: Vec<WalkEntry<N>> = Vec::with_capacity(count as usize);
    // Children still expected by the open ancestors: the packing must be exactly one tree.
    let mut open: Vec<u32> = Vec::new();
    while let Some(header) = fields.next() {
        let i = out.len() as u32;
        if i >= count {
            return None;
        }
        if i > 0 {
            let top = open.last_mut()?;
            *top -= 1;
            if *top == 0 {
                open.pop();
            }
        }
        let kind = *header.as_bytes().first()?;
        let mut numbers = header.get(1..)?.split(',');
        let children: u32 = numbers.next()?.parse().ok()?;
        let masked_itself = match numbers.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let x: i32 = numbers.next()?.parse().ok()?;
        let y: i32 = numbers.next()?.parse().ok()?;
        if numbers.next().is_some() {
            return None;
        }
        let n = node(i)?;
        let raw = match (kind, i == 0) {
            (b'R', true) => None,
            (_, true) => return None,
            (b'E', false) => {
                let tag = fields.next()?.to_owned();
                let ns = Namespace::from_uri(fields.next().filter(|s| !s.is_empty()));
                let attrs_len: usize = fields.next()?.parse().ok()?;
                let mut attrs = Vec::with_capacity(attrs_len.min(64));
                for _ in 0..attrs_len {
                    attrs.push((fields.next()?.to_owned(), fields.next()?.to_owned()));
                }
                Some(RawNode::Element { tag, ns, attrs })
            }
            (b'T', false) => Some(RawNode::Text(fields.next()?.to_owned())),
            (b'C', false) => Some(RawNode::Comment(fields.next()?.to_owned())),
            (b'S', false) => Some(describe(&n)?),
            _ => return None,
        };
        if children > 0 {
            open.push(children);
        }
        out.push(WalkEntry {
            node: n,
            raw,
            children,
            masked_itself,
            scroll: (x != 0 || y != 0).then_some((x, y)),
        });
        if open.is_empty() && fields.clone().next().is_some() {
            return None; // a second tree after the first one ended
        }
    }
    (out.len() as u32 == count && open.is_empty() && !out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(packed: &str, count: u32) -> Option<Vec<WalkEntry<u32>>> {
        unpack(
            packed,
            count,
            |i| (i < count).then_some(i),
            |n| {
                (*n != 99).then(|| RawNode::Document {
                    url: format!("slow {n}"),
                })
            },
        )
    }

    #[test]
    fn reads_every_kind_in_pre_order() {
        let packed = [
            "R2,0,0,0",
            "E2,1,10,-3",
            "div",
            "",
            "2",
            "id",
            "a",
            "class",
            "",
            "T0,0,0,0",
            "hi",
            "C0,0,0,0",
            "x",
            "S0,0,0,0",
        ]
        .join("\0");
        let w = read(&packed, 5).expect("valid");
        assert_eq!(w.len(), 5);
        assert_eq!(w[0].raw, None);
        assert_eq!(w[0].children, 2);
        assert_eq!(
            w[1].raw,
            Some(RawNode::Element {
                tag: "div".into(),
                ns: Namespace::Html,
                attrs: vec![("id".into(), "a".into()), ("class".into(), String::new())],
            })
        );
        assert!(w[1].masked_itself);
        assert_eq!(w[1].scroll, Some((10, -3)));
        assert_eq!(w[2].raw, Some(RawNode::Text("hi".into())));
        assert_eq!(w[2].scroll, None);
        assert_eq!(w[3].raw, Some(RawNode::Comment("x".into())));
        assert_eq!(
            w[4].raw,
            Some(RawNode::Document {
                url: "slow 4".into()
            })
        );
        assert_eq!(
            w.iter().map(|e| e.node).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn reads_namespaces_and_empty_texts() {
        let packed = [
            "R1,0,0,0",
            "E1,0,0,0",
            "svg",
            "http://www.w3.org/2000/svg",
            "0",
            "T0,0,0,0",
            "",
        ]
        .join("\0");
        let w = read(&packed, 3).expect("valid");
        assert!(matches!(
            &w[1].raw,
            Some(RawNode::Element {
                ns: Namespace::Svg,
                ..
            })
        ));
        assert_eq!(w[2].raw, Some(RawNode::Text(String::new())));
    }

    #[test]
    fn refuses_what_is_not_exactly_one_tree_of_those_nodes() {
        let ok = "R1,0,0,0\0T0,0,0,0\0a";
        assert!(read(ok, 2).is_some());
        for (bad, count) in [
            ("R1,0,0,0\0T0,0,0,0\0a", 3),   // fewer nodes than handed over
            ("R1,0,0,0\0T0,0,0,0\0a", 1),   // more nodes than handed over
            ("R2,0,0,0\0T0,0,0,0\0a", 2),   // a child missing
            ("R0,0,0,0\0T0,0,0,0\0a", 2),   // a second tree
            ("R1,0,0,0\0R0,0,0,0", 2),      // a root inside
            ("T0,0,0,0\0a", 1),             // a root that is not one
            ("R1,2,0,0\0T0,0,0,0\0a", 2),   // a mask flag that is not 0 or 1
            ("R1,0,0\0T0,0,0,0\0a", 2),     // a short header
            ("R1,0,0,0,0\0T0,0,0,0\0a", 2), // a long header
            ("R1,0,0,0\0E0,0,0,0\0p\0\0\x32\0a\0b", 2), // an attribute missing
            ("R1,0,0,0\0Q0,0,0,0", 2),      // an unknown kind
            ("", 0),
        ] {
            assert!(read(bad, count).is_none(), "{bad:?} with {count} nodes");
        }
        // A node the reader describes itself is fine; one it gives up on makes the whole walk
        // fall back.
        assert!(read("R1,0,0,0\0S0,0,0,0", 2).is_some());
        let gives_up = unpack(
            "R1,0,0,0\0S0,0,0,0",
            2,
            |i| Some(if i == 1 { 99 } else { i }),
            |n| (*n != 99).then(|| RawNode::Text(String::new())),
        );
        assert!(gives_up.is_none());
    }
}
