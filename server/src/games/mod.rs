//! The games Tickwire ships, each in its own module: rules only, pure and deterministic. Their
//! wire declarations live in `shared::games`, where bots and SDKs read them too.

pub(crate) mod arena;
pub(crate) mod cycles;
