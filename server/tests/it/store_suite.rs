//! ONE storage suite, run against both `Store` implementations: the embedded redb store and a real
//! Cassandra (`COBROWSE_TEST_CASSANDRA=host:port`, started once per run by `scripts/test.sh`).
//!
//! Each check is a function over `Arc<dyn Store>`; the `suite!` macro instantiates it for both
//! backends, so the backends cannot drift apart. The Cassandra instances need the
//! `cassandra-tests` feature: without it they are reported as *ignored*; with it and no database
//! configured they fail with a message saying how to provide one (never a silent pass).
//!
//! Each Cassandra test opens its own fresh keyspace, so tests run in parallel and reruns start
//! clean. The Cassandra checks run twice: over a plain connection and over TLS (the test node
//! accepts both on one port; `COBROWSE_TEST_CASSANDRA_TLS` names the directory with its CA,
//! made by `scripts/cassandra.sh`).

use cobrowse_server::config::{CassandraConfig, CassandraTls};
use cobrowse_server::store::cassandra::CassandraStore;
use cobrowse_server::store::embedded::EmbeddedStore;
use cobrowse_server::store::{
    HistoryQuery, HistoryRecord, LiveRecord, NodeRecord, PageVisit, RecordingChunk, Store,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// The test database's `host:port`, or a loud failure explaining how to get one.
fn cassandra_addr() -> String {
    match std::env::var("COBROWSE_TEST_CASSANDRA") {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => panic!(
            "COBROWSE_TEST_CASSANDRA is not set: the Cassandra store tests need a real database. \
             Run `scripts/test.sh` (it starts one with scripts/cassandra.sh), or start one \
             yourself and set COBROWSE_TEST_CASSANDRA=127.0.0.1:9042. Build without the \
             `cassandra-tests` feature to have these tests reported as ignored instead."
        ),
    }
}

/// Settings for a fresh keyspace at `addr`.
fn cassandra_config(addr: &str, strategy: &str) -> CassandraConfig {
    CassandraConfig {
        contact_points: vec![addr.to_string()],
        keyspace: format!("cbt_{}", uuid::Uuid::new_v4().simple()),
        replication_strategy: strategy.into(),
        replication_factor: 1,
        datacenter: "datacenter1".into(),
        username: String::new(),
        password: String::new(),
        tls: Default::default(),
        node_heartbeat: Duration::from_secs(5),
        read_consistency: "LOCAL_QUORUM".into(),
        write_consistency: "LOCAL_QUORUM".into(),
        retention_live_sessions: Duration::from_secs(86_400),
        retention_history: Duration::from_secs(30 * 86_400),
        retention_window_history: Duration::from_secs(86_400),
    }
}

async fn cassandra() -> Arc<dyn Store> {
    let cfg = cassandra_config(&cassandra_addr(), "NetworkTopologyStrategy");
    Arc::new(
        CassandraStore::open(&cfg)
            .await
            .expect("open cassandra store"),
    )
}

/// The directory with the test node's CA (`ca.pem`) and an unrelated CA (`other-ca.pem`).
fn tls_dir() -> std::path::PathBuf {
    match std::env::var("COBROWSE_TEST_CASSANDRA_TLS") {
        Ok(v) if !v.trim().is_empty() => v.trim().into(),
        _ => panic!(
            "COBROWSE_TEST_CASSANDRA_TLS is not set: the TLS store tests need the test node's CA. \
             Run `scripts/test.sh`, or set it to the output of `scripts/cassandra.sh tls-dir`."
        ),
    }
}

/// Settings for a fresh keyspace over TLS, verifying the node against `ca`.
fn tls_config(ca: &str) -> CassandraConfig {
    let mut cfg = cassandra_config(&cassandra_addr(), "NetworkTopologyStrategy");
    cfg.tls = CassandraTls {
        enabled: true,
        ca_file: Some(tls_dir().join(ca)),
        cert_file: None,
        key_file: None,
        verify_hostname: true,
    };
    cfg
}

async fn cassandra_tls() -> Arc<dyn Store> {
    Arc::new(
        CassandraStore::open(&tls_config("ca.pem"))
            .await
            .expect("open cassandra store over TLS"),
    )
}

async fn embedded() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = EmbeddedStore::open(dir.path()).expect("open embedded store");
    (Arc::new(s), dir)
}

