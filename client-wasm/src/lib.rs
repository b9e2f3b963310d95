//! Placeholder lib while modules land.
#![deny(clippy::unwrap_used)]
pub mod capture;
pub mod coalesce;
pub mod mask;
pub mod mirror;
