//! The CSS proxy's cache of rewritten sheets: a shared cache under `http-cache-semantics` rules
//! (RFC 9111), held in memory by URL, at most `proxy.cacheBytes` of CSS, least recently used
//! evicted first. It decides and stores; fetching and answering stay with the proxy.

use bytes::Bytes;
use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};
use lru::LruCache;
use reqwest::Url;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use warp::http;

/// A stored, rewritten sheet.
struct Entry {
    policy: CachePolicy,
    /// The URL after redirects (revalidation goes there).
    final_url: Url,
    css: Bytes,
}

struct Lru {
    lru: LruCache<String, Entry>,
    bytes: usize,
}

/// What the cache says about a request for a sheet it may hold.
pub(super) enum Decision {
    /// Not held: fetch it.
    Miss,
    /// Fresh: answer `css`, which stays fresh for `ttl`.
    Fresh {
        /// The rewritten sheet.
        css: Bytes,
        /// Remaining freshness.
        ttl: Duration,
    },
    /// Stale: revalidate it first.
    Stale(Box<Stale>),
}

/// A stale entry: revalidate at `final_url` with `request`'s (conditional) headers.
pub(super) struct Stale {
    /// The conditional request to send.
    pub(super) request: http::request::Parts,
    /// The stored policy, to judge the origin's answer.
    pub(super) policy: CachePolicy,
    /// The URL after redirects.
    pub(super) final_url: Url,
    /// The stored sheet, kept on a 304.
    pub(super) css: Bytes,
}

/// Rewritten sheets by URL, bounded in bytes.
pub(super) struct SheetCache {
    limit: usize,
    lru: Mutex<Lru>,
}

impl SheetCache {
    /// An empty cache holding at most `limit` bytes of CSS.
    pub(super) fn new(limit: usize) -> SheetCache {
        SheetCache {
            limit,
            lru: Mutex::new(Lru {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    /// What to do for `probe` (a plain GET of `key`) at `now`; decided under the lock, acted on
    /// without it. `None` when the lock is poisoned.
    pub(super) fn decide(
        &self,
        key: &str,
        probe: &http::request::Parts,
        now: SystemTime,
    ) -> Option<Decision> {
        let mut c = self.lru.lock().ok()?;
        let Some(e) = c.lru.get(key) else {
            return Some(Decision::Miss);
        };
        Some(match e.policy.before_request(probe, now) {
            BeforeRequest::Fresh(_) => Decision::Fresh {
                css: e.css.clone(),
                ttl: e.policy.time_to_live(now),
            },
            BeforeRequest::Stale { request, .. } => Decision::Stale(Box::new(Stale {
                request,
                policy: e.policy.clone(),
                final_url: e.final_url.clone(),
                css: e.css.clone(),
            })),
        })
    }

    /// Keeps `css` under `key` when `policy` allows storing it; returns the freshness to promise
    /// the agent's browser (`None`: not storable, answer `no-store`).
    pub(super) fn keep(
        &self,
        key: String,
        policy: CachePolicy,
        final_url: Url,
        css: Bytes,
    ) -> Option<Duration> {
        let storable = policy.is_storable();
        let ttl = policy.time_to_live(SystemTime::now());
        if storable {
            self.store(
                key,
                Entry {
                    policy,
                    final_url,
                    css,
                },
            );
        }
        storable.then_some(ttl)
    }

    /// Stores `entry` under `key` when it fits, evicting least recently used entries.
    fn store(&self, key: String, entry: Entry) {
        let size = entry.css.len();
        if size > self.limit {
            return;
        }
        let Ok(mut c) = self.lru.lock() else {
            return;
        };
        if let Some(old) = c.lru.put(key, entry) {
            c.bytes -= old.css.len();
        }
        c.bytes += size;
        while c.bytes > self.limit {
            match c.lru.pop_lru() {
                Some((_, old)) => c.bytes -= old.css.len(),
                None => break,
            }
        }
    }

    /// Bytes of rewritten CSS held.
    pub(super) fn bytes(&self) -> usize {
        self.lru.lock().map(|c| c.bytes).unwrap_or(0)
    }
}

/// The policy for a freshly fetched sheet.
pub(super) fn policy(
    request: &http::request::Parts,
    response: &http::response::Parts,
) -> CachePolicy {
    CachePolicy::new_options(
        request,
        response,
        SystemTime::now(),
        CacheOptions::default(),
    )
}

/// The origin's answer to a revalidation: `Some(updated policy)` when the stored sheet is still
/// good (a 304 matching it), `None` when the answer replaces it.
pub(super) fn revalidated(
    policy: &CachePolicy,
    request: &http::request::Parts,
    response: &http::response::Parts,
) -> Option<CachePolicy> {
    match policy.after_response(request, response, SystemTime::now()) {
        AfterResponse::NotModified(new_policy, _) => Some(new_policy),
        AfterResponse::Modified(..) => None,
    }
}
