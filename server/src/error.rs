//! The error [`crate::run`] returns when the server cannot start or stop cleanly.

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Storage could not be opened or prepared.
    #[error("storage: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The generated agent token could not be read or written.
    #[error("{0}")]
    AgentToken(#[from] crate::auth::generated::TokenFileError),
    /// The listener failed.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}
