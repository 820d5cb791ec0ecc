//! Live matches: the registry, each match's tick driver (inputs in, sim step, snapshots out),
//! the published tick frames and the per-client outboxes the driver fills.

mod delay;
pub mod driver;
pub mod frame;
pub mod inlet;
pub mod outbox;
pub mod registry;
pub mod schedule;
pub mod settings;
pub mod views;
pub mod wire;

pub use driver::{Joined, MatchSummary, PlayerSummary};
pub use inlet::{Inlet, LinkEnd};
pub use outbox::Outbox;
pub use registry::{MatchHandle, Registry, RegistryError, RegistryParts};
pub use settings::MatchSettings;
pub use views::Viewer;
