//! Sluice's columnar kernels.
//!
//! Everything here is plain Rust over borrowed slices so it can be tested, benchmarked and
//! called without N-API. The binding crate (`native/binding`) is a thin layer over it.

pub mod agg;
pub mod columns;
pub mod count;
pub mod dictionary;
pub mod error;
pub mod hash;
pub mod parse;
pub mod partition;
pub mod reduce;
pub mod shuffle;
pub mod window;

pub use agg::AggOp;
pub use error::EngineError;
