//! Prometheus metrics for `/metrics`.
//!
//! Each server instance owns its own `PrometheusRecorder` and holds the metric handles it
//! registered, instead of installing a process-global recorder. Tests run many servers in one
//! process in parallel; with a global recorder they would share (and race on) the same counters,
//! and the second `install` would fail. The cost is that code must use these handles rather than
//! the `metrics::counter!` macros, which keeps every metric name in this one file anyway.

use cobrowse_protocol::rest::ApiError;
use cobrowse_protocol::{Code, EndReason, ErrorCode, RefusalReason, RenderReport};
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
    /// `cobrowse_sessions_ended_total{reason=…}`: [`EndReason::KNOWN`] in order, then `other`
    /// (use [`Metrics::ended`]).
    sessions_ended: Vec<Counter>,
    /// Seconds from creation to end, every session.
    pub session_total_seconds: Histogram,
    /// Seconds from the first agent joining to the end, sessions an agent joined.
    pub session_active_seconds: Histogram,
    /// `cobrowse_busy_refusals_total{reason="agent_busy"}`: an agent at `agentSessionsLimit`.
    pub busy_agent: Counter,
    /// `cobrowse_busy_refusals_total{reason="server_full"}`: a creation over
    /// `limits.maxLiveSessions`.
    pub busy_server: Counter,
    /// `cobrowse_write_mode_requests_total{outcome=…}` indexed by [`WriteOutcome`].
    pub write_mode: [Counter; 3],
    /// Seconds from an agent receiving page changes to their paint, as agents report.
    render_latency: Histogram,
    /// Sessions that ended without any agent joining.
    pub sessions_never_joined: Counter,
    /// `cobrowse_control_handovers_total`: control passed from one agent to another (a `Give`
    /// by the agent holding it, or a `Request` granted while nobody connected held it).
    pub control_handovers: Counter,
    /// Agents resynced from the cache after a send-queue overflow.
    pub resyncs: Counter,
    /// Connections closed for malformed, oversized or forbidden frames.
    pub rejected_frames: Counter,
    /// Requests and connections refused by a per-address limit.
    pub rate_limited: Counter,
    /// WebSocket upgrades, `[plain, permessage-deflate]`: how many clients compress.
    pub upgrades: [Counter; 2],
    /// Bytes held by all sessions' page caches (`limits.cacheBytes` bounds it).
    pub cache_bytes: Gauge,
    /// Page caches dropped because the server-wide budget was spent.
    pub caches_over_budget: Counter,
    /// Storage writes waiting for the writer (one per record at most).
    pub pending_writes: Gauge,
    /// Bytes of frames recorded for audit (`recording.*`), before chunking.
    recorded_bytes: Counter,
    /// Recording chunks dropped because too many waited for storage.
    pub recording_chunks_dropped: Counter,
    /// Tokio tasks alive in the server's runtime, read at scrape time: a leak of per-connection
    /// tasks shows as a climb here long before memory does (`scripts/soak.sh` plots it).
    pub runtime_tasks: Gauge,
    /// `cobrowse_css_proxy_requests_total{result=…}` indexed hit, miss, revalidated, refused,
    /// error.
    pub css_proxy: [Counter; 5],
    /// `cobrowse_webhooks_total{result=…}` indexed delivered, failed (every attempt spent),
    /// dropped (the delivery queue was full), retried (an attempt that will be tried again).
    pub webhooks: [Counter; 4],
    /// Event-stream subscribers connected now.
    pub event_subscribers: Gauge,
    /// Event-stream subscribers dropped because they read too slowly.
    pub event_subscribers_dropped: Counter,
}

/// How a write-mode request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The customer granted it.
    Granted,
    /// The customer declined it.
    Denied,
    /// The server refused it: `session.writeModeAllowed` is off.
    Disabled,
}

impl WriteOutcome {
    /// The `outcome` label; the server's refusal is named by its refusal reason's code.
    fn label(self) -> &'static str {
        match self {
            WriteOutcome::Granted => "granted",
            WriteOutcome::Denied => "denied",
            WriteOutcome::Disabled => RefusalReason::WriteModeDisabled.code(),
        }
    }
}

