//! The cluster state a server holds in its `App`: this node's addresses and key once cluster mode
//! is on, and the other nodes' keys as last read from the registry. Apart from the cluster logic
//! (`mod.rs`), so `App` can own it without the two importing each other.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// A node's secret key for signing what it tells other nodes (`cluster::forwarded`). Never
/// printed.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeKey(pub Vec<u8>);

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeKey(…)")
    }
}

impl NodeKey {
    /// A fresh random key (256 bits).
    pub fn generate() -> NodeKey {
        use rand::RngCore;
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        NodeKey(key)
    }

    /// Lower-case hex, as the registry stores it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key from its hex form; `None` when it is not one (an old node's empty key).
    pub fn from_hex(hex: &str) -> Option<NodeKey> {
        if hex.is_empty() || !hex.len().is_multiple_of(2) {
            return None;
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
            .map(NodeKey)
    }
}

/// This node's addresses in the cluster, fixed once the listener is bound.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Name (cookie value, registry key).
    pub name: String,
    /// URL other nodes use to reach this one.
    pub internal_url: String,
    /// URL clients use (`serverUrl`, else `cluster.url`; empty when neither is configured).
    pub public_url: String,
    /// Heartbeat period; the registry row lives three periods.
    pub heartbeat: Duration,
    /// This node's key, published in the registry.
    pub key: NodeKey,
}

/// Other nodes' keys as last read from the registry.
#[derive(Debug, Default)]
pub struct KeyCache {
    /// Node name → key.
    pub keys: HashMap<String, NodeKey>,
    /// When the registry was last read.
    pub read_at: Option<Instant>,
}

/// Cluster state of a server (set only in cluster mode).
#[derive(Debug, Default)]
pub struct Cluster {
    node: OnceLock<NodeInfo>,
    /// Public URLs of the registered nodes (this one included), as of the last heartbeat: the
    /// agent page may connect to these and no other host.
    peers: RwLock<Vec<String>>,
    keys: Mutex<KeyCache>,
    /// This node could not prove for two heartbeat periods that it is alive (its registry row
    /// may expire and another node claim its sessions): it serves no session until a heartbeat
    /// succeeds again.
    fenced: std::sync::atomic::AtomicBool,
}

impl Cluster {
    /// Whether this node is fenced off (see the field).
    pub fn is_fenced(&self) -> bool {
        self.fenced.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sets the fence; returns whether it changed.
    pub(super) fn set_fenced(&self, on: bool) -> bool {
        self.fenced.swap(on, std::sync::atomic::Ordering::SeqCst) != on
    }

    /// This node's info when cluster mode is on.
    pub fn node(&self) -> Option<&NodeInfo> {
        self.node.get()
    }

    /// Records this node's info (once; cluster mode starts once).
    pub(super) fn set_node(&self, info: NodeInfo) {
        let _ = self.node.set(info);
    }

    /// The public URLs of the cluster's nodes as of the last heartbeat (empty when not in
    /// cluster mode).
    pub fn peer_urls(&self) -> Vec<String> {
        self.peers.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the known public URLs of the cluster's nodes.
    pub(super) fn set_peer_urls(&self, urls: Vec<String>) {
        *self.peers.write().unwrap_or_else(|e| e.into_inner()) = urls;
    }

    /// The cache of other nodes' keys.
    pub(super) fn keys(&self) -> std::sync::MutexGuard<'_, KeyCache> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex_and_never_print() {
        let k = NodeKey::generate();
        assert_eq!(k.0.len(), 32);
        assert_eq!(NodeKey::from_hex(&k.to_hex()), Some(k.clone()));
        assert_ne!(NodeKey::generate(), k);
        assert_eq!(NodeKey::from_hex(""), None);
        assert_eq!(NodeKey::from_hex("abc"), None);
        assert_eq!(NodeKey::from_hex("zz"), None);
        assert_eq!(format!("{k:?}"), "NodeKey(…)");
    }
}
