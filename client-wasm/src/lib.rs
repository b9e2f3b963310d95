//! Placeholder lib while modules land.
#![deny(clippy::unwrap_used)]
pub mod backoff;
pub mod capture;
pub mod coalesce;
pub mod config;
pub mod mask;
pub mod mirror;
pub mod throttle;
