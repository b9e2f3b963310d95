//! Unit tests of the token shape, the page cache (its bounds, the server-wide budget, and copies
//! that let go of the read buffer) and the session timers.

use super::cache::{Added, Cache, CacheBudget};
use super::{is_token_shaped, new_token};
use bytes::Bytes;
use cobrowse_protocol::tags;
use std::collections::HashSet;

#[test]
fn tokens_are_nine_digits_and_vary() {
    let tokens: HashSet<String> = (0..1000).map(|_| new_token()).collect();
    assert!(tokens.len() > 990, "tokens repeat too often");
    for t in &tokens {
        assert!(is_token_shaped(t), "{t}");
        assert!(!t.starts_with('0'));
    }
    assert!(!is_token_shaped("12345678"));
    assert!(!is_token_shaped("12345678a"));
}

#[test]
fn cache_requests_a_snapshot_when_the_log_outgrows_it() {
    let mut c = Cache::new(CacheBudget::new(usize::MAX));
    let snap = Bytes::from(vec![0u8; 100]);
    let delta = Bytes::from(vec![0u8; 40]);
    // Without a base, deltas are not kept and a snapshot is asked for once.
    assert_eq!(
        c.add(&delta, tags::MUTATIONS, 0, 1000),
        Added::RequestSnapshot
    );
    assert_eq!(c.add(&delta, tags::MUTATIONS, 0, 1000), Added::Kept);
    assert!(c.frames().is_empty());
    assert_eq!(c.add(&snap, tags::SNAPSHOT, 0, 1000), Added::Kept);
    assert_eq!(c.add(&delta, tags::MUTATIONS, 0, 1000), Added::Kept);
    assert_eq!(c.add(&delta, tags::MUTATIONS, 0, 1000), Added::Kept);
    assert_eq!(
        c.add(&delta, tags::MUTATIONS, 0, 1000),
        Added::RequestSnapshot,
        "120 > 100: ask once"
    );
    assert_eq!(
        c.add(&delta, tags::MUTATIONS, 0, 1000),
        Added::Kept,
        "asked already"
    );
    assert_eq!(c.frames().len(), 5);
    assert_eq!(c.frames()[0].1, tags::SNAPSHOT);
    assert_eq!(c.add(&snap, tags::SNAPSHOT, 0, 1000), Added::Kept);
    assert_eq!(c.frames().len(), 1, "a snapshot resets the log");
}

#[test]
fn a_page_sent_as_navigation_then_snapshot_is_not_asked_for_again() {
    let mut c = Cache::new(CacheBudget::new(usize::MAX));
    let nav = Bytes::from(vec![0u8; 30]);
    assert_eq!(c.add(&nav, tags::NAVIGATION, 0, 1000), Added::Kept);
    assert_eq!(c.add(&frame(100), tags::SNAPSHOT, 0, 1000), Added::Kept);
    assert_eq!(c.frames().len(), 1);
    // Without a base, a navigation alone still asks nothing; the delta after it does.
    let mut c = Cache::new(CacheBudget::new(usize::MAX));
    assert_eq!(c.add(&nav, tags::NAVIGATION, 0, 1000), Added::Kept);
    assert_eq!(
        c.add(&frame(40), tags::MUTATIONS, 0, 1000),
        Added::RequestSnapshot
    );
}

#[test]
fn cache_drops_everything_past_the_hard_cap() {
    let mut c = Cache::new(CacheBudget::new(usize::MAX));
    c.add(&Bytes::from(vec![0u8; 100]), tags::SNAPSHOT, 1 << 20, 150);
    assert_eq!(
        c.add(&Bytes::from(vec![0u8; 60]), tags::MUTATIONS, 1 << 20, 150),
        Added::RequestSnapshot
    );
    assert!(c.frames().is_empty());
}

fn frame(n: usize) -> Bytes {
    Bytes::from(vec![0u8; n])
}

