//! What the customer's page paints beyond its DOM, in the replica (`Paint` frames): the top layer
//! (modal dialogs, open popovers), animations made by script, and FontFace-API faces. The colour
//! scheme and `:defined` live in the replica's styles (`web::styles`), the open `<select>` popup
//! in the agent page's UI; [`Replica::apply_paint`] leaves those topics to its caller.
//!
//! Each frame is a topic's whole state. The model keeps what it showed and changes only the
//! difference, so an animation that did not change is not restarted and a dialog that stays modal
//! is not reopened. Everything the customer names goes through the same rules as the DOM:
//! unknown or inert nodes are skipped, keyframe values and font sources are sanitised like CSS
//! (URLs resolved and limited to what the replica may load), names are checked before they reach
//! a browser API.

use super::{Applied, DomBackend, Kind, Replica, is_html};
use crate::debug;
use crate::sanitize::{Rendered, sanitize_css};
use crate::url::is_http;
use cobrowse_protocol::{
    FontSource, NodeId, Paint, ScriptAnimation, ScriptFont, TopLayerEntry, TopLayerKind,
};
use std::collections::HashMap;

/// Font descriptors a face may carry (its FontFace attribute names).
const FONT_DESCRIPTORS: &[&str] = &[
    "style",
    "weight",
    "stretch",
    "unicodeRange",
    "featureSettings",
    "variationSettings",
    "display",
    "ascentOverride",
    "descentOverride",
    "lineGapOverride",
];

/// Keyframe members that are not properties.
const KEYFRAME_FIELDS: &[&str] = &["offset", "computedOffset", "easing", "composite"];

/// What the replica shows of the topics the model handles.
#[derive(Debug, Default)]
pub(super) struct Painted {
    /// The top layer as shown, bottom first.
    top_layer: Vec<TopLayerEntry>,
    /// Animations playing, by the customer's key, as applied (sanitised).
    animations: HashMap<u32, ScriptAnimation>,
    /// Faces added, with the backend's key for each (sanitised).
    fonts: Vec<(u32, ScriptFont)>,
    next_font: u32,
}

impl<B: DomBackend> Replica<B> {
    /// Applies a `Paint` topic the model handles (top layer, animations, fonts). Other topics are
    /// not the model's: they count as ignored here.
    pub fn apply_paint(&mut self, paint: &Paint) -> Applied {
        let stats = match paint {
            Paint::TopLayer(entries) => self.apply_top_layer(entries),
            Paint::Animations(list) => self.apply_animations(list),
            Paint::Fonts(faces) => self.apply_fonts(faces),
            Paint::ColorScheme(_) | Paint::Undefined(_) | Paint::SelectPopup(_) => Applied::SKIPPED,
        };
        self.backend.flush();
        stats
    }

    /// Before a snapshot replaces the page: stop what the old page's script made. The top layer
    /// and animations go with their nodes; faces stay in the document's `fonts` (the replica
    /// document is reused), so they are removed.
    pub(super) fn forget_paint(&mut self) {
        for key in std::mem::take(&mut self.painted.animations).into_keys() {
            self.backend.cancel_animation(key);
        }
        for (key, _) in std::mem::take(&mut self.painted.fonts) {
            self.backend.remove_font(key);
        }
        self.painted.top_layer.clear();
    }

    /// The HTML element `id` if the replica shows it as itself (not inert).
    fn live_element(&self, id: NodeId) -> Option<(&B::Node, &str)> {
        match self.nodes.get(id) {
            Some(e) => match &e.kind {
                Kind::Element {
                    tag,
                    ns,
                    rendered: Rendered::Normal,
                } if is_html(ns) => Some((&e.node, tag.as_str())),
                _ => None,
            },
            None => None,
        }
    }

    fn apply_top_layer(&mut self, entries: &[TopLayerEntry]) -> Applied {
        let mut stats = Applied::default();
        let wanted: Vec<TopLayerEntry> = entries
            .iter()
            .filter(|e| {
                let ok = match self.live_element(e.node) {
                    Some((_, tag)) => e.kind == TopLayerKind::Popover || tag == "dialog",
                    None => false,
                };
                if !ok {
                    debug!("top layer: {e:?} is not a shown dialog or element; skipped");
                    stats.ignored += 1;
                }
                ok
            })
            .copied()
            .collect();
        let shown = std::mem::take(&mut self.painted.top_layer);
        // Stacking order matters: keep the common bottom, take the rest out from the top down,
        // then put the new rest in from the bottom up.
        let keep = shown
            .iter()
            .zip(&wanted)
            .take_while(|(a, b)| a == b)
            .count();
        for e in shown[keep..].iter().rev() {
            if let Some((node, _)) = self.live_element(e.node) {
                let node = node.clone();
                self.backend.top_layer(&node, e.kind, false);
            }
        }
        let mut now = wanted[..keep].to_vec();
        for e in &wanted[keep..] {
            let Some((node, _)) = self.live_element(e.node) else {
                continue;
            };
            let node = node.clone();
            if self.backend.top_layer(&node, e.kind, true) {
                now.push(*e);
                stats.applied += 1;
            } else {
                debug!("top layer: {e:?} refused");
                stats.ignored += 1;
            }
        }
        self.painted.top_layer = now;
        stats
    }

