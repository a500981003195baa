//! A reply rendered while it streams: final blocks once, the tail again.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use pulldown_cmark::{Event, LinkType, Tag};

use super::writer::Writer;
use super::{as_written, math_delimiters, normalize_label, parser};

/// What changed since the previous [`MarkdownStream::push`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamUpdate {
    /// Everything shown so far must be dropped before `stable` is added
    /// (the text was not an extension of the previous one, or a late link
    /// definition changed a block already shown).
    pub reset: bool,
    /// HTML of blocks that just became final: append it after the earlier
    /// ones; it never changes afterwards.
    pub stable: String,
    /// HTML of the rest, which may still change: it replaces the previous tail.
    pub tail: String,
}

/// Renders a reply while it streams. Top-level blocks that can no longer
/// change are rendered once and kept; each update parses only the text
/// after them (usually the last block or two), so the cost of an update is
/// bounded by the tail, not by the length of the reply.
///
/// A block is final once the next top-level block has started on a complete
/// line: the line that starts a block can still change what it is until it
/// ends (`#` is a heading, `#x` is not and continues the paragraph above),
/// and a block is never changed by a line after the one that starts the
/// next block (setext underlines, lazy continuation lines, table delimiter
/// rows and open fences all belong to the last block, which stays in the
/// tail). The remaining way a later line changes an earlier block is a link
/// reference definition (`[a]: https://…`) after a `[a]` already shown as
/// text: then the whole text is rendered again once (`reset`). When the
/// reply ends, the shell renders the whole text with [`render_html`](super::render_html), so the
/// final page equals a one-shot rendering by construction.
#[derive(Debug, Default)]
pub struct MarkdownStream {
    /// The source of the final blocks: always a prefix of the text.
    committed: String,
    /// Their HTML.
    stable_html: String,
    /// Link reference definitions in the committed source (normalized
    /// label -> address, title): the tail's parse does not see that text.
    definitions: HashMap<String, (String, String)>,
    /// Labels of references in final blocks that had no definition.
    unresolved: HashSet<String>,
    /// Bytes handed to the parser so far (the cost measure tests check).
    parsed: usize,
}

/// One top-level block of a parse: its source range and its HTML range.
struct Block {
    source_start: usize,
    source_end: usize,
    html_end: usize,
    /// A table: it exists only once its delimiter row is whole.
    table: bool,
}

