//! The SDK core: the protocol crate compiled for the browser. The same Rust that encodes a
//! frame on the server decodes and applies it here, so the two cannot drift.
//!
//! [`Client`] is the safe core (one per connection): it encodes `Hello`, `Input`, `Ack` and
//! `Ping`, decodes server frames, applies snapshots through [`shared::replica::Replica`]
//! (baselines, prediction, checksum verification) and delivers each event once. [`ffi`] exposes
//! it to JavaScript as plain exported functions over the wasm memory: no generated glue, and the
//! world's rows are read by JavaScript as typed arrays over that memory, not one call per
//! entity. Nothing here assumes a browser.

pub mod client;
pub mod ffi;
#[cfg(test)]
mod golden;
pub mod json;

pub use client::{Client, ClientError, Frame};
