//! The golden table: one (message, bytes) pair per case, shared by the golden, limit and size tests.
//!
//! Every hex string was written by hand from the frame layout, not pasted from the encoder's
//! output, and each segment carries a comment saying which field it is. Reminders for reading it:
//!
//! * A frame is `[version = 01] [tag: LEB128 varint] [postcard body]`.
//! * postcard: unsigned integers (`u16`/`u32`/`u64`) are LEB128 varints (7 bits per byte, low
//!   group first, high bit = "more follows"); `i32` is zigzag-mapped first (`-1 → 1`, `1 → 2`,
//!   `-3 → 5`); `u8` and `bool` are one raw byte; `Option` is `00` or `01 <value>`; strings and
//!   sequences are `<len varint> <items>`; an enum is `<variant index varint> <payload>`; structs
//!   and tuples are their fields in order, with nothing between them.
//! * Names: static dictionary ids (`div` 0, `path` 11, `svg` 12, `body` 48, `html` 50, `class` 59,
//!   `id` 60, `d` 74, `viewBox` 76) cost one byte; dynamic names (the message's own table) start at
//!   `DYNAMIC_NAME_BASE` = 1024 = `80 08` (1024 = 8·128 + 0: low group 0 | 0x80, then 8).
//!
//! The table also feeds `tests/fixtures/golden.json`, which JavaScript tests decode.

#![allow(dead_code)] // Each test crate that includes this module uses a different part of it.

use cobrowse_protocol::*;

/// One golden case.
pub struct Golden {
    /// Short stable identifier (used as the fixture's key).
    pub name: &'static str,
    /// What the case shows, for people reading the fixture.
    pub description: &'static str,
    /// The message.
    pub msg: Message,
    /// Its exact frame, as hex; spaces are for reading and are ignored.
    pub hex: &'static str,
}

impl Golden {
    /// The frame bytes this case expects.
    pub fn bytes(&self) -> Vec<u8> {
        hex_to_bytes(self.hex)
    }
}

/// Parses hex with optional whitespace. Panics on a typo in the table (a test bug, not input).
pub fn hex_to_bytes(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd number of hex digits in {hex:?}"
    );
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).expect("ascii");
            u8::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex {s:?} in {hex:?}"))
        })
        .collect()
}

/// Lower-case hex without spaces.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn el(tag: Name, ns: Namespace, attrs: Vec<Attribute>, children: u32) -> NodeRecord {
    NodeRecord::new(NodeData::Element { tag, ns, attrs }, children)
}

fn attr(name: Name, value: &str) -> Attribute {
    Attribute {
        name,
        value: value.into(),
    }
}

/// Static dictionary ids used below, checked against the dictionary by `dictionary_ids_are_as_documented`.
pub mod ids {
    use cobrowse_protocol::Name;
    pub const DIV: Name = Name(0);
    pub const PATH: Name = Name(11);
    pub const SVG: Name = Name(12);
    pub const BODY: Name = Name(48);
    pub const HTML: Name = Name(50);
    pub const CLASS: Name = Name(59);
    pub const ID: Name = Name(60);
    pub const D: Name = Name(74);
    pub const VIEW_BOX: Name = Name(76);
    /// The first dynamic name of a message's table.
    pub const FIRST_DYNAMIC: Name = Name(1024);
}

