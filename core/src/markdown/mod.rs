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
//!   and the shell loads it only when the user clicks.
//!
//! [`render_html`] (writer.rs) renders a whole reply; [`MarkdownStream`]
//! (stream.rs) renders one while it grows, with the same writer. Both parse
//! with the one `parser` defined here.

mod stream;
mod writer;

pub use stream::{MarkdownStream, StreamUpdate};
pub use writer::{render_html, safe_href};

use std::cell::RefCell;
use std::collections::HashMap;

use pulldown_cmark::{BrokenLink, CowStr, Options, Parser};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH
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
