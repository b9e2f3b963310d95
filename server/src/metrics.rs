//! Prometheus metrics for `/metrics`.
//!
//! Each server instance owns its own `PrometheusRecorder` and holds the metric handles it
//! registered, instead of installing a process-global recorder. Tests run many servers in one
//! process in parallel; with a global recorder they would share (and race on) the same counters,
//! and the second `install` would fail. The cost is that code must use these handles rather than
//! the `metrics::counter!` macros, which keeps every metric name in this one file anyway.

use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Relay direction labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Customer frames fanned out to agents.
    CustomerToAgent,
    /// Agent frames forwarded to the customer.
    AgentToCustomer,
    /// Frames the server itself generates.
    Server,
}

/// The handles of every metric this server exports.
pub struct Metrics {
    handle: PrometheusHandle,
    /// `cobrowse_live_sessions{state="idle"}`.
    pub sessions_idle: Gauge,
    /// `cobrowse_live_sessions{state="active"}`.
    pub sessions_active: Gauge,
    /// `cobrowse_connections{role=…}` indexed customer, agent, controller.
    pub connections: [Gauge; 3],
    /// `cobrowse_frames_relayed_total{direction=…}` indexed by [`Direction`].
    pub frames: [Counter; 3],
    /// `cobrowse_bytes_relayed_total{direction=…}`.
    pub bytes: [Counter; 3],
    /// Seconds from receiving a frame to writing it to a recipient's socket.
    pub relay_latency: Histogram,
    /// Sessions created.
    pub sessions_created: Counter,
    /// Sessions ended.
    pub sessions_ended: Counter,
    /// Sessions that ended without any agent joining.
    pub sessions_never_joined: Counter,
    /// Agents resynced from the cache after a send-queue overflow.
    pub resyncs: Counter,
    /// Connections closed for malformed, oversized or forbidden frames.
    pub rejected_frames: Counter,
    /// Requests and connections refused by a per-address limit.
    pub rate_limited: Counter,
    /// Bytes held by all sessions' page caches (`limits.cacheBytes` bounds it).
    pub cache_bytes: Gauge,
    /// Page caches dropped because the server-wide budget was spent.
    pub caches_over_budget: Counter,
    /// Storage writes waiting for the writer (one per record at most).
    pub pending_writes: Gauge,
    /// Tokio tasks alive in the server's runtime, read at scrape time: a leak of per-connection
    /// tasks shows as a climb here long before memory does (`scripts/soak.sh` plots it).
    pub runtime_tasks: Gauge,
    /// `cobrowse_css_proxy_requests_total{result=…}` indexed hit, miss, revalidated, refused,
    /// error.
    pub css_proxy: [Counter; 5],
}

const LATENCY: &str = "cobrowse_relay_latency_seconds";

fn meta() -> Metadata<'static> {
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()))
}