fn token() -> String {
    format!("{:09}", rand::random::<u32>() % 1_000_000_000)
}

fn live(token: &str, node: &str) -> LiveRecord {
    LiveRecord {
        write_mode: false,
        customer_key: format!("digest-of-{token}"),
        agents: Vec::new(),
        agent_count: 0,
        page_url: String::new(),
        token: token.into(),
        history_id: uuid::Uuid::new_v4().to_string(),
        node: node.into(),
        node_url: format!("http://{node}.test"),
        state: "idle".into(),
        created_at: 1_700_000_000_000,
        activated_at: None,
    }
}

use cobrowse_common::clock::now_ms;

// ---- the checks ---------------------------------------------------------------------------

async fn insert_is_unique_even_when_concurrent(s: Arc<dyn Store>) {
    let t = token();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        let rec = live(&t, &format!("node{i}"));
        tasks.push(tokio::spawn(async move { s.insert_live(rec).await }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("join").expect("insert") {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one concurrent insert of a token wins");
    assert!(!s.insert_live(live(&t, "late")).await.expect("insert"));
    let stored = s.get_live(t.clone()).await.expect("get").expect("present");
    assert!(
        stored.node.starts_with("node"),
        "owner is one of the racers: {}",
        stored.node
    );
}

async fn update_applies_only_for_the_owner(s: Arc<dyn Store>) {
    let t = token();
    let rec = live(&t, "a");
    assert!(s.insert_live(rec.clone()).await.expect("insert"));
    let mut active = rec.clone();
    active.state = "active".into();
    active.activated_at = Some(5);
    active.write_mode = true;
    assert!(s.update_live(active.clone()).await.expect("update"));
    assert_eq!(
        s.get_live(t.clone()).await.expect("get"),
        Some(active.clone())
    );
    // A node that does not own the session cannot overwrite it.
    let mut foreign = active.clone();
    foreign.node = "b".into();
    foreign.state = "idle".into();
    assert!(
        !s.update_live(foreign)
            .await
            .expect("foreign update is a no-op, not an error"),
        "the foreign writer learns it lost the session"
    );
    assert_eq!(s.get_live(t.clone()).await.expect("get"), Some(active));
    // Updating a session that is gone does not resurrect it.
    let gone = live(&token(), "a");
    assert!(
        !s.update_live(gone.clone())
            .await
            .expect("update of a missing row")
    );
    assert_eq!(s.get_live(gone.token).await.expect("get"), None);
}

async fn claims_are_compare_and_set(s: Arc<dyn Store>) {
    let t = token();
    assert!(s.insert_live(live(&t, "dead")).await.expect("insert"));
    // Five survivors race to take the dead node's session: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..5 {
        let s = s.clone();
        let rec = live(&t, &format!("survivor{i}"));
        tasks.push(tokio::spawn(async move {
            let won = s.claim_live("dead".into(), rec.clone()).await;
            (rec.node, won)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (node, won) = task.await.expect("join");
        if won.expect("claim") {
            winners.push(node);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins: {winners:?}");
    let owner = s.get_live(t.clone()).await.expect("get").expect("present");
    assert_eq!(owner.node, winners[0]);
    // The dead node, back again, cannot take it back by claiming from itself.
    assert!(
        !s.claim_live("dead".into(), live(&t, "dead"))
            .await
            .expect("claim")
    );
    // Claiming a session that does not exist fails.
    assert!(
        !s.claim_live("x".into(), live(&token(), "y"))
            .await
            .expect("claim")
    );
}

async fn remove_and_list(s: Arc<dyn Store>) {
    let (a, b) = (token(), token());
    assert!(s.insert_live(live(&a, "n1")).await.expect("insert"));
    assert!(s.insert_live(live(&b, "n2")).await.expect("insert"));
    let listed: Vec<String> = s
        .list_live()
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.token)
        .collect();
    assert!(listed.contains(&a) && listed.contains(&b), "{listed:?}");
    // A node that lost the session cannot delete the new owner's record (fencing).
    assert!(
        !s.remove_live(b.clone(), "n1".into())
            .await
            .expect("foreign remove is a no-op, not an error")
    );
    assert!(s.get_live(b.clone()).await.expect("get").is_some());
    assert!(s.remove_live(a.clone(), "n1".into()).await.expect("remove"));
    assert!(
        !s.remove_live(a.clone(), "n1".into())
            .await
            .expect("removing twice is fine")
    );
    assert_eq!(s.get_live(a.clone()).await.expect("get"), None);
    assert!(s.insert_live(live(&a, "n3")).await.expect("token reusable"));
}

async fn the_end_is_recorded_before_the_live_record_goes(s: Arc<dyn Store>) {
    let t = token();
    let rec = live(&t, "n1");
    assert!(s.insert_live(rec.clone()).await.expect("insert"));
    let history = HistoryRecord {
        history_id: rec.history_id.clone(),
        token: t.clone(),
        created_at: 1,
        activated_at: None,
        ended_at: Some(2),
        end_reason: Some("api_stop".into()),
        origin: None,
        pages: Vec::new(),
        agent_id: None,
    };
    // Another node's end does not remove this node's record, but its history is written.
    assert!(
        !s.end_live(history.clone(), "n2".into())
            .await
            .expect("foreign end")
    );
    assert!(s.get_live(t.clone()).await.expect("get").is_some());
    assert!(s.end_live(history.clone(), "n1".into()).await.expect("end"));
    assert_eq!(s.get_live(t).await.expect("get"), None);
    assert_eq!(
        s.get_history(history.history_id.clone())
            .await
            .expect("history"),
        Some(history)
    );
}

/// Whole-table reads page through the driver (`LIST_PAGE_ROWS` rows a page): more rows than
/// one page all come back.
async fn listing_spans_pages(s: Arc<dyn Store>) {
    let n = cobrowse_server::store::cassandra::LIST_PAGE_ROWS as usize * 2 + 7;
    let prefix = format!("{:04}", rand::random::<u16>() % 10_000);
    let tokens: Vec<String> = (0..n).map(|i| format!("{prefix}{i:05}")).collect();
    for chunk in tokens.chunks(64) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|t| {
                let (s, rec) = (s.clone(), live(t, "pager"));
                tokio::spawn(async move { s.insert_live(rec).await })
            })
            .collect();
        for t in tasks {
            assert!(t.await.expect("join").expect("insert"));
        }
    }
    let listed: std::collections::HashSet<String> = s
        .list_live()
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.token)
        .collect();
    let missing = tokens.iter().filter(|t| !listed.contains(*t)).count();
    assert_eq!(
        missing, 0,
        "{missing} of {n} rows missing from a paged listing"
    );
}

async fn history_round_trips_with_many_pages(s: Arc<dyn Store>) {
    let id = uuid::Uuid::new_v4().to_string();
    let mut rec = HistoryRecord {
        history_id: id.clone(),
        token: token(),
        created_at: 1,
        activated_at: None,
        ended_at: None,
        end_reason: None,
        origin: Some("https://shop.example".into()),
        pages: Vec::new(),
        agent_id: None,
    };
    s.put_history(rec.clone()).await.expect("put");
    assert_eq!(
        s.get_history(id.clone()).await.expect("get"),
        Some(rec.clone())
    );
    rec.pages = (0..1000)
        .map(|i| PageVisit {
            url: format!("https://shop.example/p/{i}?q=ü\"'"),
            title: format!("Page {i} — ✓"),
            at: i,
        })
        .collect();
    rec.ended_at = Some(9);
    rec.end_reason = Some("customer_exit".into());
    rec.agent_id = Some("alice".into());
    s.put_history(rec.clone()).await.expect("replace");
    assert_eq!(s.get_history(id).await.expect("get"), Some(rec));
    assert_eq!(s.get_history("missing".into()).await.expect("get"), None);
}

/// A history record created at `at` by `agent`, ended for `reason`.
fn ended(at: u64, agent: &str, reason: &str) -> HistoryRecord {
    HistoryRecord {
        history_id: uuid::Uuid::new_v4().to_string(),
        token: token(),
        created_at: at,
        activated_at: Some(at + 1),
        ended_at: Some(at + 60_000),
        end_reason: Some(reason.into()),
        origin: None,
        pages: vec![PageVisit {
            url: "https://shop.example/cart".into(),
            title: "Cart".into(),
            at,
        }],
        agent_id: Some(agent.into()),
    }
}

/// Every page of `q`, following the cursor (the last record of each page).
async fn all_pages(s: &Arc<dyn Store>, mut q: HistoryQuery) -> (Vec<HistoryRecord>, usize) {
    let mut out: Vec<HistoryRecord> = Vec::new();
    let mut pages = 0;
    loop {
        let page = s.search_history(q.clone()).await.expect("search");
        assert!(page.len() <= q.limit);
        pages += 1;
        let Some(last) = page.last() else { break };
        q.after = Some((last.created_at, last.history_id.clone()));
        let full = page.len() == q.limit;
        out.extend(page);
        if !full {
            break;
        }
        assert!(pages < 100, "paging does not end");
    }
    (out, pages)
}

async fn history_is_searched_by_time_agent_and_end_reason_in_pages(s: Arc<dyn Store>) {
    const DAY: u64 = 86_400_000;
    let base = 1_700_000_000_000 / DAY * DAY;
    let mut recs = vec![
        ended(base + 1_000, "alice", "customer_exit"),
        ended(base + DAY - 1, "bob", "api_stop"),
        ended(base + DAY, "alice", "api_stop"),
        ended(base + DAY + 5, "bob", "customer_exit"),
        // Two at the same moment: ordered by id.
        ended(base + 2 * DAY + 7, "alice", "agent_exit"),
        ended(base + 2 * DAY + 7, "bob", "api_stop"),
        ended(base + 3 * DAY + 9, "carol", "customer_exit"),
    ];
    for r in &recs {
        s.put_history(r.clone()).await.expect("put");
    }
    // A record written again (its end) is found once, as written last.
    recs[0].end_reason = Some("inactivity_timeout".into());
    s.put_history(recs[0].clone()).await.expect("replace");
    recs.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.history_id.cmp(&a.history_id))
    });
    let q = |from: u64, to: u64| HistoryQuery {
        from,
        to,
        agent: None,
        end_reason: None,
        after: None,
        limit: 2,
    };
    let (everything, pages) = all_pages(&s, q(base, base + 4 * DAY)).await;
    assert_eq!(
        everything, recs,
        "every record, newest first, across pages and days"
    );
    assert_eq!(pages, 4);
    let (bob, _) = all_pages(
        &s,
        HistoryQuery {
            agent: Some("bob".into()),
            ..q(base, base + 4 * DAY)
        },
    )
    .await;
    let want: Vec<_> = recs
        .iter()
        .filter(|r| r.agent_id.as_deref() == Some("bob"))
        .cloned()
        .collect();
    assert_eq!(bob, want);
    assert_eq!(bob.len(), 3);
    let (stopped, _) = all_pages(
        &s,
        HistoryQuery {
            end_reason: Some("api_stop".into()),
            limit: 1,
            ..q(base, base + 4 * DAY)
        },
    )
    .await;
    assert!(
        stopped
            .iter()
            .all(|r| r.end_reason.as_deref() == Some("api_stop"))
    );
    assert_eq!(stopped.len(), 3);
    // `[from, to)`: the record at `to` is out, the one at `from` in.
    let (window, _) = all_pages(&s, q(base + DAY - 1, base + 2 * DAY + 7)).await;
    let created: Vec<u64> = window.iter().map(|r| r.created_at).collect();
    assert_eq!(created, vec![base + DAY + 5, base + DAY, base + DAY - 1]);
    // A range before every record, and an empty one, find nothing.
    assert!(
        s.search_history(q(0, base))
            .await
            .expect("search")
            .is_empty()
    );
    assert!(
        s.search_history(q(base + DAY, base + DAY))
            .await
            .expect("search")
            .is_empty()
    );
}

