//! The Tickwire server as a library: `main.rs` only parses the command line and calls [`run`],
//! so tests and tools can start as many servers as they like.

pub mod config;
