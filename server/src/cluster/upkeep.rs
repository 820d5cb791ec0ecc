//! The loops that keep the node registry true: a game node's heartbeat, and every node's
//! search for dead nodes, whose matches it ends.

use std::time::Duration;

use super::{Node, wall_ms};

/// Reports this game node's load every `heartbeat_interval_s`. A node whose row has gone was
/// declared dead by another (it missed heartbeats for the whole timeout: a stall, a network
/// partition): its matches were ended and their players sent elsewhere, so it ends what still
/// runs here rather than let two copies of a player play, and registers afresh.
pub(super) async fn heartbeat(node: Node) {
    let inner = &node.0;
    let mut every =
        tokio::time::interval(Duration::from_secs_f32(inner.settings.heartbeat_interval_s));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let players = inner.metrics.clients_connected.get();
        let matches = inner.registry.live().len() as i64;
        match inner
            .store
            .heartbeat_node(&inner.id, players, matches, wall_ms())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::error!(node = %inner.id,
                    "this node was declared dead by another; ending its matches and registering again");
                inner
                    .registry
                    .end_all("this server lost its place in the cluster")
                    .await;
                if let Err(e) = node.register().await {
                    tracing::warn!(error = %e, "registering again failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
        }
    }
}

/// Every `heartbeat_interval_s`, on every node: a node silent for `heartbeat_timeout_s` loses
/// its row, then every live match placed on a node without a row is ended (no results: its
/// simulation is gone) and its seats released. The row goes first so that a node which was only
/// stalled finds it gone at its next heartbeat and stops its own copies of those matches. The
/// sweep also runs every tenth round, for a match placed on a node just as it was removed.
/// Several nodes doing this at once is harmless: each step is conditional.
pub(super) async fn reap(node: Node) {
    let inner = &node.0;
    let mut every =
        tokio::time::interval(Duration::from_secs_f32(inner.settings.heartbeat_interval_s));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut round: u64 = 0;
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(e) = reap_once(&node, round.is_multiple_of(10)).await {
            tracing::warn!(error = %e, "checking for dead nodes failed");
        }
        round += 1;
    }
}

async fn reap_once(node: &Node, sweep: bool) -> Result<(), crate::store::StoreError> {
    let inner = &node.0;
    let dead_before = node.alive().after;
    let mut removed = false;
    for dead in inner.store.dead_nodes(dead_before, &inner.id).await? {
        if inner.store.remove_dead_node(&dead, dead_before).await? {
            tracing::warn!(node = %dead, "a game node stopped heart-beating: removed from placement");
            removed = true;
        }
    }
    if removed || sweep {
        let now = wall_ms();
        for match_id in inner.store.orphaned_matches().await? {
            if inner.store.abandon_match(&match_id, now).await? {
                tracing::warn!(%match_id, "ended a match whose node is gone");
            }
        }
    }
    Ok(())
}
