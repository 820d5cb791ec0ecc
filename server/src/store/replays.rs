//! Stored replays: the encoded bytes of each ended match's replay, kept for the configured
//! retention.

use sqlx::Row;

use super::{Store, StoreError, storable};

impl Store {
    /// Stores the replay of `match_id` (replacing one stored before: a match is recorded once,
    /// so only a retried write finds one).
    pub async fn save_replay(
        &self,
        match_id: &str,
        bytes: &[u8],
        created_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO replays (match_id, bytes, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (match_id) DO UPDATE SET bytes = excluded.bytes, created_ms = excluded.created_ms",
        )
        .bind(match_id)
        .bind(bytes)
        .bind(created_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The stored replay of `match_id`, if there is one.
    pub async fn load_replay(&self, match_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !storable(match_id) {
            return Ok(None);
        }
        let row = sqlx::query("SELECT bytes FROM replays WHERE match_id = $1")
            .bind(match_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("bytes")).transpose()?)
    }

    /// Deletes the replays stored before `before` (Unix milliseconds); answers how many.
    pub async fn prune_replays(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM replays WHERE created_ms < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