    fn apply_animations(&mut self, list: &[ScriptAnimation]) -> Applied {
        let mut stats = Applied::default();
        let mut playing = std::mem::take(&mut self.painted.animations);
        let mut now = HashMap::new();
        for a in list {
            let Some(doc) = self.nodes.get(a.node).map(|e| e.doc) else {
                debug!("animation {}: unknown node {}; skipped", a.key, a.node);
                stats.ignored += 1;
                continue;
            };
            let base = self.base_of(doc);
            let (Some(clean), Some((node, _))) =
                (sanitize_animation(a, &base), self.live_element(a.node))
            else {
                debug!("animation {}: not shown or not valid; skipped", a.key);
                stats.ignored += 1;
                continue;
            };
            let node = node.clone();
            match playing.remove(&a.key) {
                Some(old) if same_effect(&old, &clean) => {
                    if old.state != clean.state
                        || old.rate_milli != clean.rate_milli
                        || (clean.state != cobrowse_protocol::PlayState::Running
                            && old.current_us != clean.current_us)
                    {
                        self.backend.sync_animation(a.key, &clean);
                    }
                }
                old => {
                    if old.is_some() {
                        self.backend.cancel_animation(a.key);
                    }
                    if !self.backend.animate(a.key, &node, &clean) {
                        debug!("animation {}: refused", a.key);
                        stats.ignored += 1;
                        continue;
                    }
                }
            }
            now.insert(a.key, clean);
            stats.applied += 1;
        }
        for key in playing.into_keys() {
            self.backend.cancel_animation(key);
        }
        self.painted.animations = now;
        stats
    }

    fn apply_fonts(&mut self, faces: &[ScriptFont]) -> Applied {
        let mut stats = Applied::default();
        let wanted: Vec<ScriptFont> = faces
            .iter()
            .filter_map(|f| {
                let page = match self.nodes.get(f.doc).map(|e| &e.kind) {
                    Some(Kind::Document { url, .. }) => url.clone(),
                    _ => {
                        debug!("font {:?}: unknown document {}; skipped", f.family, f.doc);
                        stats.ignored += 1;
                        return None;
                    }
                };
                let clean = sanitize_font(f, &page);
                if clean.is_none() {
                    stats.ignored += 1;
                }
                clean
            })
            .collect();
        let (kept, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.painted.fonts)
            .into_iter()
            .partition(|(_, f)| wanted.contains(f));
        for (key, _) in gone {
            self.backend.remove_font(key);
        }
        self.painted.fonts = kept;
        for f in wanted {
            if self.painted.fonts.iter().any(|(_, have)| *have == f) {
                continue;
            }
            let Some(doc) = self.nodes.get(f.doc).map(|e| e.node.clone()) else {
                continue;
            };
            let key = self.painted.next_font;
            self.painted.next_font = key.wrapping_add(1);
            if self.backend.add_font(key, &doc, &f) {
                self.painted.fonts.push((key, f));
                stats.applied += 1;
            } else {
                debug!("font {:?}: refused", f.family);
                stats.ignored += 1;
            }
        }
        stats
    }
}

/// Same keyframes, timing and target: the playing animation can stay.
fn same_effect(a: &ScriptAnimation, b: &ScriptAnimation) -> bool {
    a.node == b.node
        && a.pseudo == b.pseudo
        && a.keyframes == b.keyframes
        && a.timing == b.timing
        && a.composite == b.composite
}

/// True for a CSS easing, pseudo-element or descriptor-like token: letters, digits and the
/// punctuation of functions and numbers, nothing that could start a URL or a string.
fn plain_token(s: &str) -> bool {
    s.len() <= 256
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " (),.-+%_#".contains(c))
}

/// A keyframe property name as `getKeyframes()` gives it: `camelCase`, or a custom property.
fn property_name(name: &str) -> bool {
    if let Some(custom) = name.strip_prefix("--") {
        return !custom.is_empty()
            && custom
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    }
    !KEYFRAME_FIELDS.contains(&name)
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `a` as the replica may play it: values sanitised like CSS against `base`, property names and
/// easings checked; `None` when its target pseudo-element is not one the replica knows.
pub(crate) fn sanitize_animation(a: &ScriptAnimation, base: &str) -> Option<ScriptAnimation> {
    if let Some(p) = &a.pseudo {
        let name = p.strip_prefix("::")?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            return None;
        }
    }
    let easing = |e: &str| {
        if plain_token(e) {
            e.to_owned()
        } else {
            "linear".to_owned()
        }
    };
    let mut clean = a.clone();
    clean.timing.easing = easing(&a.timing.easing);
    for k in &mut clean.keyframes {
        k.easing = easing(&k.easing);
        k.properties = k
            .properties
            .iter()
            .filter(|(name, _)| property_name(name))
            .map(|(name, value)| (name.clone(), sanitize_css(value, base)))
            .collect();
    }
    Some(clean)
}

/// `f` as the replica may load it: its CSS source's URLs resolved against its base (or the
/// page's, when the base is not http(s)) and limited like every resource URL; descriptors limited
/// to the FontFace ones with plain values. `None` when nothing loadable is left.
pub(crate) fn sanitize_font(f: &ScriptFont, page_url: &str) -> Option<ScriptFont> {
    let source = match &f.source {
        FontSource::Css(src) => {
            let base = if is_http(&f.base_url) {
                f.base_url.as_str()
            } else {
                page_url
            };
            let clean = sanitize_css(src, base);
            if clean.trim().is_empty() {
                return None;
            }
            FontSource::Css(clean)
        }
        FontSource::Data(bytes) if !bytes.is_empty() => FontSource::Data(bytes.clone()),
        FontSource::Data(_) => return None,
    };
    let descriptors = f
        .descriptors
        .iter()
        // Descriptors take no URLs: their values only need to be of a sane size.
        .filter(|(k, v)| FONT_DESCRIPTORS.contains(&k.as_str()) && v.len() <= 256)
        .cloned()
        .collect();
    Some(ScriptFont {
        doc: f.doc,
        family: f.family.clone(),
        source,
        base_url: f.base_url.clone(),
        descriptors,
    })
}
