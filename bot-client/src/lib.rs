//! Headless Tickwire bots for load tests, and the reusable client side they and the
//! integration tests share: the REST client ([`rest`]), the WebSocket connection ([`conn`]), the
//! client's copy of the world ([`replica`]) and the realtime session on top ([`session`]).

pub mod args;
pub mod conn;
pub mod replica;
pub mod rest;
pub mod session;
pub mod tls;

#[cfg(test)]
mod testing;
