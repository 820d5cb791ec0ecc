//! Cluster events: what an API node asks of the game node that hosts a player or a match. The
//! row is the record game nodes poll; on PostgreSQL the same transaction sends a NOTIFY so they
//! hear of it at once.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventRow {
    pub id: String,
    pub at: i64,
    pub kind: String,
    pub account_id: Option<i64>,
    pub match_id: Option<String>,
    pub reason: String,
    pub origin: String,
}

fn from_row(row: &AnyRow) -> Result<EventRow, sqlx::Error> {
    Ok(EventRow {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        kind: row.try_get("kind")?,
        account_id: row.try_get("account_id")?,
        match_id: row.try_get("match_id")?,
        reason: row.try_get("reason")?,
        origin: row.try_get("origin")?,
    })
}

impl Store {
    /// Stores an event and, on PostgreSQL, notifies `channel` with `payload` when it commits.
    pub async fn publish_event(
        &self,
        event: &EventRow,
        channel: &str,
        payload: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO cluster_events (id, at, kind, account_id, match_id, reason, origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&event.id)
        .bind(event.at)
        .bind(&event.kind)
        .bind(event.account_id)
        .bind(event.match_id.as_deref())
        .bind(&event.reason)
        .bind(&event.origin)
        .execute(&mut *tx)
        .await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Events at or after `since` (ms), oldest first.
    pub async fn events_since(&self, since: i64) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, kind, account_id, match_id, reason, origin FROM cluster_events \
             WHERE at >= $1 ORDER BY at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Deletes events older than `before` (housekeeping).
    pub async fn purge_events(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM cluster_events WHERE at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The NOTIFY channel for this database's schema: deployments (or tests) sharing one
    /// PostgreSQL database in separate schemas must not hear each other. `None` on SQLite.
    pub async fn event_channel(&self) -> Result<Option<String>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let schema: String = sqlx::query("SELECT CAST(current_schema() AS TEXT) AS s")
            .fetch_one(&self.pool)
            .await?
            .try_get("s")?;
        let clean: String = schema
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        Ok(Some(format!("tickwire_events_{clean}")))
    }
}
