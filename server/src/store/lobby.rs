//! Matches as the lobby sees them, seats, and single-use join tickets.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

/// Match states as stored.
pub mod state {
    /// Created, waiting for players (or playing: the lobby lets players join either way).
    pub const OPEN: &str = "open";
    pub const RUNNING: &str = "running";
    pub const ENDED: &str = "ended";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRow {
    pub id: String,
    /// The game the match plays.
    pub game: String,
    pub map: String,
    pub public: bool,
    pub capacity: i64,
    pub players: i64,
    pub state: String,
    pub node_id: Option<String>,
    pub created_at: i64,
}

pub struct NewMatch<'a> {
    pub id: &'a str,
    pub game: &'a str,
    pub map: &'a str,
    pub public: bool,
    pub capacity: i64,
    pub node_id: Option<&'a str>,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// Which nodes count as alive: those that heart-beat after `after` (wall-clock ms), and the
/// asking node itself, which knows it is.
#[derive(Debug, Clone, Copy)]
pub struct Alive<'a> {
    pub after: i64,
    pub asking: &'a str,
}

/// What asking for a seat in a match gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatOutcome {
    Seated,
    /// The account already holds a seat in this match (a returning player).
    AlreadySeated,
    Full,
    NotFound,
    Ended,
}

/// What presenting a join ticket gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketClaim {
    Valid {
        account_id: i64,
        match_id: String,
        seat: TicketSeat,
    },
    Unknown,
    AlreadyUsed,
    Expired,
}

/// What a ticket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketSeat {
    /// A seat the lobby gave the account.
    Player,
    /// A read-only seat: the whole world, or the view of the player it follows.
    Spectator { follow: Option<u32> },
}

const COLUMNS: &str = "id, game, map, public, capacity, players, state, node_id, created_at";

/// A match that has not ended, written as the partial indexes' predicate. A literal rather than
/// a bound `state::ENDED`: PostgreSQL uses a partial index only where it can prove the query
/// implies its predicate, which a parameter defeats once a prepared statement goes generic. Ended
/// matches are kept for ever (results, history), so without the indexes every lobby query
/// would scan them all.
pub(crate) const LIVE: &str = "state <> 'ended'";

