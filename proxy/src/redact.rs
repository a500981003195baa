//! Removes the upstream API key from bytes on their way to the browser or
//! the log. An upstream may echo the request back (a 401 page quoting the
//! `Authorization` header, a debugging echo server), and the key must never
//! leave the proxy.
//!
//! It works on a stream: a key split across two chunks is still found, and
//! only a chunk's tail that could be the start of the key is held back, so
//! an SSE frame (which ends in a blank line) is passed on at once.
//!
//! A key streamed in pieces, one per SSE event, is never one run of bytes;
//! [`SseRedactor`] finds it in the text the client assembles, in front of
//! this byte-level stage.

mod sse;

use bytes::Bytes;

pub use sse::SseRedactor;

const REDACTED: &[u8] = b"[redacted]";

#[derive(Debug)]
pub struct Redactor {
    secret: Vec<u8>,
    /// The end of the previous chunk, which may be the key's beginning.
    held: Vec<u8>,
}

impl Redactor {
    /// `None` for an empty secret: there is nothing to hide.
    pub fn new(secret: &[u8]) -> Option<Self> {
        (!secret.is_empty()).then(|| Self {
            secret: secret.to_vec(),
            held: Vec::new(),
        })
    }

    /// The next chunk, with every whole occurrence of the secret replaced;
    /// a possible beginning of it at the end is kept for the next call.
    pub fn push(&mut self, chunk: &[u8]) -> Bytes {
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            let rest = &data[i..];
            if rest.starts_with(&self.secret) {
                out.extend_from_slice(REDACTED);
                i += self.secret.len();
            } else if self.secret.starts_with(rest) {
                // Shorter than the secret and equal to its beginning: wait
                // for the next chunk to tell.
                self.held = rest.to_vec();
                break;
            } else {
                out.push(data[i]);
                i += 1;
            }
        }
        Bytes::from(out)
    }

    /// Whatever was held back, once the stream has ended.
    pub fn finish(&mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.held))
    }

    /// `text` with the secret replaced (for a log line or a header).
    pub fn clean(secret: &[u8], text: &[u8]) -> Bytes {
        match Self::new(secret) {
            Some(mut redactor) => {
                let mut out = redactor.push(text).to_vec();
                out.extend_from_slice(&redactor.finish());
                Bytes::from(out)
            }
            None => Bytes::copy_from_slice(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"sk-abc123";

    fn run(chunks: &[&[u8]]) -> Vec<u8> {
        let mut redactor = Redactor::new(KEY).unwrap();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend_from_slice(&redactor.push(chunk));
        }
        out.extend_from_slice(&redactor.finish());
        out
    }

    #[test]
    fn the_key_is_replaced_wherever_the_chunks_split() {
        let text: &[u8] = b"{\"error\":\"bad header: Bearer sk-abc123\", \"again\": \"sk-abc123sk-abc123\", \"near\": \"sk-abc12\"}";
        let want: &[u8] = b"{\"error\":\"bad header: Bearer [redacted]\", \"again\": \"[redacted][redacted]\", \"near\": \"sk-abc12\"}";
        assert_eq!(run(&[text]), want);
        for a in 0..=text.len() {
            for b in a..=text.len() {
                let got = run(&[&text[..a], &text[a..b], &text[b..]]);
                assert_eq!(got, want, "split at {a} and {b}");
            }
        }
    }

    #[test]
    fn a_frame_that_cannot_be_the_key_is_not_held_back() {
        let mut redactor = Redactor::new(KEY).unwrap();
        let frame = b"data: {\"x\":1}\n\n";
        assert_eq!(&redactor.push(frame)[..], frame);
        // A tail that might be the key's beginning waits for more...
        assert_eq!(&redactor.push(b"data: sk-a")[..], b"data: ");
        // ...and is released as it was when it turns out not to be.
        assert_eq!(&redactor.push(b"x\n\n")[..], b"sk-ax\n\n");
        assert_eq!(&redactor.push(b"sk")[..], b"");
        assert_eq!(&redactor.finish()[..], b"sk", "released at the end");
    }

    #[test]
    fn no_secret_means_nothing_to_hide() {
        assert!(Redactor::new(b"").is_none());
        assert_eq!(&Redactor::clean(b"", b"text")[..], b"text");
        assert_eq!(
            &Redactor::clean(KEY, b"a sk-abc123 b")[..],
            b"a [redacted] b"
        );
    }
}
