//! The client's address across nodes. A node that proxies a socket to the session's owner is the
//! owner's socket peer, so without more the owner would count every client behind that node as
//! one address. The proxying node therefore says whom it proxies for — the client address, its
//! own name and a time, signed with HMAC-SHA256 under its node key — and the owner believes it
//! only when the signature verifies under the key that node published in the registry
//! (`NodeRecord::proxy_key`). A stranger (or a client writing these headers through a load
//! balancer, which passes them on) has no node key, so its claim is ignored and its own address
//! counts. Signatures older than [`FRESH`] are refused, so a captured one is soon worthless.

use super::state::NodeKey;
use crate::app::{App, now_ms};
use ring::hmac;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use warp::http::HeaderMap;

/// The client address the proxying node forwards.
pub const CLIENT_HEADER: &str = "x-cobrowse-client";
/// The proxying node's name.
pub const NODE_HEADER: &str = "x-cobrowse-node";
/// `<ms since the epoch>.<hex HMAC-SHA256 of "name\nclient\nms">`.
pub const PROOF_HEADER: &str = "x-cobrowse-proof";

/// How long a signature is good for (clocks of nodes may differ by this much).
pub const FRESH: Duration = Duration::from_secs(60);

/// The registry is read again for an unknown node at most this often, so bogus node names from
/// strangers cannot make every upgrade a storage read.
const REREAD: Duration = Duration::from_secs(1);

fn message(node: &str, client: IpAddr, at_ms: u64) -> String {
    format!("{node}\n{client}\n{at_ms}")
}

fn tag(key: &NodeKey, node: &str, client: IpAddr, at_ms: u64) -> String {
    let k = hmac::Key::new(hmac::HMAC_SHA256, &key.0);
    hmac::sign(&k, message(node, client, at_ms).as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The headers a node sends with a socket it proxies for `client`.
pub fn headers(node: &str, key: &NodeKey, client: IpAddr) -> [(&'static str, String); 3] {
    let at = now_ms();
    [
        (CLIENT_HEADER, client.to_string()),
        (NODE_HEADER, node.to_string()),
        (PROOF_HEADER, format!("{at}.{}", tag(key, node, client, at))),
    ]
}

/// Checks a claim against `key` at time `now_ms`: the client address when it holds.
pub fn verify(key: &NodeKey, node: &str, client: &str, proof: &str, now: u64) -> Option<IpAddr> {
    let client: IpAddr = client.trim().parse().ok()?;
    let (at, sig) = proof.trim().split_once('.')?;
    let at: u64 = at.parse().ok()?;
    if now.abs_diff(at) > FRESH.as_millis() as u64 {
        return None;
    }
    let sig = NodeKey::from_hex(sig)?;
    let k = hmac::Key::new(hmac::HMAC_SHA256, &key.0);
    hmac::verify(&k, message(node, client, at).as_bytes(), &sig.0).ok()?;
    Some(client)
}

/// The forwarded client of a request from another node of this cluster, when its claim verifies
/// (see the module docs); `None` for everything else, which then counts as its own client.
pub async fn verified_client(app: &App, headers: &HeaderMap) -> Option<IpAddr> {
    app.cluster.node()?;
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let (client, node, proof) = (get(CLIENT_HEADER)?, get(NODE_HEADER)?, get(PROOF_HEADER)?);
    let key = node_key(app, node).await;
    let verified = key.and_then(|k| verify(&k, node, client, proof, now_ms()));
    if verified.is_none() {
        tracing::info!(
            node,
            "forwarded client address refused: not signed by that node's key"
        );
    }
    verified
}

/// `node`'s key: from the cache, or from the registry when the cache is old or lacks it.
async fn node_key(app: &App, node: &str) -> Option<NodeKey> {
    let max_age = app.cluster.node().map(|n| n.heartbeat).unwrap_or(REREAD);
    {
        let cache = app.cluster.keys();
        let age = cache.read_at.map(|t| t.elapsed());
        if let Some(k) = cache.keys.get(node)
            && age.is_some_and(|a| a < max_age)
        {
            return Some(k.clone());
        }
        if age.is_some_and(|a| a < REREAD) {
            return cache.keys.get(node).cloned();
        }
    }
    let nodes = match app.store.list_nodes().await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "node registry unreadable; forwarded address not checked");
            return None;
        }
    };
    let mut cache = app.cluster.keys();
    cache.keys = nodes
        .into_iter()
        .filter_map(|n| NodeKey::from_hex(&n.proxy_key).map(|k| (n.name, k)))
        .collect();
    cache.read_at = Some(Instant::now());
    cache.keys.get(node).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_holds_only_under_the_nodes_key_for_its_address_and_time() {
        let key = NodeKey::generate();
        let client: IpAddr = "203.0.113.9".parse().expect("ip");
        let [(_, c), (_, n), (_, proof)] = headers("n1", &key, client);
        let now = now_ms();
        assert_eq!(verify(&key, &n, &c, &proof, now), Some(client));
        // Another key, another node name, another address, a stale or garbled proof: no.
        assert_eq!(verify(&NodeKey::generate(), &n, &c, &proof, now), None);
        assert_eq!(verify(&key, "n2", &c, &proof, now), None);
        assert_eq!(verify(&key, &n, "203.0.113.10", &proof, now), None);
        assert_eq!(verify(&key, &n, &c, &proof, now + 61_000), None);
        assert_eq!(verify(&key, &n, &c, "garbage", now), None);
        assert_eq!(verify(&key, &n, "not an ip", &proof, now), None);
    }
}