async fn live_records_carry_agents_and_the_page(s: Arc<dyn Store>) {
    let t = token();
    let mut rec = live(&t, "n1");
    assert!(s.insert_live(rec.clone()).await.expect("insert"));
    rec.state = "active".into();
    rec.agents = vec!["jane@desk".into()];
    rec.agent_count = 2;
    rec.page_url = "https://shop.example/checkout?card=%E2%96%88%E2%96%88".into();
    assert!(s.update_live(rec.clone()).await.expect("update"));
    assert_eq!(s.get_live(t.clone()).await.expect("get"), Some(rec.clone()));
    assert!(s.list_live().await.expect("list").contains(&rec));
}

async fn nodes_register_and_expire(s: Arc<dyn Store>) {
    let name = format!("n-{}", uuid::Uuid::new_v4().simple());
    let node = NodeRecord {
        name: name.clone(),
        internal_url: "http://10.0.0.1:8080".into(),
        public_url: "https://n1.example".into(),
        heartbeat_at: now_ms(),
        proxy_key: "00ff".repeat(16),
    };
    // Four seconds, so a busy Cassandra's write and read fit inside the row's life.
    s.heartbeat(node.clone(), Duration::from_secs(4))
        .await
        .expect("heartbeat");
    let nodes = s.list_nodes().await.expect("list");
    assert!(nodes.contains(&node), "{nodes:?}");
    // Without further heartbeats the row expires by itself (TTL): poll until it is gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let nodes = s.list_nodes().await.expect("list");
        if !nodes.iter().any(|n| n.name == name) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node row never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.ping().await.expect("ping");
}

