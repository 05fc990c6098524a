use thiserror::Error;

/// Errors a kernel reports for malformed input. Each maps to a stable code at the binding.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EngineError {
    /// The offsets array does not describe the key blob (empty, decreasing or out of range).
    #[error("invalid offsets: {0}")]
    InvalidOffsets(String),
    /// An argument is outside its valid range.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument { name: &'static str, reason: String },
    /// Snapshot bytes that cannot be restored (corrupt, another version, another window).
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(String),
}

impl EngineError {
    /// The stable, machine-readable code surfaced to JavaScript as `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::InvalidOffsets(_) => "SLUICE_NATIVE_INVALID_OFFSETS",
            EngineError::InvalidArgument { .. } => "SLUICE_NATIVE_INVALID_ARGUMENT",
            EngineError::InvalidSnapshot(_) => "SLUICE_NATIVE_INVALID_SNAPSHOT",
        }
    }
}
