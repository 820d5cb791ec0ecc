//! Headless Tickwire bots for load tests, and the reusable client side they and the
//! integration tests share: the REST client ([`rest`]), the WebSocket connection ([`conn`]), the
//! client's copy of the world ([`replica`]) and the realtime session on top ([`session`]).
//!
//! A load run is [`run`] (or [`run_with`]): every bot a task on one runtime, playing a seeded
//! [`behaviour`] through an optional simulated [`link`], on the schedule of its [`scenario`],
//! measured into [`stats`] and summed up in a [`report`].
//!
//! Every part is generic over the game: the game is a [`shared::GameProtocol`] (a shipped one
//! by `--game`, or any other through [`RunOptions::game`]), the replica rebuilds its declared
//! rows, and the behaviour is the game's own bot or a generic one playing random inputs within
//! the declared ranges.

pub mod args;
pub mod behaviour;
pub mod conn;
/// The replica and the event feed live in the protocol crate, which the browser SDK shares.
pub use shared::{events, replica};
pub mod link;
pub mod metrics_scrape;
pub mod report;
pub mod rest;
pub mod scenario;
pub mod session;
pub mod stats;
pub mod tls;

mod bot;
mod fleet;
mod lobby;
mod progress;

#[cfg(test)]
mod testing;

pub use args::{Args, Scenario};
pub use fleet::{RunError, RunOptions, run, run_with};
pub use report::{Breach, Report, Thresholds};
