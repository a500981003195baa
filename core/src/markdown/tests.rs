//! The hostile corpus (shared with tests/e2e/markdown.spec.ts), checked on the
//! HTML string: every tag and attribute must be one the writer makes, in a
//! whole rendering and at every point of a stream.

use super::*;

#[derive(serde::Deserialize)]
struct Hostile {
    name: String,
    text: String,
    visible: Option<String>,
}

fn corpus() -> Vec<Hostile> {
    serde_json::from_str(include_str!("../../testdata/hostile-replies.json")).expect("corpus")
}

const TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figure",
    "figcaption",
    "span",
    "button",
    "pre",
    "code",
    "div",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "em",
    "strong",
    "del",
    "sup",
    "sub",
    "a",
    "br",
    "hr",
    "input",
];
const ATTRIBUTES: &[&str] = &[
    "class",
    "href",
    "title",
    "target",
    "rel",
    "type",
    "start",
    "disabled",
    "checked",
    "data-src",
    "data-alt",
    "data-display",
];

/// Decodes the entities the writer produces (to read attribute values).
fn unescape(value: &str) -> String {
    value
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every tag in `html` as (name, [(attribute, value)]). Panics on markup
/// the writer never makes (an unquoted value, a stray `<`).
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').expect("an unclosed tag");
        let inside = &rest[..end];
        rest = &rest[end + 1..];
        let inside = inside.strip_prefix('/').unwrap_or(inside);
        let (name, mut attrs) = inside.split_once(' ').unwrap_or((inside, ""));
        let mut pairs = Vec::new();
        while !attrs.is_empty() {
            let name_end = attrs.find(['=', ' ']).unwrap_or(attrs.len());
            let attr = &attrs[..name_end];
            attrs = &attrs[name_end..];
            let mut value = String::new();
            if let Some(after) = attrs.strip_prefix("=\"") {
                let close = after.find('"').expect("an unterminated attribute");
                value = unescape(&after[..close]);
                attrs = &after[close + 1..];
            }
            attrs = attrs.trim_start();
            pairs.push((attr.to_owned(), value));
        }
        found.push((name.to_owned(), pairs));
    }
    found
}

/// Panics if `html` holds anything the writer would not make itself.
fn assert_inert(html: &str, what: &str) {
    for (name, attrs) in tags(html) {
        assert!(
            TAGS.contains(&name.as_str()),
            "{what}: tag <{name}> in {html}"
        );
        for (attr, value) in attrs {
            assert!(
                ATTRIBUTES.contains(&attr.as_str()),
                "{what}: attribute {attr} in {html}"
            );
            let lower = value.to_ascii_lowercase();
            if attr == "href" {
                assert!(
                    ["http:", "https:", "mailto:"]
                        .iter()
                        .any(|s| lower.starts_with(s)),
                    "{what}: href {value}"
                );
            }
            if attr == "data-src" {
                assert!(
                    lower.starts_with("http:") || lower.starts_with("https:"),
                    "{what}: image {value}"
                );
            }
            if attr == "class" {
                let ours = [
                    "table",
                    "left",
                    "center",
                    "right",
                    "code",
                    "lang",
                    "copy",
                    "raw-html",
                    "image",
                    "image blocked",
                    "load-image",
                    "alt",
                    "math",
                ];
                assert!(
                    ours.contains(&value.as_str())
                        || value.strip_prefix("language-").is_some_and(|l| {
                            l.chars().all(|c| {
                                c.is_ascii_lowercase() || c.is_ascii_digit() || "_+#.-".contains(c)
                            })
                        }),
                    "{what}: class {value}"
                );
            }
        }
    }
}

/// The text a browser would show (tags dropped, entities decoded).
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        rest = &rest[rest[at..].find('>').map_or(rest.len(), |e| at + e + 1)..];
    }
    text.push_str(rest);
    unescape(&text)
}

