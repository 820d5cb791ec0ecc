//! Match results: written once, server-side, when a match ends.

use std::collections::HashMap;

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
    pub score: i64,
    /// The game's stats by name, in the game's declaration order.
    pub stats: Vec<(String, i64)>,
}

impl ResultRow {
    /// The value of the stat named `name`, if this line has it.
    pub fn stat(&self, name: &str) -> Option<i64> {
        self.stats
            .iter()
            .find(|(stat, _)| stat == name)
            .map(|&(_, value)| value)
    }
}

impl Store {
    /// Ends a match of `game` in one transaction: its results are stored, its state becomes
    /// `ended` and its seats are released. Only the boards of `game` among `boards` receive the
    /// results. Finishing a match twice writes nothing the second time.
    pub async fn finish_match(
        &self,
        match_id: &str,
        game: &str,
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
        // An account counts once per match, in `match_results` as on the boards.
        let mut seen = std::collections::BTreeSet::new();
        let unique: Vec<ResultRow> = results
            .iter()
            .filter(|r| seen.insert(r.account_id))
            .cloned()
            .collect();
        for r in &unique {
            sqlx::query(
                "INSERT INTO match_results (match_id, account_id, player_id, username, score, game, ended_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(match_id)
            .bind(r.account_id)
            .bind(i64::from(r.player_id))
            .bind(&r.username)
            .bind(r.score)
            .bind(game)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for (ordinal, (stat, value)) in r.stats.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO match_result_stats (match_id, account_id, stat, ordinal, value) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(match_id)
                .bind(r.account_id)
                .bind(stat)
                .bind(ordinal as i64)
                .bind(*value)
                .execute(&mut *tx)
                .await?;
            }
        }
        // Scores reach the boards only here, in the same transaction as the results.
        for board in boards.iter().filter(|b| b.game == game) {
            super::leaderboards::apply_results(&mut tx, board, &unique, now).await?;
        }
        sqlx::query("DELETE FROM match_seats WHERE match_id = $1")
            .bind(match_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A match's stored results, best score first, each with its stats in declaration order.
    pub async fn match_results(&self, match_id: &str) -> Result<Vec<ResultRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, player_id, username, score FROM match_results \
             WHERE match_id = $1 ORDER BY score DESC, player_id",
        )
        .bind(match_id)
        .fetch_all(&self.pool)
        .await?;
        let stat_rows = sqlx::query(
            "SELECT account_id, stat, value FROM match_result_stats \
             WHERE match_id = $1 ORDER BY account_id, ordinal",
        )
        .bind(match_id)
        .fetch_all(&self.pool)
        .await?;
        let mut stats: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for row in &stat_rows {
            stats
                .entry(row.try_get("account_id")?)
                .or_default()
                .push((row.try_get("stat")?, row.try_get("value")?));
        }
        rows.iter()
            .map(|row| {
                let account_id: i64 = row.try_get("account_id")?;
                Ok(ResultRow {
                    account_id,
                    player_id: row.try_get::<i64, _>("player_id")? as u32,
                    username: row.try_get("username")?,
                    score: row.try_get("score")?,
                    stats: stats.remove(&account_id).unwrap_or_default(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
