//! Headless Tickwire bots for load tests.

pub mod args;
