//! A minimal incremental Server-Sent Events reader: it counts events and notices the
//! terminating one (`data: [DONE]` for OpenAI, `event: message_stop` for Anthropic).
//! It does not parse the JSON inside events.

/// Longest data payload whose content is remembered (enough to recognise `[DONE]`).
const KEEP: usize = 16;

#[derive(Debug, Default)]
pub struct SseReader {
    /// Bytes of an unfinished line carried over from the previous chunk.
    partial: Vec<u8>,
    /// Whether the current event has any field yet.
    in_event: bool,
    /// Start of the current event's data (first `KEEP` bytes), and whether it was longer.
    data: Vec<u8>,
    data_lines: usize,
    data_long: bool,
    event_is_stop: bool,
    /// Events dispatched so far.
    pub events: u64,
    /// Whether the terminating event was seen.
    pub done: bool,
    /// Events seen after the terminating one (should be 0).
    pub after_done: u64,
}

impl SseReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk of the body; returns how many events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> u64 {
        let before = self.events;
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(pos);
            rest = &tail[1..];
            if self.partial.is_empty() {
                self.line(head);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(head);
                self.line(&line);
            }
        }
        self.partial.extend_from_slice(rest);
        self.events - before
    }

    /// Call at end of body: an event not followed by a blank line is still dispatched
    /// (lenient, like most clients).
    pub fn finish(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line);
        }
        if self.in_event {
            self.dispatch();
        }
    }

    fn line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if self.in_event {
                self.dispatch();
            }
            return;
        }
        if line[0] == b':' {
            return; // comment / keep-alive
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        self.in_event = true;
        match field {
            b"data" => {
                if self.data_lines > 0 {
                    self.push_data(b"\n");
                }
                self.push_data(value);
                self.data_lines += 1;
            }
            b"event" => self.event_is_stop = value == b"message_stop",
            _ => {}
        }
    }

    fn push_data(&mut self, bytes: &[u8]) {
        if self.data_long {
            return;
        }
        if self.data.len() + bytes.len() > KEEP {
            self.data_long = true;
            return;
        }
        self.data.extend_from_slice(bytes);
    }

    fn dispatch(&mut self) {
        let is_done = self.event_is_stop || (!self.data_long && self.data == b"[DONE]");
        if self.done {
            self.after_done += 1;
        }
        self.events += 1;
        if is_done {
            self.done = true;
        }
        self.in_event = false;
        self.data.clear();
        self.data_lines = 0;
        self.data_long = false;
        self.event_is_stop = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_events_and_sees_done_across_chunk_boundaries() {
        let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n\
                     : keep-alive\n\n\
                     data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\r\n\r\n\
                     data: [DONE]\n\n";
        for split in 0..body.len() {
            let mut r = SseReader::new();
            r.feed(&body[..split]);
            r.feed(&body[split..]);
            r.finish();
            assert_eq!(r.events, 3, "split at {split}");
            assert!(r.done, "split at {split}");
            assert_eq!(r.after_done, 0);
        }
    }

    #[test]
    fn missing_done_is_incomplete() {
        let mut r = SseReader::new();
        r.feed(b"data: {\"x\":1}\n\ndata: {\"x\":2}\n\n");
        r.finish();
        assert_eq!(r.events, 2);
        assert!(!r.done);
    }

    #[test]
    fn done_must_be_the_whole_payload() {
        let mut r = SseReader::new();
        r.feed(b"data: [DONE] not\n\ndata: x\ndata: [DONE]\n\n");
        r.finish();
        assert!(!r.done);
    }

    #[test]
    fn anthropic_message_stop_terminates() {
        let mut r = SseReader::new();
        r.feed(b"event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        r.finish();
        assert_eq!(r.events, 2);
        assert!(r.done);
    }

    #[test]
    fn unterminated_last_event_is_dispatched_at_finish() {
        let mut r = SseReader::new();
        r.feed(b"data: [DONE]");
        assert_eq!(r.events, 0);
        r.finish();
        assert!(r.done);
    }
}
