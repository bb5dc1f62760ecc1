//! Hoisting: every object, union and enum schema of every document becomes a named component,
//! referenced by `$ref`. This is where type names are chosen, so typify never derives a name on
//! its own (typify reuses a derived name without comparing schemas: the silent loss of
//! typify#695). Identical schemas, across all documents, become one component.
//!
//! [`Registry`] holds the components and hoists each document into them; the names are chosen
//! in `naming`; schemas of one name from different documents are merged in `joining`.

mod joining;
mod naming;
mod registry;
#[cfg(test)]
mod tests;

pub use joining::unique_variants;
pub use naming::doc_dialect;
#[cfg(test)]
pub use naming::typify_case;
pub use registry::Registry;
