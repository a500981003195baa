//! How an HTTP request to a peer ended, as the browser's fetch reports it:
//! the shell's adapter produces it, and the rules that turn it into a
//! reply's status and message (chat, agent) read it on the host.

/// Why a request ended early.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchFailure {
    /// The user stopped it (the abort signal fired).
    Aborted,
    /// No response at all: the server is down, offline, CORS refused.
    Unreachable,
    /// A response that is not 2xx, with its body and `Retry-After`.
    Http {
        status: u16,
        body: String,
        retry_after: Option<String>,
    },
    /// The body broke off while being read.
    Broken(String),
}
