//! What the customer's page paints that its DOM does not say: the colour scheme the customer's
//! browser prefers, custom elements not defined there, fonts and animations made by script, the
//! top layer (modal dialogs, open popovers) and an open native `<select>` popup.
//!
//! Each [`Paint`] frame carries one topic's whole current state, never a delta: the agent replaces
//! what it showed for that topic, and a late joiner needs only the last frame of each topic (the
//! relay keeps them with the page state). After every snapshot the customer sends each topic
//! again, and the agent forgets the previous page's state when a snapshot arrives.
//!
//! Integers stand for the browser's floating-point numbers (times in microseconds, offsets in
//! millionths, rates in thousandths) so that frames compare byte for byte.

use crate::dom::NodeId;
use serde::{Deserialize, Serialize};

/// One topic of what the page paints beyond its DOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Paint {
    /// The customer's `prefers-color-scheme`: the replica's styles follow it, not the agent's.
    ColorScheme(ColorScheme),
    /// Custom element names used in the page that are not defined there (`:defined` does not
    /// match their elements); every other element is defined. Sorted, no duplicates.
    Undefined(Vec<String>),
    /// The faces the page added to `document.fonts` with the FontFace API.
    Fonts(Vec<ScriptFont>),
    /// Animations made by script (`element.animate()`), not CSS animations or transitions.
    Animations(Vec<ScriptAnimation>),
    /// Elements in the top layer, bottom first.
    TopLayer(Vec<TopLayerEntry>),
    /// The `<select>` whose native popup is open, or `None` when none is.
    SelectPopup(Option<SelectPopup>),
}

/// A `prefers-color-scheme` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ColorScheme {
    /// `light` (also what a browser without a preference reports).
    Light,
    /// `dark`.
    Dark,
}

/// Where a script-made font face gets its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum FontSource {
    /// The `src` the page gave (`url(…) format(…)`, `local(…)`, as CSS text); relative URLs are
    /// resolved against the face's `base_url`.
    Css(String),
    /// The font file itself (the page passed an `ArrayBuffer`).
    Data(Vec<u8>),
}

/// One face the page added with the FontFace API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ScriptFont {
    /// The document (top or iframe) whose `fonts` holds it.
    pub doc: NodeId,
    /// `family`.
    pub family: String,
    /// Its data.
    pub source: FontSource,
    /// What relative URLs in a [`FontSource::Css`] resolve against.
    pub base_url: String,
    /// Descriptors that differ from their defaults, by their FontFace attribute names (`style`,
    /// `weight`, `stretch`, `unicodeRange`, `featureSettings`, `variationSettings`, `display`,
    /// `ascentOverride`, `descentOverride`, `lineGapOverride`).
    pub descriptors: Vec<(String, String)>,
}

/// An animation's play state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum PlayState {
    /// Playing.
    Running,
    /// Paused at its current time.
    Paused,
    /// Past its end (a `fill: forwards` animation keeps showing its last frame).
    Finished,
}

/// `direction` of an effect's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum PlaybackDirection {
    /// `normal`.
    Normal,
    /// `reverse`.
    Reverse,
    /// `alternate`.
    Alternate,
    /// `alternate-reverse`.
    AlternateReverse,
}

/// `fill` of an effect's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum FillMode {
    /// `none`.
    None,
    /// `forwards`.
    Forwards,
    /// `backwards`.
    Backwards,
    /// `both`.
    Both,
    /// `auto`.
    Auto,
}

/// `composite` of an effect or keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Composite {
    /// `replace`.
    Replace,
    /// `add`.
    Add,
    /// `accumulate`.
    Accumulate,
    /// `auto` (keyframes only: use the effect's).
    Auto,
}

/// An effect's timing (`getTiming()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AnimationTiming {
    /// `delay`, µs.
    pub delay_us: i64,
    /// `endDelay`, µs.
    pub end_delay_us: i64,
    /// `duration`, µs (`None`: `auto`).
    pub duration_us: Option<u64>,
    /// `iterations` in thousandths (`None`: infinite).
    pub iterations_milli: Option<u64>,
    /// `iterationStart` in thousandths.
    pub iteration_start_milli: u64,
    /// `direction`.
    pub direction: PlaybackDirection,
    /// `fill`.
    pub fill: FillMode,
    /// `easing` (a CSS easing function).
    pub easing: String,
}

/// One keyframe (`getKeyframes()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Keyframe {
    /// `offset` in millionths (`None`: spaced evenly, as the page left it).
    pub offset_millionths: Option<u32>,
    /// `easing`.
    pub easing: String,
    /// `composite`.
    pub composite: Composite,
    /// Property → value, as the keyframe names them (`opacity`, `backgroundColor`, `--x`).
    pub properties: Vec<(String, String)>,
}

/// One animation a script made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ScriptAnimation {
    /// The customer's name for this animation, the same in every frame while it lives.
    pub key: u32,
    /// The animated element.
    pub node: NodeId,
    /// The pseudo-element animated (`::before`), if any.
    pub pseudo: Option<String>,
    /// Keyframes.
    pub keyframes: Vec<Keyframe>,
    /// Timing.
    pub timing: AnimationTiming,
    /// The effect's `composite`.
    pub composite: Composite,
    /// Play state.
    pub state: PlayState,
    /// `currentTime` when the frame was made, µs (`None`: unresolved).
    pub current_us: Option<i64>,
    /// `playbackRate` in thousandths.
    pub rate_milli: i32,
}

/// How an element is in the top layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum TopLayerKind {
    /// A `<dialog>` opened with `showModal()` (`:modal`, with its `::backdrop`).
    ModalDialog,
    /// An element with `popover`, shown (`:popover-open`).
    Popover,
}

/// One element of the top layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TopLayerEntry {
    /// The element.
    pub node: NodeId,
    /// How it is there.
    pub kind: TopLayerKind,
}

/// An open native `<select>` popup. Its options are the replica's own `<option>`s (masked as the
/// replica has them); only which one is highlighted travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SelectPopup {
    /// The `<select>`.
    pub node: NodeId,
    /// Index in its `options` of the highlighted option, if any.
    pub highlighted: Option<u32>,
}
