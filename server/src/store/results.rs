//! Match results: written once, server-side, when a match ends.

use sqlx::Row;

use super::lobby::state;
use super::{Store, StoreError};
use crate::leaderboards::BoardDef;

/// One player's line of a match's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub account_id: i64,
    pub player_id: u32,
    pub username: String,
    pub score: i32,
    pub kills: u32,
    pub deaths: u32,
}

impl Store {
    /// Ends a match in one transaction: its results are stored, its state becomes `ended` and
    /// its seats are released. Finishing a match twice writes nothing the second time.
    pub async fn finish_match(
        &self,
        match_id: &str,
        results: &[ResultRow],
        boards: &[BoardDef],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // The first statement writes, so SQLite takes its write lock now rather than failing to
        // upgrade a read lock later.
        let ended = sqlx::query("UPDATE matches SET state = $2, ended_at = $3, players = 0 WHERE id = $1 AND state <> $2")
            .bind(match_id)
            .bind(state::ENDED)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if ended.rows_affected() == 0 {
            // Either the lobby knows the match and it already ended, or (results from elsewhere,
            // such as an import) results for this id are already stored.
            let done = sqlx::query(
                "SELECT 1 AS one FROM matches WHERE id = $1 \
                 UNION ALL SELECT 1 AS one FROM match_results WHERE match_id = $1",
            )
            .bind(match_id)
            .fetch_optional(&mut *tx)
            .await?;
            if done.is_some() {
                // Already finished: results and scores are written once.
                tx.rollback().await?;
                return Ok(());
            }
        }
        for r in results {
            sqlx::query(
                "INSERT INTO match_results (match_id, account_id, player_id, username, score, kills, deaths, ended_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(match_id)
            .bind(r.account_id)
            .bind(i64::from(r.player_id))
            .bind(&r.username)
            .bind(i64::from(r.score))
            .bind(i64::from(r.kills))
            .bind(i64::from(r.deaths))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // Scores reach the boards only here, in the same transaction as the results; an account
        // counts once per match, as in `match_results`.
        let mut seen = std::collections::BTreeSet::new();
        let unique: Vec<ResultRow> = results
            .iter()
            .filter(|r| seen.insert(r.account_id))
            .cloned()
            .collect();
        for board in boards {
            super::leaderboards::apply_results(&mut tx, board, &unique, now).await?;
        }
        sqlx::query("DELETE FROM match_seats WHERE match_id = $1")
            .bind(match_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A match's stored results, best score first.
    pub async fn match_results(&self, match_id: &str) -> Result<Vec<ResultRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, player_id, username, score, kills, deaths FROM match_results \
             WHERE match_id = $1 ORDER BY score DESC, player_id",
        )
        .bind(match_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ResultRow {
                    account_id: row.try_get("account_id")?,
                    player_id: row.try_get::<i64, _>("player_id")? as u32,
                    username: row.try_get("username")?,
                    score: row.try_get::<i64, _>("score")? as i32,
                    kills: row.try_get::<i64, _>("kills")? as u32,
                    deaths: row.try_get::<i64, _>("deaths")? as u32,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
