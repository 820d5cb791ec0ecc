//! Attempt counters shared by every node: password attempts per username in fixed windows.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Counts one attempt against `key` in the window starting at `window_start` (ms) and
    /// answers the attempts in that window so far, this one included. One statement, so
    /// concurrent attempts on several nodes each see their own count.
    pub async fn count_attempt(&self, key: &str, window_start: i64) -> Result<i64, StoreError> {
        if !super::storable(key) {
            return Ok(1);
        }
        let row = sqlx::query(
            "INSERT INTO auth_attempts (key, window_start, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             attempts = CASE WHEN auth_attempts.window_start = $2 \
                        THEN auth_attempts.attempts + 1 ELSE 1 END, \
             window_start = $2 \
             RETURNING attempts",
        )
        .bind(key)
        .bind(window_start)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("attempts")?)
    }

    /// Deletes counters of windows that started before `before` (housekeeping).
    pub async fn purge_attempts(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM auth_attempts WHERE window_start < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
