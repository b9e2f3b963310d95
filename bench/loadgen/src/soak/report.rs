//! The soak's figures: per-node curves reduced to start/end/slope, the stream and session
//! counts, the markdown table and the chart.

use super::sample::{NodeSample, Sample};
use super::svg::{Marker, Panel, Series, render};

/// Least-squares slope of `(x, y)` points; `None` with fewer than three.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The `q` quantile (0..=1) of `v`, nearest rank.
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let i = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1;
    Some(s[i])
}

/// The run's timeline, in seconds since the soak started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeline {
    /// Traffic started (every session connected or given up on).
    pub load: f64,
    /// The restart's SIGTERM.
    pub restart: Option<f64>,
    /// The restarted node answered again.
    pub back: Option<f64>,
    /// Customers stopped sending.
    pub stop: f64,
    /// Every session had ended (the last sample is taken after it).
    pub ended: Option<f64>,
}

const MIB: f64 = 1024.0 * 1024.0;

fn pick(s: &NodeSample, what: usize) -> Option<f64> {
    match what {
        0 => s.rss.map(|v| v as f64 / MIB),
        1 => s.fds.map(|v| v as f64),
        2 => s.tasks.map(|v| v as f64),
        3 => s.sessions.map(|v| v as f64),
        _ => s.cpu,
    }
}

fn series(samples: &[Sample], node: usize, what: usize) -> Vec<(f64, Option<f64>)> {
    samples
        .iter()
        .map(|s| (s.t, s.nodes.get(node).and_then(|n| pick(n, what))))
        .collect()
}

/// Value at the first / last sample inside `[from, to]`.
fn ends(points: &[(f64, Option<f64>)], from: f64, to: f64) -> (Option<f64>, Option<f64>) {
    let inside = || {
        points
            .iter()
            .filter(|p| p.0 >= from && p.0 <= to)
            .filter_map(|p| p.1)
    };
    (inside().next(), inside().next_back())
}

/// Slope per minute of the points inside `[from, to]`.
fn slope_in(points: &[(f64, Option<f64>)], from: f64, to: f64) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.0 >= from && p.0 <= to)
        .filter_map(|p| p.1.map(|v| (p.0 / 60.0, v)))
        .collect();
    slope(&pts)
}

/// Average CPU cores used inside `[from, to]` (cumulative CPU seconds of one process).
fn cores_in(points: &[(f64, Option<f64>)], from: f64, to: f64) -> Option<f64> {
    let (a, b) = (
        points.iter().find(|p| p.0 >= from && p.1.is_some())?,
        points.iter().rev().find(|p| p.0 <= to && p.1.is_some())?,
    );
    let (va, vb) = (a.1?, b.1?);
    (b.0 > a.0).then(|| (vb - va) / (b.0 - a.0))
}

fn f0(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.0}"))
}

fn fc(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}"))
}

fn f1(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:+.2}"))
}

/// Seconds the curves are left to settle after load starts and after the node is back: the
/// first planned drops are spread over a minute, and each parks a timer for `maxInterval`.
const SETTLE: f64 = 60.0;

