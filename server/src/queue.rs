//! Per-connection bounded send queues.
//!
//! The relay never writes to a socket while holding session state: it pushes frames into the
//! recipient's [`SendQueue`], and one writer task per connection drains it. A slow agent therefore
//! never stalls the customer or other agents. The queue bounds frames and bytes:
//!
//! * pointer frames are coalesced: a queued, unsent pointer is replaced by the newer one;
//! * any other frame that does not fit makes [`SendQueue::push`] return [`Push::Overflow`]; the
//!   relay then resyncs the agent ([`SendQueue::resync`]): queued page-state and transient frames
//!   are dropped and replaced by the cached snapshot + log. So DOM frames are never dropped
//!   silently — the agent gets a newer complete page instead;
//! * control frames (session events, errors, welcome) and the close frame bypass the bound: they
//!   are few and must arrive.
//!
//! A queue of a sequenced link ([`SendQueue::set_link`]) numbers every frame the link numbers as
//! it is pushed, also when the queue is closed already (its socket is going), so the link keeps
//! it for a replay on the party's next socket; the writer sends it wrapped in `Seq`.

use crate::sessions::Link;
use bytes::Bytes;
use cobrowse_protocol::{is_page_state_tag, tags};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::Notify;

/// One item for the writer.
#[derive(Debug, Clone)]
pub enum Out {
    /// A binary frame.
    Frame {
        /// Encoded frame.
        bytes: Bytes,
        /// Its tag (for coalescing and resync).
        tag: u32,
        /// When the server received it (relay latency).
        received: Instant,
        /// Its number on the party's link (sent as `Seq`); `None`: sent as it is.
        seq: Option<u64>,
    },
    /// Close the socket with this code and reason; nothing is sent after it.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Reason.
        reason: String,
    },
}

/// Result of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Appended.
    Queued,
    /// Replaced an older queued pointer.
    Coalesced,
    /// Did not fit; the caller must resync (agents) or give up on the connection.
    Overflow,
    /// The connection is closing; nothing more is sent.
    Closed,
}

#[derive(Debug, Default)]
struct Inner {
    items: VecDeque<Out>,
    bytes: usize,
    /// A close was queued or the reader finished: refuse further pushes.
    closed: bool,
    /// The writer should stop without sending anything more.
    abort: bool,
    /// Frames and bytes a resync put in; the bound applies on top of them, so a large cache
    /// does not make the very next frame overflow again.
    base_frames: usize,
    base_bytes: usize,
    /// The party's link, when it speaks sequencing.
    link: Option<Arc<Link>>,
}

impl Inner {
    fn number(&self, tag: u32, bytes: &Bytes) -> Option<u64> {
        self.link.as_ref().and_then(|l| l.number(tag, bytes))
    }
}

/// A bounded, coalescing queue of outgoing frames for one connection.
#[derive(Debug)]
pub struct SendQueue {
    inner: Mutex<Inner>,
    notify: Notify,
    aborted: Notify,
    max_frames: usize,
    max_bytes: usize,
}

fn size(o: &Out) -> usize {
    match o {
        Out::Frame { bytes, .. } => bytes.len(),
        Out::Close { .. } => 0,
    }
}

/// Frames a resync may drop: they are rebuilt by the snapshot + log or are transient. The
/// server's own notices are kept: the roster and control hand-over frames say who may act, and
/// nothing rebuilds them.
fn droppable(tag: u32) -> bool {
    is_page_state_tag(tag)
        || matches!(tag, tags::POINTER | tags::CLICK | tags::PSEUDO)
        || (tag > tags::CONTROLLER && !matches!(tag, tags::ROSTER | tags::CONTROL))
}

