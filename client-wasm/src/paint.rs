//! The pure rules behind `Paint` frames (what the page paints that its DOM does not say), so they
//! run natively: which names are custom element names, the top layer's order, when an open
//! `<select>` popup is guessed where the browser cannot say, which script-made font face gets
//! which download, the browser's numbers as the protocol's integers, and when a state is worth
//! sending again. The browser side is `web::paint`.

use cobrowse_protocol::{
    Composite, FillMode, NameTable, NodeData, NodeRecord, PlayState, PlaybackDirection,
    ScriptAnimation,
};
use std::collections::BTreeSet;

/// Names the HTML standard reserves although they look like custom element names.
const RESERVED: &[&str] = &[
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-src",
    "font-face-uri",
    "font-face-format",
    "font-face-name",
    "missing-glyph",
];

/// True for a valid custom element name: a lower-case ASCII letter first, a hyphen somewhere, no
/// ASCII upper case, and not one of the reserved names. (The standard's other characters are
/// allowed; a name it refuses simply never gets defined, which is what `:defined` then says.)
pub fn is_custom_element_name(name: &str) -> bool {
    name.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && name.contains('-')
        && !name.bytes().any(|b| b.is_ascii_uppercase())
        && !RESERVED.contains(&name)
}

/// The custom element names of the elements among `nodes` (a snapshot's or a new subtree's).
pub fn custom_names(nodes: &[NodeRecord], names: &NameTable) -> BTreeSet<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.data {
            NodeData::Element { tag, .. } => names.resolve(*tag),
            _ => None,
        })
        .filter(|n| is_custom_element_name(n))
        .map(str::to_owned)
        .collect()
}

/// The top layer now: the elements still in it keep the order they had (the browser stacks them
/// by when they entered), the ones that entered since follow in document order. `now` is the
/// top-layer elements in document order.
pub fn top_layer_order<T: PartialEq + Clone>(before: &[T], now: &[T]) -> Vec<T> {
    let mut out: Vec<T> = before.iter().filter(|b| now.contains(b)).cloned().collect();
    for n in now {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

/// What the page saw happen around a `<select>`, for browsers that cannot say whether its popup
/// is open (no `:open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectEvent {
    /// Primary-button press on the select.
    PressOnSelect,
    /// Press anywhere else.
    PressElsewhere,
    /// A key went down on the select (`key`, Alt held).
    Key(SelectKey, bool),
    /// The value was committed (`change`).
    Change,
    /// The select lost focus.
    Blur,
}

/// The keys that open or close a popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectKey {
    /// Space.
    Space,
    /// Arrow up or down.
    Arrow,
    /// F4.
    F4,
    /// Enter.
    Enter,
    /// Escape.
    Escape,
    /// Tab.
    Tab,
    /// Any other key.
    Other,
}

/// Whether the popup is open after `event`, given whether it was (the browsers' common
/// behaviour: a press toggles it, Space, Alt+Arrow and F4 open it, choosing, Escape, Enter, Tab,
/// a press elsewhere and losing focus close it).
pub fn guess_select_open(open: bool, event: SelectEvent) -> bool {
    match event {
        SelectEvent::PressOnSelect => !open,
        SelectEvent::PressElsewhere | SelectEvent::Change | SelectEvent::Blur => false,
        SelectEvent::Key(key, alt) => match key {
            SelectKey::Space | SelectKey::F4 => true,
            SelectKey::Arrow => open || alt,
            SelectKey::Enter | SelectKey::Escape | SelectKey::Tab => false,
            SelectKey::Other => open,
        },
    }
}

/// True when a download (its URL and, where the browser says, its MIME type) is a font file.
pub fn is_font_download(url: &str, content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("font/") || ct.contains("font-") || ct.contains("opentype") {
        return true;
    }
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    ct.is_empty()
        && [".woff2", ".woff", ".ttf", ".otf", ".eot"]
            .iter()
            .any(|ext| path.ends_with(ext))
}

/// Pairs faces whose source the page set before capture started (so no hook saw it) with the
/// font downloads no stylesheet explains, by order, and only when the counts agree: with one face
/// and one download (the usual case) it is exact; when they disagree, guessing would show the
/// agent a wrong font, so nothing is paired.
pub fn pair_faces<F: Clone, U: Clone>(faces: &[F], downloads: &[U]) -> Vec<(F, U)> {
    if faces.len() != downloads.len() {
        return Vec::new();
    }
    faces
        .iter()
        .cloned()
        .zip(downloads.iter().cloned())
        .collect()
}

