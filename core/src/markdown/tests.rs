use super::*;

// ---------------------------------------------------------------------------
// What the writer produces.

#[test]
fn paragraphs_emphasis_and_strikethrough() {
    assert_eq!(
        render_html("Hello *world* and **bold** and ~~gone~~."),
        "<p>Hello <em>world</em> and <strong>bold</strong> and <del>gone</del>.</p>\n"
    );
}

#[test]
fn tables_with_alignment_use_classes_not_styles() {
    let html = render_html("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n");
    assert_eq!(
        html,
        "<div class=\"table\"><table><thead><tr><th class=\"left\">a</th><th class=\"center\">b</th><th class=\"right\">c</th></tr></thead><tbody>\n\
         <tr><td class=\"left\">1</td><td class=\"center\">2</td><td class=\"right\">3</td></tr>\n</tbody></table></div>\n"
    );
}

#[test]
fn task_lists_are_disabled_checkboxes() {
    let html = render_html("- [x] done\n- [ ] to do\n");
    assert_eq!(
        html,
        "<ul>\n<li><input type=\"checkbox\" disabled checked> done</li>\n<li><input type=\"checkbox\" disabled> to do</li>\n</ul>\n"
    );
}

#[test]
fn code_blocks_show_their_language_and_a_copy_button_and_keep_whitespace() {
    let html = render_html("```rust\nfn main() {\n    let  x = 1 < 2;\n}\n```\n");
    assert_eq!(
        html,
        "<figure class=\"code\"><figcaption><span class=\"lang\">rust</span><button type=\"button\" class=\"copy\">Copy</button></figcaption>\
         <pre><code class=\"language-rust\">fn main() {\n    let  x = 1 &lt; 2;\n}\n</code></pre></figure>\n"
    );
    // No language: a neutral label, no class.
    assert!(render_html("    indented\n").contains("<span class=\"lang\">code</span><button"));
    assert!(render_html("    indented\n").contains("<pre><code>indented\n</code>"));
}

#[test]
fn the_language_token_is_reduced_to_safe_characters() {
    assert_eq!(language_token("Rust ignore"), Some("rust".into()));
    assert_eq!(language_token("c++"), Some("c++".into()));
    assert_eq!(language_token("{.python}"), Some("python".into()));
    assert_eq!(language_token("\"><img"), None);
    assert_eq!(language_token("js\"onload=x"), Some("js".into()));
    assert_eq!(language_token(&"a".repeat(100)).map(|t| t.len()), Some(24));
}

#[test]
fn inline_code_keeps_its_text() {
    assert_eq!(
        render_html("Run `a  <b>` now"),
        "<p>Run <code>a  &lt;b&gt;</code> now</p>\n"
    );
}

#[test]
fn safe_links_open_in_a_new_tab_without_opener_or_referrer() {
    assert_eq!(
        render_html("[docs](https://example.com/a?b=1&c=2 \"The docs\")"),
        "<p><a href=\"https://example.com/a?b=1&amp;c=2\" title=\"The docs — https://example.com/a?b=1&amp;c=2\" \
         target=\"_blank\" rel=\"noopener noreferrer\">docs</a></p>\n"
    );
    assert!(render_html("<someone@example.com>").contains("href=\"mailto:someone@example.com\""));
    assert!(render_html("<http://example.com>").contains("href=\"http://example.com\""));
}

#[test]
fn other_links_become_their_text() {
    for markdown in [
        "[docs](javascript:alert(1))",
        "[docs](/relative/path)",
        "[docs](#anchor)",
        "[docs](//host.example)",
        "[docs](ftp://host.example)",
        "[docs](jav&#x61;script:alert(1))",
    ] {
        assert_eq!(render_html(markdown), "<p>docs</p>\n", "{markdown}");
    }
}

#[test]
fn safe_href_reads_the_address_as_a_browser_would() {
    use LinkType::Inline;
    assert_eq!(
        safe_href(Inline, "HTTPS://x.example"),
        Some("HTTPS://x.example".into())
    );
    assert_eq!(
        safe_href(Inline, " https://x.example "),
        Some("https://x.example".into())
    );
    assert_eq!(safe_href(Inline, "java\tscript:x"), None);
    assert_eq!(safe_href(Inline, "\u{1}javascript:x"), None);
    assert_eq!(safe_href(Inline, "https://x.example/\u{202e}fdp.exe"), None);
    assert_eq!(safe_href(Inline, "javascript%3Ax"), None);
    assert_eq!(safe_href(Inline, "data:text/html,x"), None);
    assert_eq!(
        safe_href(LinkType::Email, "a@b.example"),
        Some("mailto:a@b.example".into())
    );
}

#[test]
fn images_are_placeholders_until_the_user_asks() {
    assert_eq!(
        render_html("![a *cat*](https://img.example/cat.png \"t\")"),
        "<p><span class=\"image\" data-src=\"https://img.example/cat.png\" data-alt=\"a cat\">\
         <button type=\"button\" class=\"load-image\">Load image from img.example</button> \
         <span class=\"alt\">a cat</span></span></p>\n"
    );
    assert_eq!(
        render_html("![x](data:image/png;base64,AAAA)"),
        "<p><span class=\"image blocked\">[image: x]</span></p>\n"
    );
    assert_eq!(
        host_of("https://user:pw@host.example:8080/a"),
        "host.example:8080"
    );
}

