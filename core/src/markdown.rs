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
//! - element names and attribute names come only from this file; the only
//!   value derived from the reply that ends up in a `class` is a code block's
//!   language, reduced to a short `[a-z0-9_+#.-]` token;
//! - links keep their `href` only for absolute `http:`, `https:` and
//!   `mailto:` addresses (see [`safe_href`]); anything else, relative
//!   addresses and `#anchors` included, is shown as its plain link text.
//!   Kept links open in a new tab with `rel="noopener noreferrer"`;
//! - images are never written as `<img>`: an `http(s)` image becomes a
//!   placeholder with the address in `data-src` and a "Load image" button,
//!   and the shell loads it only when the user clicks.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use pulldown_cmark::{
    Alignment, BrokenLink, CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd,
};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH
}

/// The whole `text` as safe HTML.
pub fn render_html(text: &str) -> String {
    let definitions = HashMap::new();
    let broken = RefCell::new(Vec::new());
    let mut writer = Writer::with_capacity(text.len());
    for (event, _) in parser(text, &definitions, &broken) {
        writer.event(event);
    }
    writer.out
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

/// Appends `text` to `out` with the five HTML-significant characters
/// escaped. Used for text and attribute values alike (attributes are always
/// double-quoted), so one function decides what is safe.
fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(entity);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Characters that reorder text on screen (embeddings, overrides,
/// isolates): a link address containing one can show a different address
/// than it opens, so such links are not kept.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// The address a link may keep, or `None` if it is shown as text only.
///
/// Only absolute `http:`, `https:` and `mailto:` addresses are kept. The
/// check is made on the address as the browser will read it: pulldown-cmark
/// has already decoded entities and backslash escapes (`jav&#x61;script:` is
/// `javascript:` here), and the value is escaped again when written, so the
/// browser sees exactly this string. Browsers silently drop tabs and newlines
/// inside a URL and trim control characters around it before reading the
/// scheme (`java\tscript:`); instead of imitating that, any control
/// character rejects the link, and so does a bidi control. No scheme at all
/// (relative paths, `//host`, `#anchor`) is rejected too: a reply has no
/// pages of its own to point into.
pub fn safe_href(link_type: LinkType, dest: &str) -> Option<String> {
    let dest = dest.trim_matches(' ');
    if dest.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return None;
    }
    let href = match link_type {
        // `<someone@example.com>`: pulldown-cmark gives the bare address.
        LinkType::Email => format!("mailto:{dest}"),
        _ => dest.to_owned(),
    };
    let (scheme, _) = href.split_once(':')?;
    let scheme = scheme.to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https" | "mailto").then_some(href)
}

/// An image address the user may choose to load: `http(s)` only.
fn safe_image_src(dest: &str) -> Option<String> {
    safe_href(LinkType::Inline, dest)
        .filter(|href| !href.to_ascii_lowercase().starts_with("mailto:"))
}

/// The host an `http(s)` address points to, for "Load image from …".
fn host_of(url: &str) -> &str {
    let after_scheme = url.split_once("//").map_or(url, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(after_scheme);
    // `user:password@host`: only the host says where the request goes.
    authority.rsplit('@').next().unwrap_or(authority)
}

/// A code block's language as a short, harmless token (`rust`, `c++`,
/// `objective-c`), or `None`. It is shown, and used in a class name.
fn language_token(info: &str) -> Option<String> {
    let word = info.split_whitespace().next()?;
    // `{.python}` and `lang=python` styles: keep the name only.
    let word = word.trim_start_matches('{').trim_start_matches('.');
    let token: String = word
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '#' | '.' | '-'))
        .take(24)
        .collect::<String>()
        .to_ascii_lowercase();
    (!token.is_empty()).then_some(token)
}

/// The HTML writer: one method per pulldown-cmark event.
struct Writer {
    out: String,
    /// One entry per open link: whether an `<a>` was written for it.
    links: Vec<bool>,
    /// Nesting depth inside an image: its content is the alt text.
    image_depth: usize,
    image_src: Option<String>,
    image_alt: String,
    table_alignments: Vec<Alignment>,
    table_cell: usize,
    in_table_head: bool,
}

impl Writer {
    fn with_capacity(text_len: usize) -> Self {
        Self {
            out: String::with_capacity(text_len + text_len / 2),
            links: Vec::new(),
            image_depth: 0,
            image_src: None,
            image_alt: String::new(),
            table_alignments: Vec::new(),
            table_cell: 0,
            in_table_head: false,
        }
    }

    fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    fn text(&mut self, text: &str) {
        if self.image_depth > 0 {
            self.image_alt.push_str(text);
        } else {
            escape_into(&mut self.out, text);
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => {
                if self.image_depth > 0 {
                    self.image_alt.push_str(&code);
                } else {
                    self.raw("<code>");
                    escape_into(&mut self.out, &code);
                    self.raw("</code>");
                }
            }
            // Raw HTML from the model is shown, never interpreted.
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html),
            // Not enabled by `options()`; shown as written if they ever come.
            Event::InlineMath(math) | Event::DisplayMath(math) => self.text(&math),
            Event::FootnoteReference(label) => {
                self.text("[^");
                self.text(&label);
                self.text("]");
            }
            Event::SoftBreak => self.text("\n"),
            Event::HardBreak => {
                if self.image_depth > 0 {
                    self.image_alt.push(' ');
                } else {
                    self.raw("<br>\n");
                }
            }
            Event::Rule => self.raw("<hr>\n"),
            Event::TaskListMarker(checked) => self.raw(if checked {
                "<input type=\"checkbox\" disabled checked> "
            } else {
                "<input type=\"checkbox\" disabled> "
            }),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        if self.image_depth > 0 {
            // Inside an image everything is alt text; nested images too.
            if matches!(tag, Tag::Image { .. }) {
                self.image_depth += 1;
            }
            return;
        }
        match tag {
            Tag::Paragraph => self.raw("<p>"),
            // Heading ids, classes and attributes are not enabled, and
            // would not be written if they were.
            Tag::Heading { level, .. } => {
                self.raw("<");
                self.raw(heading_name(level));
                self.raw(">");
            }
            Tag::BlockQuote(_) => self.raw("<blockquote>\n"),
            Tag::CodeBlock(kind) => {
                let language = match kind {
                    CodeBlockKind::Fenced(info) => language_token(&info),
                    CodeBlockKind::Indented => None,
                };
                // The Copy button has no handler of its own: the shell
                // listens for clicks once, on the list of messages.
                self.raw("<figure class=\"code\"><figcaption><span class=\"lang\">");
                self.text(language.as_deref().unwrap_or("code"));
                self.raw("</span><button type=\"button\" class=\"copy\">Copy</button></figcaption><pre><code");
                if let Some(language) = &language {
                    self.raw(" class=\"language-");
                    escape_into(&mut self.out, language);
                    self.raw("\"");
                }
                self.raw(">");
            }
            Tag::HtmlBlock => self.raw("<div class=\"raw-html\">"),
            Tag::List(None) => self.raw("<ul>\n"),
            Tag::List(Some(1)) => self.raw("<ol>\n"),
            Tag::List(Some(start)) => {
                self.raw("<ol start=\"");
                self.raw(&start.to_string());
                self.raw("\">\n");
            }
            Tag::Item => self.raw("<li>"),
            Tag::Table(alignments) => {
                self.table_alignments = alignments;
                self.raw("<div class=\"table\"><table>");
            }
            Tag::TableHead => {
                self.in_table_head = true;
                self.table_cell = 0;
                self.raw("<thead><tr>");
            }
            Tag::TableRow => {
                self.table_cell = 0;
                self.raw("<tr>");
            }
            Tag::TableCell => {
                self.raw(if self.in_table_head { "<th" } else { "<td" });
                match self.table_alignments.get(self.table_cell) {
                    Some(Alignment::Left) => self.raw(" class=\"left\""),
                    Some(Alignment::Center) => self.raw(" class=\"center\""),
                    Some(Alignment::Right) => self.raw(" class=\"right\""),
                    _ => {}
                }
                self.raw(">");
            }
            Tag::Emphasis => self.raw("<em>"),
            Tag::Strong => self.raw("<strong>"),
            Tag::Strikethrough => self.raw("<del>"),
            Tag::Superscript => self.raw("<sup>"),
            Tag::Subscript => self.raw("<sub>"),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                let href = safe_href(link_type, &dest_url);
                if let Some(href) = &href {
                    self.raw("<a href=\"");
                    escape_into(&mut self.out, href);
                    // The title shows the real address on hover, whatever
                    // the link text claims.
                    self.raw("\" title=\"");
                    if !title.is_empty() {
                        escape_into(&mut self.out, &title);
                        self.raw(" — ");
                    }
                    escape_into(&mut self.out, href);
                    self.raw("\" target=\"_blank\" rel=\"noopener noreferrer\">");
                }
                self.links.push(href.is_some());
            }
            Tag::Image { dest_url, .. } => {
                self.image_depth = 1;
                self.image_src = safe_image_src(&dest_url);
                self.image_alt.clear();
            }
            // Not enabled by `options()`: their content is written, the
            // structure is not.
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        if self.image_depth > 0 {
            if tag == TagEnd::Image {
                self.image_depth -= 1;
                if self.image_depth == 0 {
                    self.image_placeholder();
                }
            }
            return;
        }
        match tag {
            TagEnd::Paragraph => self.raw("</p>\n"),
            TagEnd::Heading(level) => {
                self.raw("</");
                self.raw(heading_name(level));
                self.raw(">\n");
            }
            TagEnd::BlockQuote(_) => self.raw("</blockquote>\n"),
            TagEnd::CodeBlock => self.raw("</code></pre></figure>\n"),
            TagEnd::HtmlBlock => self.raw("</div>\n"),
            TagEnd::List(true) => self.raw("</ol>\n"),
            TagEnd::List(false) => self.raw("</ul>\n"),
            TagEnd::Item => self.raw("</li>\n"),
            TagEnd::Table => self.raw("</tbody></table></div>\n"),
            TagEnd::TableHead => {
                self.in_table_head = false;
                self.raw("</tr></thead><tbody>\n");
            }
            TagEnd::TableRow => self.raw("</tr>\n"),
            TagEnd::TableCell => {
                self.raw(if self.in_table_head { "</th>" } else { "</td>" });
                self.table_cell += 1;
            }
            TagEnd::Emphasis => self.raw("</em>"),
            TagEnd::Strong => self.raw("</strong>"),
            TagEnd::Strikethrough => self.raw("</del>"),
            TagEnd::Superscript => self.raw("</sup>"),
            TagEnd::Subscript => self.raw("</sub>"),
            TagEnd::Link => {
                if self.links.pop() == Some(true) {
                    self.raw("</a>");
                }
            }
            TagEnd::Image
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => {}
        }
    }