fn chunk(history_id: &str, node: &str, started_at: u64, seq: u32, data: &[u8]) -> RecordingChunk {
    RecordingChunk {
        history_id: history_id.into(),
        started_at,
        node: node.into(),
        seq,
        ended_at: started_at + 500,
        frames: 3,
        data: data.to_vec(),
    }
}

/// Chunks come back in (start, node, sequence) order whatever order they were written in, two
/// nodes' chunks of one session (a fail-over) side by side, and another session's apart.
async fn recording_chunks_append_in_order_across_nodes(s: Arc<dyn Store>) {
    let id = uuid::Uuid::new_v4().to_string();
    let other = uuid::Uuid::new_v4().to_string();
    let day = Duration::from_secs(86_400);
    let t0 = now_ms();
    let written = [
        chunk(&id, "n2", t0 + 2_000, 0, b"third"),
        chunk(&id, "n1", t0, 0, b"first"),
        chunk(&other, "n1", t0 + 1, 0, b"elsewhere"),
        chunk(&id, "n1", t0 + 1_000, 1, &[0u8, 1, 2, 255]),
        chunk(&id, "n2", t0 + 2_000, 1, &vec![7u8; 200_000]),
    ];
    for c in &written {
        s.put_chunk(c.clone(), day).await.expect("put chunk");
    }
    let got = s.get_chunks(id.clone()).await.expect("get chunks");
    let order: Vec<(String, u32)> = got.iter().map(|c| (c.node.clone(), c.seq)).collect();
    assert_eq!(
        order,
        [
            ("n1".into(), 0),
            ("n1".into(), 1),
            ("n2".into(), 0),
            ("n2".into(), 1)
        ]
    );
    assert_eq!(got[0], written[1], "every field round-trips");
    assert_eq!(got[1].data, [0u8, 1, 2, 255]);
    assert_eq!(got[3].data.len(), 200_000);
    assert_eq!(s.get_chunks(other).await.expect("other").len(), 1);
    assert!(
        s.get_chunks(uuid::Uuid::new_v4().to_string())
            .await
            .expect("none")
            .is_empty()
    );
}

