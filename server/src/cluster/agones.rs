//! Agones: a game node started with `--agones` reports to the SDK sidecar's local REST API.
//! `Ready` once registered, `Health` on a timer, `Allocate` while it hosts matches (an allocated
//! game server is never scaled down under its players) and `Ready` again when it is empty,
//! its player count as the label `players`, and `Shutdown` when it has drained and left.
//! A failing call is logged and retried at the next round: the sidecar's health check is what
//! notices a node that stops calling.

use std::time::Duration;

use serde_json::{Value, json};

use super::Node;

/// A client of the SDK sidecar's REST API.
#[derive(Debug, Clone)]
pub(super) struct Sdk {
    http: reqwest::Client,
    base: String,
}

impl Sdk {
    pub(super) fn new(base: &str) -> Sdk {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Sdk {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> bool {
        let url = format!("{}{path}", self.base);
        match self.http.request(method, &url).json(&body).send().await {
            Ok(r) if r.status().is_success() => true,
            Ok(r) => {
                tracing::warn!(%url, status = %r.status(), "the Agones SDK refused a call");
                false
            }
            Err(e) => {
                tracing::warn!(%url, error = %e, "the Agones SDK did not answer");
                false
            }
        }
    }

    async fn post(&self, path: &str) -> bool {
        self.call(reqwest::Method::POST, path, json!({})).await
    }

    pub(super) async fn ready(&self) -> bool {
        self.post("/ready").await
    }

    pub(super) async fn health(&self) -> bool {
        self.post("/health").await
    }

    pub(super) async fn allocate(&self) -> bool {
        self.post("/allocate").await
    }

    pub(super) async fn shutdown(&self) -> bool {
        self.post("/shutdown").await
    }

    async fn label(&self, key: &str, value: &str) -> bool {
        self.call(
            reqwest::Method::PUT,
            "/metadata/label",
            json!({ "key": key, "value": value }),
        )
        .await
    }

    /// `wss://ADDRESS:PORT` (or `ws://` without TLS) from the GameServer's status: the node's
    /// address and its first port as Agones allocated them.
    pub(super) async fn public_url(&self, tls: bool) -> Option<String> {
        let url = format!("{}/gameserver", self.base);
        let server: Value = match self.http.get(&url).send().await {
            Ok(r) if r.status().is_success() => r.json().await.ok()?,
            Ok(r) => {
                tracing::warn!(%url, status = %r.status(), "the Agones SDK refused GameServer");
                return None;
            }
            Err(e) => {
                tracing::warn!(%url, error = %e, "the Agones SDK did not answer");
                return None;
            }
        };
        let status = server.get("status")?;
        let address = status.get("address")?.as_str().filter(|a| !a.is_empty())?;
        let port = status.get("ports")?.get(0)?.get("port")?.as_u64()?;
        let scheme = if tls { "wss" } else { "ws" };
        Some(format!("{scheme}://{address}:{port}"))
    }
}

/// Ready, then health pings and allocation state until the node stops (`Shutdown` is sent by
/// [`Node::stop`] once the node has left).
pub(super) async fn run(node: Node, sdk: Sdk) {
    let inner = &node.0;
    sdk.ready().await;
    let mut every = tokio::time::interval(Duration::from_secs_f32(inner.settings.agones_health_s));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut allocated = false;
    let mut players_label: Option<i64> = None;
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => return,
            _ = every.tick() => {}
        }
        sdk.health().await;
        let players = inner.metrics.clients_connected.get();
        let busy = players > 0 || !inner.registry.live().is_empty();
        if busy && !allocated {
            allocated = sdk.allocate().await;
        } else if !busy && allocated && !inner.registry.is_draining() && sdk.ready().await {
            allocated = false;
        }
        if players_label != Some(players) && sdk.label("players", &players.to_string()).await {
            players_label = Some(players);
        }
    }
}
