//! The wire declarations of the games Tickwire ships: what each replicates, takes as input and
//! reports. Their rules live in the server; these are here so that bots and SDKs (which do not
//! link the server) decode them with the very declarations the server encodes with.

pub mod arena;
pub mod cycles;

use crate::schema::GameProtocol;

/// Every shipped game's protocol, the default (`arena`) first.
pub fn shipped() -> [&'static GameProtocol; 2] {
    [&arena::PROTOCOL, &cycles::PROTOCOL]
}

/// The shipped game called `name`.
pub fn by_name(name: &str) -> Option<&'static GameProtocol> {
    shipped().into_iter().find(|p| p.name == name)
}
