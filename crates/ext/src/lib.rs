//! A Rust client for Anthropic's Claude models through OpenAI-compatible gateways: the AI/ML API
//! first, OpenRouter second.
//!
//! This crate is the front door. Today it re-exports the generated crates:
//! [`types`] (requests, responses, stream chunks) and [`client`] (one low-level client per
//! document in `schema/`).
#![deny(missing_docs)]
#![doc = ""]
#![doc = include_str!("../../../README.md")]

pub use aimlapi_client as client;
pub use aimlapi_types as types;
