//! [`Doc`]: one OpenAPI document as it goes through the pipeline.

use serde_json::Value;

/// One OpenAPI document on its way through the pipeline.
#[derive(Clone, Debug)]
pub struct Doc {
    /// The file name without `.json`: `claude-3-5-haiku`. Names per-document types.
    pub stem: String,
    /// The document itself.
    pub value: Value,
}
