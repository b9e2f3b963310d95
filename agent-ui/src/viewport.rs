//! Viewport scaling maths: the replica frame takes the customer's window size and, when that is
//! larger than the agent's area, is scaled down uniformly with a CSS transform (never up, so small
//! customer windows stay pixel-true). Scaling was chosen over scrollbars because the agent then
//! sees the customer's whole viewport at once, and pointers map by one multiplication.

/// A size in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// How the replica is laid out in the agent's area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Scale factor in `(0, 1]` applied to the customer-sized frame.
    pub scale: f64,
    /// The frame's on-screen size after scaling.
    pub shown: Size,
}

/// Smallest scale we go to; below it the replica is unreadable anyway and scrollbars take over.
pub const MIN_SCALE: f64 = 0.1;

/// Fits a customer viewport into the agent's available area. Degenerate sizes (zero, negative,
/// NaN) give scale 1 so the frame is never collapsed or inverted.
pub fn fit(customer: Size, available: Size) -> Fit {
    let valid = |v: f64| v.is_finite() && v > 0.0;
    let scale = if [
        customer.width,
        customer.height,
        available.width,
        available.height,
    ]
    .into_iter()
    .all(valid)
    {
        (available.width / customer.width)
            .min(available.height / customer.height)
            .clamp(MIN_SCALE, 1.0)
    } else {
        1.0
    };
    let w = if valid(customer.width) {
        customer.width
    } else {
        0.0
    };
    let h = if valid(customer.height) {
        customer.height
    } else {
        0.0
    };
    Fit {
        scale,
        shown: Size {
            width: w * scale,
            height: h * scale,
        },
    }
}

/// A customer viewport point → the agent's on-screen offset within the scaled frame.
pub fn to_agent(fit: &Fit, x: i32, y: i32) -> (f64, f64) {
    (f64::from(x) * fit.scale, f64::from(y) * fit.scale)
}

/// An on-screen offset within the scaled frame → customer viewport CSS pixels (rounded).
pub fn to_customer(fit: &Fit, x: f64, y: f64) -> (i32, i32) {
    let s = if fit.scale > 0.0 { fit.scale } else { 1.0 };
    let conv = |v: f64| {
        let c = (v / s).round();
        if c.is_finite() {
            c.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
        } else {
            0
        }
    };
    (conv(x), conv(y))
}

/// A box in customer viewport CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// Where a popup `height` tall opens for a control at `anchor` in a viewport `viewport_height`
/// tall (customer px, the popup's top-left corner): below the control like a native `<select>`
/// popup, above it when only there it fits.
pub fn popup_at(anchor: Rect, height: f64, viewport_height: f64) -> (f64, f64) {
    let below = anchor.y + anchor.height;
    let fits_below = below + height <= viewport_height;
    let fits_above = anchor.y - height >= 0.0;
    let y = if !fits_below && fits_above {
        anchor.y - height
    } else {
        below
    };
    (anchor.x, y)
}

/// The scale as the toolbar shows it ("75%").
pub fn percent(fit: &Fit) -> String {
    format!("{}%", (fit.scale * 100.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sz(width: f64, height: f64) -> Size {
        Size { width, height }
    }

    #[test]
    fn larger_customer_windows_scale_down_uniformly() {
        let f = fit(sz(1600.0, 900.0), sz(800.0, 600.0));
        assert!((f.scale - 0.5).abs() < 1e-9);
        assert_eq!(f.shown, sz(800.0, 450.0));
        assert_eq!(percent(&f), "50%");
        let f = fit(sz(1000.0, 2000.0), sz(1000.0, 500.0));
        assert!((f.scale - 0.25).abs() < 1e-9);
    }

    #[test]
    fn smaller_windows_are_never_scaled_up() {
        let f = fit(sz(400.0, 300.0), sz(1600.0, 900.0));
        assert_eq!(f.scale, 1.0);
        assert_eq!(f.shown, sz(400.0, 300.0));
    }

    #[test]
    fn degenerate_sizes_do_not_collapse() {
        assert_eq!(fit(sz(0.0, 0.0), sz(800.0, 600.0)).scale, 1.0);
        assert_eq!(fit(sz(800.0, 600.0), sz(f64::NAN, 600.0)).scale, 1.0);
        assert_eq!(fit(sz(100_000.0, 100.0), sz(10.0, 600.0)).scale, MIN_SCALE);
    }

    #[test]
    fn popups_open_below_unless_only_above_has_room() {
        let at = |y: f64| Rect {
            x: 20.0,
            y,
            width: 120.0,
            height: 20.0,
        };
        assert_eq!(popup_at(at(100.0), 80.0, 600.0), (20.0, 120.0));
        assert_eq!(popup_at(at(550.0), 80.0, 600.0), (20.0, 470.0));
        // Room on neither side: below, as browsers do (the popup then scrolls).
        assert_eq!(popup_at(at(30.0), 580.0, 600.0), (20.0, 50.0));
    }

    #[test]
    fn points_round_trip_through_the_scale() {
        let f = fit(sz(1600.0, 900.0), sz(800.0, 600.0));
        assert_eq!(to_agent(&f, 100, 50), (50.0, 25.0));
        assert_eq!(to_customer(&f, 50.0, 25.0), (100, 50));
        assert_eq!(to_customer(&f, 50.2, 25.3), (100, 51));
        assert_eq!(to_customer(&f, f64::INFINITY, f64::NAN), (0, 0));
        assert_eq!(to_customer(&f, 1e12, -1e12), (i32::MAX, i32::MIN));
    }
}
