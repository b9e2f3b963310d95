//! A node's start after a crash or kill: the live sessions its previous run left in storage.
//!
//! * Alone (embedded storage), the node **re-adopts** them: same token, same history record, the
//!   usual `maxInterval` for every party to come back (a party that does not ends the session
//!   with `connection_lost`, and a history record). The page cache starts empty; the customer's
//!   reconnect brings a fresh snapshot, as after a cluster failover.
//! * In a cluster, it **fails them over**: each record is released (compare-and-set from this
//!   node to [`RELEASED`]) so the first node a party reconnects to claims it, exactly as after a
//!   graceful stop. Re-adopting here instead would race the nodes that already claimed some of
//!   them while this node was down.
//! * A record whose history already ended (the end was written, the process died before the
//!   live record was removed) is removed now: that session is over.

use super::lifecycle::adopt;
use crate::app::App;
use crate::store::{RELEASED, StoreError};
use std::sync::Arc;

/// What [`recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Re-adopted here (embedded storage).
    pub adopted: usize,
    /// Released for another node to claim (cluster).
    pub released: usize,
    /// Already ended; their live record removed.
    pub finished: usize,
}

/// Takes back (alone) or fails over (cluster) the sessions a previous run of this node left
/// live. Runs before the node serves.
pub async fn recover(app: &Arc<App>) -> Result<Recovered, StoreError> {
    let me = app.config.node_name.clone();
    let clustered = app.cluster.node().is_some();
    let mut out = Recovered::default();
    for rec in app.store.list_live().await? {
        if rec.node != me {
            continue;
        }
        let history = app.store.get_history(rec.history_id.clone()).await?;
        if history.as_ref().is_some_and(|h| h.ended_at.is_some()) {
            app.store.remove_live(rec.token, me.clone()).await?;
            out.finished += 1;
        } else if clustered {
            let mut released = rec.clone();
            released.node = RELEASED.to_string();
            released.node_url = String::new();
            if app.store.claim_live(me.clone(), released).await? {
                out.released += 1;
            }
        } else if adopt(app, rec, history).is_some() {
            out.adopted += 1;
        }
    }
    Ok(out)
}
