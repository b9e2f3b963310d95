//! The page's paint beyond its DOM over the in-memory DOM: the top layer keeps its stacking
//! order and changes only what changed, animations are not restarted when only time passed,
//! faces are added and removed by value, and nothing unsafe reaches the backend.

use super::{B, page};
use crate::memdom::MemDom;
use crate::replica::Replica;
use cobrowse_protocol::{
    AnimationTiming, Composite, FillMode, FontSource, Keyframe, Paint, PlayState,
    PlaybackDirection, ScriptAnimation, ScriptFont, Snapshot, TopLayerEntry, TopLayerKind,
};

/// doc(1) > html(2) > [head(3)], [body(4) > dialog(5) "d"(6), div popover(7), div(8), script(9)]
fn page_with_dialog() -> Snapshot {
    let mut b = B::new();
    b.doc("https://shop.example/a/", 1)
        .el("html", &[], 2)
        .el("head", &[], 0)
        .el("body", &[], 4)
        .el("dialog", &[("open", "")], 1)
        .text("d")
        .el("div", &[("popover", "")], 0)
        .el("div", &[], 0)
        .el("script", &[], 0);
    b.snapshot(1)
}

fn replica() -> Replica<MemDom> {
    let mut r = Replica::new(MemDom::default());
    assert_eq!(r.apply_snapshot(&page_with_dialog()).ignored, 0);
    r.backend_mut().log.clear();
    r
}

fn log(r: &mut Replica<MemDom>) -> Vec<String> {
    std::mem::take(&mut r.backend_mut().log)
}

fn modal(node: u32) -> TopLayerEntry {
    TopLayerEntry {
        node,
        kind: TopLayerKind::ModalDialog,
    }
}

fn popover(node: u32) -> TopLayerEntry {
    TopLayerEntry {
        node,
        kind: TopLayerKind::Popover,
    }
}

#[test]
fn the_top_layer_changes_only_above_what_stays() {
    let mut r = replica();
    let s = r.apply_paint(&Paint::TopLayer(vec![modal(5), popover(7)]));
    assert_eq!((s.applied, s.ignored), (2, 0));
    assert_eq!(
        log(&mut r),
        ["top-layer show 5 ModalDialog", "top-layer show 7 Popover"]
    );
    // The same state again: nothing to do.
    r.apply_paint(&Paint::TopLayer(vec![modal(5), popover(7)]));
    assert!(log(&mut r).is_empty());
    // The popover closes; then the dialog goes under a newly opened popover order change:
    // everything above the common bottom comes out top first, then goes in bottom first.
    r.apply_paint(&Paint::TopLayer(vec![modal(5)]));
    assert_eq!(log(&mut r), ["top-layer hide 7 Popover"]);
    r.apply_paint(&Paint::TopLayer(vec![popover(7), modal(5)]));
    assert_eq!(
        log(&mut r),
        [
            "top-layer hide 5 ModalDialog",
            "top-layer show 7 Popover",
            "top-layer show 5 ModalDialog"
        ]
    );
    r.apply_paint(&Paint::TopLayer(vec![]));
    assert_eq!(
        log(&mut r),
        ["top-layer hide 5 ModalDialog", "top-layer hide 7 Popover"]
    );
}

#[test]
fn only_shown_elements_and_real_dialogs_enter_the_top_layer() {
    let mut r = replica();
    // A div cannot be a modal dialog, an inert script cannot be a popover, 99 is unknown.
    let s = r.apply_paint(&Paint::TopLayer(vec![modal(8), popover(9), popover(99)]));
    assert_eq!((s.applied, s.ignored), (0, 3));
    assert!(log(&mut r).is_empty());
}

fn fade(key: u32, state: PlayState, current_us: Option<i64>) -> ScriptAnimation {
    ScriptAnimation {
        key,
        node: 8,
        pseudo: None,
        keyframes: vec![
            Keyframe {
                offset_millionths: None,
                easing: "linear".into(),
                composite: Composite::Auto,
                properties: vec![("opacity".into(), "1".into())],
            },
            Keyframe {
                offset_millionths: None,
                easing: "linear".into(),
                composite: Composite::Auto,
                properties: vec![
                    ("opacity".into(), "0.25".into()),
                    ("backgroundImage".into(), "url(bg.png)".into()),
                ],
            },
        ],
        timing: AnimationTiming {
            delay_us: 0,
            end_delay_us: 0,
            duration_us: Some(1_000_000),
            iterations_milli: Some(1_000),
            iteration_start_milli: 0,
            direction: PlaybackDirection::Normal,
            fill: FillMode::Forwards,
            easing: "ease-in-out".into(),
        },
        composite: Composite::Replace,
        state,
        current_us,
        rate_milli: 1_000,
    }
}