/// A face's `family` as a plain name: browsers serialise a name with spaces as a quoted CSS
/// string (`"Shop Sans"`), which another `FontFace` would take as part of the name.
pub fn family_name(serialised: &str) -> String {
    let t = serialised.trim();
    let quoted = t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')));
    if !quoted {
        return t.to_owned();
    }
    let mut out = String::with_capacity(t.len());
    let mut chars = t[1..t.len() - 1].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// Milliseconds (the browser's times) as whole microseconds, saturating; `None` for NaN.
pub fn ms_to_us(ms: f64) -> Option<i64> {
    let us = (ms * 1000.0).round();
    (!us.is_nan()).then(|| us.clamp(i64::MIN as f64, i64::MAX as f64) as i64)
}

/// A count or fraction as thousandths (`iterations`, `iterationStart`), `None` when infinite.
pub fn to_milli(v: f64) -> Option<u64> {
    v.is_finite()
        .then(|| (v * 1000.0).round().clamp(0.0, u64::MAX as f64) as u64)
}

/// A keyframe offset as millionths of the effect (offsets are 0–1).
pub fn to_millionths(v: f64) -> u32 {
    (v.clamp(0.0, 1.0) * 1e6).round() as u32
}

/// A play state name; `None` for `idle` (an idle animation shows nothing).
pub fn play_state(name: &str) -> Option<PlayState> {
    Some(match name {
        "running" => PlayState::Running,
        "paused" => PlayState::Paused,
        "finished" => PlayState::Finished,
        _ => return None,
    })
}

/// A `direction` name (`normal` when unknown).
pub fn direction(name: &str) -> PlaybackDirection {
    match name {
        "reverse" => PlaybackDirection::Reverse,
        "alternate" => PlaybackDirection::Alternate,
        "alternate-reverse" => PlaybackDirection::AlternateReverse,
        _ => PlaybackDirection::Normal,
    }
}

/// A `fill` name (`auto` when unknown).
pub fn fill(name: &str) -> FillMode {
    match name {
        "none" => FillMode::None,
        "forwards" => FillMode::Forwards,
        "backwards" => FillMode::Backwards,
        "both" => FillMode::Both,
        _ => FillMode::Auto,
    }
}

/// A `composite` name (`auto` when unknown).
pub fn composite(name: &str) -> Composite {
    match name {
        "replace" => Composite::Replace,
        "add" => Composite::Add,
        "accumulate" => Composite::Accumulate,
        _ => Composite::Auto,
    }
}

/// True when the agent would show `a` and `b` alike: the same animations in the same states.
/// A running animation's time moves by itself on both sides, so only a stopped one's counts.
pub fn same_animations(a: &[ScriptAnimation], b: &[ScriptAnimation]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let time_matters = x.state != PlayState::Running;
            let mut y = y.clone();
            if !time_matters {
                y.current_us = x.current_us;
            }
            *x == y
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::{AnimationTiming, Namespace};

    #[test]
    fn custom_element_names_follow_the_standard() {
        for ok in ["shop-card", "x-a", "late-tile", "a-", "x-é"] {
            assert!(is_custom_element_name(ok), "{ok}");
        }
        for bad in [
            "div",
            "Shop-card",
            "shop-Card",
            "-x",
            "1-x",
            "font-face",
            "",
            "x",
        ] {
            assert!(!is_custom_element_name(bad), "{bad}");
        }
    }

    #[test]
    fn names_come_from_element_records_only() {
        let mut names = NameTable::new();
        let card = names.intern("shop-card");
        let div = names.intern("div");
        let nodes = vec![
            NodeRecord::new(
                NodeData::Element {
                    tag: card,
                    ns: Namespace::Html,
                    attrs: vec![],
                },
                2,
            ),
            NodeRecord::new(NodeData::Text("late-tile".into()), 0),
            NodeRecord::new(
                NodeData::Element {
                    tag: div,
                    ns: Namespace::Html,
                    attrs: vec![],
                },
                0,
            ),
        ];
        let got: Vec<String> = custom_names(&nodes, &names).into_iter().collect();
        assert_eq!(got, ["shop-card"]);
    }

    #[test]
    fn the_top_layer_keeps_its_stacking_order() {
        // A modal (1) opened, then a popover (5) that comes first in the document.
        assert_eq!(top_layer_order(&[1], &[1, 5]), [1, 5]);
        assert_eq!(top_layer_order(&[1, 5], &[1, 5]), [1, 5]);
        assert_eq!(top_layer_order(&[5, 1], &[1, 5]), [5, 1]);
        // One closed, a new one opened.
        assert_eq!(top_layer_order(&[5, 1], &[1, 3]), [1, 3]);
        assert_eq!(top_layer_order::<u32>(&[5, 1], &[]), Vec::<u32>::new());
    }

    #[test]
    fn select_popups_are_guessed_like_browsers_behave() {
        use SelectEvent::*;
        use SelectKey::*;
        let run = |events: &[SelectEvent]| {
            events
                .iter()
                .fold(false, |open, e| guess_select_open(open, *e))
        };
        assert!(run(&[PressOnSelect]));
        assert!(!run(&[PressOnSelect, PressOnSelect]));
        assert!(!run(&[PressOnSelect, Change]));
        assert!(!run(&[PressOnSelect, PressElsewhere]));
        assert!(!run(&[PressOnSelect, Blur]));
        assert!(run(&[Key(Arrow, true)]));
        assert!(
            !run(&[Key(Arrow, false)]),
            "a plain arrow changes the value"
        );
        assert!(run(&[Key(Space, false), Key(Arrow, false)]));
        assert!(!run(&[Key(F4, false), Key(Escape, false)]));
        assert!(!run(&[Key(Space, false), Key(Enter, false)]));
        assert!(!run(&[Key(Space, false), Key(Tab, false)]));
        assert!(run(&[Key(Space, false), Key(Other, false)]));
    }

    #[test]
    fn font_downloads_are_recognised() {
        assert!(is_font_download("https://a/x.woff2?v=3", ""));
        assert!(is_font_download("https://a/f.TTF", ""));
        assert!(is_font_download("https://a/font?id=3", "font/woff2"));
        assert!(is_font_download("https://a/f", "application/x-font-ttf"));
        assert!(is_font_download(
            "https://a/f",
            "application/vnd.ms-opentype"
        ));
        assert!(!is_font_download("https://a/x.css", ""));
        assert!(!is_font_download("https://a/x.ttf", "text/html"));
    }

    #[test]
    fn faces_pair_with_downloads_only_when_counts_agree() {
        assert_eq!(pair_faces(&["A"], &["u1"]), [("A", "u1")]);
        assert_eq!(
            pair_faces(&["A", "B"], &["u1", "u2"]),
            [("A", "u1"), ("B", "u2")]
        );
        assert!(pair_faces(&["A", "B"], &["u1"]).is_empty());
        assert!(pair_faces::<&str, &str>(&[], &["u1"]).is_empty());
    }

    #[test]
    fn family_names_lose_their_css_quotes() {
        assert_eq!(family_name("\"Shop Sans\""), "Shop Sans");
        assert_eq!(family_name("'A \\'b'"), "A 'b");
        assert_eq!(family_name("ShopScript"), "ShopScript");
        assert_eq!(family_name("\""), "\"");
    }

    #[test]
    fn numbers_become_the_protocols_integers() {
        assert_eq!(ms_to_us(1.0), Some(1_000));
        assert_eq!(ms_to_us(88.4509), Some(88_451));
        assert_eq!(ms_to_us(-500.0), Some(-500_000));
        assert_eq!(ms_to_us(f64::NAN), None);
        assert_eq!(ms_to_us(f64::INFINITY), Some(i64::MAX));
        assert_eq!(to_milli(1.0), Some(1_000));
        assert_eq!(to_milli(f64::INFINITY), None);
        assert_eq!(to_millionths(0.333_333_3), 333_333);
        assert_eq!(to_millionths(7.0), 1_000_000);
        assert_eq!(play_state("idle"), None);
        assert_eq!(play_state("finished"), Some(PlayState::Finished));
        assert_eq!(
            direction("alternate-reverse"),
            PlaybackDirection::AlternateReverse
        );
        assert_eq!(fill("forwards"), FillMode::Forwards);
        assert_eq!(composite("accumulate"), Composite::Accumulate);
    }

    fn anim(state: PlayState, current_us: Option<i64>) -> ScriptAnimation {
        ScriptAnimation {
            key: 1,
            node: 4,
            pseudo: None,
            keyframes: vec![],
            timing: AnimationTiming {
                delay_us: 0,
                end_delay_us: 0,
                duration_us: Some(1_000),
                iterations_milli: Some(1_000),
                iteration_start_milli: 0,
                direction: PlaybackDirection::Normal,
                fill: FillMode::Forwards,
                easing: "linear".into(),
            },
            composite: Composite::Replace,
            state,
            current_us,
            rate_milli: 1_000,
        }
    }

    #[test]
    fn only_changes_the_agent_would_show_are_worth_sending() {
        let running = |t| [anim(PlayState::Running, Some(t))];
        assert!(same_animations(&running(10), &running(900)));
        let paused = |t| [anim(PlayState::Paused, Some(t))];
        assert!(!same_animations(&paused(10), &paused(900)));
        assert!(!same_animations(&running(10), &paused(10)));
        assert!(!same_animations(&running(10), &[]));
    }
}