impl SendQueue {
    /// A queue holding at most `max_frames` frames and `max_bytes` bytes of bounded traffic.
    pub fn new(max_frames: usize, max_bytes: usize) -> SendQueue {
        SendQueue {
            inner: Mutex::new(Inner::default()),
            notify: Notify::new(),
            aborted: Notify::new(),
            max_frames,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked mid-push; the queue's invariants
        // (a deque and a byte count) hold after any single push, so keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the queue number frames for `link` from now on (the queue's connection is
    /// `conn`, which the link is attached to).
    pub fn set_link(&self, link: Arc<Link>, conn: u64) {
        link.attach(conn);
        self.lock().link = Some(link);
    }

    /// Pushes a bounded frame (relayed traffic).
    pub fn push(&self, bytes: Bytes, tag: u32, received: Instant) -> Push {
        let mut q = self.lock();
        let seq = q.number(tag, &bytes);
        if q.closed {
            return Push::Closed;
        }
        let mut result = Push::Queued;
        if tag == tags::POINTER
            && let Some(pos) = q.items.iter().position(|o| {
                matches!(
                    o,
                    Out::Frame {
                        tag: tags::POINTER,
                        ..
                    }
                )
            })
        {
            if let Some(old) = q.items.remove(pos) {
                q.bytes -= size(&old);
            }
            result = Push::Coalesced;
        } else if q.items.len() >= q.base_frames + self.max_frames
            || q.bytes + bytes.len() > q.base_bytes + self.max_bytes
        {
            return Push::Overflow;
        }
        q.bytes += bytes.len();
        q.items.push_back(Out::Frame {
            bytes,
            tag,
            received,
            seq,
        });
        drop(q);
        self.notify.notify_one();
        result
    }

    /// Pushes a control frame that must arrive (ignores the bound).
    pub fn push_control(&self, bytes: Bytes, tag: u32) -> Push {
        let q = self.lock();
        let seq = q.number(tag, &bytes);
        Self::push_unbounded(q, bytes, tag, seq, &self.notify)
    }

    /// Pushes a frame the link numbered before (a replay after a resume), unbounded.
    pub fn push_numbered(&self, bytes: Bytes, tag: u32, seq: u64) -> Push {
        Self::push_unbounded(self.lock(), bytes, tag, Some(seq), &self.notify)
    }

    fn push_unbounded(
        mut q: std::sync::MutexGuard<'_, Inner>,
        bytes: Bytes,
        tag: u32,
        seq: Option<u64>,
        notify: &Notify,
    ) -> Push {
        if q.closed {
            return Push::Closed;
        }
        q.bytes += bytes.len();
        q.items.push_back(Out::Frame {
            bytes,
            tag,
            received: Instant::now(),
            seq,
        });
        drop(q);
        notify.notify_one();
        Push::Queued
    }

    /// Drops queued page-state and transient frames and queues `frames` (snapshot + log) after
    /// the control frames that remain.
    pub fn resync(&self, frames: impl IntoIterator<Item = (Bytes, u32)>) {
        let mut q = self.lock();
        if q.closed {
            // The party's socket is going: the link keeps the page for its next one.
            for (bytes, tag) in frames {
                q.number(tag, &bytes);
            }
            return;
        }
        q.items
            .retain(|o| !matches!(o, Out::Frame { tag, .. } if droppable(*tag)));
        q.bytes = q.items.iter().map(size).sum();
        let now = Instant::now();
        let (mut n, mut b) = (0, 0);
        for (bytes, tag) in frames {
            n += 1;
            b += bytes.len();
            q.bytes += bytes.len();
            let seq = q.number(tag, &bytes);
            q.items.push_back(Out::Frame {
                bytes,
                tag,
                received: now,
                seq,
            });
        }
        q.base_frames = n;
        q.base_bytes = b;
        drop(q);
        self.notify.notify_one();
    }

    /// Queues a close; later pushes are refused.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let mut q = self.lock();
        if q.closed {
            return;
        }
        q.closed = true;
        q.items.push_back(Out::Close {
            code,
            reason: reason.into(),
        });
        drop(q);
        self.notify.notify_one();
    }

    /// Stops the writer at once (the peer is gone).
    pub fn abort(&self) {
        let mut q = self.lock();
        q.closed = true;
        q.abort = true;
        q.items.clear();
        q.bytes = 0;
        drop(q);
        self.notify.notify_one();
        self.aborted.notify_waiters();
    }

    /// Completes once [`SendQueue::abort`] was called: lets a writer blocked on a stuck socket
    /// give up.
    pub async fn aborted(&self) {
        loop {
            let n = self.aborted.notified();
            if self.lock().abort {
                return;
            }
            n.await;
        }
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for items and takes them all; `None` when the writer must stop.
    pub async fn next_batch(&self) -> Option<Vec<Out>> {
        loop {
            let notified = self.notify.notified();
            {
                let mut q = self.lock();
                if q.abort {
                    return None;
                }
                if !q.items.is_empty() {
                    q.bytes = 0;
                    q.base_frames = 0;
                    q.base_bytes = 0;
                    return Some(q.items.drain(..).collect());
                }
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> Bytes {
        Bytes::from(vec![n; 4])
    }

    #[tokio::test]
    async fn pointers_coalesce_to_the_latest() {
        let q = SendQueue::new(10, 1 << 20);
        let t = Instant::now();
        assert_eq!(q.push(frame(1), tags::POINTER, t), Push::Queued);
        assert_eq!(q.push(frame(2), tags::MUTATIONS, t), Push::Queued);
        assert_eq!(q.push(frame(3), tags::POINTER, t), Push::Coalesced);
        let batch = q.next_batch().await.expect("batch");
        let got: Vec<(u32, u8)> = batch
            .iter()
            .map(|o| match o {
                Out::Frame { bytes, tag, .. } => (*tag, bytes[0]),
                Out::Close { .. } => (0, 0),
            })
            .collect();
        assert_eq!(got, vec![(tags::MUTATIONS, 2), (tags::POINTER, 3)]);
    }

    #[test]
    fn overflow_is_reported_not_dropped() {
        let q = SendQueue::new(2, 1 << 20);
        let t = Instant::now();
        assert_eq!(q.push(frame(1), tags::MUTATIONS, t), Push::Queued);
        assert_eq!(q.push(frame(2), tags::MUTATIONS, t), Push::Queued);
        assert_eq!(q.push(frame(3), tags::MUTATIONS, t), Push::Overflow);
        // A pointer still coalesces in a full queue only if one is queued; here none is.
        assert_eq!(q.push(frame(4), tags::POINTER, t), Push::Overflow);
        assert_eq!(q.len(), 2);
        // Control frames always fit.
        assert_eq!(q.push_control(frame(5), tags::SESSION), Push::Queued);
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn byte_bound_applies() {
        let q = SendQueue::new(100, 6);
        let t = Instant::now();
        assert_eq!(q.push(frame(1), tags::FORM, t), Push::Queued);
        assert_eq!(q.push(frame(2), tags::FORM, t), Push::Overflow);
    }

    #[tokio::test]
    async fn resync_keeps_control_frames_and_replaces_page_state() {
        let q = SendQueue::new(3, 1 << 20);
        let t = Instant::now();
        q.push(frame(1), tags::MUTATIONS, t);
        q.push_control(frame(2), tags::SESSION);
        q.push(frame(3), tags::POINTER, t);
        q.resync(vec![
            (frame(7), tags::SNAPSHOT),
            (frame(8), tags::MUTATIONS),
        ]);
        let tags_seen: Vec<u32> = q
            .next_batch()
            .await
            .expect("batch")
            .iter()
            .map(|o| match o {
                Out::Frame { tag, .. } => *tag,
                Out::Close { .. } => 0,
            })
            .collect();
        assert_eq!(
            tags_seen,
            vec![tags::SESSION, tags::SNAPSHOT, tags::MUTATIONS]
        );
    }

    #[tokio::test]
    async fn close_ends_pushes_and_abort_stops_the_writer() {
        let q = SendQueue::new(3, 1 << 20);
        q.close(1000, "bye");
        assert_eq!(q.push(frame(1), tags::FORM, Instant::now()), Push::Closed);
        assert!(matches!(
            q.next_batch().await.as_deref(),
            Some([Out::Close { code: 1000, .. }])
        ));
        q.abort();
        assert!(q.next_batch().await.is_none());
    }
}