#[test]
fn animations_start_once_and_follow_their_state() {
    let mut r = replica();
    let s = r.apply_paint(&Paint::Animations(vec![fade(
        1,
        PlayState::Running,
        Some(10_000),
    )]));
    assert_eq!((s.applied, s.ignored), (1, 0));
    assert_eq!(
        log(&mut r),
        [
            "animate 1 on 8 Running Some(10000) [opacity:1 opacity:0.25 \
             backgroundImage:url(\"https://shop.example/a/bg.png\")]"
        ]
    );
    // Time passed while it ran: the replica's copy runs too, nothing to do.
    r.apply_paint(&Paint::Animations(vec![fade(
        1,
        PlayState::Running,
        Some(400_000),
    )]));
    assert!(log(&mut r).is_empty());
    // Paused, then paused elsewhere: the time follows.
    r.apply_paint(&Paint::Animations(vec![fade(
        1,
        PlayState::Paused,
        Some(500_000),
    )]));
    r.apply_paint(&Paint::Animations(vec![fade(
        1,
        PlayState::Paused,
        Some(600_000),
    )]));
    assert_eq!(
        log(&mut r),
        [
            "sync 1 Paused Some(500000) rate 1000",
            "sync 1 Paused Some(600000) rate 1000"
        ]
    );
    // Another effect under the same key restarts it; a key that is gone is cancelled.
    let mut other = fade(1, PlayState::Finished, Some(1_000_000));
    other.timing.fill = FillMode::Both;
    r.apply_paint(&Paint::Animations(vec![
        other,
        fade(2, PlayState::Running, None),
    ]));
    let l = log(&mut r);
    assert_eq!(l[0], "cancel 1");
    assert!(l[1].starts_with("animate 1 on 8 Finished"), "{l:?}");
    assert!(l[2].starts_with("animate 2 on 8 Running None"), "{l:?}");
    r.apply_paint(&Paint::Animations(vec![]));
    let mut l = log(&mut r);
    l.sort();
    assert_eq!(l, ["cancel 1", "cancel 2"]);
}

#[test]
fn hostile_animations_are_cleaned_or_refused() {
    let mut r = replica();
    let mut a = fade(3, PlayState::Running, None);
    a.keyframes[0].properties = vec![
        ("background".into(), "url(\"javascript:alert(1)\")".into()),
        ("offset".into(), "0".into()),
        ("on-click".into(), "x".into()),
        ("--brand".into(), "red".into()),
    ];
    a.keyframes[0].easing = "url(https://tracker.example/x)".into();
    r.apply_paint(&Paint::Animations(vec![a]));
    let l = log(&mut r);
    assert!(
        l[0].contains("[background:url(\"about:invalid\") --brand:red opacity:0.25"),
        "{l:?}"
    );
    // A pseudo-element that is not a plain name, an inert node, an unknown node: skipped.
    let mut bad = fade(4, PlayState::Running, None);
    bad.pseudo = Some("::after, x".into());
    let mut script = fade(5, PlayState::Running, None);
    script.node = 9;
    let mut unknown = fade(6, PlayState::Running, None);
    unknown.node = 99;
    let s = r.apply_paint(&Paint::Animations(vec![bad, script, unknown]));
    assert_eq!((s.applied, s.ignored), (0, 3));
    // The skipped list also cancelled the animation no longer named.
    assert_eq!(log(&mut r), ["cancel 3"]);
}

fn face(family: &str, src: &str) -> ScriptFont {
    ScriptFont {
        doc: 1,
        family: family.into(),
        source: FontSource::Css(src.into()),
        base_url: "https://shop.example/a/b/".into(),
        descriptors: vec![
            ("weight".into(), "400".into()),
            ("src".into(), "url(x)".into()),
        ],
    }
}

#[test]
fn faces_are_added_and_removed_by_value() {
    let mut r = replica();
    r.apply_paint(&Paint::Fonts(vec![face("Shop", "url(../f.ttf)")]));
    assert_eq!(
        log(&mut r),
        ["font 0 in 1 \"Shop\" url(\"https://shop.example/a/f.ttf\") [(\"weight\", \"400\")]"]
    );
    // The same face again plus a late one: only the late one is added.
    r.apply_paint(&Paint::Fonts(vec![
        face("Shop", "url(../f.ttf)"),
        face("Late", "url(/l.woff2) format(\"woff2\")"),
    ]));
    let l = log(&mut r);
    assert_eq!(l.len(), 1);
    assert!(l[0].starts_with("font 1 in 1 \"Late\" url(\"https://shop.example/l.woff2\")"));
    r.apply_paint(&Paint::Fonts(vec![face(
        "Late",
        "url(/l.woff2) format(\"woff2\")",
    )]));
    assert_eq!(log(&mut r), ["unfont 0"]);
    // A new page forgets the old page's faces (the replica document is reused).
    r.apply_snapshot(&page());
    assert!(log(&mut r).contains(&"unfont 1".to_string()));
}

#[test]
fn face_sources_load_only_what_the_replica_may() {
    let mut r = replica();
    let mut relative = face("Rel", "url(f.ttf)");
    relative.base_url = "about:blank".into();
    let s = r.apply_paint(&Paint::Fonts(vec![
        face("Evil", "url(javascript:alert(1))"),
        relative,
        ScriptFont {
            doc: 8,
            ..face("NotADoc", "url(f.ttf)")
        },
    ]));
    let l = log(&mut r);
    assert!(l[0].contains("\"Evil\" url(\"about:invalid\")"), "{l:?}");
    // A base that is not http(s) falls back to the page's URL.
    assert!(
        l[1].contains("\"Rel\" url(\"https://shop.example/a/f.ttf\")"),
        "{l:?}"
    );
    assert_eq!((s.applied, s.ignored), (2, 1));
}

#[test]
fn topics_of_the_styles_and_the_page_are_not_the_models() {
    let mut r = replica();
    let s = r.apply_paint(&Paint::Undefined(vec!["x-a".into()]));
    assert_eq!((s.applied, s.ignored), (0, 1));
    assert!(log(&mut r).is_empty());
}
