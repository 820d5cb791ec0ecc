//! The node registry: game nodes register, heart-beat and deregister; the lobby places matches
//! on them; any node ends the matches of a node that stopped heart-beating. Heartbeat times are
//! wall-clock milliseconds of the writing node (nodes are expected to run NTP: the timeout is
//! seconds, skew is milliseconds).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::lobby::{Alive, LIVE, state};
use super::{Store, StoreError};

/// Node states as stored.
pub mod node_state {
    /// Takes new matches.
    pub const LIVE: &str = "live";
    /// Shutting down: its running matches finish, it takes no new ones.
    pub const DRAINING: &str = "draining";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub id: String,
    pub url: String,
    pub region: String,
    pub games: Vec<String>,
    pub capacity: i64,
    pub players: i64,
    pub matches: i64,
    pub state: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
}

/// Where a new match goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub node_id: String,
    pub url: String,
    /// Seats taken in its live matches when it was picked.
    pub seats: i64,
}

/// What placement may choose from.
#[derive(Debug, Clone, Copy)]
pub struct PlaceQuery<'a> {
    pub game: &'a str,
    pub region: Option<&'a str>,
    pub alive: Alive<'a>,
}

const COLUMNS: &str =
    "id, url, region, games, capacity, players, matches, state, started_at, heartbeat_at";

fn from_row(row: &AnyRow) -> Result<NodeRow, sqlx::Error> {
    let games: String = row.try_get("games")?;
    Ok(NodeRow {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        region: row.try_get("region")?,
        games: games
            .split(',')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
        capacity: row.try_get("capacity")?,
        players: row.try_get("players")?,
        matches: row.try_get("matches")?,
        state: row.try_get("state")?,
        started_at: row.try_get("started_at")?,
        heartbeat_at: row.try_get("heartbeat_at")?,
    })
}

/// The `id` column of `rows`.
fn ids(rows: &[AnyRow]) -> Result<Vec<String>, StoreError> {
    rows.iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

impl Store {
    /// Registers a node (or registers it again with what it says now).
    pub async fn register_node(&self, node: &NodeRow) -> Result<(), StoreError> {
        let games = format!(",{},", node.games.join(","));
        sqlx::query(
            "INSERT INTO nodes (id, url, region, games, capacity, players, matches, state, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET url = $2, region = $3, games = $4, capacity = $5, \
             players = $6, matches = $7, state = $8, started_at = $9, heartbeat_at = $10",
        )
        .bind(&node.id)
        .bind(&node.url)
        .bind(&node.region)
        .bind(games)
        .bind(node.capacity)
        .bind(node.players)
        .bind(node.matches)
        .bind(&node.state)
        .bind(node.started_at)
        .bind(node.heartbeat_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a heartbeat with the node's load. `false`: the node's row is gone (another node
    /// declared it dead and ended its matches).
    pub async fn heartbeat_node(
        &self,
        id: &str,
        players: i64,
        matches: i64,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE nodes SET players = $2, matches = $3, heartbeat_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(players)
        .bind(matches)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_node_state(&self, id: &str, new_state: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE nodes SET state = $2 WHERE id = $1")
            .bind(id)
            .bind(new_state)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn deregister_node(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn nodes(&self) -> Result<Vec<NodeRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM nodes ORDER BY region, id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// The live node serving `game` with the fewest seats taken in its live matches (then the
    /// fewest matches, so empty matches spread too), among those below their capacity.
    pub async fn place_match(&self, q: PlaceQuery<'_>) -> Result<Option<Placement>, StoreError> {
        let sql = format!(
            "SELECT n.id, n.url, n.capacity, \
             CAST((SELECT COALESCE(SUM(m.players), 0) FROM matches m \
                   WHERE m.node_id = n.id AND m.{LIVE}) AS BIGINT) AS seats, \
             CAST((SELECT COUNT(*) FROM matches m \
                   WHERE m.node_id = n.id AND m.{LIVE}) AS BIGINT) AS live \
             FROM nodes n \
             WHERE n.state = $1 AND (n.heartbeat_at > $2 OR n.id = $3) AND n.games LIKE $4 \
             AND ($5 IS NULL OR n.region = $5) \
             ORDER BY seats, live, n.id"
        );
        let rows = sqlx::query(&sql)
            .bind(node_state::LIVE)
            .bind(q.alive.after)
            .bind(q.alive.asking)
            .bind(format!("%,{},%", q.game))
            .bind(q.region)
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let seats: i64 = row.try_get("seats")?;
            if seats < row.try_get::<i64, _>("capacity")? {
                return Ok(Some(Placement {
                    node_id: row.try_get("id")?,
                    url: row.try_get("url")?,
                    seats,
                }));
            }
        }
        Ok(None)
    }

    /// The node hosting `match_id` and its realtime URL: `None` when there is no such match;
    /// the node is `None` for a match placed nowhere, the URL `None` for a node gone from the
    /// registry.
    pub async fn host_of_match(
        &self,
        match_id: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>, StoreError> {
        if !super::storable(match_id) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT m.node_id, n.url FROM matches m LEFT JOIN nodes n ON n.id = m.node_id \
             WHERE m.id = $1",
        )
        .bind(match_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => None,
            Some(row) => Some((row.try_get("node_id")?, row.try_get("url")?)),
        })
    }

    /// Ids of the matches placed on `node_id` that have not ended, with their states.
    pub async fn live_matches_of_node(
        &self,
        node_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let sql = format!("SELECT id, state FROM matches WHERE node_id = $1 AND {LIVE}");
        let rows = sqlx::query(&sql)
            .bind(node_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("state")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Ends a match that will never report its results (its node died, or it never started
    /// on a node that is going away): no results, marked abandoned, seats released. `false`
    /// if it had ended.
    pub async fn abandon_match(&self, match_id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ended = sqlx::query(
            "UPDATE matches SET state = $2, ended_at = $3, players = 0, abandoned = 1 \
             WHERE id = $1 AND state <> $2",
        )
        .bind(match_id)
        .bind(state::ENDED)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM match_seats WHERE match_id = $1")
            .bind(match_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ended.rows_affected() > 0)
    }

    /// Nodes other than `asking` whose last heartbeat is older than `dead_before`.
    pub async fn dead_nodes(
        &self,
        dead_before: i64,
        asking: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM nodes WHERE heartbeat_at < $1 AND id <> $2")
            .bind(dead_before)
            .bind(asking)
            .fetch_all(&self.pool)
            .await?;
        ids(&rows)
    }

    /// Removes a dead node's row, unless it heart-beat again meanwhile. `true` if removed.
    pub async fn remove_dead_node(&self, id: &str, dead_before: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM nodes WHERE id = $1 AND heartbeat_at < $2")
            .bind(id)
            .bind(dead_before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Live matches placed on a node that is not registered (it died, or left without ending
    /// them).
    pub async fn orphaned_matches(&self) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT id FROM matches WHERE {LIVE} AND node_id IS NOT NULL \
             AND node_id NOT IN (SELECT id FROM nodes)"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        ids(&rows)
    }
}
