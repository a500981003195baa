//! Streaming: the blocks shown plus the tail always equal rendering the text
//! so far at once, and a block once final never changes.

use super::*;
use crate::markdown::render_html;

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

/// Found by the property below: a table's header row came on a whole line,
/// so the paragraph before it was made final, but the delimiter row then
/// grew into `|---|---|-`, no table, and the header row was the
/// paragraph's.
#[test]
fn a_table_whose_delimiter_row_is_still_arriving_keeps_the_paragraph_open() {
    check_stream("text\n| a | b |\n|---|---|- more\n\nafter", 1);
    check_stream("text\n| a | b |\n|---|---|\n| 1 | 2 |\n\nafter", 1);
}
