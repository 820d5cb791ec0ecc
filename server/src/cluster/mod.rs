//! This node's place among several sharing one database. Game nodes register in the `nodes`
//! table and heart-beat with their load; the lobby (on any node) places a new match on the
//! least-loaded live game node and sends the player there with a ticket the game node checks in
//! the database. Every node ends the matches of a node that stopped heart-beating. Bans, kicks
//! and ends issued on one node reach the game node concerned as cluster events (a row, plus a
//! PostgreSQL NOTIFY). A single node on SQLite runs the same code with itself as the only node.

mod agones;
mod events;
mod settings;
mod upkeep;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use events::Ask;
pub use settings::ClusterSettings;

use crate::matches::Registry;
use crate::metrics::Metrics;
use crate::store::nodes::node_state;
use crate::store::{Alive, NodeRow, PlaceQuery, Placement, Store, StoreError};

/// Wall-clock Unix milliseconds. Heartbeats use the real time, never the API's adjustable
/// [`crate::clock::Clock`]: liveness is about this process, not about ticket expiry in a test.
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// This node, as the others see it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Node(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    id: String,
    /// The realtime URL registered for clients (game nodes only).
    url: String,
    /// Whether `url` was only derived from the listen address (nothing said how clients reach
    /// this node).
    url_derived: bool,
    games: Vec<String>,
    settings: ClusterSettings,
    store: Store,
    registry: Registry,
    metrics: Metrics,
    /// The NOTIFY channel (PostgreSQL only).
    channel: Option<String>,
    /// The database URL, for the LISTEN connection.
    database_url: String,
    agones: Option<agones::Sdk>,
    seen: events::Seen,
    started_at: i64,
    /// Cancelled when the node stops: its loops end.
    stop: CancellationToken,
    tasks: TaskTracker,
}

/// What a node is made of.
pub struct NodeParts {
    pub id: String,
    pub url: String,
    /// `url` was derived from the listen address, not configured or given by Agones.
    pub url_derived: bool,
    pub games: Vec<String>,
    pub settings: ClusterSettings,
    pub store: Store,
    pub registry: Registry,
    pub metrics: Metrics,
    pub database_url: String,
    /// Report to the Agones SDK sidecar (game nodes only).
    pub agones: bool,
}

