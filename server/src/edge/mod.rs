//! The server's edge: who a request comes from (the peer, or the client a trusted proxy names)
//! and how many connections an address may hold. Used by the accept loop before any route runs,
//! so rate limits, connection caps and logs all see the same client address.

mod client;
mod conns;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use ipnet::IpNet;

pub(crate) use conns::{ConnSlot, Connections};

/// Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    trusted: Arc<[IpNet]>,
    pub(crate) connections: Connections,
}

impl Edge {
    pub(crate) fn new(trusted: &[IpNet], max_connections_per_address: u32) -> Edge {
        Edge {
            trusted: trusted.into(),
            connections: Connections::new(max_connections_per_address),
        }
    }

    pub(crate) fn is_trusted(&self, ip: IpAddr) -> bool {
        client::trusted(&self.trusted, ip)
    }

    /// The address a request comes from (see [`client::client_addr`]).
    pub(crate) fn client_addr(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        client::client_addr(peer, headers, &self.trusted)
    }
}
