//! The Tickwire server as a library: `main.rs` only parses the command line and starts a
//! [`Server`], so tests and tools can start as many servers as they like.

pub mod api;
pub mod assets;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod config;
pub(crate) mod edge;
#[doc(hidden)]
pub mod fuzzing;
pub mod game;
pub(crate) mod games;
pub mod leaderboards;
pub mod matches;
pub mod metrics;
pub(crate) mod net;
pub mod replay;
pub mod serve;
pub mod store;
pub mod tls;

pub use serve::{Server, ServerError};
