//! A Server-Sent Events decoder, per the WHATWG HTML "event stream"
//! interpretation rules. It takes bytes as they arrive, split anywhere (even
//! inside a UTF-8 character or between CR and LF), and yields whole events.

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` means the default type, "message".
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen, if any.
    pub id: Option<String>,
}

#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the line being received (decoded only once whole, so a
    /// multi-byte character split across chunks is never mangled).
    line: Vec<u8>,
    /// The previous chunk ended in CR: a leading LF now belongs to it.
    after_cr: bool,
    /// Still at the very start of the stream (a BOM is dropped there).
    started: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    last_id: Option<String>,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let mut bytes = bytes;
        if !self.started && !bytes.is_empty() {
            self.line.extend_from_slice(bytes);
            // Wait until three bytes are in to tell a BOM from text.
            if self.line.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.line) {
                return events;
            }
            self.started = true;
            let pending = std::mem::take(&mut self.line);
            let body = pending.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&pending);
            self.feed(body, &mut events);
            return events;
        }
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        self.feed(bytes, &mut events);
        events
    }

    /// The stream has ended. An event not terminated by a blank line is
    /// discarded, as the specification says: it may be cut short.
    pub fn finish(&mut self) {
        self.line.clear();
        self.data.clear();
        self.has_data = false;
        self.event = None;
    }

    fn feed(&mut self, mut bytes: &[u8], events: &mut Vec<SseEvent>) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&bytes[..end]);
            let line = std::mem::take(&mut self.line);
            self.process_line(&String::from_utf8_lossy(&line), events);
            let is_cr = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            if is_cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
        }
        self.line.extend_from_slice(bytes);
    }

    fn process_line(&mut self, line: &str, events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(events);
            return;
        }
        if line.starts_with(':') {
            return; // a comment, e.g. a keep-alive `: ping`
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            _ => {} // `retry` and unknown fields are ignored
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            self.data.clear();
            return;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the newline after the last data line
        events.push(SseEvent {
            event,
            data,
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(decoder.push(chunk));
        }
        decoder.finish();
        events
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn decodes_data_frames() {
        let events = decode_all(&[b"data: {\"a\":1}\n\ndata: [DONE]\n\n"]);
        assert_eq!(data(&events), ["{\"a\":1}", "[DONE]"]);
    }

    #[test]
    fn accepts_crlf_and_lone_cr_line_ends() {
        let events = decode_all(&[b"data: one\r\n\r\ndata: two\r\rdata: three\n\n"]);
        assert_eq!(data(&events), ["one", "two", "three"]);
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_line_end() {
        let events = decode_all(&[b"data: one\r", b"\n\r", b"\ndata: two\n\n"]);
        assert_eq!(data(&events), ["one", "two"]);
    }

    #[test]
    fn comments_are_ignored() {
        let events = decode_all(&[b": ping\n\n: keep-alive\ndata: x\n\n"]);
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let events = decode_all(&[b"data: line one\ndata:line two\ndata\n\n"]);
        assert_eq!(data(&events), ["line one\nline two\n"]);
    }

    #[test]
    fn event_and_id_fields_are_kept() {
        let events = decode_all(&[b"event: error\nid: 7\ndata: boom\n\ndata: next\n\n"]);
        assert_eq!(events[0].event.as_deref(), Some("error"));
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert_eq!(events[1].event, None);
        assert_eq!(events[1].id.as_deref(), Some("7"), "the last id persists");
    }

    #[test]
    fn a_blank_event_without_data_dispatches_nothing() {
        let events = decode_all(&[b"event: noop\n\n\n\ndata: x\n\n"]);
        assert_eq!(data(&events), ["x"]);
        assert_eq!(events[0].event, None, "the event type was reset");
    }

    #[test]
    fn an_unterminated_event_at_the_end_is_discarded() {
        let events = decode_all(&[b"data: whole\n\ndata: {\"cut"]);
        assert_eq!(data(&events), ["whole"]);
    }

    #[test]
    fn a_leading_bom_is_dropped_even_when_split() {
        let events = decode_all(&[b"\xEF", b"\xBB", b"\xBFdata: x\n\n"]);
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn a_character_split_across_chunks_survives() {
        let text = "data: héllo — 你好 👋\n\n".as_bytes();
        for split in 0..text.len() {
            let events = decode_all(&[&text[..split], &text[split..]]);
            assert_eq!(data(&events), ["héllo — 你好 👋"], "split at {split}");
        }
    }

    #[test]
    fn a_field_without_colon_and_an_unknown_field_are_harmless() {
        let events = decode_all(&[b"retry: 10\nfoo: bar\ndata: ok\n\n"]);
        assert_eq!(data(&events), ["ok"]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn stream() -> impl Strategy<Value = Vec<u8>> {
            let line = prop_oneof![
                "[a-zé你 {}\":,]{0,12}".prop_map(|s| format!("data: {s}")),
                Just(": ping".to_owned()),
                "[a-z]{1,6}".prop_map(|s| format!("event: {s}")),
                Just(String::new()),
            ];
            let end = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
            proptest::collection::vec((line, end), 0..30).prop_map(|lines| {
                lines
                    .into_iter()
                    .flat_map(|(l, e)| format!("{l}{e}").into_bytes())
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn any_chunking_gives_the_same_events(
                bytes in stream(),
                cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
            ) {
                let whole = decode_all(&[&bytes]);
                let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
                points.sort_unstable();
                let mut chunks: Vec<&[u8]> = Vec::new();
                let mut start = 0;
                for p in points {
                    chunks.push(&bytes[start..p]);
                    start = p;
                }
                chunks.push(&bytes[start..]);
                prop_assert_eq!(decode_all(&chunks), whole);
            }
        }
    }
}