/// The page used by the snapshot case: SVG, a custom element (dynamic name), a shadow root,
/// a doctype, text and a comment.
pub fn golden_snapshot() -> Snapshot {
    use ids::*;
    let mut names = NameTable::new();
    let widget = names.intern("my-widget");
    assert_eq!(widget, FIRST_DYNAMIC);
    Snapshot {
        names,
        first_id: 1,
        nodes: vec![
            NodeRecord::new(
                NodeData::Document {
                    url: "http://x/".into(),
                },
                2,
            ),
            NodeRecord::new(
                NodeData::Doctype {
                    name: "html".into(),
                    public_id: String::new(),
                    system_id: String::new(),
                },
                0,
            ),
            el(HTML, Namespace::Html, vec![], 1),
            el(BODY, Namespace::Html, vec![], 2),
            el(widget, Namespace::Html, vec![attr(CLASS, "row")], 1),
            NodeRecord::new(NodeData::ShadowRoot { open: true }, 1),
            NodeRecord::new(NodeData::Text("hi".into()), 0),
            el(SVG, Namespace::Svg, vec![attr(VIEW_BOX, "0 0 1 1")], 2),
            el(PATH, Namespace::Svg, vec![attr(D, "M0")], 0),
            NodeRecord::new(NodeData::Comment("c".into()), 0),
        ],
        form: vec![FormValue {
            node: 5,
            state: FormState::Value("v".into()),
        }],
        scroll: vec![ScrollPosition {
            target: ScrollTarget::Window,
            x: 0,
            y: -3,
        }],
        viewport: Viewport {
            width: 1280,
            height: 720,
            dpr_centi: 200,
        },
        sheets: vec![SheetState {
            sheet: 3,
            owner: SheetOwner::Constructed,
            rules: vec!["a{b:c}".into()],
            base_url: None,
            disabled: false,
        }],
    }
}

/// The batch used by the mutation case: removes, a new subtree (dynamic name, foreign namespace),
/// a move, an attribute set and an attribute removal, a text change.
pub fn golden_mutations() -> MutationBatch {
    use ids::*;
    let mut names = NameTable::new();
    let xy = names.intern("x-y");
    assert_eq!(xy, FIRST_DYNAMIC);
    MutationBatch {
        names,
        removes: vec![7, 200],
        inserts: vec![
            Insert::New(AddedSubtree {
                parent: 2,
                next_sibling: Some(9),
                first_id: 300,
                nodes: vec![
                    el(xy, Namespace::Other("urn:x".into()), vec![attr(ID, "k")], 1),
                    NodeRecord::new(NodeData::Text("t".into()), 0),
                ],
            }),
            Insert::Move {
                node: 8,
                parent: 2,
                next_sibling: None,
            },
        ],
        attrs: vec![
            AttrChange {
                node: 4,
                name: CLASS,
                value: Some("on".into()),
            },
            AttrChange {
                node: 4,
                name: xy,
                value: None,
            },
        ],
        texts: vec![TextChange {
            node: 6,
            text: "new".into(),
        }],
    }
}

