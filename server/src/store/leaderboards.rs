//! Leaderboard records: written only inside the match-results transaction (or removed by an
//! admin, in one transaction with the removal's audit row), read as a consistent snapshot for
//! pagination and as current state for ranks.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::admin::{NewAudit, insert_audit};
use super::{Store, StoreError};
use crate::leaderboards::{BoardDef, RankKey};
use crate::store::ResultRow;

/// One record as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub account_id: i64,
    pub username: String,
    pub score: i64,
    pub sort_key: i64,
    pub achieved_at: i64,
}

impl RecordRow {
    pub fn key(&self) -> RankKey {
        (self.sort_key, self.achieved_at, self.account_id)
    }
}

/// Changes to a board season since a version, for rank caches.
#[derive(Debug, Default)]
pub struct BoardChanges {
    /// Each changed account's current key, or `None` if it no longer has a record.
    pub accounts: Vec<(i64, Option<RankKey>)>,
}

const COLUMNS: &str = "account_id, username, score, sort_key, achieved_at";

fn record(row: &AnyRow) -> Result<RecordRow, sqlx::Error> {
    Ok(RecordRow {
        account_id: row.try_get("account_id")?,
        username: row.try_get("username")?,
        score: row.try_get("score")?,
        sort_key: row.try_get("sort_key")?,
        achieved_at: row.try_get("achieved_at")?,
    })
}

