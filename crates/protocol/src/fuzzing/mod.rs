//! Entry points of the fuzz targets (`crates/protocol/fuzz`), shared with the corpus replay
//! tests (`tests/fuzz_corpus.rs`) so that both run the very same code: one function per target,
//! any bytes in. Errors are fine; a panic (or a broken round trip a target asserts) is a bug.
//! Not part of the API.

mod json;
mod pagination;
mod query;
pub mod seeds;
mod session_token;

pub use json::{aws_json, rest_json};
pub use pagination::pagination;
pub use query::query;
pub use session_token::session_token;