/// A chunk is gone once its retention passed (Cassandra: `USING TTL`), a longer-lived one of
/// the same session stays. The short retention leaves room for a busy Cassandra: with one
/// second, a slow second write plus read outlived it and the chunk was gone before the first
/// look.
async fn recording_chunks_expire(s: Arc<dyn Store>) {
    let id = uuid::Uuid::new_v4().to_string();
    let t0 = now_ms();
    s.put_chunk(chunk(&id, "n1", t0, 0, b"short"), Duration::from_secs(4))
        .await
        .expect("put");
    s.put_chunk(
        chunk(&id, "n1", t0 + 1, 1, b"long"),
        Duration::from_secs(3600),
    )
    .await
    .expect("put");
    assert_eq!(s.get_chunks(id.clone()).await.expect("get").len(), 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = s.get_chunks(id.clone()).await.expect("get");
        if got.len() == 1 {
            assert_eq!(got[0].data, b"long");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "chunk never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        mod embedded_store {
            $(
                #[tokio::test]
                async fn $check() {
                    let (s, _dir) = super::embedded().await;
                    super::$check(s).await;
                }
            )*
        }
        mod cassandra_store {
            $(
                #[tokio::test]
                #[cfg_attr(not(feature = "cassandra-tests"),
                    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA")]
                async fn $check() {
                    let s = super::cassandra().await;
                    super::$check(s).await;
                }
            )*
        }
        mod cassandra_tls_store {
            $(
                #[tokio::test]
                #[cfg_attr(not(feature = "cassandra-tests"),
                    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA")]
                async fn $check() {
                    let s = super::cassandra_tls().await;
                    super::$check(s).await;
                }
            )*
        }
    };
}