/// The table. Covers every `Message` variant at least once (checked by `table_covers_every_tag`).
pub fn golden_table() -> Vec<Golden> {
    vec![
        Golden {
            name: "hello",
            description: "Agent's first frame with an agent id and a resume point",
            msg: Message::Hello(Hello {
                role: Role::Agent,
                token: "123456789".into(),
                auth: None,
                agent_id: Some("a7".into()),
                resume_from: Some(300),
                client: "t/1".into(),
                link: None,
                observe: false,
            }),
            hex: concat!(
                "01 01",                  // version 1, tag 1 (Hello)
                " 01",                    // role: Agent (variant 1)
                " 09 313233343536373839", // token: len 9, "123456789"
                " 00",                    // auth: None
                " 01 02 6137",            // agent_id: Some("a7")
                " 01 ac02",               // resume_from: Some(300): 300 = 2·128 + 44 → 0xac 0x02
                " 03 742f31",             // client: "t/1"
                " 00",                    // link: None (a client without sequencing)
                " 00",                    // observe: false
            ),
        },
        Golden {
            name: "hello_link",
            description: "A customer reconnecting on the same page: continue link 5 after frame 12",
            msg: Message::Hello(Hello {
                role: Role::Customer,
                token: "123456789".into(),
                auth: Some("s".into()),
                agent_id: None,
                resume_from: Some(12),
                client: "t/1".into(),
                link: Some(LinkHello {
                    id: 5,
                    replay: true,
                }),
                observe: false,
            }),
            hex: concat!(
                "01 01",                  // version 1, tag 1 (Hello)
                " 00",                    // role: Customer
                " 09 313233343536373839", // token
                " 01 01 73",              // auth: Some("s")
                " 00",                    // agent_id: None
                " 01 0c",                 // resume_from: Some(12)
                " 03 742f31",             // client: "t/1"
                " 01 05 01",              // link: Some { id: 5, replay: true }
                " 00",                    // observe: false
            ),
        },
        Golden {
            name: "hello_observe",
            description: "A supervisor joining to watch: an agent that never takes control by joining",
            msg: Message::Hello(Hello {
                role: Role::Agent,
                token: "123456789".into(),
                auth: None,
                agent_id: Some("a7".into()),
                resume_from: None,
                client: "t/1".into(),
                link: Some(LinkHello {
                    id: 0,
                    replay: false,
                }),
                observe: true,
            }),
            hex: concat!(
                "01 01",                  // version 1, tag 1 (Hello)
                " 01",                    // role: Agent
                " 09 313233343536373839", // token
                " 00",                    // auth: None
                " 01 02 6137",            // agent_id: Some("a7")
                " 00",                    // resume_from: None
                " 03 742f31",             // client: "t/1"
                " 01 00 00",              // link: Some { id: 0, replay: false }
                " 01",                    // observe: true
            ),
        },
        Golden {
            name: "welcome",
            description: "Server's answer to Hello, with a 6-byte millisecond timestamp",
            msg: Message::Welcome(Welcome {
                role: Role::Customer,
                token: "123456789".into(),
                history_id: "h-1".into(),
                state: SessionState::Active,
                mode: Mode::Write,
                write_mode_allowed: true,
                agents: 2,
                server_time_ms: 1_700_000_000_000,
                node: "n1".into(),
                link: None,
                batch: false,
            }),
            hex: concat!(
                "01 02",                  // version, tag 2 (Welcome)
                " 00",                    // role: Customer
                " 09 313233343536373839", // token
                " 03 682d31",             // history_id "h-1"
                " 01",                    // state: Active
                " 01",                    // mode: Write
                " 01",                    // write_mode_allowed: true
                " 02",                    // agents: 2
                // 1.7e12 < 2^41, so 6 groups of 7 bits; the last group 0x31 = 49 ≈ 1.7e12 / 2^35.
                " 80d095ffbc31",
                " 02 6e31", // node "n1"
                " 00",      // link: None (the client sent none)
                " 00",      // batch: false
            ),
        },
        Golden {
            name: "welcome_link",
            description: "Link 5 resumed: the server applied the client's frames up to 7; keep-alive every 20 s",
            msg: Message::Welcome(Welcome {
                role: Role::Customer,
                token: "123456789".into(),
                history_id: "h-1".into(),
                state: SessionState::Active,
                mode: Mode::Pointer,
                write_mode_allowed: false,
                agents: 1,
                server_time_ms: 1,
                node: "n1".into(),
                link: Some(LinkWelcome {
                    id: 5,
                    resumed: true,
                    received: 7,
                    keepalive_ms: 20_000,
                }),
                batch: true,
            }),
            hex: concat!(
                "01 02",                  // version, tag 2 (Welcome)
                " 00",                    // role: Customer
                " 09 313233343536373839", // token
                " 03 682d31",             // history_id "h-1"
                " 01 00 00",              // state Active, mode Pointer, write mode not allowed
                " 01 01",                 // agents 1, server_time_ms 1
                " 02 6e31",               // node "n1"
                " 01 05 01 07",           // link: Some { id 5, resumed, received 7,
                " a09c01",                //   keepalive_ms 20000 = 156·128 + 32 → a0 9c 01 }
                " 01",                    // batch: true (Batch frames taken)
            ),
        },
        Golden {
            name: "session_agent_joined",
            description: "An agent joined",
            msg: Message::Session(SessionEvent::AgentJoined {
                agent_id: Some("a7".into()),
                agents: 1,
            }),
            hex: "01 03  00  01 02 6137  01", // tag 3, variant 0, Some("a7"), agents 1
        },
        Golden {
            name: "session_ended_other",
            description: "The session ended for a free-text reason",
            msg: Message::Session(SessionEvent::Ended(EndReason::Other("x".into()))),
            hex: "01 03  04  07 01 78", // Ended is variant 4; EndReason::Other is variant 7
        },
        Golden {
            name: "session_owner_changed",
            description: "Cluster failover: another node owns the session",
            msg: Message::Session(SessionEvent::OwnerChanged {
                server_url: "http://b".into(),
            }),
            hex: "01 03  07  08 687474703a2f2f62", // variant 7, "http://b"
        },
        Golden {
            name: "snapshot",
            description: "A page with doctype, custom element (dynamic name), shadow root, SVG, \
                          comment, form value, scroll, viewport and a constructed sheet",
            msg: Message::Snapshot(Box::new(golden_snapshot())),
            hex: concat!(
                "01 04",                                // version, tag 4 (Snapshot)
                " 01 09 6d792d776964676574",            // names: ["my-widget"] → id 1024
                " 01",                                  // first_id 1
                " 0a",                                  // 10 node records:
                " 00 09 687474703a2f2f782f 02",         // 1 Document{url "http://x/"}, 2 children
                " 01 04 68746d6c 00 00 00",             // 2 Doctype{"html", "", ""}, 0 children
                " 02 32 00 00 01", // 3 Element html(50) Html, no attrs, 1 child
                " 02 30 00 00 02", // 4 Element body(48), 2 children
                " 02 8008 00 01 3b 03 726f77 01", // 5 my-widget(1024) class(59)="row", 1 child
                " 05 01 01",       // 6 ShadowRoot{open}, 1 child
                " 03 02 6869 00",  // 7 Text "hi"
                " 02 0c 01 01 4c 07 30203020312031 02", // 8 svg(12) ns Svg viewBox(76)="0 0 1 1"
                " 02 0b 01 01 4a 02 4d30 00", // 9 path(11) ns Svg d(74)="M0"
                " 04 01 63 00",    // 10 Comment "c"
                " 01 05 00 01 76", // form: [node 5: Value("v")]
                " 01 00 00 05",    // scroll: [Window, x 0, y -3 (zigzag 5)]
                " 800a d005 c801", // viewport 1280, 720, dpr 200
                " 01 03 01 01 06 617b623a637d 00 00", // sheets: [3, Constructed, ["a{b:c}"], None, false]
            ),
        },
        Golden {
            name: "mutations",
            description: "Removes, a new subtree in a foreign namespace with a dynamic tag, a \
                          move, an attribute set and removal, a text change",
            msg: Message::Mutations(golden_mutations()),
            hex: concat!(
                "01 05",                                    // version, tag 5 (Mutations)
                " 01 03 782d79",                            // names: ["x-y"] → id 1024
                " 02 07 c801",                              // removes: [7, 200]
                " 02",                                      // 2 inserts:
                " 00 02 01 09 ac02", // New: parent 2, next_sibling Some(9), first_id 300
                " 02",               //   2 records:
                " 02 8008 03 05 75726e3a78 01 3c 01 6b 01", //   x-y, Other("urn:x"), id(60)="k", 1 child
                " 03 01 74 00",                             //   Text "t"
                " 01 08 02 00",      // Move: node 8, parent 2, next_sibling None
                " 02",               // 2 attribute changes:
                " 04 3b 01 02 6f6e", // node 4 class = Some("on")
                " 04 8008 00",       // node 4 x-y removed
                " 01 06 03 6e6577",  // texts: [node 6 "new"]
            ),
        },
        Golden {
            name: "form",
            description: "A checkbox and a multiple select",
            msg: Message::Form(vec![
                FormValue {
                    node: 1,
                    state: FormState::Checked(true),
                },
                FormValue {
                    node: 2,
                    state: FormState::Selected(vec![0, 2]),
                },
            ]),
            hex: "01 06  02  01 01 01  02 02 02 00 02", // [1: Checked(true)], [2: Selected([0, 2])]
        },
        Golden {
            name: "form_indeterminate",
            description: "A checkbox set indeterminate by script, unchecked underneath",
            msg: Message::Form(vec![FormValue {
                node: 3,
                state: FormState::Indeterminate(false),
            }]),
            hex: "01 06  01  03 03 00", // [3: Indeterminate(false)]
        },
        Golden {
            name: "scroll_element",
            description: "An element scrolled; negative and two-byte values",
            msg: Message::Scroll(ScrollPosition {
                target: ScrollTarget::Node(130),
                x: -1,
                y: 64,
            }),
            hex: "01 07  01 8201  01  8001", // Node(130), x -1 → 1, y 64 → 128 = 0x80 0x01
        },
        Golden {
            name: "viewport",
            description: "A phone viewport",
            msg: Message::Viewport(Viewport {
                width: 390,
                height: 844,
                dpr_centi: 300,
            }),
            hex: "01 08  8603  cc06  ac02", // 390 = 3·128+6, 844 = 6·128+76, 300 = 2·128+44
        },
        Golden {
            name: "pointer_agent",
            description: "The agent's pointer in the top document",
            msg: Message::Pointer(Pointer {
                party: Party::Agent,
                pos: Some((10, -10)),
                frame: None,
            }),
            hex: "01 09  01  01 14 13  00", // Agent, Some((10 → 20, -10 → 19)), frame None
        },
        Golden {
            name: "pointer_left",
            description: "The customer's pointer left an iframe's window",
            msg: Message::Pointer(Pointer {
                party: Party::Customer,
                pos: None,
                frame: Some(77),
            }),
            hex: "01 09  00  00  01 4d",
        },
        Golden {
            name: "click",
            description: "A customer click on a known element",
            msg: Message::Click(Click {
                party: Party::Customer,
                x: 5,
                y: 6,
                node: Some(42),
            }),
            hex: "01 0a  00  0a 0c  01 2a", // zigzag 5 → 10, 6 → 12
        },
        Golden {
            name: "pseudo",
            description: "The agent hovers node 1 with keyboard focus style",
            msg: Message::Pseudo(PseudoState {
                party: Party::Agent,
                hover: Some(1),
                focus: None,
                focus_visible: true,
                active: None,
            }),
            hex: "01 0b  01  01 01  00  01  00",
        },
        Golden {
            name: "sheet_set",
            description: "A link sheet's full content",
            msg: Message::Sheet(SheetOp::Set(SheetState {
                sheet: 2,
                owner: SheetOwner::Node(9),
                rules: vec![],
                base_url: Some("http://x/a.css".into()),
                disabled: true,
            })),
            // Set(0): sheet 2, Node(9), no rules, Some("http://x/a.css"), disabled
            hex: "01 0c  00  02  00 09  00  01 0e 687474703a2f2f782f612e637373  01",
        },
        Golden {
            name: "sheet_insert",
            description: "insertRule inside a grouping rule",
            msg: Message::Sheet(SheetOp::Insert {
                sheet: 1,
                path: vec![0, 2],
                rule: "p{}".into(),
            }),
            hex: "01 0c  01  01  02 00 02  03 707b7d",
        },
        Golden {
            name: "sheet_delete",
            description: "deleteRule",
            msg: Message::Sheet(SheetOp::Delete {
                sheet: 1,
                path: vec![3],
            }),
            hex: "01 0c  02  01  01 03",
        },
        Golden {
            name: "sheet_adopt",
            description: "adoptedStyleSheets changed",
            msg: Message::Sheet(SheetOp::Adopt {
                target: 1,
                sheets: vec![2, 3],
            }),
            hex: "01 0c  03  01  02 02 03",
        },
        Golden {
            name: "sheet_remove",
            description: "A sheet is gone",
            msg: Message::Sheet(SheetOp::Remove { sheet: 2 }),
            hex: "01 0c  04  02",
        },
        Golden {
            name: "navigation",
            description: "history.pushState",
            msg: Message::Navigation(Navigation {
                url: "http://x/b".into(),
                title: "B".into(),
                kind: NavKind::Push,
            }),
            hex: "01 0d  0a 687474703a2f2f782f62  01 42  01",
        },
        Golden {
            name: "mode_request",
            description: "The agent asks for write mode",
            msg: Message::Mode(ModeChange::Request),
            hex: "01 0e  00",
        },
        Golden {
            name: "mode_revoked",
            description: "The customer returned to pointer mode",
            msg: Message::Mode(ModeChange::Revoked {
                by: Party::Customer,
            }),
            hex: "01 0e  03 00",
        },
        Golden {
            name: "action_click",
            description: "Write mode: click inside node 12",
            msg: Message::Action(AgentAction::Click {
                node: 12,
                x: 3,
                y: -4,
            }),
            hex: "01 0f  00  0c 06 07", // zigzag 3 → 6, -4 → 7
        },
        Golden {
            name: "action_input",
            description: "Write mode: set a text control's value",
            msg: Message::Action(AgentAction::Input {
                node: 12,
                value: "abc".into(),
            }),
            hex: "01 0f  01  0c  03 616263",
        },
        Golden {
            name: "action_key",
            description: "Write mode: Shift+Ctrl+Enter with no target",
            msg: Message::Action(AgentAction::Key {
                node: None,
                key: "Enter".into(),
                code: "Enter".into(),
                modifiers: modifiers::SHIFT | modifiers::CTRL,
            }),
            hex: "01 0f  02  00  05 456e746572  05 456e746572  03", // u8 modifiers: raw byte
        },
        Golden {
            name: "action_check",
            description: "Write mode: uncheck",
            msg: Message::Action(AgentAction::Check {
                node: 4,
                checked: false,
            }),
            hex: "01 0f  03  04  00",
        },
        Golden {
            name: "action_select",
            description: "Write mode: choose option 1",
            msg: Message::Action(AgentAction::Select {
                node: 4,
                selected: vec![1],
            }),
            hex: "01 0f  04  04  01 01",
        },
        Golden {
            name: "action_focus",
            description: "Write mode: focus",
            msg: Message::Action(AgentAction::Focus { node: 4 }),
            hex: "01 0f  05  04",
        },
        Golden {
            name: "action_scroll",
            description: "Write mode: scroll the window",
            msg: Message::Action(AgentAction::Scroll(ScrollPosition {
                target: ScrollTarget::Window,
                x: 0,
                y: 100,
            })),
            hex: "01 0f  06  00 00 c801", // zigzag 100 → 200 = 0xc8 0x01
        },
        Golden {
            name: "action_navigate_url",
            description: "Write mode: go to a relative URL",
            msg: Message::Action(AgentAction::Navigate(NavAction::Url("/c".into()))),
            hex: "01 0f  07  03 02 2f63",
        },
        Golden {
            name: "action_back",
            description: "Write mode: history.back()",
            msg: Message::Action(AgentAction::Navigate(NavAction::Back)),
            hex: "01 0f  07  00",
        },
        Golden {
            name: "action_edit_insert",
            description: "Write mode: type \"a\" into contenteditable node 12 at offset 5 of text node 13",
            msg: Message::Action(AgentAction::Edit {
                node: 12,
                caret: Some(Caret {
                    node: 13,
                    offset: 5,
                }),
                op: EditOp::Insert("a".into()),
            }),
            hex: "01 0f  08  0c  01 0d 05  00 01 61", // variant 8; Some(caret); Insert = 0, "a"
        },
        Golden {
            name: "action_edit_backspace",
            description: "Write mode: Backspace in node 12 where the previous edit left the caret",
            msg: Message::Action(AgentAction::Edit {
                node: 12,
                caret: None,
                op: EditOp::DeleteBackward,
            }),
            hex: "01 0f  08  0c  00  01",
        },
        Golden {
            name: "refused",
            description: "An action arrived in pointer mode",
            msg: Message::Refused(ActionRefused {
                node: None,
                reason: RefusalReason::NotInWriteMode,
            }),
            hex: "01 10  00  00",
        },
        Golden {
            name: "refused_not_editable",
            description: "An edit targeted node 12, which is not contenteditable on the customer's page",
            msg: Message::Refused(ActionRefused {
                node: Some(12),
                reason: RefusalReason::NotEditable,
            }),
            hex: "01 10  01 0c  05",
        },
        Golden {
            name: "ping",
            description: "Keep-alive",
            msg: Message::Ping(1),
            hex: "01 11  01",
        },
        Golden {
            name: "pong_max",
            description: "Keep-alive answer with the largest u64 (10-byte varint)",
            msg: Message::Pong(u64::MAX),
            hex: "01 12  ffffffffffffffffff01", // 64 bits = 9 full groups of 7 + 1 bit
        },
        Golden {
            name: "error",
            description: "Unknown session",
            msg: Message::Error(ErrorFrame {
                code: ErrorCode::UnknownSession,
                message: "no".into(),
            }),
            hex: "01 13  04  02 6e6f",
        },
        Golden {
            name: "request_snapshot",
            description: "Server asks the customer for a fresh snapshot; no body",
            msg: Message::RequestSnapshot,
            hex: "01 14",
        },
        Golden {
            name: "leave",
            description: "A party ends the session; no body",
            msg: Message::Leave,
            hex: "01 15",
        },
        Golden {
            name: "media",
            description: "A muted video at 1.5 s",
            msg: Message::Media(MediaState {
                node: 3,
                time_ms: 1500,
                paused: false,
                muted: true,
                rate_centi: 100,
            }),
            hex: "01 16  03  dc0b  00  01  64", // 1500 = 11·128 + 92 (0x5c | 0x80 = 0xdc)
        },
        Golden {
            name: "canvas",
            description: "Canvas pixels; bytes are a plain sequence",
            msg: Message::Canvas(CanvasFrame {
                node: 1,
                mime: "image/png".into(),
                data: vec![0, 255],
            }),
            hex: "01 17  01  09 696d6167652f706e67  02 00 ff",
        },
        Golden {
            name: "selection",
            description: "One selected range",
            msg: Message::Selection(vec![SelectionRange {
                start_node: 1,
                start_offset: 0,
                end_node: 7,
                end_offset: 3,
            }]),
            hex: "01 18  01  01 00 07 03",
        },
        Golden {
            name: "controller",
            description: "A controller learns the session is active, since when and with whom",
            msg: Message::Controller(ControllerEvent {
                kind: ControllerEventKind::Activated,
                token: "123456789".into(),
                history_id: "h-1".into(),
                started_at_ms: 5,
                activated_at_ms: Some(7),
                agent_id: Some("a".into()),
            }),
            hex: "01 19  01  09 313233343536373839  03 682d31  05  01 07  01 01 61",
        },
        Golden {
            name: "paint_top_layer",
            description: "A modal dialog under an open popover",
            msg: Message::Paint(Paint::TopLayer(vec![
                TopLayerEntry {
                    node: 7,
                    kind: TopLayerKind::ModalDialog,
                },
                TopLayerEntry {
                    node: 9,
                    kind: TopLayerKind::Popover,
                },
            ])),
            // Paint::TopLayer is variant 4; two entries of (node, kind).
            hex: "01 1a  04  02  07 00  09 01",
        },
        Golden {
            name: "paint_select_popup",
            description: "The native popup of select 3 is open on its third option",
            msg: Message::Paint(Paint::SelectPopup(Some(SelectPopup {
                node: 3,
                highlighted: Some(2),
            }))),
            // Paint::SelectPopup is variant 5; Some, node, Some(highlighted).
            hex: "01 1a  05  01  03  01 02",
        },
        Golden {
            name: "seq",
            description: "Frame 300 of a link: the inner frame Ping(1) follows the number to the end",
            msg: Message::Seq(Sequenced {
                seq: 300,
                frame: vec![0x01, 0x11, 0x01],
            }),
            hex: "01 1b  ac02  011101", // tag 27, seq 300, then the inner frame as it is
        },
        Golden {
            name: "batch",
            description: "Two frames sent as one message: Ping(1), then frame 300 of a link holding Ping(1)",
            msg: Message::Batch(vec![
                vec![0x01, 0x11, 0x01],
                vec![0x01, 0x1b, 0xac, 0x02, 0x01, 0x11, 0x01],
            ]),
            // tag 35; each frame: its length, then its bytes as they are
            hex: "01 23  03 011101  07 011bac02011101",
        },
        Golden {
            name: "ack",
            description: "Every sequenced frame up to 300 was applied",
            msg: Message::Ack(300),
            hex: "01 1c  ac02", // tag 28, 300
        },
        Golden {
            name: "render",
            description: "Two render latencies: 12.5 ms and 300 µs",
            msg: Message::Render(RenderReport {
                samples_us: vec![12_500, 300],
            }),
            hex: "01 1d  02  d461  ac02", // tag 29, two samples: 12500, 300
        },
        Golden {
            name: "ink",
            description: "A highlight stroke's last frame: from (300, 1200) right 4 and down 1, then right 3",
            msg: Message::Ink(Ink {
                stroke: 5,
                tool: InkTool::Highlight,
                start: (300, 1200),
                deltas: vec![(4, 1), (3, 0)],
                done: true,
            }),
            // tag 34, stroke 5, tool 1, start zig-zag 600 = d804, 2400 = e012, two deltas
            // (8, 2) (6, 0), done
            hex: "01 22  05  01  d804 e012  02  0802 0600  01",
        },
        Golden {
            name: "refused_not_in_control",
            description: "An observer's action on node 12: another agent holds control",
            msg: Message::Refused(ActionRefused {
                node: Some(12),
                reason: RefusalReason::NotInControl,
            }),
            hex: "01 10  01 0c  07",
        },
        Golden {
            name: "roster",
            description: "Two agents: seat 1 (\"a7\") holds control, seat 2 (no id) observes; sent to seat 2",
            msg: Message::Roster(Roster {
                agents: vec![
                    Present {
                        seat: 1,
                        agent_id: Some("a7".into()),
                        control: true,
                    },
                    Present {
                        seat: 2,
                        agent_id: None,
                        control: false,
                    },
                ],
                you: Some(2),
            }),
            hex: concat!(
                "01 1e",             // tag 30 (Roster)
                " 02",               // two agents
                " 01 01 02 6137 01", // seat 1, Some("a7"), control
                " 02 00 00",         // seat 2, None, observing
                " 01 02",            // you: Some(2)
            ),
        },
        Golden {
            name: "control_request",
            description: "An observer asks for control",
            msg: Message::Control(ControlChange::Request),
            hex: "01 1f  00", // tag 31, variant 0
        },
        Golden {
            name: "control_requested",
            description: "The agent in control is told that seat 2 asks for it",
            msg: Message::Control(ControlChange::Requested { seat: 2 }),
            hex: "01 1f  01 02",
        },
        Golden {
            name: "control_give",
            description: "The agent in control gives it to seat 2",
            msg: Message::Control(ControlChange::Give { seat: 2 }),
            hex: "01 1f  02 02",
        },
        Golden {
            name: "unknown",
            description: "A tag from a newer peer: kept raw",
            msg: Message::Unknown {
                tag: 200,
                body: vec![1, 2, 3],
            },
            hex: "01 c801  010203", // tag 200 = 128 + 72 → 0xc8 0x01
        },
        Golden {
            name: "unknown_empty",
            description: "A newer tag with no body",
            msg: Message::Unknown {
                tag: 1000,
                body: vec![],
            },
            hex: "01 e807", // 1000 = 7·128 + 104 (0x68 | 0x80 = 0xe8)
        },
    ]
}
