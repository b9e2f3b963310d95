//! The server's integration tests, one module per area, built as ONE test binary (each binary
//! links the whole server and its dependencies; thirteen of them cost minutes of linking).
//! Run one area with a filter: `cargo test -p cobrowse-server --test it lifecycle::`.
//!
//! Every test starts its own server on `127.0.0.1:0` (or its own processes), so areas run side
//! by side like the tests within one area always did. The Cassandra-backed tests (`store_suite`'s
//! Cassandra instances, `cluster`) are marked ignored unless the `cassandra-tests` feature is on,
//! test by test, exactly as before.

mod common;
mod nginx;

mod abuse;
mod auth;
mod batch;
mod binary;
mod cluster;
mod cluster_agents;
mod compression;
mod css_proxy;
mod fencing;
mod frames;
mod ink;
mod integration_api;
mod keepalive;
mod lifecycle;
mod memory;
mod metrics;
mod modes;
mod openapi;
mod persistence;
mod recording;
mod relay_load;
mod restart;
mod resume;
mod security;
mod several_agents;
mod static_files;
mod store_suite;
mod supervision;
mod timeouts;