/// Bumps a board season's version; on PostgreSQL the row lock also serialises its writers.
async fn bump_version(
    tx: &mut Transaction<'_, Any>,
    board: &str,
    season: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO leaderboard_versions (board_id, season, version) VALUES ($1, $2, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(board)
    .bind(season)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(
        "UPDATE leaderboard_versions SET version = version + 1 WHERE board_id = $1 AND season = $2 \
         RETURNING version",
    )
    .bind(board)
    .bind(season)
    .fetch_one(&mut **tx)
    .await?;
    row.try_get("version")
}

/// Applies one match's results to one board, inside the results transaction. Lines without the
/// board's metric (a stat their game does not have) leave the board alone.
pub(super) async fn apply_results(
    tx: &mut Transaction<'_, Any>,
    board: &BoardDef,
    results: &[ResultRow],
    now: i64,
) -> Result<(), sqlx::Error> {
    let incoming: Vec<(&ResultRow, i64)> = results
        .iter()
        .filter_map(|r| Some((r, board.value(r)?)))
        .collect();
    if incoming.is_empty() {
        // Nothing to write: do not bump the version (and, on PostgreSQL, lock the board).
        return Ok(());
    }
    let season = board.season_at(now);
    let version = bump_version(tx, &board.id, season).await?;
    for (r, incoming) in incoming {
        let current = sqlx::query(
            "SELECT score, version FROM leaderboard_records \
             WHERE board_id = $1 AND season = $2 AND account_id = $3 AND valid_to IS NULL",
        )
        .bind(&board.id)
        .bind(season)
        .bind(r.account_id)
        .fetch_optional(&mut **tx)
        .await?;
        let current_score: Option<i64> =
            current.as_ref().map(|c| c.try_get("score")).transpose()?;
        let Some(value) = board.combine(current_score, incoming) else {
            continue;
        };
        if let Some(current) = &current {
            let old_version: i64 = current.try_get("version")?;
            sqlx::query(
                "UPDATE leaderboard_records SET valid_to = $5, changed_version = $6 \
                 WHERE board_id = $1 AND season = $2 AND account_id = $3 AND version = $4",
            )
            .bind(&board.id)
            .bind(season)
            .bind(r.account_id)
            .bind(old_version)
            .bind(now)
            .bind(version)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO leaderboard_records (board_id, season, account_id, version, username, score, \
             sort_key, achieved_at, valid_from, valid_to, changed_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, NULL, $4)",
        )
        .bind(&board.id)
        .bind(season)
        .bind(r.account_id)
        .bind(version)
        .bind(&r.username)
        .bind(value)
        .bind(board.sort_key(value))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// A page of a board season as it stood at `as_of` (ms): records after `after` in rank order.
    pub async fn board_page(
        &self,
        board: &str,
        season: i64,
        as_of: i64,
        after: Option<RankKey>,
        limit: i64,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let (k, a, id) = after.unwrap_or((i64::MIN, i64::MIN, i64::MIN));
        let sql = format!(
            "SELECT {COLUMNS} FROM leaderboard_records \
             WHERE board_id = $1 AND season = $2 AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3) \
             AND (sort_key, achieved_at, account_id) > ($4, $5, $6) \
             ORDER BY sort_key, achieved_at, account_id LIMIT $7"
        );
        let rows = sqlx::query(&sql)
            .bind(board)
            .bind(season)
            .bind(as_of)
            .bind(k)
            .bind(a)
            .bind(id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
    }

    /// An account's current record.
    pub async fn board_record(
        &self,
        board: &str,
        season: i64,
        account_id: i64,
    ) -> Result<Option<RecordRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM leaderboard_records \
             WHERE board_id = $1 AND season = $2 AND account_id = $3 AND valid_to IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(board)
            .bind(season)
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(record).transpose()?)
    }

    /// Up to `limit` current records just before (`before = true`, nearest first) or just after
    /// `key` in rank order.
    pub async fn board_neighbours(
        &self,
        board: &str,
        season: i64,
        key: RankKey,
        before: bool,
        limit: i64,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let (cmp, dir) = if before { ("<", "DESC") } else { (">", "ASC") };
        let sql = format!(
            "SELECT {COLUMNS} FROM leaderboard_records \
             WHERE board_id = $1 AND season = $2 AND valid_to IS NULL \
             AND (sort_key, achieved_at, account_id) {cmp} ($3, $4, $5) \
             ORDER BY sort_key {dir}, achieved_at {dir}, account_id {dir} LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(board)
            .bind(season)
            .bind(key.0)
            .bind(key.1)
            .bind(key.2)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
    }

    /// A board season's version (0 if it was never written).
    pub async fn board_version(&self, board: &str, season: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT version FROM leaderboard_versions WHERE board_id = $1 AND season = $2",
        )
        .bind(board)
        .bind(season)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("version")).transpose()?.unwrap_or(0))
    }

    /// Every current key of a board season, in rank order (to build a rank index).
    pub async fn board_keys(&self, board: &str, season: i64) -> Result<Vec<RankKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT sort_key, achieved_at, account_id FROM leaderboard_records \
             WHERE board_id = $1 AND season = $2 AND valid_to IS NULL \
             ORDER BY sort_key, achieved_at, account_id",
        )
        .bind(board)
        .bind(season)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("sort_key")?,
                    r.try_get("achieved_at")?,
                    r.try_get("account_id")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// What changed in a board season after `since`.
    pub async fn board_changes(
        &self,
        board: &str,
        season: i64,
        since: i64,
    ) -> Result<BoardChanges, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, sort_key, achieved_at, valid_to FROM leaderboard_records \
             WHERE board_id = $1 AND season = $2 AND changed_version > $3",
        )
        .bind(board)
        .bind(season)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut by_account: std::collections::BTreeMap<i64, Option<RankKey>> = Default::default();
        for r in &rows {
            let account: i64 = r.try_get("account_id")?;
            let closed: Option<i64> = r.try_get("valid_to")?;
            let entry = by_account.entry(account).or_insert(None);
            if closed.is_none() {
                *entry = Some((r.try_get("sort_key")?, r.try_get("achieved_at")?, account));
            }
        }
        Ok(BoardChanges {
            accounts: by_account.into_iter().collect(),
        })
    }

    /// Removes an account's current record (admin) and writes `audit` in the same transaction,
    /// so the log holds every removal and only removals that happened. Answers whether there was
    /// a record; when there was none nothing is written, neither the audit row nor a version.
    pub async fn remove_board_record(
        &self,
        board: &str,
        season: i64,
        account_id: i64,
        now: i64,
        audit: &NewAudit<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The version bump writes first: SQLite takes its write lock at once, and on PostgreSQL
        // the version row's lock orders this removal with the results written to the board.
        let version = bump_version(&mut tx, board, season).await?;
        let done = sqlx::query(
            "UPDATE leaderboard_records SET valid_to = $4, changed_version = $5 \
             WHERE board_id = $1 AND season = $2 AND account_id = $3 AND valid_to IS NULL",
        )
        .bind(board)
        .bind(season)
        .bind(account_id)
        .bind(now)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Loads records in bulk, for benchmarks and data imports: never reachable from an endpoint
    /// (scores from players come only through match results). Rows are
    /// (account id, username, score, achieved at); existing records are not checked.
    pub async fn import_board_records(
        &self,
        board: &BoardDef,
        season: i64,
        rows: &[(i64, String, i64, i64)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let version = bump_version(&mut tx, &board.id, season).await?;
        for chunk in rows.chunks(1000) {
            // One multi-row statement per chunk: 9 binds a row stays under SQLite's 32766.
            let mut sql = String::from(
                "INSERT INTO leaderboard_records (board_id, season, account_id, version, username, score, \
                 sort_key, achieved_at, valid_from, valid_to, changed_version) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 9;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, NULL, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 4
                ));
            }
            let mut query = sqlx::query(&sql);
            for (account_id, username, score, achieved_at) in chunk {
                query = query
                    .bind(&board.id)
                    .bind(season)
                    .bind(*account_id)
                    .bind(version)
                    .bind(username)
                    .bind(*score)
                    .bind(board.sort_key(*score))
                    .bind(*achieved_at)
                    .bind(*achieved_at);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the query planner's statistics after a bulk import.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// Deletes closed record versions older than `before`: no cursor can need them any more.
    pub async fn purge_board_history(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM leaderboard_records WHERE valid_to IS NOT NULL AND valid_to < $1",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
