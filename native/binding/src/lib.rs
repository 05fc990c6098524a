//! `@sluice/native`: the N-API face of `sluice-engine`.
//!
//! Every export borrows its typed-array inputs for the duration of the call (async variants
//! keep a reference instead), returns owned typed arrays handed over without a copy, catches
//! panics, and reports engine errors with a stable `code`.

mod count;
mod errors;
mod parse;
mod partition;
mod reduce;
mod window;

pub use count::*;
pub use parse::*;
pub use partition::*;
pub use reduce::*;
pub use window::*;
