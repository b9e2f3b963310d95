//! One reading of a node: resident memory and open descriptors from `/proc/<pid>`, alive tokio
//! tasks from its `/metrics` (`cobrowse_runtime_alive_tasks`).

use crate::procstat;
use crate::target::http;
use std::net::SocketAddr;

/// A node's figures at one instant (`None`: could not be read, e.g. the node was restarting).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NodeSample {
    /// Resident set size, bytes.
    pub rss: Option<u64>,
    /// Entries in `/proc/<pid>/fd`.
    pub fds: Option<u64>,
    /// Tokio tasks alive in the node's runtime.
    pub tasks: Option<u64>,
    /// Live sessions the node owns (idle + active).
    pub sessions: Option<u64>,
    /// CPU time used so far (user + system), seconds.
    pub cpu: Option<f64>,
}

/// All nodes at `t` seconds into the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Seconds since the soak started.
    pub t: f64,
    /// One per node, in node order.
    pub nodes: Vec<NodeSample>,
}

/// Open file descriptors of `pid`.
pub fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// The value of a metric (name with its labels, as exposed) in a Prometheus text exposition.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        rest.starts_with(' ').then(|| rest.trim().parse().ok())?
    })
}

/// Reads one node.
pub async fn read(pid: u32, metrics: SocketAddr) -> NodeSample {
    let (tasks, sessions) = match http(metrics, "GET", "/metrics", "").await {
        Ok((200, body)) => {
            let m = |name| metric(&body, name).map(|v| v as u64);
            let live = m("cobrowse_live_sessions{state=\"idle\"}")
                .zip(m("cobrowse_live_sessions{state=\"active\"}"))
                .map(|(a, b)| a + b);
            (m("cobrowse_runtime_alive_tasks"), live)
        }
        _ => (None, None),
    };
    let usage = procstat::usage(pid);
    NodeSample {
        rss: usage.map(|u| u.rss_bytes),
        fds: open_fds(pid),
        tasks,
        sessions,
        cpu: usage.map(|u| u.cpu_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlabelled_metric_is_found_by_its_whole_name() {
        let text =
            "# HELP x y\ncobrowse_runtime_alive_tasks_total 9\ncobrowse_runtime_alive_tasks 42\n";
        assert_eq!(metric(text, "cobrowse_runtime_alive_tasks"), Some(42.0));
        assert_eq!(metric(text, "cobrowse_nothing"), None);
    }

    #[test]
    fn this_process_has_open_descriptors() {
        assert!(open_fds(std::process::id()).is_some_and(|n| n >= 3));
    }
}
