//! Golden frames: the table in `common/mod.rs` drives encode, decode, coverage and the JS fixture.

mod common;

use cobrowse_protocol::*;
use common::{Golden, golden_table, ids, to_hex};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn encode_matches_golden_bytes() {
    let mut failures = Vec::new();
    for g in golden_table() {
        let got = encode(&g.msg);
        if got != g.bytes() {
            failures.push(format!(
                "{}:\n  expected {}\n  encoded  {}",
                g.name,
                to_hex(&g.bytes()),
                to_hex(&got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn decode_matches_golden_messages() {
    for g in golden_table() {
        let decoded = decode(&g.bytes()).unwrap_or_else(|e| panic!("{}: {e}", g.name));
        assert_eq!(decoded, g.msg, "{}", g.name);
        // The tag is readable without decoding the body (the relay's fast path).
        let (tag, _) = peek_tag(&g.bytes()).unwrap_or_else(|e| panic!("{}: {e}", g.name));
        assert_eq!(tag, g.msg.tag(), "{}", g.name);
    }
}

#[test]
fn a_customer_decodes_what_it_is_sent_and_leaves_the_rest_unknown() {
    for g in golden_table() {
        let bytes = g.bytes();
        let got = decode_only::<{ tags::CUSTOMER_RECEIVES }>(&bytes, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", g.name));
        let tag = g.msg.tag();
        if tags::contains(tags::CUSTOMER_RECEIVES, tag) || !is_known_tag(tag) {
            assert_eq!(got, g.msg, "{}", g.name);
        } else {
            // Page state the customer only sends: kept raw, as a newer peer's tag would be.
            let body = peek_tag(&bytes).unwrap().1.to_vec();
            assert_eq!(got, Message::Unknown { tag, body }, "{}", g.name);
        }
    }
    // The set is the complement of what the customer and agents send.
    for tag in [
        tags::SNAPSHOT,
        tags::MUTATIONS,
        tags::PAINT,
        tags::HELLO,
        tags::RENDER,
    ] {
        assert!(!tags::contains(tags::CUSTOMER_RECEIVES, tag), "{tag}");
    }
    for tag in [
        tags::WELCOME,
        tags::ACTION,
        tags::MODE,
        tags::SEQ,
        tags::ACK,
        tags::INK,
    ] {
        assert!(tags::contains(tags::CUSTOMER_RECEIVES, tag), "{tag}");
    }
}

#[test]
fn golden_names_are_unique() {
    let table = golden_table();
    let names: BTreeSet<_> = table.iter().map(|g| g.name).collect();
    assert_eq!(names.len(), table.len());
}

/// The variant's name. Exhaustive on purpose: adding a `Message` variant breaks this build until
/// the variant is named here and given a golden case.
fn variant(m: &Message) -> &'static str {
    match m {
        Message::Hello(_) => "Hello",
        Message::Welcome(_) => "Welcome",
        Message::Session(_) => "Session",
        Message::Snapshot(_) => "Snapshot",
        Message::Mutations(_) => "Mutations",
        Message::Form(_) => "Form",
        Message::Scroll(_) => "Scroll",
        Message::Viewport(_) => "Viewport",
        Message::Pointer(_) => "Pointer",
        Message::Click(_) => "Click",
        Message::Pseudo(_) => "Pseudo",
        Message::Sheet(_) => "Sheet",
        Message::Navigation(_) => "Navigation",
        Message::Mode(_) => "Mode",
        Message::Action(_) => "Action",
        Message::Refused(_) => "Refused",
        Message::Ping(_) => "Ping",
        Message::Pong(_) => "Pong",
        Message::Error(_) => "Error",
        Message::RequestSnapshot => "RequestSnapshot",
        Message::Leave => "Leave",
        Message::Media(_) => "Media",
        Message::Canvas(_) => "Canvas",
        Message::Selection(_) => "Selection",
        Message::Controller(_) => "Controller",
        Message::Paint(_) => "Paint",
        Message::Seq(_) => "Seq",
        Message::Ack(_) => "Ack",
        Message::Render(_) => "Render",
        Message::Roster(_) => "Roster",
        Message::Control(_) => "Control",
        Message::Ink(_) => "Ink",
        Message::Batch(_) => "Batch",
        Message::Unknown { .. } => "Unknown",
    }
}

#[test]
fn table_covers_every_variant_and_tag() {
    let table = golden_table();
    let variants: BTreeSet<_> = table.iter().map(|g| variant(&g.msg)).collect();
    assert_eq!(variants.len(), 34, "variants covered: {variants:?}");
    let tags: BTreeSet<u32> = table.iter().map(|g| g.msg.tag()).collect();
    let known: Vec<u32> = (1..=tags::LAST).filter(|&t| is_known_tag(t)).collect();
    for &tag in &known {
        assert!(tags.contains(&tag), "no golden case for tag {tag}");
    }
    // Unknown cases use tags this build does not know, so they really take the unknown path.
    for g in &table {
        if let Message::Unknown { tag, .. } = g.msg {
            assert!(!is_known_tag(tag), "{}", g.name);
        }
    }
}

#[test]
fn dictionary_ids_are_as_documented() {
    // The hex in the table relies on these positions; the dictionary is append-only.
    let t = NameTable::new();
    for (name, s) in [
        (ids::DIV, "div"),
        (ids::PATH, "path"),
        (ids::SVG, "svg"),
        (ids::BODY, "body"),
        (ids::HTML, "html"),
        (ids::CLASS, "class"),
        (ids::ID, "id"),
        (ids::D, "d"),
        (ids::VIEW_BOX, "viewBox"),
    ] {
        assert_eq!(t.resolve(name), Some(s));
    }
    assert_eq!(DYNAMIC_NAME_BASE, ids::FIRST_DYNAMIC.0);
    // Appending to the dictionary is safe for dynamic ids (their base is fixed), but peers that
    // lack the new entries refuse frames using them: bump PROTOCOL_VERSION, then this figure.
    assert_eq!(STATIC_NAMES.len(), 290, "the static dictionary changed");
}

#[test]
fn dynamic_names_resolve_after_decoding() {
    let table = golden_table();
    let case = table
        .iter()
        .find(|g| g.name == "snapshot")
        .expect("has a snapshot case");
    let Message::Snapshot(s) = decode(&case.bytes()).expect("snapshot decodes") else {
        panic!("the snapshot case is a snapshot");
    };
    let NodeData::Element { tag, .. } = &s.nodes[4].data else {
        panic!("node 5 is the custom element");
    };
    assert_eq!(s.names.resolve(*tag), Some("my-widget"));
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The fixture as JavaScript reads it: one case per golden entry.
fn fixture_json(table: &[Golden]) -> String {
    let mut out = String::new();
    out.push_str("{\n");
    out.push_str(&format!("  \"protocolVersion\": {PROTOCOL_VERSION},\n"));
    out.push_str(
        "  \"generatedBy\": \"protocol/tests/golden.rs (UPDATE_GOLDEN=1 cargo test -p cobrowse-protocol --test golden)\",\n",
    );
    out.push_str(&format!("  \"dynamicNameBase\": {DYNAMIC_NAME_BASE},\n"));
    let names: Vec<String> = STATIC_NAMES.iter().map(|n| json_string(n)).collect();
    out.push_str(&format!("  \"staticNames\": [{}],\n", names.join(", ")));
    out.push_str("  \"cases\": [\n");
    for (i, g) in table.iter().enumerate() {
        out.push_str(&format!(
            "    {{ \"name\": {}, \"variant\": {}, \"tag\": {}, \"hex\": {}, \"description\": {} }}{}\n",
            json_string(g.name),
            json_string(variant(&g.msg)),
            g.msg.tag(),
            json_string(&to_hex(&g.bytes())),
            json_string(g.description),
            if i + 1 < table.len() { "," } else { "" }
        ));
    }
    out.push_str("  ]\n}\n");
    out
}

#[test]
fn js_fixture_is_up_to_date() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "golden.json",
    ]
    .iter()
    .collect();
    let want = fixture_json(&golden_table());
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create fixtures/");
        std::fs::write(&path, &want).expect("write fixture");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date; regenerate with UPDATE_GOLDEN=1 cargo test -p cobrowse-protocol --test golden",
        path.display()
    );
}

/// The README's message table is documentation people code against: it must name every tag with
/// the right variant.
#[test]
fn readme_message_table_matches_tags() {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "README.md"].iter().collect();
    let readme = std::fs::read_to_string(&path).expect("protocol/README.md exists");
    for g in golden_table() {
        if matches!(g.msg, Message::Unknown { .. }) {
            continue;
        }
        let row = format!("| {} | `{}` |", g.msg.tag(), variant(&g.msg));
        assert!(readme.contains(&row), "README.md lacks the row {row:?}");
    }
}