impl Metrics {
    /// Builds a private recorder and registers every metric.
    pub fn new() -> Metrics {
        let recorder: PrometheusRecorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(LATENCY.into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            )
            .map(|b| b.build_recorder())
            // Buckets are a non-empty constant, so this branch is unreachable; stay total anyway.
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let r = &recorder;
        let counter = |name: &'static str, labels: Vec<Label>, help: &'static str| {
            r.describe_counter(name.into(), None, help.into());
            r.register_counter(&Key::from_parts(name, labels), &meta())
        };
        let gauge = |name: &'static str, labels: Vec<Label>, help: &'static str| {
            r.describe_gauge(name.into(), None, help.into());
            r.register_gauge(&Key::from_parts(name, labels), &meta())
        };
        let dir = |d: &'static str| vec![Label::new("direction", d)];
        let role = |x: &'static str| vec![Label::new("role", x)];
        let state = |x: &'static str| vec![Label::new("state", x)];
        const LIVE: &str = "cobrowse_live_sessions";
        const CONN: &str = "cobrowse_connections";
        const FR: &str = "cobrowse_frames_relayed_total";
        const BY: &str = "cobrowse_bytes_relayed_total";
        let m = Metrics {
            sessions_idle: gauge(LIVE, state("idle"), "Live sessions by state."),
            sessions_active: gauge(LIVE, state("active"), "Live sessions by state."),
            connections: [
                gauge(
                    CONN,
                    role("customer"),
                    "Open WebSocket connections by role.",
                ),
                gauge(CONN, role("agent"), "Open WebSocket connections by role."),
                gauge(
                    CONN,
                    role("controller"),
                    "Open WebSocket connections by role.",
                ),
            ],
            frames: [
                counter(FR, dir("customer_to_agent"), "Frames relayed by direction."),
                counter(FR, dir("agent_to_customer"), "Frames relayed by direction."),
                counter(FR, dir("server"), "Frames relayed by direction."),
            ],
            bytes: [
                counter(BY, dir("customer_to_agent"), "Bytes relayed by direction."),
                counter(BY, dir("agent_to_customer"), "Bytes relayed by direction."),
                counter(BY, dir("server"), "Bytes relayed by direction."),
            ],
            relay_latency: {
                r.describe_histogram(
                    LATENCY.into(),
                    Some(Unit::Seconds),
                    "Time from receiving a frame to writing it to a recipient.".into(),
                );
                r.register_histogram(&Key::from_name(LATENCY), &meta())
            },
            sessions_created: counter(
                "cobrowse_sessions_created_total",
                vec![],
                "Sessions created.",
            ),
            sessions_ended: counter("cobrowse_sessions_ended_total", vec![], "Sessions ended."),
            sessions_never_joined: counter(
                "cobrowse_sessions_never_joined_total",
                vec![],
                "Sessions that ended before any agent joined.",
            ),
            resyncs: counter(
                "cobrowse_agent_resyncs_total",
                vec![],
                "Agents resynced from the page cache after their send queue overflowed.",
            ),
            rejected_frames: counter(
                "cobrowse_rejected_frames_total",
                vec![],
                "Connections closed for malformed, oversized or forbidden frames.",
            ),
            rate_limited: counter(
                "cobrowse_rate_limited_total",
                vec![],
                "Requests and connections refused by a per-address limit (lookups, session creations, connection slots, control frames).",
            ),
            cache_bytes: gauge(
                "cobrowse_page_cache_bytes",
                vec![],
                "Bytes held by all sessions' late-joiner page caches.",
            ),
            caches_over_budget: counter(
                "cobrowse_page_caches_over_budget_total",
                vec![],
                "Page caches dropped because the server-wide page cache budget was spent.",
            ),
            pending_writes: gauge(
                "cobrowse_storage_pending_writes",
                vec![],
                "Storage writes waiting for the writer task (at most one per record).",
            ),
            runtime_tasks: gauge(
                "cobrowse_runtime_alive_tasks",
                vec![],
                "Tokio tasks alive in the server's runtime (read at scrape time).",
            ),
            css_proxy: ["hit", "miss", "revalidated", "refused", "error"].map(|result| {
                counter(
                    "cobrowse_css_proxy_requests_total",
                    vec![Label::new("result", result)],
                    "CSS proxy requests by result (cache hit, miss, revalidated with 304, refused, origin error).",
                )
            }),
            handle: recorder.handle(),
        };
        // Make zero-valued metrics visible from the start.
        m.sessions_idle.set(0.0);
        m.sessions_active.set(0.0);
        m.cache_bytes.set(0.0);
        m.pending_writes.set(0.0);
        m.runtime_tasks.set(0.0);
        m.caches_over_budget.increment(0);
        for g in &m.connections {
            g.set(0.0);
        }
        for c in m
            .frames
            .iter()
            .chain(m.bytes.iter())
            .chain(m.css_proxy.iter())
        {
            c.increment(0);
        }
        m
    }

    /// Counts one relayed frame.
    pub fn relayed(&self, dir: Direction, bytes: usize) {
        let i = dir as usize;
        self.frames[i].increment(1);
        self.bytes[i].increment(bytes as u64);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_servers_do_not_share_counters() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.relayed(Direction::CustomerToAgent, 10);
        a.sessions_active.set(2.0);
        let text_a = a.render();
        let text_b = b.render();
        assert!(
            text_a.contains("cobrowse_bytes_relayed_total{direction=\"customer_to_agent\"} 10"),
            "{text_a}"
        );
        assert!(
            text_a.contains("cobrowse_live_sessions{state=\"active\"} 2"),
            "{text_a}"
        );
        assert!(
            text_b.contains("cobrowse_bytes_relayed_total{direction=\"customer_to_agent\"} 0"),
            "{text_b}"
        );
    }
}