#[test]
fn the_hostile_corpus_renders_inert_and_shows_the_raw_html() {
    let corpus = corpus();
    assert!(corpus.len() >= 40, "{} replies", corpus.len());
    for reply in &corpus {
        let html = render_html(&reply.text);
        assert_inert(&html, &reply.name);
        if let Some(visible) = &reply.visible {
            assert!(
                visible_text(&html).contains(visible.as_str()),
                "{}: {visible:?} not shown in {html}",
                reply.name
            );
        }
    }
}

/// Streams `text` one character more at a time, handing `check` every
/// update; what is shown must always equal a whole rendering of the text so far.
fn stream_at_every_point(text: &str, mut check: impl FnMut(&StreamUpdate)) {
    let mut stream = MarkdownStream::new();
    let mut shown = String::new();
    for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        let update = stream.push(&text[..end]);
        if update.reset {
            shown.clear();
        }
        shown.push_str(&update.stable);
        check(&update);
        assert_eq!(format!("{shown}{}", update.tail), render_html(&text[..end]));
    }
}

#[test]
fn the_hostile_corpus_stays_inert_at_every_point_of_its_stream() {
    for reply in corpus() {
        stream_at_every_point(&reply.text, |update| {
            assert_inert(&update.stable, &reply.name);
            assert_inert(&update.tail, &reply.name);
        });
    }
}

/// The formulas of `html`: (display, TeX as the page shows it).
fn formulas(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<span class=\"math\" data-display=\"") {
        rest = &rest[at + 33..];
        let (display, after) = rest.split_once("\">").expect("display");
        let (tex, after) = after.split_once("</span>").expect("end");
        found.push((display.to_owned(), unescape(tex)));
        rest = after;
    }
    found
}

fn formula(display: &str, tex: &str) -> (String, String) {
    (display.to_owned(), tex.to_owned())
}

#[test]
fn math_in_all_four_delimiters() {
    let html = render_html(
        "Inline $x^2$ and \\(\\frac{a}{b}\\), display:\n\n$$\\sum_i i$$\n\n\\[\n\\int_0^1 x\\,dx\n\\]\n",
    );
    assert_eq!(
        formulas(&html),
        [
            formula("inline", "x^2"),
            formula("inline", "\\frac{a}{b}"),
            formula("block", "\\sum_i i"),
            formula("block", "\n\\int_0^1 x\\,dx\n"),
        ]
    );
    assert_inert(&html, "math");
}

#[test]
fn prices_stay_text() {
    for text in [
        "It costs $5 and $10.",
        "Between $5 and $10 a month",
        "$ 5 and 10 $",
        "pay $5, get $5",
        "from $1,000 to $2,000",
    ] {
        let html = render_html(text);
        assert!(formulas(&html).is_empty(), "{text}: {html}");
        assert!(
            visible_text(&html).contains(text.trim_end_matches('.')),
            "{text}: {html}"
        );
    }
    // No digit may follow the closing dollar; a space may not precede it.
    assert!(formulas(&render_html("$x$5")).is_empty());
    assert!(formulas(&render_html("$x $")).is_empty());
    assert_eq!(formulas(&render_html("($x$)")), [formula("inline", "x")]);
}

#[test]
fn backslash_delimiters_are_not_taken_from_code_or_escapes() {
    let text = "`\\(a\\)` and \\\\(b\\)\n\n```tex\n\\(c\\) \\[d\\]\n```\n";
    let html = render_html(text);
    assert!(formulas(&html).is_empty(), "{html}");
    assert!(html.contains("<code>\\(a\\)</code>"), "{html}");
    assert!(html.contains("\\(c\\) \\[d\\]"), "{html}");
    // An unpaired \\( is an escaped parenthesis, as before.
    assert_eq!(visible_text(&render_html("a \\( b")), "a ( b\n");
    // A blank line ends the paragraph: no formula across it.
    assert!(formulas(&render_html("\\[ a\n\nb \\]")).is_empty());
}

#[test]
fn math_streams_into_the_same_html_as_a_whole_rendering() {
    let text = "Intro \\(e^{i\\pi}\\) and $a_1$.\n\n\\[\nx = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}\n\\]\n\nPrices: $5 and $10.\n";
    stream_at_every_point(text, |_| {});
    assert_eq!(formulas(&render_html(text)).len(), 3);
}