/// The per-node markdown table. Slopes are fitted before the restart and after it settled, so
/// sessions moving between nodes (a step, not a trend) do not read as growth.
pub fn node_table(samples: &[Sample], names: &[String], tl: &Timeline) -> String {
    let mut md = String::from(
        "| node | RSS MiB: start → end, after the end | RSS slope MiB/min (before restart / after) | open fds: idle, start → end (slope/min after), after the end | tokio tasks: idle, start → end (slope/min after), after the end | live sessions start → end | CPU cores (before restart / after) |\n|---|---|---|---|---|---|---|\n",
    );
    let before_end = tl.restart.unwrap_or(tl.stop);
    let after_start = tl.back.map(|b| b + SETTLE);
    for (i, name) in names.iter().enumerate() {
        let p = |w| series(samples, i, w);
        let (rss, fds, tasks, live) = (p(0), p(1), p(2), p(3));
        let range = |pts: &[(f64, Option<f64>)]| ends(pts, tl.load, tl.stop);
        let after =
            |pts: &[(f64, Option<f64>)]| after_start.and_then(|a| slope_in(pts, a, tl.stop));
        let (r0, r1) = range(&rss);
        let (d0, d1) = range(&fds);
        let (t0, t1) = range(&tasks);
        let (l0, l1) = range(&live);
        // Idle: the first reading (nodes up, no session yet); after the end: the last one.
        let first = |pts: &[(f64, Option<f64>)]| pts.iter().find_map(|p| p.1);
        let last = |pts: &[(f64, Option<f64>)]| {
            tl.ended
                .and_then(|e| pts.last().filter(|p| p.0 >= e).and_then(|p| p.1))
        };
        let cpu = p(4);
        md.push_str(&format!(
            "| {name} | {} → {}, {} | {} / {} | {}, {} → {} ({}), {} | {}, {} → {} ({}), {} | {} → {} | {} / {} |\n",
            f0(r0),
            f0(r1),
            f0(last(&rss)),
            f1(slope_in(&rss, tl.load + SETTLE, before_end)),
            f1(after(&rss)),
            f0(first(&fds)),
            f0(d0),
            f0(d1),
            f1(after(&fds)),
            f0(last(&fds)),
            f0(first(&tasks)),
            f0(t0),
            f0(t1),
            f1(after(&tasks)),
            f0(last(&tasks)),
            f0(l0),
            f0(l1),
            fc(cores_in(&cpu, tl.load, before_end)),
            fc(tl.back.and_then(|b| cores_in(&cpu, b, tl.stop))),
        ));
    }
    md
}

/// The chart: RSS, open descriptors and tasks per node over the run.
pub fn chart(title: &str, samples: &[Sample], names: &[String], tl: &Timeline) -> String {
    let panel = |title: &str, what: usize| Panel {
        title: title.into(),
        series: names
            .iter()
            .enumerate()
            .map(|(i, n)| Series {
                label: n.clone(),
                points: series(samples, i, what),
            })
            .collect(),
    };
    let mut markers = vec![Marker {
        t: tl.load,
        label: "load on".into(),
    }];
    if let Some(r) = tl.restart {
        markers.push(Marker {
            t: r,
            label: "restart".into(),
        });
    }
    markers.push(Marker {
        t: tl.stop,
        label: "stop".into(),
    });
    if let Some(e) = tl.ended {
        markers.push(Marker {
            t: e,
            label: "ended".into(),
        });
    }
    render(
        title,
        &[
            panel("RSS (MiB)", 0),
            panel("open file descriptors", 1),
            panel("tokio tasks alive", 2),
            panel("live sessions owned", 3),
        ],
        &markers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_is_its_gradient_and_needs_three_points() {
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), Some(2.0));
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 3.0)]), None);
        assert_eq!(slope(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        assert_eq!(quantile(&v, 1.0), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn the_table_reads_start_end_and_slopes_per_window() {
        let samples: Vec<Sample> = (0..=20)
            .map(|k| {
                let t = k as f64 * 10.0;
                let rss = Some(((100.0 + t / 60.0) * MIB) as u64);
                Sample {
                    t,
                    nodes: vec![NodeSample {
                        rss,
                        fds: Some(50),
                        tasks: Some(9),
                        sessions: Some(3),
                        cpu: Some(t / 2.0),
                    }],
                }
            })
            .collect();
        let tl = Timeline {
            load: 0.0,
            restart: Some(100.0),
            back: Some(110.0),
            stop: 200.0,
            ended: Some(200.0),
        };
        let md = node_table(&samples, &["n1".into()], &tl);
        assert!(
            md.contains("| n1 | 100 → 103, 103 | +1.00 / +1.00 | 50, 50 → 50 (+0.00), 50 | 9, 9 → 9 (+0.00), 9 | 3 → 3 | 0.50 / 0.50 |"),
            "{md}"
        );
    }
}
