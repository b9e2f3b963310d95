//! The Cassandra store's agent-session rows: `agent_sessions (agent_id, session_token)`, one row
//! per agent identity and live session it is in, on any node, so `agentSessionsLimit` counts
//! across the cluster. Plain writes with a TTL (no lightweight transaction: the row is a fact
//! about one agent's connection, written and removed by the node that agent is on); a row a dead
//! node left behind expires, and until then its session is no longer live, which is what
//! callers count.

use super::StoreError;
use super::cassandra::backend;
use futures_util::TryStreamExt;
use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;

/// The prepared statements.
pub(super) struct AgentStatements {
    add: PreparedStatement,
    remove: PreparedStatement,
    list: PreparedStatement,
}

impl AgentStatements {
    /// Prepares them on `session` for keyspace `ks`, with the store's consistency levels.
    pub(super) async fn prepare(
        session: &Session,
        ks: &str,
        read: scylla::frame::types::Consistency,
        write: scylla::frame::types::Consistency,
    ) -> Result<AgentStatements, StoreError> {
        let prep = |q: String, cl| async move {
            let mut p = session
                .prepare(q.as_str())
                .await
                .map_err(|e| backend(format!("prepare ({q}): {e}")))?;
            p.set_consistency(cl);
            p.set_page_size(super::cassandra::LIST_PAGE_ROWS);
            Ok::<_, StoreError>(p)
        };
        Ok(AgentStatements {
            add: prep(
                format!(
                    "INSERT INTO {ks}.agent_sessions (agent_id, session_token) VALUES (?, ?) \
                     USING TTL ?"
                ),
                write,
            )
            .await?,
            remove: prep(
                format!("DELETE FROM {ks}.agent_sessions WHERE agent_id = ? AND session_token = ?"),
                write,
            )
            .await?,
            list: prep(
                format!("SELECT session_token FROM {ks}.agent_sessions WHERE agent_id = ?"),
                read,
            )
            .await?,
        })
    }

    pub(super) async fn add(
        &self,
        session: &Session,
        agent_id: &str,
        token: &str,
        ttl_secs: i32,
    ) -> Result<(), StoreError> {
        session
            .execute_unpaged(&self.add, (agent_id, token, ttl_secs.max(1)))
            .await
            .map_err(backend)?;
        Ok(())
    }

    pub(super) async fn remove(
        &self,
        session: &Session,
        agent_id: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        session
            .execute_unpaged(&self.remove, (agent_id, token))
            .await
            .map_err(backend)?;
        Ok(())
    }

    pub(super) async fn list(
        &self,
        session: &Session,
        agent_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut rows = session
            .execute_iter(self.list.clone(), (agent_id,))
            .await
            .map_err(backend)?
            .rows_stream::<(String,)>()
            .map_err(backend)?;
        let mut out = Vec::new();
        while let Some((token,)) = rows.try_next().await.map_err(backend)? {
            out.push(token);
        }
        Ok(out)
    }
}
