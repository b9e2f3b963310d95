//! The soak: days of a cluster's life in minutes. Three nodes behind nginx carry N sessions
//! (one customer producing frames at a set rate, one agent checking them) for a set time while
//! every party drops its socket on a schedule and one node is restarted the way a rolling deploy
//! does it; each node's RSS, open descriptors and tokio tasks are sampled every few seconds and
//! must stay flat, no page-state frame may go missing and no session may end by a fault.
//!
//! * [`cluster`] — the nodes (cluster mode, one Cassandra keyspace), nginx, the restart.
//! * [`connect`] — the schedule, opening sockets through nginx, `Hello` and `Welcome`.
//! * [`party`] — the simulated customers and agents and what they check.
//! * [`sample`] — one reading of a node (`/proc`, `/metrics`).
//! * [`tally`] — the shared counters.
//! * [`report`] — the tables and the chart; [`svg`] draws it.

pub mod cluster;
pub mod connect;
pub mod party;
pub mod report;
pub mod sample;
pub mod svg;
pub mod tally;

use crate::LoadError;
use crate::target::{http_with, json_body};
use cluster::{Cluster, ClusterConfig};
use connect::Plan;
use party::Outcome;
use report::{Timeline, quantile};
use sample::Sample;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally::Tally;
use tokio::time::{Instant, sleep, sleep_until};

/// What a soak run does.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// The nodes and nginx.
    pub cluster: ClusterConfig,
    /// Sessions (customer + agent each).
    pub sessions: usize,
    /// Traffic time.
    pub duration: Duration,
    /// Frames per second per customer.
    pub rate: f64,
    /// Each party drops its socket this often (`None`: never).
    pub reconnect_every: Option<Duration>,
    /// When the restart happens, as a fraction of the traffic time (`None`: no restart).
    pub restart_at: Option<f64>,
    /// How often the nodes are sampled.
    pub sample_every: Duration,
}

/// The figures of a run.
#[derive(Debug)]
pub struct SoakResult {
    /// The markdown report.
    pub markdown: String,
    /// The chart.
    pub svg: String,
    /// Samples and counts as JSON.
    pub json: serde_json::Value,
}

/// Sessions whose creation and sockets are started per second while the load ramps up.
const RAMP_PER_SEC: f64 = 100.0;
/// Time between the customers' stop and their `Leave`, for agents to catch up.
const DRAIN: Duration = Duration::from_secs(5);
/// After the `Leave`s, how long parties may take to see the end.
const END_GRACE: Duration = Duration::from_secs(30);
/// The restarted node.
const RESTARTED: usize = 1;