fn from_row(row: &AnyRow) -> Result<MatchRow, sqlx::Error> {
    Ok(MatchRow {
        id: row.try_get("id")?,
        game: row.try_get("game")?,
        map: row.try_get("map")?,
        public: row.try_get::<i64, _>("public")? != 0,
        capacity: row.try_get("capacity")?,
        players: row.try_get("players")?,
        state: row.try_get("state")?,
        node_id: row.try_get("node_id")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn create_match(&self, new: NewMatch<'_>) -> Result<MatchRow, StoreError> {
        let sql = format!(
            "INSERT INTO matches (id, game, map, public, capacity, players, state, node_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.id)
            .bind(new.game)
            .bind(new.map)
            .bind(new.public as i64)
            .bind(new.capacity)
            .bind(state::OPEN)
            .bind(new.node_id)
            .bind(new.created_by)
            .bind(new.created_at)
            .fetch_one(&self.pool)
            .await?;
        Ok(from_row(&row)?)
    }

    /// Creates a match with `account_id` already in its first seat, in one transaction, so a
    /// concurrent quick-join cannot fill the new match before its creator sits down.
    pub async fn create_match_seated(
        &self,
        new: NewMatch<'_>,
        account_id: i64,
    ) -> Result<MatchRow, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO matches (id, game, map, public, capacity, players, state, node_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.id)
            .bind(new.game)
            .bind(new.map)
            .bind(new.public as i64)
            .bind(new.capacity)
            .bind(state::OPEN)
            .bind(new.node_id)
            .bind(new.created_by)
            .bind(new.created_at)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO match_seats (match_id, account_id, joined_at) VALUES ($1, $2, $3)",
        )
        .bind(new.id)
        .bind(account_id)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(from_row(&row)?)
    }

    pub async fn match_by_id(&self, id: &str) -> Result<Option<MatchRow>, StoreError> {
        if !super::storable(id) {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM matches WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Matches that have not ended, newest first; private ones only if `include_private`.
    pub async fn live_matches(
        &self,
        include_private: bool,
        limit: i64,
    ) -> Result<Vec<MatchRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM matches WHERE {LIVE} AND (public = 1 OR $1 = 1) \
             ORDER BY created_at DESC, id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(include_private as i64)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Public live matches of `game` with a free seat (on `map` if given), fullest first (ties:
    /// oldest first). Matches ending before `ending_after` (ms) are left out: a player sent there
    /// would barely play.
    /// Only matches on nodes that take new players count: live ones (by `alive`), not
    /// draining.
    pub async fn joinable_public_matches(
        &self,
        limit: i64,
        game: &str,
        map: Option<&str>,
        ending_after: i64,
        alive: Alive<'_>,
    ) -> Result<Vec<MatchRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM matches WHERE {LIVE} AND public = 1 AND players < capacity \
             AND game = $4 AND ($2 IS NULL OR map = $2) AND (ends_at IS NULL OR ends_at > $3) \
             AND (node_id IS NULL OR node_id = $5 OR node_id IN \
                  (SELECT id FROM nodes WHERE state = $6 AND heartbeat_at > $7)) \
             ORDER BY players DESC, created_at ASC, id LIMIT $1"
        );
        let rows = sqlx::query(&sql)
            .bind(limit)
            .bind(map)
            .bind(ending_after)
            .bind(game)
            .bind(alive.asking)
            .bind(super::nodes::node_state::LIVE)
            .bind(alive.after)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// The live match in which `account_id` holds a seat, if any, on a node still alive (by
    /// `alive`; a draining node's running matches count: the player goes back to them).
    pub async fn live_seat_of(
        &self,
        account_id: i64,
        alive: Alive<'_>,
    ) -> Result<Option<MatchRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM matches m JOIN match_seats s ON s.match_id = m.id \
             WHERE s.account_id = $1 AND m.state <> $2 \
             AND (m.node_id IS NULL OR m.node_id = $3 OR m.node_id IN \
                  (SELECT id FROM nodes WHERE heartbeat_at > $4)) \
             ORDER BY s.joined_at DESC LIMIT 1",
            COLUMNS
                .split(", ")
                .map(|c| format!("m.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row = sqlx::query(&sql)
            .bind(account_id)
            .bind(state::ENDED)
            .bind(alive.asking)
            .bind(alive.after)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Takes a seat for `account_id` in `match_id`, never past capacity even under concurrent
    /// joins: the seat count only moves through a conditional UPDATE.
    pub async fn take_seat(
        &self,
        match_id: &str,
        account_id: i64,
        now: i64,
    ) -> Result<SeatOutcome, StoreError> {
        if !super::storable(match_id) {
            return Ok(SeatOutcome::NotFound);
        }
        let mut tx = self.pool.begin().await?;
        // The first statement writes, so SQLite takes its write lock at once: a transaction that
        // reads first cannot upgrade its lock once another writer committed, and fails instead
        // of waiting (busy_timeout does not cover that case).
        let inserted = sqlx::query(
            "INSERT INTO match_seats (match_id, account_id, joined_at) \
             SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM matches WHERE id = $1 AND state <> $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(match_id)
        .bind(account_id)
        .bind(now)
        .bind(state::ENDED)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            let row = sqlx::query("SELECT state FROM matches WHERE id = $1")
                .bind(match_id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(match row {
                None => SeatOutcome::NotFound,
                Some(row) if row.try_get::<String, _>("state")? == state::ENDED => {
                    SeatOutcome::Ended
                }
                Some(_) => SeatOutcome::AlreadySeated,
            });
        }
        // The state is checked again here, under the match row's lock: on PostgreSQL the check
        // above reads a snapshot, so a match `finish_match` is ending meanwhile still looks
        // live there, and its end (which releases the seats it sees) would miss this one. This
        // UPDATE waits for that end to commit and then finds the match ended.
        let counted = sqlx::query(
            "UPDATE matches SET players = players + 1 \
             WHERE id = $1 AND state <> $2 AND players < capacity",
        )
        .bind(match_id)
        .bind(state::ENDED)
        .execute(&mut *tx)
        .await?;
        if counted.rows_affected() == 0 {
            let row = sqlx::query("SELECT state FROM matches WHERE id = $1")
                .bind(match_id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.rollback().await?;
            return Ok(match row {
                Some(row) if row.try_get::<String, _>("state")? != state::ENDED => {
                    SeatOutcome::Full
                }
                _ => SeatOutcome::Ended,
            });
        }
        tx.commit().await?;
        Ok(SeatOutcome::Seated)
    }

    /// Whether `account_id` holds a seat in `match_id`.
    pub async fn holds_seat(&self, match_id: &str, account_id: i64) -> Result<bool, StoreError> {
        if !super::storable(match_id) {
            return Ok(false);
        }
        let row =
            sqlx::query("SELECT 1 AS one FROM match_seats WHERE match_id = $1 AND account_id = $2")
                .bind(match_id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Gives a seat back (the player left or was removed).
    pub async fn release_seat(&self, match_id: &str, account_id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let removed =
            sqlx::query("DELETE FROM match_seats WHERE match_id = $1 AND account_id = $2")
                .bind(match_id)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        if removed.rows_affected() > 0 {
            sqlx::query("UPDATE matches SET players = players - 1 WHERE id = $1 AND players > 0")
                .bind(match_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(removed.rows_affected() > 0)
    }

    /// Marks a match running until `ends_at` (ms).
    pub async fn mark_running(&self, match_id: &str, ends_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE matches SET state = $2, ends_at = $3 WHERE id = $1 AND state <> $4")
            .bind(match_id)
            .bind(state::RUNNING)
            .bind(ends_at)
            .bind(state::ENDED)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_match_state(
        &self,
        match_id: &str,
        new_state: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let ended_at = (new_state == state::ENDED).then_some(now);
        let done = sqlx::query(
            "UPDATE matches SET state = $2, ended_at = $3 WHERE id = $1 AND state <> $4",
        )
        .bind(match_id)
        .bind(new_state)
        .bind(ended_at)
        .bind(state::ENDED)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn insert_ticket(
        &self,
        id: &str,
        account_id: i64,
        match_id: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.insert_seat_ticket(id, account_id, match_id, TicketSeat::Player, expires_at)
            .await
    }

    /// A ticket for a player's seat or a spectator's.
    pub async fn insert_seat_ticket(
        &self,
        id: &str,
        account_id: i64,
        match_id: &str,
        seat: TicketSeat,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let (spectate, follow) = match seat {
            TicketSeat::Player => (0i64, None),
            TicketSeat::Spectator { follow } => (1, follow.map(i64::from)),
        };
        sqlx::query(
            "INSERT INTO join_tickets (id, account_id, match_id, expires_at, spectate, follow_player) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(account_id)
        .bind(match_id)
        .bind(expires_at)
        .bind(spectate)
        .bind(follow)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Redeems a ticket: succeeds once, before it expires. The conditional UPDATE makes
    /// single use hold across nodes and concurrent redemptions.
    pub async fn redeem_ticket(&self, id: &str, now: i64) -> Result<TicketClaim, StoreError> {
        if !super::storable(id) {
            return Ok(TicketClaim::Unknown);
        }
        let claimed = sqlx::query(
            "UPDATE join_tickets SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING account_id, match_id, spectate, follow_player",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = claimed {
            let seat = if row.try_get::<i64, _>("spectate")? != 0 {
                TicketSeat::Spectator {
                    follow: row
                        .try_get::<Option<i64>, _>("follow_player")?
                        .and_then(|p| u32::try_from(p).ok()),
                }
            } else {
                TicketSeat::Player
            };
            return Ok(TicketClaim::Valid {
                account_id: row.try_get("account_id")?,
                match_id: row.try_get("match_id")?,
                seat,
            });
        }
        let why = sqlx::query("SELECT used_at FROM join_tickets WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match why {
            None => TicketClaim::Unknown,
            Some(row) if row.try_get::<Option<i64>, _>("used_at")?.is_some() => {
                TicketClaim::AlreadyUsed
            }
            Some(_) => TicketClaim::Expired,
        })
    }

    /// Deletes tickets that expired before `before` (housekeeping).
    pub async fn purge_tickets(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM join_tickets WHERE expires_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