suite!(
    insert_is_unique_even_when_concurrent,
    update_applies_only_for_the_owner,
    claims_are_compare_and_set,
    remove_and_list,
    the_end_is_recorded_before_the_live_record_goes,
    listing_spans_pages,
    history_round_trips_with_many_pages,
    history_is_searched_by_time_agent_and_end_reason_in_pages,
    live_records_carry_agents_and_the_page,
    nodes_register_and_expire,
    recording_chunks_append_in_order_across_nodes,
    recording_chunks_expire,
);

/// The embedded store decides expiry by its clock: moved forward, a chunk past its retention is
/// not answered, and the next append deletes it for good (moved back, it does not reappear),
/// without waiting for any time to pass.
#[tokio::test]
async fn embedded_recording_retention_follows_the_store_clock() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Arc::new(AtomicU64::new(1_700_000_000_000));
    let clock = now.clone();
    let s =
        EmbeddedStore::open_with_clock(dir.path(), Arc::new(move || clock.load(Ordering::SeqCst)))
            .expect("open");
    let id = uuid::Uuid::new_v4().to_string();
    let hour = Duration::from_secs(3600);
    s.put_chunk(chunk(&id, "n1", 1, 0, b"a"), hour)
        .await
        .expect("put");
    s.put_chunk(chunk(&id, "n1", 2, 1, b"b"), 3 * hour)
        .await
        .expect("put");
    now.fetch_add(hour.as_millis() as u64 - 1, Ordering::SeqCst);
    assert_eq!(
        s.get_chunks(id.clone()).await.expect("get").len(),
        2,
        "not yet"
    );
    now.fetch_add(1, Ordering::SeqCst);
    let got = s.get_chunks(id.clone()).await.expect("get");
    assert_eq!(got.len(), 1, "expired exactly at its retention");
    assert_eq!(got[0].data, b"b");
    // An append purges what expired: back in time, the first chunk is still gone.
    let other = uuid::Uuid::new_v4().to_string();
    now.fetch_add(1, Ordering::SeqCst);
    s.put_chunk(chunk(&other, "n1", 3, 0, b"c"), hour)
        .await
        .expect("put");
    now.store(1_700_000_000_000, Ordering::SeqCst);
    let got = s.get_chunks(id.clone()).await.expect("get");
    assert_eq!(got.len(), 1, "purged, not only hidden: {got:?}");
    now.fetch_add(10 * hour.as_millis() as u64, Ordering::SeqCst);
    assert!(s.get_chunks(id).await.expect("get").is_empty());
    // Reopened with the real clock, the file is intact.
    drop(s);
    let s = EmbeddedStore::open(dir.path()).expect("reopen");
    s.ping().await.expect("ping");
}

/// SimpleStrategy keyspaces are allowed too (single-datacenter test clusters).
#[tokio::test]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn cassandra_simple_strategy_keyspace_opens_and_reopens() {
    let cfg = cassandra_config(&cassandra_addr(), "SimpleStrategy");
    let s = CassandraStore::open(&cfg).await.expect("open");
    let t = token();
    assert!(s.insert_live(live(&t, "n")).await.expect("insert"));
    drop(s);
    // Opening again finds the schema in place and the data still there.
    let s = CassandraStore::open(&cfg).await.expect("reopen");
    assert_eq!(
        s.get_live(t).await.expect("get").map(|r| r.node),
        Some("n".into())
    );
}