#[test]
fn raw_html_is_shown_as_text() {
    assert_eq!(
        render_html("<div onclick=\"x()\">hi</div>\n"),
        "<div class=\"raw-html\">&lt;div onclick=&quot;x()&quot;&gt;hi&lt;/div&gt;\n</div>\n"
    );
    assert_eq!(
        render_html("a <b>bold</b> word"),
        "<p>a &lt;b&gt;bold&lt;/b&gt; word</p>\n"
    );
}

// ---------------------------------------------------------------------------
// The hostile corpus (shared with tests/e2e/markdown.spec.ts), checked on the
// HTML string: every tag and attribute must be one the writer makes.

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
    "class", "href", "title", "target", "rel", "type", "start", "disabled", "checked", "data-src",
    "data-alt",
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

#[test]
fn the_hostile_corpus_stays_inert_at_every_point_of_its_stream() {
    for reply in corpus() {
        let text = &reply.text;
        let mut stream = MarkdownStream::new();
        let mut shown = String::new();
        for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let update = stream.push(&text[..end]);
            if update.reset {
                shown.clear();
            }
            shown.push_str(&update.stable);
            assert_inert(&update.stable, &reply.name);
            assert_inert(&update.tail, &reply.name);
            assert_eq!(format!("{shown}{}", update.tail), render_html(&text[..end]));
        }
    }
}

// ---------------------------------------------------------------------------
// Streaming: the blocks shown plus the tail always equal rendering the text
// so far at once, and a block once final never changes.

const SAMPLES: &[&str] = &[
    "# Title\n\nA paragraph with *emphasis*\nand a lazy second line.\n\nSetext heading\n==============\n\nAnother one\n---\n\n- tight\n- list\n\n1. loose\n\n2. list\n\n   with a paragraph\n\n> quote\nlazy continuation\n> more\n\n---\n\nEnd.\n",
    "Intro:\n```python\ndef f(x):\n\n\n    return x\n```\nafter the fence\n\n    indented code\n\n    more indented\nnot code\n\n| a | b |\n|---|---|\n| 1 | 2 |\nrow without pipes\n\ndone",
    "Text\n# heading interrupts\n#not a heading\n- list interrupts\n1. ordered\n10. not interrupting\n<div>\nhtml block\n</div>\n\n<!-- comment -->\n\n***\n___ \n",
    "[defined]: https://example.com \"Title\"\n\nUse [defined] and [Defined][] and [text][defined].\n\n[multi]:\n  https://example.com/m\n  'a title\n  over lines'\n\nSee [multi].\n",
    "Forward [ref] used before it is defined.\n\nMore text with [ref] again.\n\n[ref]: https://example.com/later\n\nAnd [ref] after.\n",
    "- [x] done\n- [ ] open\n    - nested\n\n  continued item\n\n* other list\n\n+ third\n\nTerm ~~struck~~ `code` <b>raw</b> ![img](https://i.example/a.png) <https://auto.example>\n",
    "Unclosed ```fence\n```\nstill code\n\nmore code",
    "> - quote list\n> - item\n>\n> para in quote\n\n>> nested\n\nline  \nhard break\\\nanother\n",
];

/// Pushes every prefix of `text` in steps of `step` bytes (at char
/// boundaries) and checks the two streaming properties at each one.
fn check_stream(text: &str, step: usize) {
    // A reference defined after its use changes a block already final:
    // that sample is checked for equality only.
    let forward_reference = text.starts_with("Forward");
    let mut stream = MarkdownStream::new();
    let mut shown = String::new();
    let whole = render_html(text);
    let mut end = 0;
    loop {
        let update = stream.push(&text[..end]);
        if update.reset {
            assert!(forward_reference, "reset at {end} of {text:?}");
            shown.clear();
        }
        shown.push_str(&update.stable);
        assert_eq!(shown, stream.stable_html());
        assert_eq!(
            format!("{shown}{}", update.tail),
            render_html(&text[..end]),
            "at {end} of {text:?}"
        );
        if !forward_reference {
            assert!(whole.starts_with(&shown), "final blocks changed at {end}");
        }
        if end == text.len() {
            break;
        }
        end = (end + step).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
    }
}

#[test]
fn streaming_equals_rendering_at_once_at_every_byte() {
    for sample in SAMPLES {
        check_stream(sample, 1);
    }
}

#[test]
fn streaming_equals_rendering_at_once_in_larger_steps() {
    for sample in SAMPLES {
        for step in [2, 3, 7, 16, 61] {
            check_stream(sample, step);
        }
    }
}

