//! The Cassandra store's schema: the keyspace and tables created at open when absent, and the
//! columns later versions added brought into keyspaces an older version created (Cassandra has
//! no `ADD … IF NOT EXISTS` for columns, so `system_schema` says whether one is there).
//! The tables themselves are described in `cassandra`'s module docs.

use super::StoreError;
use super::cassandra::backend;
use crate::config::CassandraConfig;
use scylla::client::session::Session;

/// Creates what is absent and adds missing columns.
pub(super) async fn ensure(session: &Session, c: &CassandraConfig) -> Result<(), StoreError> {
    let replication = if c.replication_strategy == "SimpleStrategy" {
        format!(
            "{{'class': 'SimpleStrategy', 'replication_factor': {}}}",
            c.replication_factor
        )
    } else {
        format!(
            "{{'class': 'NetworkTopologyStrategy', '{}': {}}}",
            c.datacenter, c.replication_factor
        )
    };
    let ks = &c.keyspace;
    let ddl = [
        format!("CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {replication}"),
        format!(
            "CREATE TABLE IF NOT EXISTS {ks}.live_sessions \
             (session_token text PRIMARY KEY, node text, record text)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {ks}.session_history \
             (history_id text PRIMARY KEY, record text)"
        ),
        // The supervisor console's search by time: one partition per day of creation, newest
        // first inside it (added later; created here when absent, so older keyspaces get it).
        format!(
            "CREATE TABLE IF NOT EXISTS {ks}.session_history_by_day \
             (day bigint, created_at bigint, history_id text, record text, \
             PRIMARY KEY ((day), created_at, history_id)) \
             WITH CLUSTERING ORDER BY (created_at DESC, history_id DESC)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {ks}.nodes (name text PRIMARY KEY, \
             internal_url text, public_url text, heartbeat_at bigint, proxy_key text)"
        ),
        // Added with audit recordings; a keyspace made before them gets the table here.
        super::cassandra_recording::ddl(ks),
        format!(
            "CREATE TABLE IF NOT EXISTS {ks}.agent_sessions \
             (agent_id text, session_token text, PRIMARY KEY (agent_id, session_token))"
        ),
    ];
    for q in ddl {
        session
            .query_unpaged(q.as_str(), ())
            .await
            .map_err(|e| backend(format!("schema ({q}): {e}")))?;
    }
    add_column(session, ks, "nodes", "proxy_key", "text").await
}

/// Adds `table.column` unless it is there (another node may add it at the same moment).
async fn add_column(
    session: &Session,
    ks: &str,
    table: &str,
    column: &str,
    kind: &str,
) -> Result<(), StoreError> {
    let res = session
        .query_unpaged(
            "SELECT column_name FROM system_schema.columns \
             WHERE keyspace_name = ? AND table_name = ? AND column_name = ?",
            (ks, table, column),
        )
        .await
        .map_err(|e| backend(format!("schema ({table}.{column}): {e}")))?;
    let present = res
        .into_rows_result()
        .map_err(backend)?
        .maybe_first_row::<(String,)>()
        .map_err(backend)?
        .is_some();
    if present {
        return Ok(());
    }
    let q = format!("ALTER TABLE {ks}.{table} ADD {column} {kind}");
    match session.query_unpaged(q.as_str(), ()).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            if text.contains("conflicts with an existing column") || text.contains("already") {
                Ok(())
            } else {
                Err(backend(format!("schema ({q}): {e}")))
            }
        }
    }
}
