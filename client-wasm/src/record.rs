//! One MutationObserver record as plain data: what the browser side hands the coalescer, and
//! what the native test DOM logs for it.

/// One MutationObserver record, reduced to plain data.
#[derive(Debug, Clone)]
pub enum Record<N> {
    /// `childList`.
    ChildList {
        /// Nodes in `addedNodes`.
        added: Vec<N>,
        /// Nodes in `removedNodes`.
        removed: Vec<N>,
    },
    /// `attributes` (observed with `attributeOldValue`).
    Attribute {
        /// The element.
        target: N,
        /// Attribute name.
        name: String,
        /// Value before this change.
        old: Option<String>,
        /// Its value when the records were read, if the reader read it (`None`: ask the DOM);
        /// nothing runs between that read and the coalescer's, so it is the same answer for
        /// one call fewer.
        now: Option<Option<String>>,
    },
    /// `characterData` (observed with `characterDataOldValue`).
    Text {
        /// The text or comment node.
        target: N,
        /// Data before this change.
        old: Option<String>,
    },
}

/// Reads the records `dom_reader.js` (`readRecords`) packed into one string, with the `count`
/// nodes it set aside (`node(i)` is the i-th). `None` when the string is not such a packing or
/// does not use exactly those nodes (the caller then reads the records one by one).
pub fn unpack<N>(
    packed: &str,
    count: u32,
    node: impl Fn(u32) -> Option<N>,
) -> Option<Vec<Record<N>>> {
    let mut out = Vec::new();
    let mut fields = packed.split('\0');
    let mut used = 0u32;
    let mut ended = false;
    let mut take = |n: u32| -> Option<Vec<N>> {
        let taken = (used..used.checked_add(n)?).map(&node).collect();
        used += n;
        taken
    };
    while let Some(head) = fields.next() {
        let Some((&kind, _)) = head.as_bytes().split_first() else {
            // Only the text after the last separator is empty.
            if fields.next().is_some() {
                return None;
            }
            ended = true;
            break;
        };
        let rest = &head[1..];
        match kind {
            b'L' => {
                let (a, r) = rest.split_once(',')?;
                let added = take(a.parse().ok()?)?;
                let removed = take(r.parse().ok()?)?;
                out.push(Record::ChildList { added, removed });
            }
            b'A' | b'T' => {
                let flag = |f: &str, value: &str| match f {
                    "1" => Some(Some(value.to_owned())),
                    "0" => Some(None),
                    _ => None,
                };
                let (had_old, rest) = rest.split_at_checked(1)?;
                let old = flag(had_old, fields.next()?)?;
                let target = take(1)?.pop()?;
                out.push(match kind {
                    b'A' => {
                        let (has_now, name) = rest.split_at_checked(1)?;
                        if name.is_empty() {
                            return None;
                        }
                        Record::Attribute {
                            target,
                            name: name.to_owned(),
                            old,
                            now: Some(flag(has_now, fields.next()?)?),
                        }
                    }
                    _ if rest.is_empty() => Record::Text { target, old },
                    _ => return None,
                });
            }
            _ => return None,
        }
    }
    // Every packing ends with a separator: a string that stops inside a record is cut short.
    (ended && used == count).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(count: u32) -> impl Fn(u32) -> Option<u32> {
        move |i| (i < count).then_some(i)
    }

    #[test]
    fn unpacks_every_kind_in_order() {
        let packed = "L2,1\0A01class\0\0on\0A11data-v\0a b\0\0T1\0old\0text\0T0\0\0L0,0\0";
        // The NUL inside "old\0text" is not possible (`dom_reader.js` gives up then), so here
        // it splits: this packing is refused.
        assert!(unpack(packed, 7, node(7)).is_none());

        let packed = "L2,1\0A01class\0\0on\0A10data-v\0a b\0\0T1\0old text\0T0\0\0L0,0\0";
        let recs = unpack(packed, 7, node(7)).expect("valid packing");
        assert_eq!(recs.len(), 6);
        assert!(matches!(&recs[0], Record::ChildList { added, removed }
            if added == &[0, 1] && removed == &[2]));
        assert!(
            matches!(&recs[1], Record::Attribute { target: 3, name, old: None, now: Some(Some(v)) }
            if name == "class" && v == "on")
        );
        assert!(
            matches!(&recs[2], Record::Attribute { target: 4, name, old: Some(o), now: Some(None) }
            if name == "data-v" && o == "a b")
        );
        assert!(matches!(&recs[3], Record::Text { target: 5, old: Some(o) } if o == "old text"));
        assert!(matches!(
            &recs[4],
            Record::Text {
                target: 6,
                old: None
            }
        ));
        assert!(
            matches!(&recs[5], Record::ChildList { added, removed } if added.is_empty() && removed.is_empty())
        );
        assert_eq!(unpack("", 0, node(0)).map(|r| r.len()), Some(0));
    }

    #[test]
    fn refuses_what_dom_reader_does_not_write() {
        for (packed, count) in [
            ("L2,1\0", 2),           // fewer nodes than named
            ("L1,0\0", 2),           // more nodes than named
            ("Aclass\0\0\0", 1),     // no flags
            ("A21class\0\0\0", 1),   // an old-value flag that is not 0 or 1
            ("A12class\0x\0y\0", 1), // a current-value flag that is not 0 or 1
            ("A11\0x\0y\0", 1),      // an attribute without a name
            ("T1x\0y\0", 1),         // text with a name
            ("A11class\0x\0", 1),    // a missing current value
            ("A1class\0", 1),        // a missing old value
            ("X\0", 0),              // an unknown kind
            ("L1\0", 1),             // a count pair without a comma
            ("\0L0,0\0", 0),         // an empty field before the end
        ] {
            assert!(unpack(packed, count, node(count)).is_none(), "{packed:?}");
        }
    }
}
