//! Who may act in a session. Agents and controllers prove themselves with an agent credential
//! (the shared agent token, or a JWT signed by their agent desktop); the customer with the secret
//! its session was created with. Knowing the 9-digit number is never enough: it is read aloud
//! over the phone, and there are only 9·10⁸ of them.
//!
//! Every check happens before a connection touches its session, so a refused party changes
//! nothing (the connected customer stays connected), and every comparison of secrets runs in
//! constant time.
//!
//! # Layout
//!
//! * [`agent`] — [`AgentAuth`]: verifies an agent credential (token or JWT) and says who the agent
//!   is (a JWT's `sub`).
//! * [`customer`] — customer secrets: made at session creation, kept only as digests, compared.
//! * [`generated`] — the agent token the server generates into its data directory when no
//!   credential is configured, and the agent page URL that carries it.

pub mod agent;
pub mod customer;
pub mod generated;

pub use agent::{AgentAuth, AgentRefusal, Verified};
