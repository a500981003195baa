//! Confab's functional core: everything that can be plain Rust is here, with no
//! browser dependency, so it compiles and is tested on the host with `cargo test`.
//!
//! The modules in layers, each using only those below it (ARCHITECTURE.md,
//! "One direction"; `tests/layers.rs` checks it):
//!
//! - leaves: [`order`], [`clock`], [`units`], [`recency`] (the sidebar's
//!   groups by date), [`bytes`] (SHA-256, base64), [`telemetry`] (traces, spans,
//!   OTLP), [`transport`] (the SSE decoder, the OpenAI-compatible wire
//!   format), [`markdown`] (model replies as safe HTML, also while they
//!   stream);
//! - [`storage`]: the key-value abstraction, the persisted key layout, the
//!   schema version and its migrations;
//! - [`session`]: ADK-style sessions and events, the
//!   [`session::SessionService`] contract and its backends (in memory, and
//!   over any key-value store);
//! - [`manager`]: the session manager and its records;
//! - features: [`settings`], [`profiles`], [`attachments`] (files in
//!   messages: kinds, CSV previews, blob bookkeeping), [`chat`] (a session as a model
//!   request), [`agent`] (Google ADK's api_server as a backend), [`search`],
//!   [`sync`] (merges across tabs), [`transfer`] (export and import),
//!   [`actions`] (which actions a message on screen offers), [`notice`]
//!   (what the app tells the user outside a message).

pub mod actions;
pub mod agent;
pub mod attachments;
pub mod bytes;
pub mod chat;
pub mod clock;
pub mod manager;
pub mod markdown;
pub mod notice;
pub mod order;
pub mod outcome;
pub mod profiles;
pub mod recency;
pub mod search;
pub mod session;
pub mod settings;
pub mod storage;
pub mod sync;
pub mod telemetry;
pub mod transfer;
pub mod transport;
pub mod units;

pub use clock::Clock;
