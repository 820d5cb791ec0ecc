//! Cluster events: a ban, a kick or an end asked for on one node, acted on by the game node that
//! hosts the player or the match. Each is a row in `cluster_events`; on PostgreSQL the same
//! transaction sends a NOTIFY carrying it, which game nodes LISTEN for, and every game node also
//! polls the table, for a notification missed while its listening connection was down. Acting
//! twice on one event is avoided by remembering the ids seen in the poll window (and acting
//! twice would be harmless: kicking a player who has gone does nothing).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::{Node, wall_ms};
use crate::auth::random_token;
use crate::store::{EventRow, StoreError};

/// How far back a poll reads: events older than this are assumed seen (or moot).
const WINDOW_MS: i64 = 60_000;

/// What one node asks of the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Kick the account from every match (it is banned).
    Ban { account_id: i64, reason: String },
    /// Kick the account from one match.
    Kick {
        match_id: String,
        account_id: i64,
        reason: String,
    },
    /// End one match now.
    End { match_id: String, reason: String },
}

mod kind {
    pub(super) const BAN: &str = "ban";
    pub(super) const KICK: &str = "kick";
    pub(super) const END: &str = "end";
}

impl Ask {
    fn into_row(self, origin: &str) -> EventRow {
        let (kind, account_id, match_id, reason) = match self {
            Ask::Ban { account_id, reason } => (kind::BAN, Some(account_id), None, reason),
            Ask::Kick {
                match_id,
                account_id,
                reason,
            } => (kind::KICK, Some(account_id), Some(match_id), reason),
            Ask::End { match_id, reason } => (kind::END, None, Some(match_id), reason),
        };
        EventRow {
            id: format!("ev_{}", random_token(12)),
            at: wall_ms(),
            kind: kind.to_string(),
            account_id,
            match_id,
            reason,
            origin: origin.to_string(),
        }
    }

    fn from_row(row: &EventRow) -> Option<Ask> {
        let reason = row.reason.clone();
        match (row.kind.as_str(), row.account_id, row.match_id.clone()) {
            (kind::BAN, Some(account_id), _) => Some(Ask::Ban { account_id, reason }),
            (kind::KICK, Some(account_id), Some(match_id)) => Some(Ask::Kick {
                match_id,
                account_id,
                reason,
            }),
            (kind::END, _, Some(match_id)) => Some(Ask::End { match_id, reason }),
            _ => None,
        }
    }
}

/// Event ids acted on, with when, forgotten once older than the poll window.
#[derive(Debug, Default)]
pub(super) struct Seen(Mutex<HashMap<String, i64>>);

impl Seen {
    /// `true` the first time an id is offered.
    fn first(&self, id: &str, at: i64) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains_key(id) {
            return false;
        }
        seen.insert(id.to_string(), at);
        true
    }

    fn forget_before(&self, before: i64) {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, at| *at >= before);
    }
}

pub(super) async fn publish(node: &Node, ask: Ask) -> Result<(), StoreError> {
    let inner = &node.0;
    let row = ask.into_row(&inner.id);
    inner.seen.first(&row.id, row.at);
    // The payload is the row itself, so a listener needs no query to act.
    let payload = serde_json::to_string(&row).unwrap_or_default();
    let channel = inner.channel.as_deref().unwrap_or_default();
    inner.store.publish_event(&row, channel, &payload).await
}

/// Acts on an event once, if it concerns this node.
async fn act(node: &Node, row: &EventRow) {
    let inner = &node.0;
    if row.origin == inner.id || !inner.seen.first(&row.id, row.at) {
        return;
    }
    let Some(ask) = Ask::from_row(row) else {
        tracing::warn!(id = %row.id, kind = %row.kind, "an unknown cluster event was ignored");
        return;
    };
    let registry = &inner.registry;
    match ask {
        Ask::Ban { account_id, reason } => {
            for handle in registry.live() {
                if handle.kick(account_id, reason.clone()).await {
                    tracing::info!(account_id, match_id = %handle.match_id, "kicked a banned player");
                }
            }
        }
        Ask::Kick {
            match_id,
            account_id,
            reason,
        } => {
            if let Some(handle) = registry.get(&match_id)
                && handle.kick(account_id, reason).await
            {
                tracing::info!(account_id, %match_id, "kicked a player for another node");
            }
        }
        Ask::End { match_id, reason } => {
            if let Some(handle) = registry.get(&match_id) {
                tracing::info!(%match_id, "ending a match for another node");
                handle.end(reason).await;
            }
        }
    }
}

/// LISTENs for events on PostgreSQL (nothing to do on SQLite, where the poll is enough: one
/// node is the whole cluster). The listener reconnects by itself when its connection drops.
pub(super) async fn listen(node: Node) {
    let Some(channel) = node.0.channel.clone() else {
        return;
    };
    let stop = node.0.stop.clone();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            Err(e) = listen_until_broken(&node, &channel) => {
                tracing::warn!(error = %e, "listening for cluster events failed; the poll covers it until it is back");
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn listen_until_broken(
    node: &Node,
    channel: &str,
) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(&node.0.database_url).await?;
    listener.listen(channel).await?;
    tracing::debug!(%channel, "listening for cluster events");
    loop {
        let note = listener.recv().await?;
        match serde_json::from_str::<EventRow>(note.payload()) {
            Ok(row) => act(node, &row).await,
            Err(e) => tracing::warn!(error = %e, "an unreadable cluster event"),
        }
    }
}

/// Reads the events of the last minute every `event_poll_s` and acts on those not seen yet.
pub(super) async fn poll(node: Node) {
    let inner = &node.0;
    let mut every = tokio::time::interval(Duration::from_secs_f32(inner.settings.event_poll_s));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let now = wall_ms();
        let since = (now - WINDOW_MS).max(inner.started_at - 1000);
        match inner.store.events_since(since).await {
            Ok(rows) => {
                for row in &rows {
                    act(&node, row).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "polling for cluster events failed"),
        }
        inner.seen.forget_before(now - 2 * WINDOW_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ask_survives_its_row_and_payload() {
        let asks = [
            Ask::Ban {
                account_id: 7,
                reason: "cheating".into(),
            },
            Ask::Kick {
                match_id: "m_1".into(),
                account_id: 8,
                reason: "afk".into(),
            },
            Ask::End {
                match_id: "m_2".into(),
                reason: "maintenance".into(),
            },
        ];
        for ask in asks {
            let row = ask.clone().into_row("node_a");
            let json = serde_json::to_string(&row).expect("payload");
            let back: EventRow = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, row);
            assert_eq!(Ask::from_row(&back), Some(ask));
        }
    }

    #[test]
    fn an_event_is_acted_on_once() {
        let seen = Seen::default();
        assert!(seen.first("ev_1", 1000));
        assert!(!seen.first("ev_1", 1000), "the second sight");
        seen.forget_before(2000);
        assert!(seen.first("ev_1", 3000), "forgotten after the window");
    }
}
