//! Upgraded connections (WebSockets): the co-browse client's socket to `/cobrowse/ws`, and a dev
//! server's own (Vite's hot reload, say). The handshake is forwarded like any request; once both
//! sides answered `101`, the two connections are joined byte for byte until either closes.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

/// Joins the browser's upgraded connection with the target's, in the background.
pub fn join(client: OnUpgrade, target: reqwest::Response, what: String) {
    tokio::spawn(async move {
        let (client, target) = tokio::join!(client, target.upgrade());
        let (mut client, mut target) = match (client, target) {
            (Ok(c), Ok(t)) => (TokioIo::new(c), t),
            (Err(e), _) => {
                tracing::warn!("{what}: the browser's side of the upgrade failed: {e}");
                return;
            }
            (_, Err(e)) => {
                tracing::warn!("{what}: the target's side of the upgrade failed: {e}");
                return;
            }
        };
        match tokio::io::copy_bidirectional(&mut client, &mut target).await {
            Ok((up, down)) => {
                tracing::debug!("{what}: closed after {up} bytes up, {down} bytes down");
            }
            // A peer that goes away without a close is how sockets usually end.
            Err(e) => tracing::debug!("{what}: ended: {e}"),
        }
    });
}