    /// An image the user can choose to load, or only its alt text.
    fn image_placeholder(&mut self) {
        let alt = std::mem::take(&mut self.image_alt);
        match self.image_src.take() {
            Some(src) => {
                self.raw("<span class=\"image\" data-src=\"");
                escape_into(&mut self.out, &src);
                self.raw("\" data-alt=\"");
                escape_into(&mut self.out, &alt);
                self.raw("\"><button type=\"button\" class=\"load-image\">Load image from ");
                escape_into(&mut self.out, host_of(&src));
                self.raw("</button>");
                if !alt.is_empty() {
                    self.raw(" <span class=\"alt\">");
                    escape_into(&mut self.out, &alt);
                    self.raw("</span>");
                }
                self.raw("</span>");
            }
            None => {
                self.raw("<span class=\"image blocked\">[image: ");
                escape_into(&mut self.out, &alt);
                self.raw("]</span>");
            }
        }
    }
}

fn heading_name(level: pulldown_cmark::HeadingLevel) -> &'static str {
    use pulldown_cmark::HeadingLevel::*;
    match level {
        H1 => "h1",
        H2 => "h2",
        H3 => "h3",
        H4 => "h4",
        H5 => "h5",
        H6 => "h6",
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
/// reply ends, the shell renders the whole text with [`render_html`], so the
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
        let mut parser = parser(rest, &self.definitions, &broken);

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
                Event::Start(_) => {
                    if depth == 0 {
                        block_start = range.start;
                    }
                    depth += 1;
                }
                Event::End(_) => depth = depth.saturating_sub(1),
                _ if depth == 0 => block_start = range.start,
                _ => {}
            }
            let closes_block = depth == 0;
            writer.event(event);
            if closes_block {
                blocks.push(Block {
                    source_start: block_start,
                    source_end: range.end,
                    html_end: writer.out.len(),
                });
            }
        }

        // The last block that starts on a complete line: everything before
        // it is final...
        let mut first_open = blocks
            .iter()
            .rposition(|b| b.source_start < complete)
            .unwrap_or(0);
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
