//! What both endpoints' streams share: server-sent event framing ([`frame`]), the one driver
//! that runs a decoder over a body and the [`Fold`] both folds implement ([`driver`]), and the
//! rule the folds keep for fields they do not name ([`merge`]), and a stream's first event read
//! before it is handed over ([`opening`]).

pub(crate) mod driver;
pub(crate) mod frame;
pub(crate) mod merge;
pub(crate) mod opening;

pub(crate) use driver::{Decode, Fold};
