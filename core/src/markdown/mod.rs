//! Model replies as safe HTML: markdown (CommonMark, tables, task lists,
//! strikethrough) parsed by `pulldown-cmark` and written by our own small
//! writer, and [`MarkdownStream`], which renders a reply while it grows
//! without parsing the whole text again on every update.
//!
//! What the model writes is untrusted. The writer is the only place that
//! produces markup, and it follows these rules, so the browser shell may put
//! its output into the page with `innerHTML`:
//!
//! - every piece of text and every attribute value is escaped (`& < > " '`);
//! - raw HTML in the reply (blocks and inline) is shown as escaped text;
//! - element names and attribute names come only from writer.rs; the only
//!   value derived from the reply that ends up in a `class` is a code block's
//!   language, reduced to a short `[a-z0-9_+#.-]` token;
//! - links keep their `href` only for absolute `http:`, `https:` and
//!   `mailto:` addresses (see [`safe_href`]); anything else, relative
//!   addresses and `#anchors` included, is shown as its plain link text.
//!   Kept links open in a new tab with `rel="noopener noreferrer"`;
//! - images are never written as `<img>`: an `http(s)` image becomes a
//!   placeholder with the address in `data-src` and a "Load image" button,
//!   and the shell loads it only when the user clicks;
//! - a formula (`$…$`, `\(…\)` inline; `$$…$$`, `\[…\]` display) becomes
//!   `<span class="math" data-display="inline|block">` holding its TeX as
//!   escaped text: readable as it is, and what the shell replaces with
//!   MathML elements it builds itself (src/ui/markdown.rs).
//!
//! [`render_html`] (writer.rs) renders a whole reply; [`MarkdownStream`]
//! (stream.rs) renders one while it grows, with the same writer. Both parse
//! with the one `parser` defined here.

mod stream;
mod writer;

pub use stream::{MarkdownStream, StreamUpdate};
pub use writer::{render_html, safe_href};

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{BrokenLink, CowStr, Event, Options, Parser};

/// pulldown-cmark's math follows the usual price rule: `$` opens only
/// when no space follows it, closes only when no space precedes it and no
/// digit follows it, so "$5 and $10" stays text (core/src/markdown/tests.rs).
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_MATH
}

/// The text to parse: `\(…\)` and `\[…\]` rewritten to `$$…$$`.
///
/// pulldown-cmark knows only dollar delimiters, and reads `\(` as an
/// escaped `(`. The rewrite keeps every offset (two bytes for two), so
/// ranges of the parse are ranges of the original text, which
/// [`as_written`] reads to make a `\(…\)` inline again. Only pairs are
/// rewritten, never inside code (fences, backtick spans), and a `\(` after
/// an escaping backslash (`\\(`) is left alone.
fn math_delimiters(text: &str) -> Cow<'_, str> {
    if !text.contains("\\(") && !text.contains("\\[") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut in_fence = false;
    let mut open: Option<(usize, u8)> = None;
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| line_start + i);
        let line = &bytes[line_start..line_end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let trimmed = &line[indent..];
        if indent < 4 && (trimmed.starts_with(b"```") || trimmed.starts_with(b"~~~")) {
            in_fence = !in_fence;
            open = None;
        } else if trimmed.is_empty() {
            // A blank line ends the paragraph: no formula spans it.
            open = None;
        } else if !in_fence {
            let mut i = line_start;
            while i + 1 < line_end {
                match bytes[i] {
                    b'`' => {
                        let ticks = bytes[i..line_end]
                            .iter()
                            .take_while(|&&b| b == b'`')
                            .count();
                        let run = &bytes[i..i + ticks];
                        let close = bytes[i + ticks..line_end]
                            .windows(ticks)
                            .position(|w| w == run);
                        i += ticks + close.map_or(0, |c| c + ticks);
                        continue;
                    }
                    b'\\' => {
                        let next = bytes[i + 1];
                        match (open, next) {
                            (None, b'(' | b'[') => open = Some((i, next)),
                            (Some((at, b'(')), b')') | (Some((at, b'[')), b']') => {
                                out[at..at + 2].copy_from_slice(b"$$");
                                out[i..i + 2].copy_from_slice(b"$$");
                                open = None;
                            }
                            _ => {}
                        }
                        // The escaped character is not a delimiter itself.
                        i += 2;
                        continue;
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        line_start = line_end + 1;
    }
    // Only ASCII bytes were replaced by ASCII bytes.
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|_| text.to_owned()))
}

/// An event as the reply wrote it: a `\(…\)` formula, parsed as `$$…$$`
/// after [`math_delimiters`], is inline; and a `$…$` with a digit right
/// after it is text (`$x$5`): the one part of the price rule pulldown-cmark
/// does not apply itself.
fn as_written<'a>(event: Event<'a>, original: &str, range: &Range<usize>) -> Event<'a> {
    match event {
        Event::DisplayMath(tex) if original[range.start..].starts_with("\\(") => {
            Event::InlineMath(tex)
        }
        Event::InlineMath(_)
            if original
                .as_bytes()
                .get(range.end)
                .is_some_and(u8::is_ascii_digit) =>
        {
            Event::Text(CowStr::from(original[range.clone()].to_owned()))
        }
        event => event,
    }
}

/// The one parser both renderings use. pulldown-cmark's parser is generic
/// over its broken-link callback, so a second callback type would compile
/// a second copy of the whole parser into the wasm bundle (about 20 KB).
fn parser<'a>(
    text: &'a str,
    definitions: &'a HashMap<String, (String, String)>,
    broken: &'a RefCell<Vec<(usize, String)>>,
) -> pulldown_cmark::OffsetIter<'a, KnownLinks<'a>> {
    let callback = KnownLinks {
        definitions,
        broken,
    };
    Parser::new_with_broken_link_callback(text, options(), Some(callback)).into_offset_iter()
}

/// Resolves references whose definitions the parse cannot see (they are in
/// text parsed earlier) and records the ones that stay unresolved.
struct KnownLinks<'a> {
    definitions: &'a HashMap<String, (String, String)>,
    broken: &'a RefCell<Vec<(usize, String)>>,
}

impl<'input> pulldown_cmark::BrokenLinkCallback<'input> for KnownLinks<'_> {
    fn handle_broken_link(
        &mut self,
        link: BrokenLink<'input>,
    ) -> Option<(CowStr<'input>, CowStr<'input>)> {
        let label = normalize_label(&link.reference);
        match self.definitions.get(&label) {
            Some((dest, title)) => Some((CowStr::from(dest.clone()), CowStr::from(title.clone()))),
            None => {
                self.broken.borrow_mut().push((link.span.start, label));
                None
            }
        }
    }
}

/// A link label as CommonMark matches them: case-insensitive, inner
/// whitespace collapsed.
fn normalize_label(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests;