#[test]
fn caches_share_one_budget_and_give_it_back() {
    let budget = CacheBudget::new(1000);
    let mut a = Cache::new(budget.clone());
    let mut b = Cache::new(budget.clone());
    assert_eq!(a.add(&frame(600), tags::SNAPSHOT, 0, 10_000), Added::Kept);
    assert_eq!(budget.used(), 600);
    // b's snapshot does not fit: b goes without a cache, a keeps its own.
    assert_eq!(
        b.add(&frame(500), tags::SNAPSHOT, 0, 10_000),
        Added::OverBudget
    );
    assert!(b.frames().is_empty());
    assert_eq!(a.frames().len(), 1);
    // Without a cache, b's deltas neither cache nor ask for snapshots that would not fit.
    assert_eq!(b.add(&frame(10), tags::MUTATIONS, 0, 10_000), Added::Kept);
    assert_eq!(budget.used(), 600);
    // a's log cannot take the rest either: a is dropped, the budget comes back.
    assert_eq!(
        a.add(&frame(300), tags::MUTATIONS, 10_000, 10_000),
        Added::Kept
    );
    assert_eq!(
        a.add(&frame(300), tags::MUTATIONS, 10_000, 10_000),
        Added::OverBudget
    );
    assert_eq!(budget.used(), 0);
    // A snapshot that fits starts b's cache again.
    assert_eq!(b.add(&frame(500), tags::SNAPSHOT, 0, 10_000), Added::Kept);
    assert_eq!(b.add(&frame(10), tags::MUTATIONS, 0, 10_000), Added::Kept);
    assert_eq!(b.frames().len(), 2);
    drop(b);
    assert_eq!(budget.used(), 0, "a dropped cache gives its bytes back");
}

/// A customer that keeps reconnecting leaves no sleeping timers behind: each disconnect's
/// "customer lost" timer is cancelled by the reconnect that makes it moot, so a session holds at
/// most one pending timer per kind however often its parties come and go.
#[tokio::test]
async fn reconnects_leave_no_sleeping_timers_behind() {
    use super::session::ConnRef;
    use crate::queue::SendQueue;
    use cobrowse_protocol::{Hello, Role};
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("tempdir");
    let (app, _writer) = crate::app::test_app(dir.path()).await;
    let secret = crate::auth::customer::new_secret();
    let key = crate::auth::customer::digest(&secret);
    let session = super::create(&app, None, None, "http://t".into(), key)
        .await
        .expect("session");
    assert_eq!(session.lock().timers.pending(), 2, "inactivity + customer");
    let hello = Hello {
        role: Role::Customer,
        token: session.token.clone(),
        auth: Some(secret),
        agent_id: None,
        resume_from: None,
        client: "unit".into(),
        link: None,
        observe: false,
    };
    let customer = |id| ConnRef {
        id,
        role: Role::Customer,
        queue: Arc::new(SendQueue::new(64, 1 << 20)),
        agent_id: None,
        link: None,
        render_reports: Default::default(),
        ink: Default::default(),
        seat: 0,
        observe: false,
    };
    let metrics = tokio::runtime::Handle::current().metrics();
    let mut tasks_after_first = None;
    for id in 0..200u64 {
        let mut conn = customer(id);
        super::join(&app, &session, &mut conn, &hello).expect("join");
        super::disconnect(&app, &session, &conn);
        tasks_after_first.get_or_insert(metrics.num_alive_tasks());
    }
    let mut conn = customer(1000);
    super::join(&app, &session, &mut conn, &hello).expect("join");
    assert_eq!(
        session.lock().timers.pending(),
        1,
        "the customer is back: only the inactivity timer is left"
    );
    let first = tasks_after_first.expect("ran");
    // Aborted tasks are reaped once the runtime gets to them.
    for _ in 0..1000 {
        if metrics.num_alive_tasks() <= first {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        session.lock().timers.pending(),
        1,
        "still only the inactivity timer"
    );
    assert!(
        metrics.num_alive_tasks() <= first,
        "tasks grew from {first} to {} over 200 reconnects",
        metrics.num_alive_tasks()
    );
}

#[test]
fn cached_frames_do_not_keep_the_read_buffer_they_came_in() {
    // Two frames split off one buffer, as the socket hands them over.
    let buffer = Bytes::from(vec![7u8; 4096]);
    let (snap, delta) = (buffer.slice(0..100), buffer.slice(100..150));
    let mut c = Cache::new(CacheBudget::new(usize::MAX));
    c.add(&snap, tags::SNAPSHOT, 0, 10_000);
    c.add(&delta, tags::MUTATIONS, 0, 10_000);
    let inside = |b: &Bytes| buffer.as_ptr_range().contains(&b.as_ptr());
    let frames = c.frames();
    assert_eq!(frames.len(), 2);
    assert_eq!(
        (&frames[0].0[..], &frames[1].0[..]),
        (&snap[..], &delta[..])
    );
    assert!(
        frames.iter().all(|(b, _)| !inside(b)),
        "the cache holds copies, not slices of the buffer"
    );
}
