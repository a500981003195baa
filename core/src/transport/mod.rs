//! Wire protocols: Server-Sent Events and the OpenAI-compatible chat API.

pub mod openai;
pub mod sse;

pub use openai::{ChatStream, ReplyError, StreamOutcome};
pub use sse::{SseDecoder, SseEvent};