#[test]
fn a_late_definition_for_a_shown_reference_renders_everything_again_once() {
    let mut stream = MarkdownStream::new();
    let first = stream.push("See [x].\n\nNext paragraph.\n\nThird");
    assert!(!first.reset);
    // "Third" is on an incomplete line: the paragraph before it may still
    // change (a `===` under "Third" would not, but a `#` line could start).
    assert_eq!(first.stable, "<p>See [x].</p>\n");
    let text = "See [x].\n\nNext paragraph.\n\nThird\n\n[x]: https://x.example\n\nFourth";
    let update = stream.push(text);
    assert!(update.reset);
    assert!(update.stable.is_empty());
    // The linked block waits until its definition is final too.
    assert!(
        update
            .tail
            .starts_with("<p>See <a href=\"https://x.example\"")
    );
    // Nothing left to resolve: later pushes append again.
    assert!(!stream.push(&format!("{text}\n\nFifth")).reset);
}

#[test]
fn text_that_is_not_an_extension_starts_over() {
    let mut stream = MarkdownStream::new();
    stream.push("First paragraph.\n\nSecond\n");
    let update = stream.push("Other text.\n");
    assert!(update.reset);
    assert_eq!(update.tail, "<p>Other text.</p>\n");
}

/// A long reply of mixed blocks, about `tokens` tokens (4 bytes a token).
fn long_reply(tokens: usize) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < tokens * 4 {
        n += 1;
        match n % 5 {
            0 => text.push_str(&format!(
                "```rust\nfn f{n}() -> u32 {{\n    {n}\n}}\n```\n\n"
            )),
            1 => text.push_str(&format!("## Part {n}\n\n")),
            2 => text.push_str(&format!(
                "- item {n} with **bold**\n- another [link](https://example.com/{n})\n\n"
            )),
            3 => text.push_str(&format!("| a | b |\n|---|---|\n| {n} | `x` |\n\n")),
            _ => text.push_str(&format!(
                "Paragraph {n} says something *useful* about the topic, at some length, \
                 as models do, with `inline code` and ~~a correction~~.\n\n"
            )),
        }
    }
    text
}

#[test]
fn a_long_streamed_reply_is_parsed_in_work_bounded_by_the_tail() {
    // 20,000 tokens at 500 tokens/s, one update per 60 Hz frame: about 8
    // tokens (32 bytes) per push.
    let text = long_reply(20_000);
    let mut stream = MarkdownStream::new();
    let mut shown = String::new();
    let mut pushes = 0usize;
    let mut whole_reparse = 0usize;
    let started = std::time::Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    let mut end = 0;
    let mut tail = String::new();
    while end < text.len() {
        end = (end + 32).min(text.len());
        let push_started = std::time::Instant::now();
        let update = stream.push(&text[..end]);
        slowest = slowest.max(push_started.elapsed());
        assert!(!update.reset);
        shown.push_str(&update.stable);
        tail = update.tail;
        pushes += 1;
        whole_reparse += end;
    }
    let elapsed = started.elapsed();
    let whole = render_html(&text);
    assert_eq!(format!("{shown}{tail}"), whole);
    let ratio = stream.bytes_parsed() as f64 / text.len() as f64;
    println!(
        "{} bytes in {pushes} pushes: {:.1} ms in all, slowest push {:.3} ms, parsed {} bytes \
         ({ratio:.1}x the text; re-parsing everything would be {whole_reparse} bytes)",
        text.len(),
        elapsed.as_secs_f64() * 1e3,
        slowest.as_secs_f64() * 1e3,
        stream.bytes_parsed()
    );
    // Each push parses the last block or two (< 200 bytes here) plus what
    // arrived: linear in the text, not quadratic.
    assert!(ratio < 10.0, "parsed {ratio:.1}x the text");
    assert!(stream.bytes_parsed() * 100 < whole_reparse);
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that start, end or change blocks, glued at random.
    const PIECES: &[&str] = &[
        "# ",
        "#",
        "\n",
        "\n\n",
        "- ",
        "1. ",
        "2) ",
        "> ",
        "```",
        "~~~",
        "    ",
        "---",
        "===",
        "| a | b |",
        "|---|---|",
        "[a]",
        "[a][]",
        "[a]: https://x.example",
        "[b]: <https:",
        "text",
        "word",
        "*",
        "_",
        "`",
        "<div>",
        "</div>",
        "<pre>",
        "</pre>",
        "<!--",
        "-->",
        "![i](https://i.example)",
        " ",
        "  ",
        "\t",
        "[ ] ",
        "[x] ",
        "~~",
        "'",
        "\"",
        "+ ",
        "***",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn streaming_random_markdown_equals_rendering_at_once(
            pieces in prop::collection::vec(prop::sample::select(PIECES), 0..40),
            step in 1usize..9,
        ) {
            let text: String = pieces.concat();
            let mut stream = MarkdownStream::new();
            let mut shown = String::new();
            let mut end = 0;
            loop {
                let update = stream.push(&text[..end]);
                if update.reset {
                    shown.clear();
                }
                shown.push_str(&update.stable);
                prop_assert_eq!(
                    format!("{shown}{}", update.tail),
                    render_html(&text[..end]),
                    "at {} of {:?}", end, text
                );
                if end == text.len() {
                    break;
                }
                end = (end + step).min(text.len());
            }
        }
    }
}
