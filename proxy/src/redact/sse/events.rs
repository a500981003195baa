//! SSE events as bytes: framing a stream into events, reading an
//! event's data, and writing an event back with new data. No JSON, no key:
//! the redaction is sse.rs.

use serde_json::Value;

/// The event with its data replaced by `chunk` (on one `data:` line where
/// its first data line was); its other lines kept.
pub(super) fn rewrite(event: &[u8], chunk: &Value, newline: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(event.len() + 16);
    let mut data_written = false;
    for line in lines(event).filter(|line| !line.is_empty()) {
        if field_of(line).0 != b"data" {
            out.extend_from_slice(line);
            out.extend_from_slice(newline.as_bytes());
        } else if !data_written {
            data_written = true;
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(chunk.to_string().as_bytes());
            out.extend_from_slice(newline.as_bytes());
        }
    }
    out.extend_from_slice(newline.as_bytes());
    out
}

/// The event's `data:` lines joined with `\n`, or `None` if it has none.
pub(super) fn data_of(event: &[u8]) -> Option<Vec<u8>> {
    let mut data: Option<Vec<u8>> = None;
    for line in lines(event) {
        let (field, value) = field_of(line);
        if field == b"data" {
            match &mut data {
                Some(data) => {
                    data.push(b'\n');
                    data.extend_from_slice(value);
                }
                None => data = Some(value.to_vec()),
            }
        }
    }
    data
}

/// A line's field name and value (one space after the colon dropped); a
/// comment line has an empty name.
fn field_of(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let value = &line[colon + 1..];
            (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &[]),
    }
}

/// The lines of an event, without their endings (CRLF, LF or CR).
fn lines(event: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = event;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
            let line = rest;
            rest = &[];
            return Some(line);
        };
        let line = &rest[..end];
        let ending = if rest[end..].starts_with(b"\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + ending..];
        Some(line)
    })
}

pub(super) fn line_ending(event: &[u8]) -> &'static str {
    if event.ends_with(b"\r\n") {
        "\r\n"
    } else if event.ends_with(b"\r") {
        "\r"
    } else {
        "\n"
    }
}

/// Splits bytes, arriving in pieces of any size, into SSE events: each
/// runs up to and including the blank line that ends it.
#[derive(Debug, Default)]
pub(super) struct Framer {
    buffer: Vec<u8>,
    /// Where the line being looked at starts: the lines before it, in the
    /// event being received, are whole and not blank. Scanning resumes
    /// here, so an event arriving a byte at a time is read once.
    line_start: usize,
}

impl Framer {
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole event, if one has arrived. `at_end`: no more bytes
    /// will come, so a final CR is a whole line ending.
    pub(super) fn next_event(&mut self, at_end: bool) -> Option<Vec<u8>> {
        loop {
            let rest = &self.buffer[self.line_start..];
            let end = rest.iter().position(|&b| b == b'\n' || b == b'\r')?;
            let ending = match (rest[end], rest.get(end + 1)) {
                (b'\r', Some(b'\n')) => 2,
                // A LF may still come and belong to this CR.
                (b'\r', None) if !at_end => return None,
                _ => 1,
            };
            let next_line = self.line_start + end + ending;
            if end == 0 {
                self.line_start = 0;
                return Some(self.buffer.drain(..next_line).collect());
            }
            self.line_start = next_line;
        }
    }

    /// Bytes of an event not yet whole.
    pub(super) fn pending(&self) -> usize {
        self.buffer.len()
    }

    pub(super) fn take_pending(&mut self) -> Vec<u8> {
        self.line_start = 0;
        std::mem::take(&mut self.buffer)
    }
}
