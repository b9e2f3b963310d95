//! Opening the Cassandra connection: TLS through the system OpenSSL and the retry while the
//! database is still starting (see `cassandra`'s "Connection security").

use super::StoreError;
use super::cassandra::backend;
use crate::config::{CassandraConfig, CassandraTls};
use scylla::client::session::{OpenSsl010Config, Session};
use scylla::client::session_builder::SessionBuilder;
use std::time::Duration;

/// How long opening keeps retrying to reach the database (it may still be starting).
const CONNECT_PATIENCE: Duration = Duration::from_secs(30);

/// The OpenSSL context for `storage.cassandra.tls` (`None` when TLS is off). Errors name the
/// file or setting at fault.
fn tls_context(t: &CassandraTls) -> Result<Option<OpenSsl010Config>, StoreError> {
    use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
    if !t.enabled {
        return Ok(None);
    }
    let tls = |what: &str, e: openssl::error::ErrorStack| backend(format!("TLS {what}: {e}"));
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| tls("setup", e))?;
    if let Some(ca) = &t.ca_file {
        b.set_ca_file(ca)
            .map_err(|e| tls(&format!("caFile {}", ca.display()), e))?;
    }
    if let Some(cert) = &t.cert_file {
        b.set_certificate_chain_file(cert)
            .map_err(|e| tls(&format!("certFile {}", cert.display()), e))?;
    }
    if let Some(key) = &t.key_file {
        b.set_private_key_file(key, SslFiletype::PEM)
            .map_err(|e| tls(&format!("keyFile {}", key.display()), e))?;
        b.check_private_key()
            .map_err(|e| tls("keyFile does not match certFile", e))?;
    }
    if !t.verify_hostname {
        // The driver asks OpenSSL to match the certificate against the node's IP address;
        // forgive only that mismatch (the chain is still verified against the CA).
        b.set_verify_callback(SslVerifyMode::PEER, |ok, ctx| {
            ok || ctx.error().as_raw() == X509_V_ERR_IP_ADDRESS_MISMATCH
        });
    }
    Ok(Some(OpenSsl010Config::new(b)))
}

/// OpenSSL's `X509_V_ERR_IP_ADDRESS_MISMATCH` (x509_vfy.h).
const X509_V_ERR_IP_ADDRESS_MISMATCH: i32 = 64;

pub(super) async fn connect(c: &CassandraConfig) -> Result<Session, StoreError> {
    let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE;
    let tls = tls_context(&c.tls)?;
    loop {
        let mut b = SessionBuilder::new()
            .known_nodes(&c.contact_points)
            .connection_timeout(Duration::from_secs(5))
            .tls_context(tls.clone());
        if !c.username.is_empty() {
            b = b.user(c.username.clone(), c.password.clone());
        }
        match b.build().await {
            Ok(s) => return Ok(s),
            // An untrusted certificate does not fix itself: say so at once.
            Err(e) if tls.is_some() && e.to_string().contains("certificate verify failed") => {
                return Err(backend(format!(
                    "TLS to {} failed: the database's certificate is not trusted (check \
                     storage.cassandra.tls.caFile / verifyHostname): {e}",
                    c.contact_points.join(", ")
                )));
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(backend(format!(
                    "cannot connect to {}: {e}",
                    c.contact_points.join(", ")
                )));
            }
            Err(e) => {
                tracing::info!(error = %e, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}
