//! Message batches: many Messages requests submitted at once and answered within a day (most
//! within an hour) at half the standard price. Build one with [`Client::batch`](crate::Client::batch)
//! from the conversation API, submit it, wait for it ([`Batch::wait`]), read its results as a
//! stream ([`Batch::results`]); keep its [`BatchHandle`] to pick it up again in another process
//! ([`Client::resume_batch`](crate::Client::resume_batch)).

mod handle;
mod read;
mod split;
mod status;
mod submit;
mod wait;

pub use handle::{Batch, BatchError, BatchHandle, BatchItem, BatchResults};
pub use status::{BatchState, BatchStatus, RequestCounts};
pub use submit::{BatchBuilder, BatchLimits};
pub use wait::Wait;