impl MarkdownStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// HTML of every final block so far.
    pub fn stable_html(&self) -> &str {
        &self.stable_html
    }

    /// Total bytes parsed by all updates: the work done, for tests and
    /// benchmarks.
    pub fn bytes_parsed(&self) -> usize {
        self.parsed
    }

    /// Takes the whole text so far (the previous text plus what arrived).
    pub fn push(&mut self, text: &str) -> StreamUpdate {
        let mut reset = false;
        if !text.starts_with(self.committed.as_str()) {
            *self = Self {
                parsed: self.parsed,
                ..Self::default()
            };
            reset = true;
        }
        let start = self.committed.len();
        let rest = &text[start..];
        self.parsed += rest.len();
        // Lines before this offset (in `rest`) are complete.
        let complete = rest.rfind('\n').map_or(0, |i| i + 1);

        let broken = RefCell::new(Vec::<(usize, String)>::new());
        let prepared = math_delimiters(rest);
        let mut parser = parser(&prepared, &self.definitions, &broken);

        // A definition for a reference already shown as plain text changes
        // a final block: render everything again, once.
        if !self.unresolved.is_empty()
            && parser
                .reference_definitions()
                .iter()
                .any(|(label, _)| self.unresolved.contains(&normalize_label(label)))
        {
            drop(parser);
            self.committed.clear();
            self.stable_html.clear();
            self.definitions.clear();
            self.unresolved.clear();
            let mut update = self.push(text);
            update.reset = true;
            return update;
        }

        let mut writer = Writer::with_capacity(rest.len());
        let mut blocks: Vec<Block> = Vec::new();
        let mut depth = 0usize;
        let mut block_start = 0;
        let mut table = false;
        // Links resolved by a definition in this parse: (block, label).
        let mut references: Vec<(usize, String)> = Vec::new();
        for (event, range) in parser.by_ref() {
            if let Event::Start(Tag::Link { link_type, id, .. } | Tag::Image { link_type, id, .. }) =
                &event
                && matches!(
                    link_type,
                    LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut
                )
            {
                references.push((blocks.len(), id.to_string()));
            }
            match &event {
                Event::Start(tag) => {
                    if depth == 0 {
                        block_start = range.start;
                        table = matches!(tag, Tag::Table(_));
                    }
                    depth += 1;
                }
                Event::End(_) => depth = depth.saturating_sub(1),
                _ if depth == 0 => {
                    block_start = range.start;
                    table = false;
                }
                _ => {}
            }
            let closes_block = depth == 0;
            writer.event(as_written(event, rest, &range));
            if closes_block {
                blocks.push(Block {
                    source_start: block_start,
                    source_end: range.end,
                    html_end: writer.out.len(),
                    table,
                });
            }
        }

        // The last block that starts on a complete line: everything before
        // it is final...
        let mut first_open = blocks
            .iter()
            .rposition(|b| b.source_start < complete)
            .unwrap_or(0);
        // ...unless it is a table whose delimiter row is still arriving:
        // `|---|---|-` is no delimiter row, and then the header row is
        // a line of the paragraph before it, which is not final either.
        if first_open > 0 && blocks[first_open].table {
            let header_end = rest[blocks[first_open].source_start..]
                .find('\n')
                .map(|i| blocks[first_open].source_start + i + 1);
            let delimiter_whole =
                header_end.is_some_and(|end| rest[end..complete.max(end)].contains('\n'));
            if !delimiter_whole {
                first_open -= 1;
            }
        }
        // ...except a block with a link whose definition comes later: the
        // definition can still change (`[a]: https:` grows into
        // `[a]: https://…`) until it is final too.
        let definitions_here = parser.reference_definitions();
        while first_open > 0 {
            let source_end = blocks[first_open - 1].source_end;
            let pending = references.iter().find(|(block, label)| {
                *block < first_open
                    && definitions_here
                        .get(label)
                        .map(|definition| definition.span.end)
                        .or_else(|| {
                            definitions_here
                                .get(&normalize_label(label))
                                .map(|definition| definition.span.end)
                        })
                        .is_none_or(|end| end > source_end)
            });
            match pending {
                Some(&(block, _)) => first_open = block,
                None => break,
            }
        }
        if first_open == 0 {
            return StreamUpdate {
                reset,
                stable: String::new(),
                tail: writer.out,
            };
        }
        let last_final = &blocks[first_open - 1];
        let (source_end, html_end) = (last_final.source_end, last_final.html_end);

        let new_definitions: Vec<(String, String, String)> = parser
            .reference_definitions()
            .iter()
            .filter(|(_, definition)| definition.span.end <= source_end)
            .map(|(label, definition)| {
                (
                    normalize_label(label),
                    definition.dest.to_string(),
                    definition
                        .title
                        .as_ref()
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                )
            })
            .collect();
        drop(parser);
        for (label, dest, title) in new_definitions {
            // The first definition of a label wins, as in CommonMark.
            self.definitions.entry(label).or_insert((dest, title));
        }
        self.unresolved.extend(
            broken
                .into_inner()
                .into_iter()
                .filter(|(at, _)| *at < source_end)
                .map(|(_, label)| label),
        );

        self.committed.push_str(&rest[..source_end]);
        let mut html = writer.out;
        let tail = html.split_off(html_end);
        self.stable_html.push_str(&html);
        StreamUpdate {
            reset,
            stable: html,
            tail,
        }
    }
}

#[cfg(test)]
mod tests;
