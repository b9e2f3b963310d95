//! Cluster mode on loopback: three real `cobrowse-server` processes sharing the test Cassandra
//! (`COBROWSE_TEST_CASSANDRA`), addressed directly (the way a load balancer would spread clients),
//! driven by protocol-level WebSocket clients.
//!
//! Written in Rust next to the server rather than in Node: the clients speak the binary protocol
//! through `cobrowse-protocol` directly, and SIGKILL of a node is a plain `Child::kill`.
//! Needs the `cassandra-tests` feature (reported as ignored without it; fails loudly with it but
//! without a database).

use crate::common::*;
use crate::nginx::Nginx;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::{Message, Role, SessionEvent, Welcome};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BIN: &str = env!("CARGO_BIN_EXE_cobrowse-server");

pub(crate) fn cassandra_addr() -> String {
    match std::env::var("COBROWSE_TEST_CASSANDRA") {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => panic!(
            "COBROWSE_TEST_CASSANDRA is not set: the cluster tests need a real Cassandra. Run \
             `scripts/test.sh` (it starts one), or start one and set \
             COBROWSE_TEST_CASSANDRA=127.0.0.1:9042."
        ),
    }
}

/// One server process.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) addr: String,
    pub(crate) child: Child,
}

impl Node {
    fn spawn(name: &str, keyspace: &str, port: u16, www: &std::path::Path) -> Result<Node> {
        Node::spawn_with(name, keyspace, port, www, &[])
    }

    /// [`Node::spawn`] with more `--set` options (a `storage.cassandra.contactPoints` among them
    /// replaces the test database's address, e.g. with a relay in front of it).
    pub(crate) fn spawn_with(
        name: &str,
        keyspace: &str,
        port: u16,
        www: &std::path::Path,
        extra: &[&str],
    ) -> Result<Node> {
        let mut cmd = Command::new(BIN);
        for e in extra {
            cmd.args(["--set", e]);
        }
        let mut child = cmd
            .args(["--listen", "127.0.0.1", "--port", &port.to_string()])
            .args(["--node-name", name])
            .arg("--static-dir")
            .arg(www)
            .args(["--set", "storage.type=cassandra"])
            .args(
                (!extra
                    .iter()
                    .any(|e| e.starts_with("storage.cassandra.contactPoints=")))
                .then(|| {
                    [
                        "--set".to_string(),
                        format!("storage.cassandra.contactPoints={}", cassandra_addr()),
                    ]
                })
                .into_iter()
                .flatten(),
            )
            .arg("--set")
            .arg(format!("storage.cassandra.keyspace={keyspace}"))
            .args([
                "--set",
                "storage.cassandra.replicationStrategy=SimpleStrategy",
            ])
            .args(["--set", "storage.cassandra.nodeHeartbeat=1s"])
            .args(["--set", "session.maxInterval=60s"])
            // A cluster needs one agent credential on every node (a generated one would differ).
            .arg("--set")
            .arg(format!("auth.agentToken={TEST_AGENT_TOKEN}"))
            .arg("--set")
            .arg(format!("auth.supervisorToken={SUPERVISOR_TOKEN}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let tag = name.to_string();
        // The thread inherits the test's output capture: a failing test shows what its nodes
        // warned about (a fence, a lost claim), a passing one shows nothing.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(" WARN ") || line.contains(" ERROR ") {
                    println!("[{tag}] {line}");
                }
                let _ = tx.send(line);
            }
        });
        let addr = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .with_context(|| format!("{name}: no 'listening' log line"))?;
            if line.contains("listening")
                && let Some(rest) = line.split("addr=").nth(1)
            {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        };
        Ok(Node {
            name: name.into(),
            addr,
            child,
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// SIGKILL: no shutdown path runs, exactly like a crashed machine.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends SIGTERM to a child process (the signal a service manager sends to stop it).
pub(crate) fn sigterm(child: &Child) {
    use rustix::process::{Pid, Signal, kill_process};
    if let Some(pid) = Pid::from_raw(child.id() as i32) {
        let _ = kill_process(pid, Signal::TERM);
    }
}

async fn ws_to(addr: &str) -> Result<Ws> {
    let req = format!("ws://{addr}/cobrowse/ws").into_client_request()?;
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// Hello → Welcome on `node`; returns the socket and the Welcome's node name.
pub(crate) async fn join_at(addr: &str, msg: &Message) -> Result<(Ws, String)> {
    let mut ws = ws_to(addr).await?;
    send(&mut ws, msg).await?;
    match frame(&mut ws).await? {
        Message::Welcome(w) => Ok((ws, w.node)),
        other => bail!("expected Welcome from {addr}, got {other:?}"),
    }
}

/// Reads until the socket ends (close frame or vanished connection).
async fn until_gone(ws: &mut Ws) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if Instant::now() > deadline {
            bail!("socket did not end");
        }
        match next(ws).await {
            Ok(Event::Frame(_)) => continue,
            Ok(_) | Err(_) => return Ok(()),
        }
    }
}

fn cookie(a: &HttpAnswer) -> Option<String> {
    a.headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("gcbSessionServer="))
        .map(|(_, v)| {
            v.trim_start_matches("gcbSessionServer=")
                .split(';')
                .next()
                .unwrap_or_default()
                .to_string()
        })
}

