//! Cluster fencing on real processes and the test Cassandra: a node cut off from the database
//! while its clients still reach it (split brain) gives its sessions up before another node can
//! claim them, so exactly one node serves each session throughout; and a graceful stop hands
//! 1,000 sessions over within a 10 s termination grace period.
//!
//! The cut-off node reaches Cassandra through a relay in this test that can black-hole its
//! connections (no reset: bytes are read and dropped, nothing comes back), the way a partition
//! looks to the node.

use crate::cluster::{Node, cassandra_addr, join_at, sigterm, test_store};
use crate::common::*;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::Role;
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP relay that can black-hole every connection, current and new, and heal again.
struct BlackHole {
    addr: std::net::SocketAddr,
    holed: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl BlackHole {
    async fn start(upstream: String) -> Result<BlackHole> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let holed = Arc::new(AtomicBool::new(false));
        let h = holed.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, h) = (upstream.clone(), h.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pump(cr, sw, h.clone()), pump(sr, cw, h));
                });
            }
        });
        Ok(BlackHole { addr, holed, task })
    }

    fn set(&self, holed: bool) {
        self.holed.store(holed, Ordering::SeqCst);
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to`, dropping what it reads while black-holed.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    holed: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if !holed.load(Ordering::SeqCst) && to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn create(node: &Node) -> Result<String> {
    let created = http(
        "POST",
        &node.url("/cobrowse/rest/live/sessions"),
        &[],
        Some("{}"),
    )
    .await?;
    if created.status != 201 {
        bail!(
            "create on {}: {} {}",
            node.name,
            created.status,
            created.body
        );
    }
    let body = created.json()?;
    remember_customer_secret(&body);
    Ok(body["token"].as_str().context("token")?.to_string())
}

const GENEROUS: [&str; 6] = [
    "limits.pendingConnectionsPerAddress=10000",
    "limits.lookupsPerMinute=100000",
    "limits.lookupBurst=100000",
    "limits.createsPerMinute=100000",
    "limits.createBurst=100000",
    "limits.connectionsPerAddress=10000",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn a_node_cut_off_from_the_database_gives_its_sessions_up_before_they_move() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), split_brain_case())
        .await
        .context("the split-brain case did not finish within 120 s")?
}

async fn split_brain_case() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    let ks = format!("cbf_{}", uuid::Uuid::new_v4().simple());
    let hole = BlackHole::start(cassandra_addr()).await?;
    let via = format!("storage.cassandra.contactPoints={}", hole.addr);
    let mut extra: Vec<&str> = GENEROUS.to_vec();
    extra.push(&via);
    let n1 = Node::spawn_with("n1", &ks, 0, &www, &extra)?;
    let n2 = Node::spawn_with("n2", &ks, 0, &www, &GENEROUS)?;

    // Three sessions on n1, customer and agent connected there and relaying.
    let mut sessions = Vec::new();
    for i in 0..3 {
        let token = create(&n1).await?;
        let (mut customer, node) = join_at(&n1.addr, &hello(Role::Customer, &token)).await?;
        assert_eq!(node, "n1");
        send(&mut customer, &snapshot(&format!("s{i}"))).await?;
        let (mut agent, _) = join_at(&n1.addr, &agent_hello(&token, &format!("alice{i}"))).await?;
        let want = format!("s{i}");
        until(&mut agent, |m| {
            snapshot_marker(m).as_deref() == Some(want.as_str())
        })
        .await?;
        sessions.push((token, customer, agent));
    }

    // Probes ask n2 for each session all along: who serves it, and when. A probe that reaches
    // n1 while it is cut off can wait on n1's database calls, so each one keeps asking until it
    // has seen n2 serve once the test is done (or a minute has gone), not only while the test
    // runs: otherwise one stalled probe could span the whole move and see nothing.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let probes: Vec<_> = sessions
        .iter()
        .map(|(token, _, _)| {
            let (token, addr, stop) = (token.clone(), n2.addr.clone(), stop.clone());
            tokio::spawn(async move {
                let mut seen: Vec<(Duration, String)> = Vec::new();
                let mut attempt = 0;
                loop {
                    let saw_n2 = seen.iter().any(|(_, n)| n == "n2");
                    if (stop.load(Ordering::SeqCst) && saw_n2)
                        || started.elapsed() > Duration::from_secs(60)
                    {
                        break;
                    }
                    attempt += 1;
                    let probe = agent_hello(&token, &format!("probe-{token}-{attempt}"));
                    if let Ok(Ok((_ws, node))) =
                        tokio::time::timeout(Duration::from_secs(5), join_at(&addr, &probe)).await
                    {
                        seen.push((started.elapsed(), node));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                seen
            })
        })
        .collect();

    // The partition: n1 no longer reaches the database; its clients still reach n1.
    tokio::time::sleep(Duration::from_millis(500)).await;
    hole.set(true);
    let cut = started.elapsed();

    // n1 gives every session up (1012, so the parties reconnect) before its registry row
    // (three heartbeats of 1 s) expires; the parties reconnect to n2 and are served there.
    let closes: Vec<_> = sessions
        .into_iter()
        .map(|(token, mut customer, mut agent)| {
            tokio::spawn(async move {
                for ws in [&mut customer, &mut agent] {
                    let (code, reason, _) = until_close(ws).await?;
                    anyhow::ensure!(code == 1012, "{token}: {code} {reason}");
                }
                Ok::<_, anyhow::Error>((token, started.elapsed()))
            })
        })
        .collect();
    let mut given_up = Duration::ZERO;
    let mut moved = Vec::new();
    for (i, close) in closes.into_iter().enumerate() {
        let (token, closed_at) = close.await??;
        given_up = given_up.max(closed_at);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut customer, mut agent) = loop {
            let c = join_at(&n2.addr, &hello(Role::Customer, &token)).await;
            if let Ok((c, node)) = c {
                assert_eq!(node, "n2");
                let (a, node) =
                    join_at(&n2.addr, &agent_hello(&token, &format!("alice{i}"))).await?;
                assert_eq!(node, "n2");
                break (c, a);
            }
            if Instant::now() > deadline {
                bail!("{token} was never served by n2: {c:?}", c = c.err());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        send(&mut customer, &snapshot("moved")).await?;
        until(&mut agent, |m| {
            snapshot_marker(m).as_deref() == Some("moved")
        })
        .await?;
        moved.push((token, customer, agent, closed_at));
    }
    println!("split brain: cut at {cut:?}, n1 gave its sessions up by {given_up:?}");
    let after_cut = given_up.checked_sub(cut).context(
        "n1 gave its sessions up before the cut: a heartbeat failed without a partition",
    )?;
    assert!(
        after_cut < Duration::from_secs(3),
        "n1 served on past its registry row's expiry ({after_cut:?} after the cut)"
    );

    // Healed: n1 is back in the database but takes nothing back; a party reaching n1 is
    // proxied to n2.
    hole.set(false);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok((_ws, node)) = join_at(&n1.addr, &agent_hello(&moved[0].0, "bob")).await {
            assert_eq!(node, "n2", "n1 served a session n2 owns");
            break;
        }
        if Instant::now() > deadline {
            bail!("n1 never answered after the partition healed");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let store = test_store(&ks).await?;
    use cobrowse_server::store::Store;
    for ((token, customer, agent, closed_at), probe) in moved.iter_mut().zip(probes) {
        // The probes saw n1 serve until it gave the session up, n2 only after that: never both.
        let seen = probe.await?;
        let last_n1 = seen
            .iter()
            .filter(|(_, n)| n == "n1")
            .map(|(t, _)| *t)
            .max();
        let first_n2 = seen
            .iter()
            .filter(|(_, n)| n == "n2")
            .map(|(t, _)| *t)
            .min();
        assert!(last_n1.is_some() && first_n2.is_some(), "{token}: {seen:?}");
        if let (Some(a), Some(b)) = (last_n1, first_n2) {
            assert!(a < b, "{token}: n1 served at {a:?}, n2 already at {b:?}");
            // The close reached the test after n1 gave up; n2 cannot have served before it.
            assert!(
                b + Duration::from_millis(100) >= *closed_at,
                "{token}: n2 served at {b:?}, n1's parties were closed at {closed_at:?}"
            );
        }
        assert_eq!(
            store
                .get_live(token.clone())
                .await?
                .map(|r| r.node)
                .as_deref(),
            Some("n2")
        );
        // And the moved parties still relay.
        send(customer, &snapshot("end")).await?;
        until(agent, |m| snapshot_marker(m).as_deref() == Some("end")).await?;
    }
    drop((n1, n2));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn a_graceful_stop_hands_1000_sessions_over_within_the_grace_period() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(240), hand_over_1000())
        .await
        .context("the 1,000-session hand-over did not finish within 240 s")?
}

async fn hand_over_1000() -> Result<()> {
    const N: usize = 1000;
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    let ks = format!("cbh_{}", uuid::Uuid::new_v4().simple());
    let mut extra: Vec<&str> = GENEROUS.to_vec();
    extra.push("limits.shutdownGrace=10s");
    let mut n1 = Node::spawn_with("n1", &ks, 0, &www, &extra)?;
    let n2 = Node::spawn_with("n2", &ks, 0, &www, &GENEROUS)?;

    let customers: Vec<(String, Ws)> = futures_util::stream::iter(0..N)
        .map(|_| async {
            let token = create(&n1).await?;
            let (ws, node) = join_at(&n1.addr, &hello(Role::Customer, &token)).await?;
            assert_eq!(node, "n1");
            Ok::<_, anyhow::Error>((token, ws))
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;

    let t0 = Instant::now();
    sigterm(&n1.child);
    let n2_addr = n2.addr.clone();
    let moved: Vec<Duration> = futures_util::stream::iter(customers)
        .map(|(token, mut ws)| {
            let addr = n2_addr.clone();
            async move {
                let (code, reason, _) = until_close(&mut ws).await?;
                anyhow::ensure!(code == 1012, "{token}: closed {code} {reason}");
                let (_ws, node) = join_at(&addr, &hello(Role::Customer, &token)).await?;
                anyhow::ensure!(node == "n2", "{token} served by {node}");
                Ok(t0.elapsed())
            }
        })
        .buffer_unordered(N)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let status = tokio::task::spawn_blocking(move || n1.child.wait().map(|s| (s, n1))).await??;
    let exited = t0.elapsed();
    let last = moved.iter().max().copied().unwrap_or_default();
    println!(
        "hand-over of {N} sessions: all served by n2 {last:?} after SIGTERM; n1 exited after {exited:?} ({})",
        status.0
    );
    assert!(status.0.success(), "n1 exited with {}", status.0);
    assert!(last < Duration::from_secs(10), "took {last:?}");
    assert!(
        exited < Duration::from_secs(10),
        "n1 took {exited:?} to stop"
    );
    Ok(())
}
