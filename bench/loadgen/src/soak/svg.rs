//! A small hand-written SVG line chart: stacked panels sharing one time axis, one line per
//! series, dashed vertical markers for the run's events. About a hundred lines, so the soak
//! needs no plotting crate (their SVG backends pull in font handling this chart does not need)
//! and no external service; the file opens in any browser.

use std::fmt::Write;

/// One line: `(seconds, value)` points; `None` breaks the line (the value could not be read).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// The points, in time order.
    pub points: Vec<(f64, Option<f64>)>,
}

/// One panel: a title (with its unit) and its lines.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Shown above the panel.
    pub title: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// A dashed vertical line across every panel at `t` seconds.
#[derive(Debug, Clone)]
pub struct Marker {
    /// Seconds.
    pub t: f64,
    /// Label at its top.
    pub label: String,
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];
const W: f64 = 900.0;
const PANEL_H: f64 = 180.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 50.0;
const GAP: f64 = 45.0;

/// A "nice" tick step (1, 2 or 5 × 10ⁿ) giving about `count` ticks over `range`.
pub fn nice_step(range: f64, count: f64) -> f64 {
    let raw = (range / count).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    mag * if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The whole chart.
pub fn render(title: &str, panels: &[Panel], markers: &[Marker]) -> String {
    let t_max = panels
        .iter()
        .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)))
        .fold(1.0f64, f64::max);
    let plot_w = W - LEFT - RIGHT;
    let h = TOP + panels.len() as f64 * (PANEL_H + GAP) + 10.0;
    let x = |t: f64| LEFT + t / t_max * plot_w;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(o, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        o,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let t_step = nice_step(t_max / 60.0, 10.0) * 60.0;
    for (pi, panel) in panels.iter().enumerate() {
        let top = TOP + pi as f64 * (PANEL_H + GAP);
        let values = panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1));
        let v_max = values.fold(0.0f64, f64::max).max(1.0) * 1.1;
        let step = nice_step(v_max, 4.0);
        let v_top = (v_max / step).ceil() * step;
        let y = |v: f64| top + PANEL_H - v / v_top * PANEL_H;
        let _ = writeln!(
            o,
            r#"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"#,
            top - 8.0,
            esc(&panel.title)
        );
        let _ = writeln!(
            o,
            r##"<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_H}" fill="none" stroke="#999"/>"##
        );
        let mut v = 0.0;
        while v <= v_top + step / 2.0 {
            let _ = writeln!(
                o,
                r##"<line x1="{LEFT}" x2="{}" y1="{y0}" y2="{y0}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                LEFT + plot_w,
                LEFT - 5.0,
                y(v) + 4.0,
                fmt_value(v),
                y0 = y(v)
            );
            v += step;
        }
        let mut t = 0.0;
        while t <= t_max + 1e-9 {
            let _ = writeln!(
                o,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">{}</text>"##,
                x(t),
                top + PANEL_H + 14.0,
                fmt_value(t / 60.0)
            );
            t += t_step;
        }
        for m in markers {
            let _ = writeln!(
                o,
                r##"<line x1="{xm}" x2="{xm}" y1="{top}" y2="{}" stroke="#888" stroke-dasharray="4 3"/>"##,
                top + PANEL_H,
                xm = x(m.t)
            );
            if pi == 0 {
                let _ = writeln!(
                    o,
                    r##"<text x="{}" y="{}" fill="#555">{}</text>"##,
                    x(m.t) + 3.0,
                    top + 12.0,
                    esc(&m.label)
                );
            }
        }
        for (si, s) in panel.series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()];
            let mut d = String::new();
            let mut pen_down = false;
            for (t, v) in &s.points {
                match v {
                    Some(v) => {
                        let _ = write!(
                            d,
                            "{}{:.1},{:.1} ",
                            if pen_down { "L" } else { "M" },
                            x(*t),
                            y(*v)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let _ = writeln!(
                o,
                r#"<path d="{}" fill="none" stroke="{color}" stroke-width="1.6"/>"#,
                d.trim_end()
            );
            let lx = LEFT + plot_w - 90.0 * (panel.series.len() - si) as f64;
            let _ = writeln!(
                o,
                r#"<rect x="{lx}" y="{}" width="12" height="3" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
                top - 12.0,
                lx + 16.0,
                top - 8.0,
                esc(&s.label)
            );
        }
    }
    let _ = writeln!(
        o,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">minutes</text>"##,
        LEFT + plot_w / 2.0,
        h - 2.0
    );
    o.push_str("</svg>\n");
    o
}

fn fmt_value(v: f64) -> String {
    if v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(100.0, 4.0), 50.0);
        assert_eq!(nice_step(7.0, 4.0), 2.0);
        assert_eq!(nice_step(0.3, 4.0), 0.1);
    }

    #[test]
    fn a_chart_has_one_path_per_series_and_breaks_at_gaps() {
        let s = |label: &str| Series {
            label: label.into(),
            points: vec![
                (0.0, Some(1.0)),
                (10.0, None),
                (20.0, Some(3.0)),
                (30.0, Some(2.0)),
            ],
        };
        let svg = render(
            "t <&>",
            &[Panel {
                title: "RSS".into(),
                series: vec![s("n1"), s("n2")],
            }],
            &[Marker {
                t: 15.0,
                label: "restart".into(),
            }],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<path ").count(), 2);
        // Each path starts twice: before and after the unreadable sample.
        assert_eq!(svg.matches(r#"d="M"#).count(), 2);
        assert_eq!(svg.matches(" M").count(), 2);
        assert!(svg.contains("t &lt;&amp;&gt;"));
    }
}
