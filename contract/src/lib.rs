//! Contract tests across the runtimes, natively and in milliseconds (the tests are in `tests/`).
//!
//! The customer's client and the agent's replica each model the replica's tree; the browser
//! end-to-end cases prove they agree on real pages, slowly. These tests drive the customer's real
//! coalescer over a test DOM, put each batch through the real wire encoding, apply it to the
//! agent's real replica over an in-memory DOM and compare the trees after every batch, on fixed
//! cases and random mutation sequences. A change to mutation semantics is proven here first.