/// A keyspace made by a version without `nodes.proxy_key` gets the column at start, and node
/// keys round-trip through it.
#[tokio::test]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn an_older_keyspace_gets_the_node_key_column() {
    let cfg = cassandra_config(&cassandra_addr(), "SimpleStrategy");
    let ks = &cfg.keyspace;
    let session = scylla::client::session_builder::SessionBuilder::new()
        .known_node(cassandra_addr())
        .build()
        .await
        .expect("connect");
    for q in [
        format!(
            "CREATE KEYSPACE {ks} WITH replication = \
             {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        ),
        format!(
            "CREATE TABLE {ks}.nodes (name text PRIMARY KEY, internal_url text, \
             public_url text, heartbeat_at bigint)"
        ),
    ] {
        session.query_unpaged(q, ()).await.expect("old schema");
    }
    let s = CassandraStore::open(&cfg)
        .await
        .expect("open adds the column");
    let node = NodeRecord {
        name: "old-ks".into(),
        internal_url: "http://10.0.0.1:8080".into(),
        public_url: "https://n1.example".into(),
        heartbeat_at: now_ms(),
        proxy_key: "0123abcd".repeat(8),
    };
    s.heartbeat(node.clone(), Duration::from_secs(30))
        .await
        .expect("heartbeat");
    assert!(s.list_nodes().await.expect("list").contains(&node));
    drop(s);
    // A second start finds the column and leaves it.
    CassandraStore::open(&cfg).await.expect("reopen");
}

/// A TCP relay in front of the database that the test can cut and restore, so "the database is
/// briefly unavailable" happens without stopping the shared Cassandra.
struct Relay {
    addr: std::net::SocketAddr,
    cut: Option<tokio::sync::watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(port: u16, upstream: String) -> Relay {
        Relay::start_on("127.0.0.1", port, upstream).await
    }

    /// A relay on another loopback address (the database is then reached at an IP its
    /// certificate does not name).
    async fn start_on(ip: &str, port: u16, upstream: String) -> Relay {
        let listener = TcpListener::bind((ip, port)).await.expect("bind relay");
        let addr = listener.local_addr().expect("addr");
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                let mut cut_rx = cut_rx.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        let _ = client.shutdown().await;
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Relay {
            addr,
            cut: Some(cut),
            task,
        }
    }

    /// Drops every connection and stops listening.
    fn cut(mut self) -> u16 {
        if let Some(c) = self.cut.take() {
            let _ = c.send(true);
        }
        self.task.abort();
        self.addr.port()
    }
}

/// The database goes away: operations fail with a clear error (no panic, no hang beyond the
/// driver's timeouts), health says so, and everything works again once it is back.
#[tokio::test]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn cassandra_outage_gives_clear_errors_and_recovers() {
    let upstream = cassandra_addr();
    let relay = Relay::start(0, upstream.clone()).await;
    let mut cfg = cassandra_config(&relay.addr.to_string(), "NetworkTopologyStrategy");
    cfg.contact_points = vec![relay.addr.to_string()];
    let s = CassandraStore::open(&cfg)
        .await
        .expect("open through relay");
    let t = token();
    assert!(s.insert_live(live(&t, "n")).await.expect("insert"));

    let port = relay.cut();
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(20), s.ping())
        .await
        .expect("ping answers (with an error) instead of hanging")
        .expect_err("ping fails while the database is unreachable");
    let msg = err.to_string();
    assert!(msg.starts_with("storage backend:"), "clear error: {msg}");
    let err = tokio::time::timeout(Duration::from_secs(20), s.get_live(t.clone()))
        .await
        .expect("get answers")
        .expect_err("get fails while unreachable");
    eprintln!(
        "outage: errors surfaced after {:?}: {err}",
        started.elapsed()
    );

    // The database comes back on the same address; the driver reconnects by itself.
    let _relay = Relay::start(port, upstream).await;
    let back = std::time::Instant::now();
    let deadline = back + Duration::from_secs(60);
    loop {
        if s.get_live(t.clone()).await.is_ok() && s.ping().await.is_ok() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "store never recovered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "outage: recovered {:?} after the database returned",
        back.elapsed()
    );
    assert_eq!(
        s.get_live(t).await.expect("get").map(|r| r.node),
        Some("n".into())
    );
}