/// Creates a session through nginx; returns the token, customer secret and node cookie.
async fn create(front: SocketAddr) -> Result<(String, String, String), String> {
    let mut last = String::new();
    for attempt in 0..5u32 {
        if attempt > 0 {
            sleep(Duration::from_millis(200 << attempt)).await;
        }
        match http_with(
            front,
            "POST",
            cobrowse_protocol::rest::LIVE_SESSIONS_PATH,
            &[],
            r#"{"url":"http://shop.example/list"}"#,
        )
        .await
        {
            Ok(a) if a.status == 201 => {
                let created: cobrowse_protocol::rest::CreatedSession =
                    serde_json::from_str(json_body(&a.body))
                        .map_err(|e| format!("session JSON: {e}"))?;
                let cookie = a
                    .cookie("gcbSessionServer")
                    .ok_or("no node cookie on the creation")?;
                return Ok((created.token, created.customer_secret, cookie));
            }
            Ok(a) => last = format!("POST sessions answered {}", a.status),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// One session: created at `at`, then its customer and agent until the end.
async fn session(
    plan: Arc<Plan>,
    tally: Arc<Tally>,
    slot: usize,
    at: Instant,
) -> (Outcome, Outcome) {
    sleep_until(at).await;
    let (token, secret, cookie) = match create(plan.front).await {
        Ok(x) => x,
        Err(e) => {
            let o = Outcome {
                fault: Some(format!("creation failed: {e}")),
                ..Outcome::default()
            };
            return (o.clone(), o);
        }
    };
    let c = tokio::spawn(party::customer(
        plan.clone(),
        tally.clone(),
        slot,
        token.clone(),
        secret,
        cookie.clone(),
    ));
    let a = tokio::spawn(party::agent(plan, tally, slot, token, cookie));
    let fail = |e: tokio::task::JoinError| Outcome {
        fault: Some(format!("task: {e}")),
        ..Outcome::default()
    };
    (c.await.unwrap_or_else(fail), a.await.unwrap_or_else(fail))
}

type Targets = Arc<Mutex<Vec<Option<(u32, SocketAddr)>>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Samples every node every `every` until aborted.
async fn sampler(targets: Targets, epoch: Instant, every: Duration, out: Arc<Mutex<Vec<Sample>>>) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now: Vec<_> = lock(&targets).clone();
        let mut nodes = Vec::new();
        for t in now {
            nodes.push(match t {
                Some((pid, m)) => sample::read(pid, m).await,
                None => sample::NodeSample::default(),
            });
        }
        let s = Sample {
            t: epoch.elapsed().as_secs_f64(),
            nodes,
        };
        lock(&out).push(s);
    }
}

fn targets_of(c: &Cluster) -> Vec<Option<(u32, SocketAddr)>> {
    c.nodes.iter().map(|n| Some((n.pid(), n.metrics))).collect()
}

/// Runs the soak.
pub async fn run(cfg: &SoakConfig) -> Result<SoakResult, LoadError> {
    let epoch = Instant::now();
    eprintln!("soak: starting three nodes and nginx …");
    let mut cluster = Cluster::start(cfg.cluster.clone()).await?;
    let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    let targets: Targets = Arc::new(Mutex::new(targets_of(&cluster)));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampling = tokio::spawn(sampler(
        targets.clone(),
        epoch,
        cfg.sample_every,
        samples.clone(),
    ));

    let ramp = Duration::from_secs_f64(cfg.sessions as f64 / RAMP_PER_SEC);
    let ramp_start = Instant::now();
    let start = ramp_start + ramp + Duration::from_secs(5);
    let stop = start + cfg.duration;
    let leave = stop + DRAIN;
    let plan = Arc::new(Plan {
        front: cluster.front,
        rate: cfg.rate,
        start,
        stop,
        leave,
        hard_end: leave + END_GRACE,
        reconnect_every: cfg.reconnect_every,
        sessions: cfg.sessions,
    });
    let tally = Arc::new(Tally::default());
    eprintln!(
        "soak: {} sessions over {:.0} s, traffic for {:.0} s at {}/s per customer …",
        cfg.sessions,
        ramp.as_secs_f64(),
        cfg.duration.as_secs_f64(),
        cfg.rate
    );
    let tasks: Vec<_> = (0..cfg.sessions)
        .map(|slot| {
            let at = ramp_start + ramp.mul_f64(slot as f64 / cfg.sessions.max(1) as f64);
            tokio::spawn(session(plan.clone(), tally.clone(), slot, at))
        })
        .collect();

    let me = std::process::id();
    let mut tl = Timeline {
        load: (start - epoch).as_secs_f64(),
        stop: (stop - epoch).as_secs_f64(),
        ..Timeline::default()
    };
    // CPU seconds of the load generator and of nginx (all its processes) over the traffic.
    let cpu_of = |pids: &[u32]| -> Option<f64> {
        pids.iter()
            .map(|p| crate::procstat::usage(*p).map(|u| u.cpu_secs))
            .sum()
    };
    let nginx = cluster.nginx_pids();
    sleep_until(start).await;
    let me_start = crate::procstat::usage(me);
    let nginx_start = cpu_of(&nginx);
    let mut restart_times = None;
    let mut restart_error = None;
    if let Some(f) = cfg.restart_at {
        sleep_until(start + cfg.duration.mul_f64(f)).await;
        eprintln!("soak: rolling restart of {} …", names[RESTARTED]);
        lock(&targets)[RESTARTED] = None;
        let at = Instant::now();
        tally.set_restart_at(at);
        tl.restart = Some((at - epoch).as_secs_f64());
        match cluster.restart(RESTARTED).await {
            Ok((exited, ready)) => {
                tl.back = Some((at - epoch).as_secs_f64() + ready);
                restart_times = Some((exited, ready));
            }
            Err(e) => {
                eprintln!("soak: restart failed: {e}");
                restart_error = Some(e.to_string());
            }
        }
        lock(&targets)[RESTARTED] = cluster.nodes.get(RESTARTED).map(|n| (n.pid(), n.metrics));
    }
    eprintln!("soak: waiting for the sessions to end …");
    sleep_until(stop).await;
    let me_stop = crate::procstat::usage(me);
    let nginx_stop = cpu_of(&nginx);
    let mut outcomes = Vec::with_capacity(tasks.len());
    for t in tasks {
        outcomes.push(t.await.unwrap_or_else(|e| {
            let o = Outcome {
                fault: Some(format!("session task: {e}")),
                ..Outcome::default()
            };
            (o.clone(), o)
        }));
    }
    // Keep sampling until the nodes' timers for the last drops (`maxInterval`) and the ended
    // sessions (`endedRetention`, 30 s) have run out: descriptors and tasks should then be back
    // where they were before any session.
    tl.ended = Some(epoch.elapsed().as_secs_f64());
    eprintln!(
        "soak: sessions ended; sampling {} s more …",
        cfg.cluster.max_interval + 10
    );
    sleep(Duration::from_secs(cfg.cluster.max_interval + 10)).await;
    sampling.abort();
    let last: Vec<_> = lock(&targets).clone();
    let mut nodes = Vec::new();
    for t in last {
        nodes.push(match t {
            Some((pid, m)) => sample::read(pid, m).await,
            None => sample::NodeSample::default(),
        });
    }
    lock(&samples).push(Sample {
        t: epoch.elapsed().as_secs_f64(),
        nodes,
    });
    let samples: Vec<Sample> = lock(&samples).clone();
    drop(cluster);

    let mut faults = 0u64;
    let mut clean = 0u64;
    let mut tail_lost = 0u64;
    for (c, a) in &outcomes {
        if let Some(f) = c.fault.as_ref().or(a.fault.as_ref()) {
            faults += 1;
            tally.note(f.clone());
        } else if c.clean && a.clean {
            clean += 1;
        }
        if let (Some(sent), Some(got)) = (c.last, a.last)
            && sent > got
        {
            tail_lost += sent - got;
        } else if let (Some(sent), None) = (c.last, a.last) {
            tail_lost += sent;
        }
    }
    let unconfirmed = outcomes.len() as u64 - faults - clean;
    let g = Tally::get;
    let lost = g(&tally.lost) + tail_lost;
    let handovers = tally.handovers();
    let outages = tally.outages();
    let secs = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2} s"));

    let mut md = String::new();
    md.push_str(&format!(
        "Three `cobrowse-server` nodes (cluster mode, one Cassandra) behind nginx (`ci/nginx/cobrowse.conf`); {} sessions, each one customer sending {} frames/s (the relay test's mix: half pointer moves, half page state) and one agent, for {:.1} min of traffic; every party drops its socket every {} and resumes its link; node {} restarted (SIGTERM, start again) at {:.0} % of the traffic time; nodes' `session.maxInterval` {} s. Nodes sampled every {:.0} s; slopes are fitted from 60 s after the load started to the restart, and from 60 s after the node was back to the stop; \"after the end\" is read `maxInterval` + 10 s after the last session ended.\n\n",
        cfg.sessions,
        cfg.rate,
        cfg.duration.as_secs_f64() / 60.0,
        cfg.reconnect_every.map_or("– (never)".into(), |d| format!("{:.0} s", d.as_secs_f64())),
        names[RESTARTED],
        cfg.restart_at.unwrap_or(0.0) * 100.0,
        cfg.cluster.max_interval,
        cfg.sample_every.as_secs_f64(),
    ));
    md.push_str(&report::node_table(&samples, &names, &tl));
    md.push_str("\n| stream and sessions | value |\n|---|---:|\n");
    let row = |md: &mut String, k: &str, v: String| md.push_str(&format!("| {k} | {v} |\n"));
    // Half the mix is page state: the rate the customers would reach on an idle machine.
    let nominal = cfg.sessions as f64 * cfg.rate / 2.0 * cfg.duration.as_secs_f64();
    row(
        &mut md,
        "page-state frames sent (share of the nominal rate)",
        format!(
            "{} ({:.0} %)",
            g(&tally.sent),
            100.0 * g(&tally.sent) as f64 / nominal.max(1.0)
        ),
    );
    row(
        &mut md,
        "page-state frames received in order",
        g(&tally.received).to_string(),
    );
    row(&mut md, "**page-state frames lost**", format!("**{lost}**"));
    row(
        &mut md,
        "page-state frames replaced by a snapshot (link started over)",
        g(&tally.superseded).to_string(),
    );
    row(
        &mut md,
        "page-state frames applied twice",
        g(&tally.duplicates).to_string(),
    );
    row(
        &mut md,
        "**sessions ended by faults**",
        format!("**{faults}**"),
    );
    row(
        &mut md,
        "sessions ended by the soak's stop (customer exit seen by both)",
        clean.to_string(),
    );
    row(
        &mut md,
        "sessions whose end a party did not see",
        unconfirmed.to_string(),
    );
    row(
        &mut md,
        "reconnects, planned",
        g(&tally.planned_reconnects).to_string(),
    );
    row(
        &mut md,
        "reconnects, forced (restart, lost socket)",
        g(&tally.forced_reconnects).to_string(),
    );
    row(
        &mut md,
        "links resumed (gap replayed) / started over",
        format!("{} / {}", g(&tally.resumed), g(&tally.fresh)),
    );
    row(
        &mut md,
        "sessions that moved node (agents told `OwnerChanged`)",
        g(&tally.owner_changes).to_string(),
    );
    row(
        &mut md,
        "snapshots the page cache asked for",
        g(&tally.snapshots_requested).to_string(),
    );
    row(
        &mut md,
        "load generator CPU over the traffic time, cores",
        match (me_start, me_stop) {
            (Some(a), Some(b)) => format!(
                "{:.2}",
                (b.cpu_secs - a.cpu_secs) / cfg.duration.as_secs_f64().max(1.0)
            ),
            _ => "–".into(),
        },
    );
    row(
        &mut md,
        "nginx CPU over the traffic time, cores",
        match (nginx_start, nginx_stop) {
            (Some(a), Some(b)) => format!("{:.2}", (b - a) / cfg.duration.as_secs_f64().max(1.0)),
            _ => "–".into(),
        },
    );
    row(
        &mut md,
        "planned reconnect: agent's page still, p50 / p99",
        format!(
            "{} / {}",
            secs(quantile(&outages, 0.5)),
            secs(quantile(&outages, 0.99))
        ),
    );
    match restart_times {
        Some((exited, ready)) => {
            row(
                &mut md,
                "restart: SIGTERM → old process exited / new one ready",
                format!("{exited:.2} s / {ready:.2} s"),
            );
            row(
                &mut md,
                &format!(
                    "restart hand-over: SIGTERM → a moved session's page flows again, p50 / max ({} sessions)",
                    handovers.len()
                ),
                format!(
                    "{} / {}",
                    secs(quantile(&handovers, 0.5)),
                    secs(quantile(&handovers, 1.0))
                ),
            );
        }
        None => row(
            &mut md,
            "restart",
            restart_error.clone().unwrap_or_else(|| "not done".into()),
        ),
    }
    let notes = tally.notes();
    if !notes.is_empty() {
        md.push_str("\nFirst problems noted:\n\n");
        for n in &notes {
            md.push_str(&format!("* {n}\n"));
        }
    }
    let svg = report::chart(
        &format!(
            "cobrowse soak: {} sessions × {} frames/s, 3 nodes behind nginx",
            cfg.sessions, cfg.rate
        ),
        &samples,
        &names,
        &tl,
    );
    let json = serde_json::json!({
        "sessions": cfg.sessions, "rate": cfg.rate, "seconds": cfg.duration.as_secs_f64(),
        "nodes": names,
        "timeline": { "load": tl.load, "restart": tl.restart, "back": tl.back, "stop": tl.stop, "ended": tl.ended },
        "samples": samples.iter().map(|s| serde_json::json!({
            "t": s.t,
            "nodes": s.nodes.iter().map(|n| serde_json::json!({
                "rss": n.rss, "fds": n.fds, "tasks": n.tasks, "sessions": n.sessions, "cpu": n.cpu,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "sent": g(&tally.sent), "received": g(&tally.received), "lost": lost,
        "superseded": g(&tally.superseded), "duplicates": g(&tally.duplicates),
        "faults": faults, "clean": clean, "unconfirmed": unconfirmed,
        "plannedReconnects": g(&tally.planned_reconnects), "forcedReconnects": g(&tally.forced_reconnects),
        "resumed": g(&tally.resumed), "fresh": g(&tally.fresh),
        "handoverP50": quantile(&handovers, 0.5), "handoverMax": quantile(&handovers, 1.0),
        "restart": restart_times.map(|(e, r)| serde_json::json!({"exited": e, "ready": r})),
        "notes": notes,
    });
    Ok(SoakResult {
        markdown: md,
        svg,
        json,
    })
}
