//! The page's clock for timings: `performance.now()`, monotonic and sub-millisecond (unlike
//! `Date.now()`), shared by the socket code that stamps arrivals and the render timing.

/// Milliseconds since the page started (0 without a window: only timing is lost).
pub(super) fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