/// TLS with a CA that did not sign the node's certificate: opening fails at once (no 30 s of
/// retries) with an error that says the certificate was not trusted.
#[tokio::test]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn cassandra_tls_with_a_wrong_ca_fails_clearly() {
    let started = std::time::Instant::now();
    let err = match CassandraStore::open(&tls_config("other-ca.pem")).await {
        Ok(_) => panic!("a node signed by another CA must not be trusted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("certificate verify failed"), "{err}");
    assert!(err.contains("TLS"), "the error says it is about TLS: {err}");
    // Not a wall-clock bound on speed: it proves the untrusted certificate is not retried
    // for the whole connect patience (30 s) like an unreachable database would be.
    assert!(started.elapsed() < Duration::from_secs(25), "{err}");
}

/// Settings that cannot work fail before any connection, naming the setting and the file.
#[tokio::test]
async fn tls_files_that_do_not_load_are_named() {
    let mut cfg = cassandra_config("127.0.0.1:1", "SimpleStrategy");
    cfg.tls.enabled = true;
    cfg.tls.ca_file = Some("/nonexistent/ca.pem".into());
    let err = match CassandraStore::open(&cfg).await {
        Ok(_) => panic!("a missing CA file must fail"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("caFile /nonexistent/ca.pem"), "{err}");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("client.pem");
    std::fs::write(&cert, "not a certificate").expect("write");
    cfg.tls.ca_file = None;
    cfg.tls.cert_file = Some(cert.clone());
    cfg.tls.key_file = Some(cert.clone());
    let err = match CassandraStore::open(&cfg).await {
        Ok(_) => panic!("a bad client certificate must fail"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!("certFile {}", cert.display())),
        "{err}"
    );
}

/// The test node runs without authentication (enabling PasswordAuthenticator on the shared
/// node would force credentials on every other test): configured credentials are then simply
/// not asked for, and the store works. Against a node that does authenticate, the driver's
/// PasswordAuthenticator handshake uses them.
#[tokio::test]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn credentials_against_a_node_without_authentication_are_harmless() {
    let mut cfg = cassandra_config(&cassandra_addr(), "SimpleStrategy");
    cfg.username = "cobrowse".into();
    cfg.password = "not-checked".into();
    let s = CassandraStore::open(&cfg).await.expect("open");
    s.ping().await.expect("ping");
}

/// The test node's certificate names 127.0.0.1. Reached as 127.0.0.2 (through a relay), the
/// default hostname check refuses it; `verifyHostname = false` accepts it, and still verifies the
/// chain (a wrong CA fails the same way as before).
#[tokio::test]
#[cfg_attr(
    not(feature = "cassandra-tests"),
    ignore = "needs a real Cassandra: build with --features cassandra-tests and set COBROWSE_TEST_CASSANDRA"
)]
async fn cassandra_tls_verify_hostname_checks_the_node_address() {
    // Same port as the node: the driver learns the node's native port from the node itself and
    // reconnects its pool to <the address it reached> on that port.
    let port = cassandra_addr()
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("COBROWSE_TEST_CASSANDRA is host:port");
    let relay = Relay::start_on("127.0.0.2", port, cassandra_addr()).await;
    let mut cfg = tls_config("ca.pem");
    cfg.contact_points = vec![relay.addr.to_string()];
    let err = match CassandraStore::open(&cfg).await {
        Ok(_) => panic!("a certificate for 127.0.0.1 must not pass for 127.0.0.2"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("certificate verify failed"), "{err}");
    cfg.tls.verify_hostname = false;
    let s = CassandraStore::open(&cfg)
        .await
        .expect("without the hostname check the CA-signed certificate is accepted");
    s.ping().await.expect("ping over TLS");
    cfg.tls.ca_file = Some(tls_dir().join("other-ca.pem"));
    let err = match CassandraStore::open(&cfg).await {
        Ok(_) => panic!("the chain is still verified without the hostname check"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("certificate verify failed"), "{err}");
}
