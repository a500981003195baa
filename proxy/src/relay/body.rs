//! A relayed answer's body on its way to the client: both redaction
//! stages, the idle timeout between pieces, and the error frame that ends
//! an SSE stream the peer broke off.

use std::time::Duration;

use axum::body::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::{Peer, error_kind, within};
use crate::error::ProxyError;
use crate::redact::{Redactor, SseRedactor};

/// What the upstream body did next.
pub(super) enum Piece {
    Data(Bytes),
    End,
    /// Nothing arrived within the idle timeout.
    Idle,
    Broke(&'static str),
}

pub(super) async fn next_piece(
    chunks: &mut BoxStream<'static, reqwest::Result<Bytes>>,
    idle: Option<Duration>,
) -> Piece {
    match within(idle, chunks.next()).await {
        None => Piece::Idle,
        Some(None) => Piece::End,
        Some(Some(Ok(bytes))) => Piece::Data(bytes),
        Some(Some(Err(e))) => Piece::Broke(error_kind(&e)),
    }
}

/// The upstream body on its way to the client. Dropping it (the client
/// went away) drops `chunks`, which closes the upstream connection.
pub(super) struct Relayed {
    /// `None` once the upstream is done with, so its connection is closed
    /// at once rather than when the client's stream is dropped.
    pub chunks: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    /// Read ahead by `relay` before answering.
    pub first: Option<Piece>,
    pub idle: Option<Duration>,
    pub idle_secs: f64,
    pub sse: bool,
    /// Whether what was sent so far ends between two SSE frames.
    pub at_frame_boundary: bool,
    /// For an SSE body (with a key): the key redacted across events.
    pub events: Option<SseRedactor>,
    pub redactor: Option<Redactor>,
    pub peer: Peer,
}

impl Relayed {
    /// The next upstream bytes through both redaction stages.
    fn scrub(&mut self, bytes: Bytes) -> Bytes {
        let bytes = match &mut self.events {
            Some(events) => Bytes::from(events.push(&bytes)),
            None => bytes,
        };
        self.scrub_bytes(bytes)
    }

    /// At the end of the body: the text the event stage held back (as
    /// whole events, already through the byte stage), and the bytes the
    /// byte stage still holds.
    fn finish_redaction(&mut self) -> (Bytes, Bytes) {
        let released = match self.events.as_mut().map(SseRedactor::finish) {
            Some(released) => self.scrub_bytes(Bytes::from(released)),
            None => Bytes::new(),
        };
        let held = self
            .redactor
            .as_mut()
            .map(Redactor::finish)
            .unwrap_or_default();
        (released, held)
    }

    /// The byte stage alone.
    fn scrub_bytes(&mut self, bytes: Bytes) -> Bytes {
        match &mut self.redactor {
            Some(redactor) => redactor.push(&bytes),
            None => bytes,
        }
    }

    pub(super) async fn next(mut self) -> Option<(std::io::Result<Bytes>, Self)> {
        loop {
            let piece = match self.first.take() {
                Some(piece) => piece,
                None => next_piece(self.chunks.as_mut()?, self.idle).await,
            };
            let error = match piece {
                Piece::Data(bytes) => {
                    let bytes = self.scrub(bytes);
                    if bytes.is_empty() {
                        continue; // all held back by the redactors, for now
                    }
                    self.at_frame_boundary = ends_an_sse_frame(&bytes);
                    return Some((Ok(bytes), self));
                }
                Piece::End => {
                    self.chunks = None;
                    let (released, held) = self.finish_redaction();
                    let tail = [released, held].concat();
                    return (!tail.is_empty()).then_some((Ok(Bytes::from(tail)), self));
                }
                Piece::Idle => {
                    tracing::warn!("upstream went quiet mid-reply; ending the stream");
                    ProxyError::Timeout {
                        peer: self.peer,
                        secs: self.idle_secs,
                    }
                }
                Piece::Broke(reason) => {
                    tracing::warn!(reason, "upstream connection broke mid-reply");
                    ProxyError::Broke {
                        peer: self.peer,
                        reason,
                    }
                }
            };
            self.chunks = None;
            if !self.sse {
                // A JSON body cannot carry an error after its start: cut the
                // response off, so the client sees a broken body rather than
                // a short one that looks whole.
                return Some((Err(std::io::Error::other(error.to_string())), self));
            }
            // The client's SSE parser reads `data: {"error": …}` as the
            // reply failing with that message. Text held back from whole
            // events goes first; held-back bytes (a possible start of the
            // key) are dropped; a cut-off frame is ended first so the
            // error frame stands on its own.
            let (released, held) = self.finish_redaction();
            if !released.is_empty() {
                self.at_frame_boundary = ends_an_sse_frame(&released);
            }
            let separator = if self.at_frame_boundary && held.is_empty() {
                ""
            } else {
                "\n\n"
            };
            let frame = format!("{separator}{}", self.peer.sse_frame(&error));
            let frame = [&released[..], frame.as_bytes()].concat();
            return Some((Ok(Bytes::from(frame)), self));
        }
    }
}

/// Whether `bytes` end with the blank line that ends an SSE frame.
fn ends_an_sse_frame(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\n\n") || bytes.ends_with(b"\r\n\r\n") || bytes.ends_with(b"\r\r")
}