/// The supervisor token every node is started with.
const SUPERVISOR_TOKEN: &str = "cluster-supervisor-token-0123456789";

/// Polls `node`'s supervisor list until `token` is there as described (the owner's storage
/// writer decides when), failing after [`WAIT`].
async fn supervisor_sees(
    node: &Node,
    token: &str,
    owner: &str,
    agent: &str,
    page: &str,
) -> Result<()> {
    let auth = format!("Bearer {SUPERVISOR_TOKEN}");
    let deadline = Instant::now() + WAIT;
    loop {
        let r = http(
            "GET",
            &node.url("/cobrowse/rest/supervisor/sessions"),
            &[("Authorization", auth.as_str())],
            None,
        )
        .await?;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json()?;
        let found = v["sessions"].as_array().into_iter().flatten().any(|s| {
            s["token"] == token
                && s["node"] == owner
                && s["agents"] == serde_json::json!([agent])
                && s["pageUrl"] == page
        });
        if found {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{}: {token} never listed as on {owner} with {agent} at {page}: {v}",
                node.name
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn three_nodes_route_fail_over_and_do_not_fight() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(180), three_nodes_case())
        .await
        .context("the three-node case did not finish within 180 s")?
}

async fn three_nodes_case() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    let ks = format!("cbc_{}", uuid::Uuid::new_v4().simple());
    let mut n1 = Node::spawn("n1", &ks, 0, &www)?;
    let n2 = Node::spawn("n2", &ks, 0, &www)?;
    let n3 = Node::spawn("n3", &ks, 0, &www)?;

    // Health is honest: every node reaches the store.
    for n in [&n1, &n2, &n3] {
        let h = http("GET", &n.url("/cobrowse/health"), &[], None).await?;
        assert_eq!(h.status, 200, "{}: {}", n.name, h.body);
        assert_eq!(h.json()?["storage"], "ok");
    }

    // Created on n1: cookie and serverUrl name n1.
    let created = http(
        "POST",
        &n1.url("/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(cookie(&created).as_deref(), Some("n1"));
    let body = created.json()?;
    let token = body["token"].as_str().context("token")?.to_string();
    let history_id = body["historyId"].as_str().context("historyId")?.to_string();
    remember_customer_secret(&body);
    // No public URL is configured: none is made up from the request's Host.
    assert_eq!(body["serverUrl"], serde_json::Value::Null);

    let (mut customer, node) = join_at(&n1.addr, &hello(Role::Customer, &token)).await?;
    assert_eq!(node, "n1");
    send(&mut customer, &snapshot("before")).await?;
    sync(&mut customer).await?;

    // A cookie-aware agent asks n2: the answer points at the owner (URL and cookie).
    let looked = http(
        "GET",
        &n2.url(&format!("/cobrowse/rest/live/sessions/{token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(looked.status, 200, "{}", looked.body);
    assert_eq!(cookie(&looked).as_deref(), Some("n1"));
    assert_eq!(looked.json()?["node"]["name"], "n1");
    assert_eq!(looked.json()?["serverUrl"], serde_json::Value::Null);

    // A cookie-less agent lands on n2 anyway: its socket is proxied to n1.
    let (mut agent, node) = join_at(&n2.addr, &agent_hello(&token, "alice")).await?;
    assert_eq!(node, "n1", "the agent is served by the owner through n2");
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("before")
    })
    .await?;
    // Live relay across nodes.
    send(&mut customer, &nav(1, "one")).await?;
    until(&mut agent, |m| nav_index(m) == Some(1)).await?;
    // The supervisor console of a third node lists the session from the shared store, with its
    // owner, its agent and the customer's page (written by n1's storage writer: polled).
    supervisor_sees(&n3, &token, "n1", "alice", "https://shop.example/p/1").await?;

    // SIGKILL the owner mid-session.
    n1.kill();
    let killed = Instant::now();
    until_gone(&mut agent).await?;
    until_gone(&mut customer).await?;

    // Both parties reconnect at once through other nodes (as the LB would send them):
    // simultaneous claims, exactly one owner.
    let c_task = {
        let token = token.clone();
        let n3_addr = n3.addr.clone();
        tokio::spawn(async move { join_at(&n3_addr, &hello(Role::Customer, &token)).await })
    };
    let (mut agent, agent_node) = join_at(&n2.addr, &agent_hello(&token, "alice")).await?;
    let (mut customer, customer_node) = c_task.await??;
    assert_eq!(
        agent_node, customer_node,
        "both parties are served by the one new owner"
    );
    assert!(agent_node == "n2" || agent_node == "n3", "{agent_node}");
    // Both are told the owner changed.
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::OwnerChanged { .. }))
    })
    .await?;
    until(&mut agent, |m| {
        matches!(m, Message::Session(SessionEvent::OwnerChanged { .. }))
    })
    .await?;
    // The customer re-sends its page; the agent's view converges.
    send(&mut customer, &snapshot("after")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("after")
    })
    .await?;
    let interruption = killed.elapsed();
    // Measured, not asserted (no wall-clock bounds in tests); the whole case has one overall
    // timeout instead.
    eprintln!("node loss: agent view recovered {interruption:?} after SIGKILL of the owner");

    // Same session number, same history record.
    let owner = if agent_node == "n2" { &n2 } else { &n3 };
    let info = http(
        "GET",
        &owner.url(&format!("/cobrowse/rest/live/sessions/{token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()?["historyId"], history_id.as_str());
    let hist = http(
        "GET",
        &n2.url(&format!("/cobrowse/rest/history/sessions/{history_id}")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(hist.status, 200, "{}", hist.body);
    assert_eq!(hist.json()?["token"], token.as_str());

    // The old node comes back under the same name and port: it does not take the session back.
    let n1b = Node::spawn("n1", &ks, n1.port(), &www)?;
    let looked = http(
        "GET",
        &n1b.url(&format!("/cobrowse/rest/live/sessions/{token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(looked.status, 200, "{}", looked.body);
    assert_eq!(looked.json()?["node"]["name"], agent_node.as_str());
    send(&mut customer, &nav(2, "two")).await?;
    until(&mut agent, |m| nav_index(m) == Some(2)).await?;
    drop(n1b);
    Ok(())
}

/// A TCP relay in front of the database that the test can cut, so "the database is briefly
/// unavailable" happens without stopping the shared Cassandra.
async fn relay(
    listener: tokio::net::TcpListener,
    upstream: String,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (cut, cut_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let mut cut_rx = cut_rx.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.wait_for(|c| *c) => {}
                    }
                }
            });
        }
    });
    (cut, task)
}

/// Health is honest about the database: 503 with the storage error while it is unreachable,
/// 200 again once it returns; the server neither panics nor needs a restart.
/// A WebSocket to `addr` with request headers (a client behind a proxy, or a stranger
/// pretending to be a node).
async fn ws_with(addr: &str, headers: &[(&str, String)]) -> Result<Ws> {
    let mut req = format!("ws://{addr}/cobrowse/ws").into_client_request()?;
    for (k, v) in headers {
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes())?;
        req.headers_mut().insert(name, v.parse()?);
    }
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

/// What a `Hello` sent over `ws` gets: `Ok(())` for a `Welcome`, else the refusal's code.
async fn hello_answer(
    mut ws: Ws,
    msg: &Message,
) -> Result<Result<(), cobrowse_protocol::ErrorCode>> {
    send(&mut ws, msg).await?;
    loop {
        match frame(&mut ws).await? {
            Message::Welcome(_) => return Ok(Ok(())),
            Message::Error(e) => return Ok(Err(e.code)),
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn a_proxied_socket_counts_as_its_client_and_strangers_cannot_claim_one() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), forwarded_case())
        .await
        .context("the forwarded-address case did not finish within 120 s")?
}

async fn forwarded_case() -> Result<()> {
    use cobrowse_protocol::ErrorCode;
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    let ks = format!("cbf_{}", uuid::Uuid::new_v4().simple());
    // Both nodes believe X-Forwarded-For from the test (a balancer on 127.0.0.1), and allow two
    // lookups per client address.
    let extra = [
        "network.trustedProxies=127.0.0.1",
        "limits.lookupsPerMinute=1",
        "limits.lookupBurst=2",
        "session.agentSessionsLimit=0",
    ];
    let n1 = Node::spawn_with("n1", &ks, 0, &www, &extra)?;
    let n2 = Node::spawn_with("n2", &ks, 0, &www, &extra)?;
    let created = http("POST", &n1.url("/cobrowse/rest/live/sessions"), &[], None).await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.json()?["token"]
        .as_str()
        .context("token")?
        .to_string();
    let xff = |ip: &str| vec![("X-Forwarded-For", ip.to_string())];

    // Three agents behind the balancer land on n2 and are proxied to n1: n1 counts each of them,
    // not n2 (which would have refused the third).
    for (i, client) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .enumerate()
    {
        let ws = ws_with(&n2.addr, &xff(client)).await?;
        let answer = hello_answer(ws, &agent_hello(&token, &format!("agent-{i}"))).await?;
        assert_eq!(answer, Ok(()), "{client} through n2");
    }
    // The same client three times through n2: its own bucket runs out on n1.
    let mut answers = Vec::new();
    for i in 0..3 {
        let ws = ws_with(&n2.addr, &xff("203.0.113.9")).await?;
        answers.push(hello_answer(ws, &agent_hello(&token, &format!("again-{i}"))).await?);
    }
    assert_eq!(answers, [Ok(()), Ok(()), Err(ErrorCode::RateLimited)]);

    // A stranger writing a node's headers straight at n1: the claim does not verify, so every
    // "client" it names is the stranger itself (127.0.0.1, no X-Forwarded-For).
    let now = cobrowse_server::app::now_ms();
    let mut answers = Vec::new();
    for i in 0..3 {
        let forged = vec![
            ("x-cobrowse-client", format!("192.0.2.{i}")),
            ("x-cobrowse-node", "n2".to_string()),
            ("x-cobrowse-proof", format!("{now}.{}", "ab".repeat(32))),
        ];
        let ws = ws_with(&n1.addr, &forged).await?;
        answers.push(hello_answer(ws, &agent_hello(&token, &format!("forged-{i}"))).await?);
    }
    assert_eq!(answers, [Ok(()), Ok(()), Err(ErrorCode::RateLimited)]);
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn health_reports_a_database_outage_and_recovers() -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let relay_addr = listener.local_addr()?;
    let (cut, task) = relay(listener, cassandra_addr()).await;
    let ks = format!("cbh_{}", uuid::Uuid::new_v4().simple());
    let server = TestServer::start(|c| {
        c.storage = cobrowse_server::config::StorageConfig::Cassandra(Box::new(
            cobrowse_server::config::CassandraConfig {
                contact_points: vec![relay_addr.to_string()],
                keyspace: ks,
                replication_strategy: "SimpleStrategy".into(),
                replication_factor: 1,
                datacenter: "datacenter1".into(),
                username: String::new(),
                password: String::new(),
                tls: Default::default(),
                node_heartbeat: Duration::from_secs(1),
                read_consistency: "LOCAL_QUORUM".into(),
                write_consistency: "LOCAL_QUORUM".into(),
                retention_live_sessions: Duration::from_secs(3600),
                retention_history: Duration::from_secs(3600),
                retention_window_history: Duration::from_secs(3600),
            },
        ));
    })
    .await?;
    // Wait for the server to serve (it connects and creates the schema first).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(h) = http("GET", &server.url("/cobrowse/health"), &[], None).await
            && h.status == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "server never became healthy");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A session this node holds when the database goes away.
    let (token, _, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("before-the-outage")).await?;
    let mut agent = join(&server, agent_hello(&token, "ann")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("before-the-outage")
    })
    .await?;

    let _ = cut.send(true);
    task.abort();
    let down = http("GET", &server.url("/cobrowse/health"), &[], None).await?;
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.json()?["status"], "storage_error");
    // Cut off, the node still relays the session it holds (from memory; the writes that fail are
    // logged), and its parties' sockets stay open.
    send(&mut customer, &nav(1, "during the outage")).await?;
    let m = until(&mut agent, |m| nav_index(m).is_some()).await?;
    assert_eq!(nav_index(&m), Some(1));
    let create = http(
        "POST",
        &server.url("/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    assert_eq!(create.status, 503, "{}", create.body);
    assert_eq!(create.json()?["error"]["code"], "storage_unavailable");

    let listener = tokio::net::TcpListener::bind(relay_addr).await?;
    let (_cut, _task) = relay(listener, cassandra_addr()).await;
    let back = Instant::now();
    loop {
        let h = http("GET", &server.url("/cobrowse/health"), &[], None).await?;
        if h.status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(60),
            "health never recovered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "database outage: health back {:?} after the database returned",
        back.elapsed()
    );
    let create = http(
        "POST",
        &server.url("/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    assert_eq!(create.status, 201, "{}", create.body);
    server.stop().await?;
    Ok(())
}

// ---- Behind nginx ------------------------------------------------------------------------------

/// A real Debian nginx on loopback running the operators' sample config
/// (`ci/nginx/cobrowse.conf`), rendered with this test's ports: the node addresses and the
/// listen port are the only things replaced (`crate::nginx::render` checks each one hits).
fn cluster_nginx(nodes: [&Node; 3]) -> Result<Nginx> {
    let addr = crate::nginx::free_addr()?;
    let conf = crate::nginx::render(
        "cobrowse.conf",
        &[
            ("127.0.0.1:8081", nodes[0].addr.as_str()),
            ("127.0.0.1:8082", nodes[1].addr.as_str()),
            ("127.0.0.1:8083", nodes[2].addr.as_str()),
            ("listen 127.0.0.1:8080", &format!("listen {addr}")),
        ],
    )?;
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n.name, format!("n{}", i + 1), "the sample maps n1..n3");
    }
    Nginx::start(
        &conf,
        &addr,
        "$request_method $uri cookie=$cookie_gcbSessionServer upstream=$upstream_addr \
         status=$status",
    )
}

/// A WebSocket through the load balancer, carrying the stickiness cookie when `cookie` is set
/// (a browser sends it with the upgrade request).
async fn ws_via(lb: &str, cookie: Option<&str>) -> Result<Ws> {
    let mut req = format!("ws://{lb}/cobrowse/ws").into_client_request()?;
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("Cookie", format!("gcbSessionServer={c}").parse()?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// Hello → Welcome through the load balancer; `Err` on a refused upgrade or any other answer.
async fn join_via(lb: &str, cookie: Option<&str>, msg: &Message) -> Result<(Ws, Welcome)> {
    let mut ws = ws_via(lb, cookie).await?;
    send(&mut ws, msg).await?;
    match frame(&mut ws).await? {
        Message::Welcome(w) => Ok((ws, w)),
        other => bail!("expected Welcome through {lb}, got {other:?}"),
    }
}

/// What a real client does after losing its socket: reconnect through the load balancer with
/// the cookie it holds, backing off briefly between attempts, until it is welcomed again.
async fn rejoin_via(lb: &str, cookie: Option<&str>, msg: &Message) -> Result<(Ws, Welcome)> {
    let mut delay = Duration::from_millis(50);
    let mut last = None;
    for _ in 0..20 {
        match join_via(lb, cookie, msg).await {
            Ok(joined) => return Ok(joined),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
}

/// After the owner is gone, both parties reconnect through the load balancer at the same time,
/// as real ones do: the customer with the cookie it still holds, the agent (`agent_id`) without.
/// Answers (customer, agent), each with its Welcome.
async fn rejoin_both(
    lb: &str,
    customer_cookie: &str,
    token: &str,
    agent_id: &str,
) -> Result<((Ws, Welcome), (Ws, Welcome))> {
    let customer = {
        let (lb, cookie, token) = (lb.to_owned(), customer_cookie.to_owned(), token.to_owned());
        tokio::spawn(
            async move { rejoin_via(&lb, Some(&cookie), &hello(Role::Customer, &token)).await },
        )
    };
    let agent = rejoin_via(lb, None, &agent_hello(token, agent_id)).await?;
    Ok((customer.await??, agent))
}

/// Three nodes on keyspace `<prefix>_<uuid>` behind nginx running the operators' sample config.
/// The temp dir holds the nodes' static root; keep it alive as long as the nodes.
fn three_nodes_behind_nginx(prefix: &str) -> Result<(tempfile::TempDir, String, Nginx, Vec<Node>)> {
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    let ks = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let n1 = Node::spawn("n1", &ks, 0, &www)?;
    let n2 = Node::spawn("n2", &ks, 0, &www)?;
    let n3 = Node::spawn("n3", &ks, 0, &www)?;
    let lb = cluster_nginx([&n1, &n2, &n3])?;
    Ok((dir, ks, lb, vec![n1, n2, n3]))
}

/// The operators' nginx sample in front of three nodes: cookie stickiness, a cookie-less client
/// served through a non-owner, WebSocket upgrades through nginx, and SIGKILL of the owner with
/// both parties reconnecting through nginx to the node that claims the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn nginx_sticky_cookie_routing_and_failover() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(180), nginx_case())
        .await
        .context("the nginx case did not finish within 180 s")?
}

async fn nginx_case() -> Result<()> {
    let (_dir, _ks, lb, mut nodes) = three_nodes_behind_nginx("cbn")?;

    // A customer creates a session through nginx (no cookie yet: round robin picks a node).
    let created = http(
        "POST",
        &lb.url("/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let owner = cookie(&created).context("session creation sets gcbSessionServer")?;
    let body = created.json()?;
    let token = body["token"].as_str().context("token")?.to_string();
    remember_customer_secret(&body);
    // No public URL is configured, and none is made up from the Host nginx forwards: clients
    // keep going through the load balancer they came by.
    assert_eq!(body["serverUrl"], serde_json::Value::Null);
    assert_eq!(body["wsUrl"], serde_json::Value::Null);
    let owner_addr = nodes
        .iter()
        .find(|n| n.name == owner)
        .context("cookie names a node")?
        .addr
        .clone();

    // Cookie-aware client: every request with the cookie lands on the owner. Only the owner
    // knows the live agent count, so `agents` is a number there (null on any other node).
    let lookup = format!("/cobrowse/rest/live/sessions/{token}");
    let sticky = format!("gcbSessionServer={owner}");
    for _ in 0..3 {
        let a = http(
            "GET",
            &lb.url(&lookup),
            &[("Cookie", &sticky), AGENT_AUTH],
            None,
        )
        .await?;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.json()?["agents"].is_number(), "not the owner: {}", a.body);
    }
    // Cookie-less client: round robin over three nodes reaches non-owners, which answer from
    // the shared store with the owner's name, URL and cookie.
    let mut non_owner_answers = 0;
    for _ in 0..3 {
        let a = http("GET", &lb.url(&lookup), &[AGENT_AUTH], None).await?;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(cookie(&a).as_deref(), Some(owner.as_str()));
        assert_eq!(a.json()?["node"]["name"], owner.as_str());
        if a.json()?["agents"].is_null() {
            non_owner_answers += 1;
        }
    }
    assert!(
        non_owner_answers >= 1,
        "round robin never reached a non-owner"
    );

    // WebSockets through nginx: the customer with its cookie goes straight to the owner…
    let (mut customer, w) =
        join_via(&lb.addr, Some(&owner), &hello(Role::Customer, &token)).await?;
    assert_eq!(w.node, owner);
    send(&mut customer, &snapshot("before")).await?;
    sync(&mut customer).await?;
    // …and cookie-less agents are served by the owner wherever round robin sends them (a
    // non-owner proxies the socket). Three of them, so at least two land on non-owners.
    let mut agents = Vec::new();
    for i in 0..3 {
        let (mut agent, w) =
            join_via(&lb.addr, None, &agent_hello(&token, &format!("agent{i}"))).await?;
        assert_eq!(w.node, owner, "agent {i} is served by the owner");
        until(&mut agent, |m| {
            snapshot_marker(m).as_deref() == Some("before")
        })
        .await?;
        agents.push(agent);
    }
    send(&mut customer, &nav(1, "one")).await?;
    for agent in &mut agents {
        until(agent, |m| nav_index(m) == Some(1)).await?;
    }
    // Keep one agent; the others leave cleanly (their sockets end and get logged).
    let mut agent = agents.remove(0);
    for mut a in agents {
        a.close(None).await?;
        until_gone(&mut a).await?;
    }

    // SIGKILL the owner: both parties lose their sockets and reconnect through nginx, the
    // customer still carrying the dead owner's cookie (nginx falls back to the pool).
    let idx = nodes
        .iter()
        .position(|n| n.name == owner)
        .context("owner")?;
    nodes[idx].kill();
    let killed = Instant::now();
    until_gone(&mut customer).await?;
    until_gone(&mut agent).await?;
    let ((mut customer, cw), (mut agent, aw)) =
        rejoin_both(&lb.addr, &owner, &token, "agent0").await?;
    let (customer_node, agent_node) = (cw.node, aw.node);
    assert_eq!(agent_node, customer_node, "one new owner serves both");
    assert_ne!(agent_node, owner, "the dead node does not serve");
    until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::OwnerChanged { .. }))
    })
    .await?;
    send(&mut customer, &snapshot("after")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("after")
    })
    .await?;
    eprintln!(
        "node loss behind nginx: agent view recovered {:?} after SIGKILL of the owner",
        killed.elapsed()
    );
    // The session continues, and the new owner now sets its own cookie.
    send(&mut customer, &nav(2, "two")).await?;
    until(&mut agent, |m| nav_index(m) == Some(2)).await?;
    let a = http("GET", &lb.url(&lookup), &[AGENT_AUTH], None).await?;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(cookie(&a).as_deref(), Some(agent_node.as_str()));
    let new_sticky = format!("gcbSessionServer={agent_node}");
    let a = http(
        "GET",
        &lb.url(&lookup),
        &[("Cookie", &new_sticky), AGENT_AUTH],
        None,
    )
    .await?;
    assert!(a.json()?["agents"].is_number(), "not the owner: {}", a.body);

    // nginx's log: the sticky upgrades went to the owner's address, and the dead owner's
    // cookie was answered by another node.
    let log = lb.access_log();
    let sticky_upgrades: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("GET /cobrowse/ws") && l.contains(&format!("cookie={owner} ")))
        .collect();
    assert!(
        sticky_upgrades
            .iter()
            .any(|l| l.contains(&format!("upstream={owner_addr} ")) && l.contains("status=101")),
        "no sticky upgrade to the owner in {log:#?}"
    );
    drop(nodes);
    Ok(())
}

