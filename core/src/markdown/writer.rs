//! The HTML writer: pulldown-cmark's events in, markup out. Every element
//! and attribute name is written here, and every text and attribute value
//! goes through [`escape_into`] (the rules are in the module above).

use std::cell::RefCell;
use std::collections::HashMap;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, LinkType, Tag, TagEnd};

use super::{as_written, math_delimiters, parser};

/// The whole `text` as safe HTML.
pub fn render_html(text: &str) -> String {
    let definitions = HashMap::new();
    let broken = RefCell::new(Vec::new());
    let mut writer = Writer::with_capacity(text.len());
    let prepared = math_delimiters(text);
    for (event, range) in parser(&prepared, &definitions, &broken) {
        writer.event(as_written(event, text, &range));
    }
    writer.out
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
pub(super) struct Writer {
    pub(super) out: String,
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
    pub(super) fn with_capacity(text_len: usize) -> Self {
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

    pub(super) fn event(&mut self, event: Event<'_>) {
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
            Event::InlineMath(tex) => self.math(&tex, "inline"),
            Event::DisplayMath(tex) => self.math(&tex, "block"),
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

    /// A formula's placeholder: its TeX as text, readable until (or unless)
    /// the shell replaces it with MathML.
    fn math(&mut self, tex: &str, display: &str) {
        if self.image_depth > 0 {
            self.image_alt.push_str(tex);
            return;
        }
        self.raw("<span class=\"math\" data-display=\"");
        self.raw(display);
        self.raw("\">");
        escape_into(&mut self.out, tex);
        self.raw("</span>");
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

#[cfg(test)]
mod tests;
