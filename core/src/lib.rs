//! Confab's functional core: everything that can be plain Rust is here, with no
//! browser dependency, so it compiles and is tested on the host with `cargo test`.
//!
//! - [`session`]: ADK-style sessions and events, the [`session::SessionService`]
//!   contract and its backends (in memory, and over any key-value store).
//! - [`storage`]: the key-value abstraction and the persisted key layout.
//! - [`transport`]: the SSE decoder and the OpenAI-compatible chat wire format.
//! - [`chat`]: turning a session into a model request, titles.
//! - [`agent`]: Google ADK's api_server as a backend (routes, `/run_sse`,
//!   rebuilding a session a server restart lost).
//! - [`search`]: finding conversations by title and message text.
//! - [`settings`]: user settings and their defaults.
//! - [`markdown`]: model replies as safe HTML, also while they stream.
//! - [`actions`]: which actions a message on screen offers.

pub mod actions;
pub mod agent;
pub mod chat;
pub mod clock;
pub mod manager;
pub mod markdown;
pub mod notice;
pub mod order;
pub mod profiles;
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