/// The cluster's store as the nodes see it (keyspace `ks`), for checks behind their back.
pub(crate) async fn test_store(
    ks: &str,
) -> Result<cobrowse_server::store::cassandra::CassandraStore> {
    let cfg = cobrowse_server::config::CassandraConfig {
        contact_points: vec![cassandra_addr()],
        keyspace: ks.into(),
        replication_strategy: "SimpleStrategy".into(),
        replication_factor: 1,
        datacenter: "datacenter1".into(),
        username: String::new(),
        password: String::new(),
        tls: Default::default(),
        node_heartbeat: Duration::from_secs(1),
        read_consistency: "LOCAL_QUORUM".into(),
        write_consistency: "LOCAL_QUORUM".into(),
        retention_live_sessions: Duration::from_secs(3600),
        retention_history: Duration::from_secs(3600),
        retention_window_history: Duration::from_secs(3600),
    };
    Ok(cobrowse_server::store::cassandra::CassandraStore::open(&cfg).await?)
}

/// Waits until the live record of `token` says write mode (the grant is stored through the
/// server's write queue, so it lands shortly after the customer's answer).
async fn stored_write_mode(ks: &str, token: &str) -> Result<()> {
    use cobrowse_server::store::Store;
    let store = test_store(ks).await?;
    loop {
        if store
            .get_live(token.to_string())
            .await?
            .is_some_and(|r| r.write_mode)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Agent asks for control, the customer grants it; both sides see the grant.
async fn grant_write_mode(agent: &mut Ws, customer: &mut Ws) -> Result<()> {
    use cobrowse_protocol::ModeChange;
    send(agent, &Message::Mode(ModeChange::Request)).await?;
    until(customer, |m| {
        matches!(m, Message::Mode(ModeChange::Request))
    })
    .await?;
    send(customer, &Message::Mode(ModeChange::Granted)).await?;
    until(agent, |m| matches!(m, Message::Mode(ModeChange::Granted))).await?;
    Ok(())
}

/// A write action from the agent reaches the customer (not refused): write mode is on.
async fn action_reaches_customer(agent: &mut Ws, customer: &mut Ws, node: u32) -> Result<()> {
    use cobrowse_protocol::AgentAction;
    send(agent, &Message::Action(AgentAction::Focus { node })).await?;
    until(
        customer,
        |m| matches!(m, Message::Action(AgentAction::Focus { node: n }) if *n == node),
    )
    .await?;
    Ok(())
}

/// Behind nginx: SIGTERM of the owner hands the session over at once (close 1012, the released
/// record is claimed by the node the reconnects reach) and write mode survives it; then SIGKILL
/// of the new owner, and write mode survives that failover too. Prints both interruptions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn graceful_hand_over_and_write_mode_survive_behind_nginx() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(180), hand_over_case())
        .await
        .context("the hand-over case did not finish within 180 s")?
}

async fn hand_over_case() -> Result<()> {
    use cobrowse_protocol::Mode;
    let (_dir, ks, lb, mut nodes) = three_nodes_behind_nginx("cbg")?;

    let created = http(
        "POST",
        &lb.url("/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let owner = cookie(&created).context("cookie")?;
    remember_customer_secret(&created.json()?);
    let token = created.json()?["token"]
        .as_str()
        .context("token")?
        .to_string();
    let (mut customer, w) =
        rejoin_via(&lb.addr, Some(&owner), &hello(Role::Customer, &token)).await?;
    assert_eq!(w.node, owner);
    send(&mut customer, &snapshot("one")).await?;
    sync(&mut customer).await?;
    let (mut agent, w) = rejoin_via(&lb.addr, None, &agent_hello(&token, "alice")).await?;
    assert_eq!(w.mode, Mode::Pointer);
    until(&mut agent, |m| snapshot_marker(m).as_deref() == Some("one")).await?;
    grant_write_mode(&mut agent, &mut customer).await?;
    action_reaches_customer(&mut agent, &mut customer, 1).await?;

    // Graceful stop of the owner (what a service manager or a rolling deploy does).
    let idx = nodes
        .iter()
        .position(|n| n.name == owner)
        .context("owner")?;
    sigterm(&nodes[idx].child);
    let stopped = Instant::now();
    // Both parties are told the node goes away and closed with 1012 (service restart).
    for ws in [&mut customer, &mut agent] {
        let (code, reason, seen) = until_close(ws).await?;
        assert_eq!(code, 1012, "{reason}");
        assert!(
            seen.iter()
                .any(|m| matches!(m, Message::Session(SessionEvent::ServerGoingAway))),
            "{seen:?}"
        );
    }
    // Before closing them, the node released the session (no owner, grant kept), so the next
    // node claims it without waiting for the stopping node's heartbeat row to expire.
    {
        use cobrowse_server::store::Store;
        let rec = test_store(&ks)
            .await?
            .get_live(token.clone())
            .await?
            .context("the live record survives the hand-over")?;
        assert_eq!(rec.node, cobrowse_server::store::RELEASED, "{rec:?}");
        assert!(rec.write_mode, "{rec:?}");
    }
    // They reconnect through nginx (the customer still carrying the stopping node's cookie).
    let ((mut customer, cw), (mut agent, aw)) =
        rejoin_both(&lb.addr, &owner, &token, "alice").await?;
    assert_eq!(aw.node, cw.node, "one new owner serves both");
    assert_ne!(aw.node, owner, "the stopping node does not serve");
    // Write mode survived the hand-over: both are welcomed in write mode, actions go through.
    assert_eq!(cw.mode, Mode::Write);
    assert_eq!(aw.mode, Mode::Write);
    send(&mut customer, &snapshot("two")).await?;
    until(&mut agent, |m| snapshot_marker(m).as_deref() == Some("two")).await?;
    let graceful = stopped.elapsed();
    action_reaches_customer(&mut agent, &mut customer, 2).await?;
    // The stopped node exited cleanly.
    let status = nodes[idx].child.wait()?;
    assert!(status.success(), "graceful stop exited with {status}");
    eprintln!("graceful hand-over behind nginx: agent view recovered {graceful:?} after SIGTERM");

    // Now the crash path: SIGKILL the new owner while in write mode.
    let second = aw.node.clone();
    stored_write_mode(&ks, &token).await?;
    let idx2 = nodes
        .iter()
        .position(|n| n.name == second)
        .context("owner")?;
    nodes[idx2].kill();
    let killed = Instant::now();
    until_gone(&mut customer).await?;
    until_gone(&mut agent).await?;
    let ((mut customer, cw), (mut agent, aw)) =
        rejoin_both(&lb.addr, &second, &token, "alice").await?;
    assert_eq!(aw.node, cw.node);
    assert!(aw.node != owner && aw.node != second, "{}", aw.node);
    assert_eq!(cw.mode, Mode::Write, "write mode survives a crash failover");
    assert_eq!(aw.mode, Mode::Write);
    send(&mut customer, &snapshot("three")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("three")
    })
    .await?;
    let crash = killed.elapsed();
    action_reaches_customer(&mut agent, &mut customer, 3).await?;
    eprintln!("crash failover behind nginx: agent view recovered {crash:?} after SIGKILL");
    // The customer takes control back: that is stored too, and actions are refused again.
    send(
        &mut customer,
        &Message::Mode(cobrowse_protocol::ModeChange::Revoked {
            by: cobrowse_protocol::Party::Customer,
        }),
    )
    .await?;
    until(&mut agent, |m| {
        matches!(
            m,
            Message::Mode(cobrowse_protocol::ModeChange::Revoked { .. })
        )
    })
    .await?;
    send(
        &mut agent,
        &Message::Action(cobrowse_protocol::AgentAction::Focus { node: 4 }),
    )
    .await?;
    until(&mut agent, |m| matches!(m, Message::Refused(_))).await?;
    drop(nodes);
    Ok(())
}
