//! Admin: bans, roles and the audit log of admin actions.
//!
//! A change and its audit row are written in one transaction, so every ban, unban, role change
//! and leaderboard record removal (see `Store::remove_board_record`) is in the log, and the log
//! holds no change that did not happen. Audit ids are made here (see [`next_audit_id`]):
//! increasing in time, so the newest entry has the largest id and the id is the pagination
//! cursor.

use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Store, StoreError};

/// An audit row to write.
#[derive(Debug, Clone, Copy)]
pub struct NewAudit<'a> {
    /// Unix milliseconds.
    pub at: i64,
    /// `admin-key` or `account:<id>`.
    pub actor: &'a str,
    /// What was done, e.g. `ban`, `kick`, `end_match`.
    pub action: &'a str,
    /// What it was done to, e.g. `account:<id>`, `match:<id>`.
    pub target: &'a str,
    /// A JSON object, as text.
    pub detail: &'a str,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// A ban to put in force: until when (Unix ms; `i64::MAX` for a permanent ban) and why.
#[derive(Debug, Clone, Copy)]
pub struct Ban<'a> {
    pub until: i64,
    pub reason: &'a str,
}

/// Random part of an audit id: ids are `at_ms * AUDIT_ID_SPREAD + r` with `r` below half the
/// spread, leaving the upper half for ids bumped past a busy millisecond. At 1024 per
/// millisecond ids stay below 2^53 (exact in JavaScript) until the year 2248.
const AUDIT_ID_SPREAD: i64 = 1024;

/// The newest audit id this process handed out.
static LAST_AUDIT_ID: AtomicI64 = AtomicI64::new(0);

/// A fresh audit id for a row written at `at_ms`: larger than every id this process made
/// before, and random in its low bits so that two nodes writing in the same millisecond rarely
/// collide (a collision is retried by [`insert_audit`]).
pub fn next_audit_id(at_ms: i64) -> i64 {
    use rand::Rng;
    let candidate = at_ms
        .max(0)
        .saturating_mul(AUDIT_ID_SPREAD)
        .saturating_add(rand::rng().random_range(0..AUDIT_ID_SPREAD / 2));
    let previous = LAST_AUDIT_ID
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(candidate.max(last.saturating_add(1)))
        })
        // The closure always answers Some.
        .unwrap_or_else(|last| last);
    candidate.max(previous.saturating_add(1))
}

/// Writes an audit row on `conn` (a pooled connection or an open transaction, so a caller can
/// log in the same transaction as the change it logs). Answers the row's id.
pub async fn insert_audit(
    conn: &mut AnyConnection,
    entry: &NewAudit<'_>,
) -> Result<i64, StoreError> {
    // `ON CONFLICT DO NOTHING` rather than catching the unique violation: an error would abort
    // an enclosing PostgreSQL transaction, a skipped insert does not.
    for _ in 0..8 {
        let id = next_audit_id(entry.at);
        let inserted = sqlx::query(
            "INSERT INTO admin_audit (id, at, actor, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(entry.at)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.detail)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(id);
        }
    }
    Err(StoreError::Conflict("no free audit id after 8 attempts"))
}

fn audit_from_row(row: &AnyRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        detail: row.try_get("detail")?,
    })
}

impl Store {
    /// Writes one audit row on its own.
    pub async fn record_audit(&self, entry: &NewAudit<'_>) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_audit(&mut conn, entry).await
    }

    /// Up to `limit` audit rows with ids below `before` (all if `None`), newest first.
    pub async fn audit_page(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail FROM admin_audit \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_from_row).collect::<Result<_, _>>()?)
    }

    /// Puts a ban in force (`Some`) or lifts it (`None`), and logs it in the same transaction.
    /// `false` if there is no such account (nothing is written).
    pub async fn set_ban(
        &self,
        account_id: i64,
        ban: Option<Ban<'_>>,
        audit: &NewAudit<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated =
            sqlx::query("UPDATE accounts SET banned_until = $2, ban_reason = $3 WHERE id = $1")
                .bind(account_id)
                .bind(ban.map(|b| b.until))
                .bind(ban.map(|b| b.reason))
                .execute(&mut *tx)
                .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sets an account's role (`player` or `admin`) and logs it in the same transaction.
    /// `false` if there is no such account (nothing is written).
    pub async fn set_role(
        &self,
        account_id: i64,
        role: &str,
        audit: &NewAudit<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE accounts SET role = $2 WHERE id = $1")
            .bind(account_id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_ids_increase_even_within_one_millisecond() {
        let at = 1_750_000_000_000;
        let ids: Vec<i64> = (0..2000).map(|_| next_audit_id(at)).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "every id is larger than the one before"
        );
        assert!(
            ids.iter().all(|&id| id < 1 << 53),
            "ids stay exact in JavaScript"
        );
    }

    #[test]
    fn a_later_millisecond_gives_a_larger_id() {
        let a = next_audit_id(1_800_000_000_000);
        let b = next_audit_id(1_800_000_000_001);
        assert!(b > a, "{b} after {a}");
    }
}