impl Node {
    /// Joins the cluster: a game node ends what a previous run under its id left behind and
    /// registers; every node starts its upkeep (finding dead nodes; on game nodes also the
    /// heartbeat, the cluster events and Agones).
    pub async fn start(parts: NodeParts) -> Result<Node, StoreError> {
        let channel = parts.store.event_channel().await?;
        let runs_matches = parts.registry.runs_matches();
        let agones =
            (parts.agones && runs_matches).then(|| agones::Sdk::new(&parts.settings.agones_url()));
        let node = Node(Arc::new(Inner {
            id: parts.id,
            url: parts.url,
            url_derived: parts.url_derived,
            games: parts.games,
            settings: parts.settings,
            store: parts.store,
            registry: parts.registry,
            metrics: parts.metrics,
            channel,
            database_url: parts.database_url,
            agones,
            seen: events::Seen::default(),
            started_at: wall_ms(),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }));
        if runs_matches {
            node.abandon_leftovers(&[]).await?;
            node.register().await?;
            node.spawn(upkeep::heartbeat(node.clone()));
            node.spawn(events::listen(node.clone()));
            node.spawn(events::poll(node.clone()));
            if let Some(sdk) = &node.0.agones {
                node.spawn(agones::run(node.clone(), sdk.clone()));
            }
        }
        node.spawn(upkeep::reap(node.clone()));
        Ok(node)
    }

    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.0.tasks.spawn(task);
    }

    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The realtime URL this node registered (game nodes).
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// Whether the registered URL was only derived from the listen address: then a client of
    /// this node is better sent back the way it came in.
    pub fn url_derived(&self) -> bool {
        self.0.url_derived
    }

    pub fn settings(&self) -> &ClusterSettings {
        &self.0.settings
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs_f32(self.0.settings.heartbeat_timeout_s)
    }

    /// Which nodes count as alive now.
    pub fn alive(&self) -> Alive<'_> {
        Alive {
            after: wall_ms() - self.timeout().as_millis() as i64,
            asking: &self.0.id,
        }
    }

    /// Where a new match of `game` goes: the live game node (in `region`, if given) with the
    /// fewest seated players. `None` when no live node serves it or all are full.
    pub async fn place(
        &self,
        game: &str,
        region: Option<&str>,
    ) -> Result<Option<Placement>, StoreError> {
        self.0
            .store
            .place_match(PlaceQuery {
                game,
                region,
                alive: self.alive(),
            })
            .await
    }

    fn row(&self, state: &str) -> NodeRow {
        let now = wall_ms();
        NodeRow {
            id: self.0.id.clone(),
            url: self.0.url.clone(),
            region: self.0.settings.region.clone(),
            games: self.0.games.clone(),
            capacity: i64::from(self.0.settings.capacity_players),
            players: self.0.metrics.clients_connected.get(),
            matches: self.0.registry.live().len() as i64,
            state: state.to_string(),
            started_at: self.0.started_at,
            heartbeat_at: now,
        }
    }

    async fn register(&self) -> Result<(), StoreError> {
        let state = if self.0.registry.is_draining() {
            node_state::DRAINING
        } else {
            node_state::LIVE
        };
        self.0.store.register_node(&self.row(state)).await?;
        tracing::info!(node = %self.0.id, url = %self.0.url, region = %self.0.settings.region,
            "registered as a game node");
        Ok(())
    }

    /// Ends the matches placed on this node that are not running here (a previous run's, or
    /// ones no player brought to life before a drain), except `keep`. Their seats are released,
    /// so their players' next quick-join goes elsewhere.
    async fn abandon_leftovers(&self, keep: &[String]) -> Result<(), StoreError> {
        let now = wall_ms();
        for (id, _) in self.0.store.live_matches_of_node(&self.0.id).await? {
            if keep.contains(&id) || self.0.registry.get(&id).is_some() {
                continue;
            }
            if self.0.store.abandon_match(&id, now).await? {
                tracing::info!(match_id = %id, "ended a match that is not running on this node");
            }
        }
        Ok(())
    }

    /// Stops taking matches and lets the running ones finish, for up to `drain_timeout_s`.
    /// Answers whether they all finished in time.
    pub async fn drain(&self) -> bool {
        let registry = &self.0.registry;
        if !registry.runs_matches() {
            return true;
        }
        registry.drain();
        if let Err(e) = self
            .0
            .store
            .set_node_state(&self.0.id, node_state::DRAINING)
            .await
        {
            tracing::warn!(error = %e, "could not mark this node draining");
        }
        if let Err(e) = self.abandon_leftovers(&[]).await {
            tracing::warn!(error = %e, "could not end this node's matches that never started");
        }
        let running = registry.live().len();
        tracing::info!(
            running,
            "draining: no new matches; waiting for the running ones to finish"
        );
        let limit = Duration::from_secs_f32(self.0.settings.drain_timeout_s);
        let finished = tokio::time::timeout(limit, async {
            let mut every = tokio::time::interval(Duration::from_millis(200));
            while !registry.live().is_empty() {
                every.tick().await;
            }
        })
        .await
        .is_ok();
        if !finished {
            tracing::warn!(
                left = registry.live().len(),
                "drain timeout: ending the matches still running"
            );
        }
        finished
    }

    /// Leaves the cluster once the matches have stopped: the row is removed (and any match
    /// still placed here ended), Agones is told to shut the game server down, the loops end.
    pub async fn stop(&self) {
        self.0.stop.cancel();
        self.0.tasks.close();
        self.0.tasks.wait().await;
        if !self.0.registry.runs_matches() {
            return;
        }
        if let Err(e) = self.abandon_leftovers(&[]).await {
            tracing::warn!(error = %e, "could not end the matches left on this node");
        }
        match self.0.store.deregister_node(&self.0.id).await {
            Ok(()) => tracing::info!(node = %self.0.id, "deregistered"),
            Err(e) => tracing::warn!(error = %e, "could not deregister this node"),
        }
        if let Some(sdk) = &self.0.agones {
            sdk.shutdown().await;
        }
    }

    /// Asks whichever node concerns it to act (a ban: every game node; a kick or an end: the
    /// match's node). This node has acted on it already where it could.
    pub async fn publish(&self, ask: Ask) -> Result<(), StoreError> {
        events::publish(self, ask).await
    }
}

/// The realtime URL a game node registers: the configured public URL, else the address Agones
/// gave the game server, else the listen address (which only works where clients can reach it).
pub fn realtime_url(base: Option<&str>, tls: bool, listen: std::net::SocketAddr) -> String {
    let base = match base {
        Some(base) => base
            .trim_end_matches('/')
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1),
        None => format!("{}://{listen}", if tls { "wss" } else { "ws" }),
    };
    format!("{base}/v1/realtime")
}

/// The public base URL Agones assigned this game server (its address and first port), when
/// running under Agones without a configured public URL.
pub async fn agones_public_url(settings: &ClusterSettings, tls: bool) -> Option<String> {
    agones::Sdk::new(&settings.agones_url())
        .public_url(tls)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_url_becomes_the_realtime_url_with_the_websocket_scheme() {
        let listen: std::net::SocketAddr = "10.0.0.5:8443".parse().expect("address");
        assert_eq!(
            realtime_url(Some("https://game1.example.com/"), true, listen),
            "wss://game1.example.com/v1/realtime"
        );
        assert_eq!(
            realtime_url(Some("http://127.0.0.1:9000"), false, listen),
            "ws://127.0.0.1:9000/v1/realtime"
        );
        assert_eq!(
            realtime_url(None, true, listen),
            "wss://10.0.0.5:8443/v1/realtime"
        );
        assert_eq!(
            realtime_url(None, false, listen),
            "ws://10.0.0.5:8443/v1/realtime"
        );
    }
}