const LATENCY: &str = "cobrowse_relay_latency_seconds";
const SESSION_SECONDS: &str = "cobrowse_session_duration_seconds";
const RENDER: &str = "cobrowse_agent_render_latency_seconds";

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
            .and_then(|b| {
                // Sessions last from seconds (a customer who changed their mind) to hours.
                b.set_buckets_for_metric(
                    Matcher::Full(SESSION_SECONDS.into()),
                    &[
                        1.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
                        14400.0,
                    ],
                )
            })
            .and_then(|b| {
                // A frame at 60 Hz is 16.7 ms: the lower buckets tell one frame from two or three.
                b.set_buckets_for_metric(
                    Matcher::Full(RENDER.into()),
                    &[
                        0.005, 0.01, 0.017, 0.025, 0.033, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                    ],
                )
            })
            .map(|b| b.build_recorder())
            // Buckets are non-empty constants, so this branch is unreachable; stay total anyway.
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
        let histogram = |name: &'static str, labels: Vec<Label>, help: &'static str| {
            r.describe_histogram(name.into(), Some(Unit::Seconds), help.into());
            r.register_histogram(&Key::from_parts(name, labels), &meta())
        };
        const SPAN_HELP: &str = "Session duration: span=\"total\" from creation to end (every session), span=\"active\" from the first agent joining to the end (sessions an agent joined).";
        const BUSY: &str = "cobrowse_busy_refusals_total";
        const BUSY_HELP: &str = "Refusals for want of room, by reason: agent_busy (an agent at session.agentSessionsLimit), server_full (a creation over limits.maxLiveSessions).";
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
            sessions_ended: EndReason::KNOWN
                .iter()
                .chain([&EndReason::Other(String::new())])
                .map(|reason| {
                    counter(
                        "cobrowse_sessions_ended_total",
                        vec![Label::new("reason", reason.code())],
                        "Sessions ended, by end reason.",
                    )
                })
                .collect(),
            session_total_seconds: histogram(
                SESSION_SECONDS,
                vec![Label::new("span", "total")],
                SPAN_HELP,
            ),
            session_active_seconds: histogram(
                SESSION_SECONDS,
                vec![Label::new("span", "active")],
                SPAN_HELP,
            ),
            busy_agent: counter(
                BUSY,
                vec![Label::new("reason", ErrorCode::AgentBusy.code())],
                BUSY_HELP,
            ),
            busy_server: counter(
                BUSY,
                vec![Label::new("reason", ApiError::ServerFull.code())],
                BUSY_HELP,
            ),
            write_mode: [
                WriteOutcome::Granted,
                WriteOutcome::Denied,
                WriteOutcome::Disabled,
            ]
            .map(|o| {
                counter(
                    "cobrowse_write_mode_requests_total",
                    vec![Label::new("outcome", o.label())],
                    "Write-mode requests by how they were answered: granted or denied by the customer, or write_mode_disabled by the server.",
                )
            }),
            render_latency: histogram(
                RENDER,
                vec![],
                "Time from an agent page receiving page changes to just after their paint, as agents report it (a sample of at most 16 frames per agent per second).",
            ),
            sessions_never_joined: counter(
                "cobrowse_sessions_never_joined_total",
                vec![],
                "Sessions that ended before any agent joined.",
            ),
            control_handovers: counter(
                "cobrowse_control_handovers_total",
                vec![],
                "Control passed from one agent of a session to another.",
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
            upgrades: {
                const UP: &str = "cobrowse_websocket_upgrades_total";
                const HELP: &str = "WebSocket upgrades by compression: deflate (the client's permessage-deflate offer was answered) or none.";
                let c = |x: &'static str| vec![Label::new("compression", x)];
                [counter(UP, c("none"), HELP), counter(UP, c("deflate"), HELP)]
            },
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
            recorded_bytes: counter(
                "cobrowse_recorded_bytes_total",
                vec![],
                "Bytes of relayed frames recorded for audit (sites with recording on).",
            ),
            recording_chunks_dropped: counter(
                "cobrowse_recording_chunks_dropped_total",
                vec![],
                "Recording chunks dropped because too many waited for storage.",
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
            webhooks: ["delivered", "failed", "dropped", "retried"].map(|result| {
                counter(
                    "cobrowse_webhooks_total",
                    vec![Label::new("result", result)],
                    "Webhook deliveries by result (delivered, failed after every attempt, dropped because the queue was full, retried).",
                )
            }),
            event_subscribers: gauge(
                "cobrowse_event_subscribers",
                vec![],
                "Event-stream (text/event-stream) subscribers connected.",
            ),
            event_subscribers_dropped: counter(
                "cobrowse_event_subscribers_dropped_total",
                vec![],
                "Event-stream subscribers dropped because they fell too far behind.",
            ),
            handle: recorder.handle(),
        };
        // Make zero-valued metrics visible from the start.
        m.sessions_idle.set(0.0);
        m.sessions_active.set(0.0);
        m.cache_bytes.set(0.0);
        m.pending_writes.set(0.0);
        m.runtime_tasks.set(0.0);
        m.caches_over_budget.increment(0);
        m.event_subscribers.set(0.0);
        m.event_subscribers_dropped.increment(0);
        for g in &m.connections {
            g.set(0.0);
        }
        for c in m
            .frames
            .iter()
            .chain(m.bytes.iter())
            .chain(m.css_proxy.iter())
            .chain(m.sessions_ended.iter())
            .chain(m.write_mode.iter())
            .chain([&m.busy_agent, &m.busy_server, &m.control_handovers])
            .chain(m.webhooks.iter())
        {
            c.increment(0);
        }
        m
    }

    /// Counts an ended session under its reason's code, and observes its durations
    /// (milliseconds since the Unix epoch; `activated_at` is `None` when no agent joined).
    pub fn ended(&self, reason: &EndReason, created_at: u64, activated_at: Option<u64>, now: u64) {
        let i = EndReason::KNOWN
            .iter()
            .position(|r| r == reason)
            .unwrap_or(EndReason::KNOWN.len());
        self.sessions_ended[i].increment(1);
        let secs = |since: u64| now.saturating_sub(since) as f64 / 1000.0;
        self.session_total_seconds.record(secs(created_at));
        if let Some(at) = activated_at {
            self.session_active_seconds.record(secs(at));
        }
    }

    /// Counts one answered write-mode request.
    pub fn write_mode(&self, outcome: WriteOutcome) {
        self.write_mode[outcome as usize].increment(1);
    }

    /// Records the samples of an agent's render report (one that passed
    /// [`RenderReport::check`]).
    pub fn rendered(&self, report: &RenderReport) {
        for &us in &report.samples_us {
            self.render_latency.record(f64::from(us) / 1_000_000.0);
        }
    }

    /// Counts one relayed frame.
    pub fn relayed(&self, dir: Direction, bytes: usize) {
        let i = dir as usize;
        self.frames[i].increment(1);
        self.bytes[i].increment(bytes as u64);
    }

    /// Counts the bytes of one frame recorded for audit.
    pub fn recorded(&self, bytes: usize) {
        self.recorded_bytes.increment(bytes as u64);
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

    #[test]
    fn every_end_reason_and_write_outcome_has_its_series_from_the_start() {
        let m = Metrics::new();
        let text = m.render();
        for reason in EndReason::KNOWN {
            let series = format!(
                "cobrowse_sessions_ended_total{{reason=\"{}\"}} 0",
                reason.code()
            );
            assert!(text.contains(&series), "{series}\n{text}");
        }
        for series in [
            "cobrowse_sessions_ended_total{reason=\"other\"} 0",
            "cobrowse_write_mode_requests_total{outcome=\"granted\"} 0",
            "cobrowse_write_mode_requests_total{outcome=\"denied\"} 0",
            "cobrowse_write_mode_requests_total{outcome=\"write_mode_disabled\"} 0",
            "cobrowse_busy_refusals_total{reason=\"agent_busy\"} 0",
            "cobrowse_busy_refusals_total{reason=\"server_full\"} 0",
        ] {
            assert!(text.contains(series), "{series}\n{text}");
        }
        m.ended(&EndReason::Other("crash".into()), 1_000, None, 3_500);
        m.ended(&EndReason::AgentExit, 0, Some(1_000), 61_000);
        let text = m.render();
        assert!(
            text.contains("cobrowse_sessions_ended_total{reason=\"other\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("cobrowse_sessions_ended_total{reason=\"agent_exit\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("cobrowse_session_duration_seconds_count{span=\"total\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("cobrowse_session_duration_seconds_sum{span=\"active\"} 60"),
            "{text}"
        );
    }

    #[test]
    fn render_samples_land_in_the_frame_buckets() {
        let m = Metrics::new();
        m.rendered(&RenderReport {
            samples_us: vec![16_000, 34_000],
        });
        let text = m.render();
        assert!(
            text.contains("cobrowse_agent_render_latency_seconds_count 2"),
            "{text}"
        );
        assert!(
            text.contains("cobrowse_agent_render_latency_seconds_bucket{le=\"0.017\"} 1"),
            "{text}"
        );
    }
}
