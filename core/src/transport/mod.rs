//! Wire protocols: Server-Sent Events and the OpenAI-compatible chat API.

pub mod fetch;
pub mod openai;
pub mod proxy_codes;
pub mod reasoning;
pub mod retry;
pub mod sse;

pub use fetch::FetchFailure;
pub use openai::{ChatStream, ReplyError, StreamOutcome};
pub use reasoning::{ReasoningSplitter, SplitDelta, thought_label};
pub use retry::Backoff;
pub use sse::{SseDecoder, SseEvent};
